"""Rendering typed answers to Slack payloads: every answer kind, escaping, and Slack's limits."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.answers import channel_notices, compose, pages, persons
from bot.answers.models import Action, Button, Buttons
from bot.corpus import Article, Corpus
from bot.harness.limits import check_message, check_view
from bot.library import Snapshot
from bot.search import SearchHit, SearchResponse
from bot.slack.ui import blocks, views
from bot.slack.ui.blocks import render_message
from bot.slack.ui.mrkdwn import bold_spans, escape, link

HOSTILE = "<!channel> <!here> <!everyone> <@U123> <#C123> <https://evil.example|Reuters> & co"


def hit(i: int, **overrides: object) -> SearchHit:
    data: dict[str, object] = {"article_id": f"a{i}", "title": f"Title {i}", "publisher": "Wire",
                               "url": f"https://w.example/{i}", "published": dt.date(2025, 6, 1),
                               "snippet": "tariffs on china", "highlights": [(0, 7)], "passage": "tariffs on china",
                               "score": 1.0}
    return SearchHit(**{**data, **overrides})


def all_text(payload: object) -> str:
    return str(payload)


def test_escape_defuses_every_control_sequence() -> None:
    out = escape(HOSTILE)
    for control in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C123>", "<https://evil"):
        assert control not in out
    assert "&amp; co" in out and escape("&lt;") == "&amp;lt;"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "slack://open", "https://x.example/a|b",
                                 "https://x.example/<b>", None, "", "https://x.example/" + "a" * 2800])
def test_only_safe_http_urls_are_linked(url: str | None) -> None:
    assert link(url, "Label <!here>") == "Label &lt;!here&gt;"


def test_links_and_bold() -> None:
    assert link("https://x.example/a", "A | B") == "<https://x.example/a|A ¦ B>"
    assert bold_spans("tariffs <on> china", [(0, 7), (13, 18)]) == "*tariffs* &lt;on&gt; *china*"


def test_search_message_restates_query_and_has_buttons() -> None:
    response = SearchResponse(query=HOSTILE, results=[hit(1), hit(2)], total=12, corrected="tariff")
    message = render_message(compose.search_page(response, key="k1"))
    text = all_text(message.payload())
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "<https://w.example/1|Title 1>" in text and "*tariffs*" in text
    actions = [b for b in message.blocks if b["type"] == "actions"][0]["elements"]
    assert [a["text"]["text"] for a in actions] == ["Share in channel", "More results"]
    assert all(a["value"] == "k1" for a in actions)
    assert "Showing results for *tariff*" in text
    assert check_message(message.payload()) is None


def test_the_notification_text_is_escaped_for_every_answer() -> None:
    response = SearchResponse(query="<!channel> tariffs", results=[hit(1, title="<!here> news")], total=1)
    assert render_message(compose.search_page(response, key="k")).text == (
        "Search: &lt;!channel&gt; tariffs — &lt;!here&gt; news")
    assert "<" not in render_message(compose.search_page(SearchResponse(query="<@U1>"), key="k")).text
    assert "<" not in render_message(persons.person_not_found("<!channel>", [])).text
    assert "<" not in render_message(channel_notices.watch_changed("<!here>", True)).text


def test_result_without_url_is_not_linked() -> None:
    message = render_message(compose.search_page(SearchResponse(query="q", results=[hit(1, url=None)], total=1), key="k"))
    assert "*Title 1*" in all_text(message.blocks)


def test_an_over_long_url_is_shown_unlinked_never_cut_inside_a_link() -> None:
    long_url = "https://x.example/" + "a" * 2800
    message = render_message(compose.search_page(SearchResponse(query="q", results=[hit(1, url=long_url)], total=1),
                                                 key="k"))
    assert "<https://x.example" not in all_text(message.payload()) and "*Title 1*" in all_text(message.blocks)


def test_hostile_corpus_text_is_escaped() -> None:
    h = hit(1, title="<!here> | Breaking", publisher="<@U999>", snippet="<!channel> now", highlights=[],
            url="javascript:alert(1)")
    text = all_text(render_message(compose.search_page(SearchResponse(query="q", results=[h], total=1), key="k")).payload())
    assert "<!here>" not in text and "<@U999>" not in text and "<!channel>" not in text and "javascript" not in text


def test_very_long_snippets_and_many_results_fit_slack_limits() -> None:
    long_text = "tariff & " * 2000
    results = [hit(i, title="T&" * 300, snippet=long_text, passage=long_text, highlights=[(0, 6)]) for i in range(50)]
    message = render_message(compose.search_page(SearchResponse(query="x<" * 2500, results=results, total=500), key="k"))
    assert check_message(message.payload()) is None
    assert len(message.blocks) <= 50 and message.blocks[-1]["type"] == "actions"
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in message.blocks)
    assert len(message.text) <= 4000


def test_no_results_message_suggests() -> None:
    message = render_message(compose.search_page(SearchResponse(query="soybeens", suggestions=["soybean"]), key="k"))
    assert "No articles match. Did you mean *soybean*?" in all_text(message.blocks)


def test_person_card_and_choices(snapshot: Snapshot) -> None:
    greer = snapshot.people.get("Jamieson Greer")
    card = render_message(persons.person_card("greer", greer, key="k"))
    text = all_text(card.blocks)
    assert "*Jamieson Greer*" in text and "US Trade Representative" in text and "USTR" in text
    assert "<https://en.bloomingbit.io/feed/news/90125|" in text
    assert check_message(card.payload()) is None
    matches = snapshot.people.lookup("greer") * 3
    choices = render_message(persons.person_choices("li", matches, key="k"))
    ids = [e["action_id"] for b in choices.blocks if b["type"] == "actions" for e in b["elements"]]
    assert ids == ["trade_pick-0", "trade_pick-1", "trade_pick-2"]


def test_buttons_of_one_block_get_distinct_action_ids() -> None:
    same = Buttons((Button("A", Action.SHARE, "k"), Button("B", Action.SHARE, "k")))
    [block] = blocks.render_parts([same])
    ids = [e.action_id for e in block.elements]
    assert len(set(ids)) == 2 and all(i.startswith(blocks.ACTION_SHARE) for i in ids)


def test_help_is_built_from_the_subcommand_table() -> None:
    from bot.answers.commands import SUBCOMMANDS

    message = render_message(compose.help_page())
    text = all_text(message.payload())
    for sub in SUBCOMMANDS:
        assert escape(sub.usage) in text
    assert "<words>" not in text and "<name>" not in text and "`/trade &lt;words&gt;`" in text


def test_article_modal_paginates_within_view_limits() -> None:
    article = Article(id="long", title="A long read " * 30, publisher="Wire", url="https://w.example/long",
                      published=dt.date(2025, 1, 1), paragraphs=tuple(f"Paragraph {i}. " + "word " * 400 for i in range(60)))
    n = len(pages.paginate(article.paragraphs))
    assert n > 1
    for page in range(n):
        view = views.article_modal(pages.article_pages(article, page))
        assert check_view(view) is None
        assert len(view["blocks"]) <= 100 and f"Page {page + 1} of {n}" in all_text(view["blocks"])
    first = views.article_modal(pages.article_pages(article, 0))
    assert "Next page" in all_text(first["blocks"]) and "Previous page" not in all_text(first["blocks"])
    assert "Read at the source" in all_text(first["blocks"])
    middle = views.article_modal(pages.article_pages(article, 1))
    [actions] = [b for b in middle["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["trade_modal_page-prev", "trade_modal_page-next"]


def test_home_view_and_sources(snapshot: Snapshot) -> None:
    view = views.home_view(pages.home(snapshot.corpus.latest(5), snapshot.people.people[:8]))
    assert check_view(view) is None and "Top people in the news" in all_text(view["blocks"])
    sources = render_message(compose.sources(snapshot.corpus))
    assert "5 articles" in all_text(sources.blocks) and "Taipei Times: 1" in all_text(sources.blocks)
    assert "no articles" in all_text(render_message(compose.sources(Corpus(articles=()))).blocks)


def test_mrkdwn_objects_are_verbatim_so_slack_adds_no_links_of_its_own() -> None:
    message = render_message(compose.search_page(SearchResponse(query="see https://evil.example #general"), key="k"))
    texts = [b["text"] for b in message.blocks if b["type"] == "section"]
    assert texts and all(t["verbatim"] is True for t in texts)


def test_ready_mrkdwn_is_never_cut_inside_a_link_or_an_entity() -> None:
    url = "https://x.example/" + "a" * 1900
    text = "x" * 1000 + f"<{url}|label>" + " tail"
    cut = blocks.cut_mrkdwn(text, 2800)
    assert cut == "x" * 1000 + "…"
    assert blocks.cut_mrkdwn("a" * 2796 + "&amp; b", 2800) == "a" * 2796 + "…"
    assert blocks.section(text).to_dict()["text"]["text"] == cut
