"""Rendering: every message kind at the dict level, escaping, and Slack's limits."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.corpus import Article, Corpus
from bot.harness.limits import check_message, check_view
from bot.library import Snapshot
from bot.search import SearchHit, SearchResponse
from bot.slack.ui import blocks, views
from bot.slack.ui.mrkdwn import bold_spans, escape, link

HOSTILE = "<!channel> <!here> <!everyone> <@U123> <#C123> <https://evil.example|Reuters> & co"


def hit(i: int, **overrides: object) -> SearchHit:
    data = dict(article_id=f"a{i}", title=f"Title {i}", publisher="Wire", url=f"https://w.example/{i}",
                published=dt.date(2025, 6, 1), snippet="tariffs on china", highlights=[(0, 7)],
                passage="tariffs on china", score=1.0)
    data.update(overrides)
    return SearchHit(**data)


def all_text(payload: list[dict]) -> str:
    return str(payload)


def test_escape_defuses_every_control_sequence() -> None:
    out = escape(HOSTILE)
    for control in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C123>", "<https://evil"):
        assert control not in out
    assert "&amp; co" in out and escape("&lt;") == "&amp;lt;"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "slack://open", "https://x.example/a|b",
                                 "https://x.example/<b>", None, ""])
def test_only_safe_http_urls_are_linked(url: str | None) -> None:
    assert link(url, "Label <!here>") == "Label &lt;!here&gt;"


def test_links_and_bold() -> None:
    assert link("https://x.example/a", "A | B") == "<https://x.example/a|A ¦ B>"
    assert bold_spans("tariffs <on> china", [(0, 7), (13, 18)]) == "*tariffs* &lt;on&gt; *china*"


def test_search_message_restates_query_and_has_buttons() -> None:
    response = SearchResponse(query=HOSTILE, results=[hit(1), hit(2)], total=12, corrected="tariff")
    message = blocks.search_message(response, key="k1")
    text = all_text(message.blocks)
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "<https://w.example/1|Title 1>" in text and "*tariffs*" in text
    actions = [b for b in message.blocks if b["type"] == "actions"][0]["elements"]
    assert [a["text"]["text"] for a in actions] == ["Share in channel", "More results"]
    assert all(a["value"] == "k1" for a in actions)
    assert "Showing results for *tariff*" in text
    assert check_message(message.payload()) is None


def test_result_without_url_is_not_linked() -> None:
    message = blocks.search_message(SearchResponse(query="q", results=[hit(1, url=None)], total=1), key="k")
    assert "*1. Title 1*" in all_text(message.blocks)


def test_hostile_corpus_text_is_escaped() -> None:
    h = hit(1, title="<!here> | Breaking", publisher="<@U999>", snippet="<!channel> now", highlights=[],
            url="javascript:alert(1)")
    text = all_text(blocks.search_message(SearchResponse(query="q", results=[h], total=1), key="k").blocks)
    assert "<!here>" not in text and "<@U999>" not in text and "<!channel>" not in text and "javascript" not in text


def test_very_long_snippets_and_many_results_fit_slack_limits() -> None:
    long_text = "tariff " * 2000
    results = [hit(i, title="T" * 600, snippet=long_text, passage=long_text, highlights=[(0, 6)]) for i in range(50)]
    message = blocks.search_message(SearchResponse(query="x" * 5000, results=results, total=500), key="k")
    assert check_message(message.payload()) is None
    assert len(message.blocks) <= 50 and message.blocks[-1]["type"] == "actions"
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in message.blocks)
    assert len(message.text) <= 4000


def test_no_results_message_suggests() -> None:
    message = blocks.search_message(SearchResponse(query="soybeens", suggestions=["soybean"]), key="k")
    assert "Did you mean *soybean*?" in all_text(message.blocks)


def test_person_card_and_choices(snapshot: Snapshot) -> None:
    greer = snapshot.people.get("Jamieson Greer")
    card = blocks.person_message("greer", greer, key="k")
    text = all_text(card.blocks)
    assert "*Jamieson Greer*" in text and "US Trade Representative" in text and "USTR" in text
    assert "<https://en.bloomingbit.io/feed/news/90125|" in text
    assert check_message(card.payload()) is None
    matches = snapshot.people.lookup("li")
    choices = blocks.person_choices("li", matches or snapshot.people.lookup("greer"), key="k")
    assert [b for b in choices.blocks if b["type"] == "actions"][0]["elements"][0]["action_id"] == blocks.ACTION_PICK


def test_help_is_built_from_the_subcommand_table() -> None:
    from bot.answers.commands import SUBCOMMANDS

    text = all_text(blocks.help_message().blocks)
    for sub in SUBCOMMANDS:
        assert escape(sub.usage) in text


def test_article_modal_paginates_within_view_limits() -> None:
    article = Article(id="long", title="A long read " * 30, publisher="Wire", url="https://w.example/long",
                      published=dt.date(2025, 1, 1), paragraphs=tuple(f"Paragraph {i}. " + "word " * 400 for i in range(60)))
    pages = views.paginate_article(article)
    assert len(pages) > 1
    for page in range(len(pages)):
        view = views.article_modal(article, page)
        assert check_view(view) is None
        assert len(view["blocks"]) <= 100
    first = views.article_modal(article, 0)
    assert "Next page" in all_text(first["blocks"]) and "Previous page" not in all_text(first["blocks"])
    assert "Read at the source" in all_text(first["blocks"])


def test_home_view_and_sources(snapshot: Snapshot) -> None:
    view = views.home_view(snapshot.corpus.latest(5), snapshot.people.people[:8])
    assert check_view(view) is None and "Top people in the news" in all_text(view["blocks"])
    sources = blocks.sources_message(snapshot.corpus)
    assert "5 articles" in all_text(sources.blocks) and "Taipei Times: 1" in all_text(sources.blocks)
    assert "no articles" in all_text(blocks.sources_message(Corpus(articles=())).blocks)
