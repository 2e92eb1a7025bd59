"""Hostile text through every answer kind and renderer: nothing can ping, link or spoof in Slack.

Property-based: hypothesis builds strings from Slack control sequences (raw and
entity-encoded), `& < > |`, zero-width and bidi controls, markup markers and long
runs, puts them in queries, names, titles, publishers, URLs, roles and topics, and
checks every shown field of the rendered payloads: the only `<…>` tokens are links
to the article's own URL and mentions of the ids the bot itself put there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answers import channel_notices, compose, pages, persons
from bot.answers.answerer import Answerer
from bot.answers.markup import CHANNEL_ID
from bot.answers.text import decode_entities
from bot.common.urls import linkable_url
from bot.corpus import Article, Corpus
from bot.harness.render import render_payload
from bot.library import Library
from bot.people import Person, PersonMatch
from bot.people.directory import PersonArticle
from bot.search import SearchHit, SearchResponse
from bot.slack.ui.blocks import render_message
from bot.slack.ui.presenter import SlackAnswers
from bot.slack.ui.views import article_modal, home_view
from tests.state_helpers import answer_store

SETTINGS = settings(max_examples=200, deadline=None)
TOKENS = ["<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C123>", "<!subteam^S123|@team>",
          "<https://evil.example|Reuters>", "<mailto:x@evil.example|x>", "&lt;!channel&gt;", "&lt;@U1&gt;",
          "&amp;lt;!here&amp;gt;", "&amp;", "&", "<", ">", "|", "\u200b", "\u2060", "\u202e", "\u2066", "\u200f",
          "*", "_", "~", "`", "\n", ">", "https://evil.example", ":mag: ", "@here", "#general", "¦", " "]
piece = st.one_of(st.sampled_from(TOKENS), st.text(max_size=8))
hostile = st.one_of(
    st.lists(piece, min_size=1, max_size=12).map("".join),
    st.tuples(st.sampled_from(TOKENS), st.integers(1, 400)).map(lambda t: t[0] * t[1]),  # very long runs
)
urls = st.one_of(st.none(), st.sampled_from(["https://news.example/a", "javascript:alert(1)", "https://x.example/a|b",
                                             "https://x.example/" + "a" * 2500, "slack://open", "<https://evil>"]),
                 hostile.map(lambda s: "https://ok.example/" + s))
_TOKEN_RE = re.compile(r"<([^<>]*)>")
SHOWN = {"text", "title", "close", "submit"}


def shown_strings(payload: Any, key: str = "text") -> Iterator[str]:
    """Every string Slack shows: text fields at any depth (message `text`, mrkdwn, plain_text, titles)."""
    if isinstance(payload, dict):
        for k, v in payload.items():
            yield from shown_strings(v, k)
    elif isinstance(payload, list):
        for v in payload:
            yield from shown_strings(v, key)
    elif isinstance(payload, str) and key in SHOWN:
        yield payload


def assert_no_live_markup(payload: Any, urls: set[str] = frozenset(), users: set[str] = frozenset(),
                          channels: set[str] = frozenset()) -> None:
    for text in shown_strings(payload):
        tokens = _TOKEN_RE.findall(text)
        assert text.count("<") == len(tokens) and text.count(">") >= len(tokens), text
        for token in tokens:
            target = token.split("|", 1)[0]
            ok = ("|" in token and target in urls) or token in {f"@{u}" for u in users} | {f"#{c}" for c in channels}
            assert ok, f"live token <{token}> in {text!r}"


def hit(title: str, publisher: str, snippet: str, url: str | None, i: int = 0) -> SearchHit:
    return SearchHit(article_id=f"a{i}", title=title or "t", publisher=publisher or "p", url=url,
                     published=dt.date(2025, 6, 1), snippet=snippet, highlights=[(0, min(3, len(snippet)))],
                     passage=snippet, score=1.0)


@SETTINGS
@given(query=hostile, title=hostile, publisher=hostile, snippet=hostile, url=urls, notice=hostile, word=hostile,
       kind=st.sampled_from(["results", "none", "message"]), shared_by=st.sampled_from([None, "U777", "<!here>"]))
def test_search_pages(query: str, title: str, publisher: str, snippet: str, url: str | None, notice: str,
                      word: str, kind: str, shared_by: str | None) -> None:
    linked = {u for u in [url] if linkable_url(u)}
    hits = [hit(title, publisher, snippet, url, i) for i in range(3)]
    response = {"results": SearchResponse(query=query, results=hits, total=9, corrected=word, notices=[notice]),
                "none": SearchResponse(query=query, suggestions=[word, title]),
                "message": SearchResponse(query=query, message=notice)}[kind]
    message = render_message(compose.search_page(response, key="k", shared_by=shared_by, notices=[notice]))
    assert_no_live_markup(message.payload(), linked, users={"U777"})
    assert len(message.text) <= 4000


@SETTINGS
@given(name=hostile, role=hostile, alias=hostile, title=hostile, sentence=hostile, url=urls, query=hostile)
def test_people(name: str, role: str, alias: str, title: str, sentence: str, url: str | None, query: str) -> None:
    linked = {u for u in [url] if linkable_url(u)}
    article = PersonArticle(article_id="a", title=title, url=url, published=dt.date(2025, 1, 2), sentence=sentence)
    person = Person(name=name or "n", role=role, organization=role, country=alias, aliases=(alias,), mentions=3,
                    article_count=12, articles=(article,) * 9, other_roles=(role, alias))
    matches = [PersonMatch(person=person, score=10.0)] * 6
    for answer in (persons.person_card(query, person, "k", shared_by="U9"), persons.person_choices(query, matches, "k"),
                   persons.person_not_found(query, [name, alias])):
        assert_no_live_markup(render_message(answer).payload(), linked, users={"U9"})
    home = pages.home([], [person] * 8)
    assert_no_live_markup(home_view(home), linked)


def article(title: str, publisher: str, body: str, url: str | None) -> Article:
    try:
        return _article(title, publisher, body, url)
    except ValueError:  # the corpus refuses such a URL; the renderer must cope either way
        return _article(title, publisher, body, None)


def _article(title: str, publisher: str, body: str, url: str | None) -> Article:
    return Article(id="a-1", title=f"T {title}"[:500], publisher=f"P {publisher}"[:200], url=url,
                   published=dt.date(2025, 1, 1), paragraphs=(f"B {body}", f"T {title}", f"B {body}"))


@SETTINGS
@given(title=hostile, publisher=hostile, body=hostile, url=urls, topic=hostile, note=hostile)
def test_articles_modal_home_and_notices(title: str, publisher: str, body: str, url: str | None, topic: str,
                                         note: str) -> None:
    a = article(title, publisher, body, url)
    linked = {u for u in [a.url] if linkable_url(u)}  # as the corpus stored it
    corpus = Corpus(articles=(a,))
    for answer in (compose.latest([a] * 5), compose.sources(corpus), compose.help_page(note),
                   channel_notices.watch_changed(topic, True), channel_notices.unwatch_changed(topic, False),
                   channel_notices.watching([topic, note]), compose.article_missing(topic),
                   channel_notices.digest_status([("C0TRADE", dt.date(2025, 1, 1), "failed", note), (topic, dt.date(2025, 1, 2),
                                                                                             topic, note)])):
        # A digest row's channel comes from the store, where it is a channel id: shown as a channel link.
        stored = {"C0TRADE"} | ({topic} if CHANNEL_ID.fullmatch(topic) else set())
        assert_no_live_markup(render_message(answer).payload(), linked, channels=stored)
    for page in range(3):
        assert_no_live_markup(article_modal(pages.article_pages(a, page)), linked)
    assert_no_live_markup(home_view(pages.home([a] * 5, [])), linked)


@pytest.fixture(scope="module")
def slack_answers(seed_corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> SlackAnswers:
    library = Library(seed_corpus_dir)
    library.load()
    return SlackAnswers(Answerer(library, answer_store(tmp_path_factory.mktemp("state"))))


def slack_encoded(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@SETTINGS
@given(text=hostile, form=st.sampled_from(["{}", "who {}", "tariffs source:{}", "{} china", "latest {}", "watch {}"]))
def test_typed_commands_through_the_answerer(slack_answers: SlackAnswers, text: str, form: str) -> None:
    """As Slack delivers them: entity-encoded once (a typed `&lt;` arrives as `&amp;lt;`), or not at all."""
    for raw in (slack_encoded(form.format(text)), form.format(text)):
        message = slack_answers.answer_text(raw, user="U1", channel="C1")
        urls = {a.url for a in slack_answers.answerer.library.current.corpus.articles if a.url}
        assert_no_live_markup(message.payload(), urls)
        if message.blocks and message.blocks[-1]["type"] == "actions":
            key = message.blocks[-1]["elements"][0]["value"]
            assert_no_live_markup(slack_answers.share(key, "U2").payload(), urls, users={"U2"})


printable = st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), min_size=1, max_size=120)


@SETTINGS
@given(words=printable.filter(lambda s: s == s.strip() and not {"*", "`", "\n"} & set(s)))
def test_a_query_is_echoed_exactly_as_typed(slack_answers: SlackAnswers, words: str) -> None:
    """Decoded once, escaped once: `&lt;` typed shows as `&lt;`, `<!here>` typed shows as `<!here>`."""
    typed = f"tariffs {words}"
    message = slack_answers.answer_text(slack_encoded(typed), user="U1", channel="C1")
    assert f"Search: *{' '.join(typed.split())}*" in " ".join(render_payload(message.payload()).split())
    assert typed in decode_entities(message.text)
