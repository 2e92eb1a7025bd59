"""The Read-article modal never loses text: every paragraph reachable, every page within Slack's limits."""

from __future__ import annotations

import datetime as dt

from bot.answers import pages
from bot.corpus import Article
from bot.harness.limits import check_view
from bot.slack.ui.views import article_modal


def article(paragraphs: list[str]) -> Article:
    return Article(id="many", title="Many paragraphs", publisher="Wire", url="https://w.example/many",
                   published=dt.date(2025, 1, 1), paragraphs=tuple(paragraphs))


def all_pages(a: Article) -> list[dict]:
    n = pages.article_pages(a).pages
    return [article_modal(pages.article_pages(a, page)) for page in range(n)]


def shown_sections(view: dict) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]


def test_thousands_of_short_paragraphs_are_all_reachable_with_their_page_line() -> None:
    paragraphs = [f"Paragraph number {i} & <more>." for i in range(3000)]
    views = all_pages(article(paragraphs))
    assert len(views) > 1
    shown = "\n\n".join(s for v in views for s in shown_sections(v))
    for i in (0, 95, 96, 232, 1500, 2999):
        assert f"Paragraph number {i} &amp; &lt;more&gt;." in shown
    assert shown.count("Paragraph number") == 3000
    for n, view in enumerate(views, start=1):
        assert check_view(view) is None and len(view["blocks"]) <= 100
        assert f"Page {n} of {len(views)}" in str(view["blocks"])
        assert all(len(s) <= 3000 for s in shown_sections(view))


def test_a_30000_character_article_pages_within_limits_and_keeps_every_word() -> None:
    words = [f"w{i}" for i in range(6000)]
    body = " ".join(words)  # about 30,000 characters in one paragraph
    assert len(body) >= 30_000 - 5000
    paragraphs = [body, "&" * 3000, "tail"]
    views = all_pages(article(paragraphs))
    text = " ".join(s for v in views for s in shown_sections(v))
    assert all(w in text.split() or f"{w}\n\n" in text for w in words[::250])
    assert text.count("&amp;") == 3000 and "tail" in text
    for view in views:
        assert check_view(view) is None
        assert all(len(s) <= 3000 for s in shown_sections(view))


def test_page_values_that_do_not_parse_are_none() -> None:
    assert pages.parse_page_value("many|2") == ("many", 2)
    for value in ("many|²", "many|", "|1", "many|-1", "many|1\n", "MANY|1", "many|99999999", ""):
        assert pages.parse_page_value(value) is None


def test_a_page_past_the_end_shows_the_last_page() -> None:
    a = article([f"p{i} " * 200 for i in range(40)])
    last = pages.article_pages(a, 10_000)
    assert last.page == last.pages - 1 and last.buttons[-1].name == "prev"
