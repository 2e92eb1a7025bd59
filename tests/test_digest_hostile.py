"""Hostile article text and watched topics in the daily digest: shown literally, never a live
mention or a link to anything but the article itself; an over-long URL left unlinked, never cut."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.common.clock import FakeClock
from bot.common.urls import linkable_url
from bot.digest.content import Digest, DigestItem, PersonInNews, Source, TopicHit, WatchedTopic, build_digest
from bot.digest.records import DigestOutcome
from bot.harness.limits import check_message
from bot.harness.render import mrkdwn_to_text, render_blocks
from bot.harness.session import HarnessSession
from bot.library import Library
from bot.slack.ui.digest import digest_message
from tests.helpers import write_article

LONDON = ZoneInfo("Europe/London")
TOKENS = ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S0TEAM>", "<@U1>", "<#C1>",
          "<https://evil.example|Reuters>", "<mailto:x@evil.example|mail>", "&lt;!here&gt;", "&lt;@U1&gt;",
          "&amp;lt;!channel&amp;gt;", "&", "<", ">", "|", "*", "_", "~", "`", "\u200b", "\u2060", "\u202e", "\u2066"]
LONG_URL = "https://wire.example/" + "a" * 2779  # 2,800 characters: more than a Slack link can hold
EDGE_URL = "https://wire.example/" + "b" * 1975  # still linkable, and with its title near a section's limit
HOSTILE_TITLE = "<!channel> tariffs on <!here> steel <https://evil.example|Reuters>"
_TOKEN = re.compile(r"<([^<>]*)>")


def _texts(node: Any, key: str | None = None) -> list[str]:
    if isinstance(node, dict):
        return [t for k, v in node.items() if k != "metadata" for t in _texts(v, k)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v, key)]
    return [node] if isinstance(node, str) and key == "text" else []


def live_markup(payload: dict[str, Any], allowed: set[str]) -> list[str]:
    """Every Slack control sequence in the payload's texts other than a link to an allowed URL,
    and every `<` or `>` outside one (a half-open link)."""
    problems = []
    for text in _texts(payload):
        for token in _TOKEN.finditer(text):
            url, bar, label = token.group(1).partition("|")
            if not bar or not label or url not in allowed:
                problems.append(token.group(0)[:120])
        if re.search(r"[<>]", _TOKEN.sub("", text)):
            problems.append(f"half-open: {text[:120]!r}")
    return problems


def write_hostile_corpus(corpus: Path) -> None:
    """Articles and a people.yml role full of Slack markup, newer than the seed articles."""
    day = dt.date(2026, 11, 20)
    write_article(corpus, "hostile-title", HOSTILE_TITLE,
                  ["<@U1> said &lt;!here&gt; tariffs on steel would rise. <!everyone> agreed at once."],
                  publisher="<https://evil.example|Reuters>", url="https://wire.example/hostile", published=day)
    write_article(corpus, "hostile-also", "<!channel> tariffs on <!here> steel", ["Another outlet's steel story."],
                  publisher="<@U1> Wire", url="https://other.example/also", published=day)
    write_article(corpus, "long-url", "Explainer: what a very long link looks like", ["Quite long indeed."],
                  url=LONG_URL, published=day - dt.timedelta(days=1))
    write_article(corpus, "edge-url", "R&D <and> quotas " * 5, ["A lead sentence. " * 40],
                  url=EDGE_URL, published=day - dt.timedelta(days=2))
    (corpus / "people.yml").write_text(
        "people:\n  - name: Scott Bessent\n    role: \"<!channel> Treasury <https://evil.example|boss>\"\n",
        encoding="utf-8")


async def test_hostile_articles_and_topics_reach_the_channel_as_plain_text(corpus_copy: Path, tmp_path: Path) -> None:
    write_hostile_corpus(corpus_copy)
    clock = FakeClock(dt.datetime(2026, 11, 23, 8, 1, tzinfo=LONDON))
    async with HarnessSession(corpus_copy, db_path=tmp_path / "h.sqlite3", clock=clock, digest_channels=["C0TRADE"],
                              digest_tz="Europe/London", digest_time=dt.time(8, 0)) as s:
        await (await s.driver.slash("watch &lt;!channel&gt; tariffs")).answer()
        await (await s.driver.slash("watch <@U1> <https://evil.example|steel>")).answer()
        assert await s.service.scheduler.tick() == {"C0TRADE": DigestOutcome.POSTED}
        [post] = [m for m in s.fake.channels["C0TRADE"].messages if m.get("metadata")]
        topics = s.service.store.watching("", "C0TRADE")  # as the Slack layer decoded them
        articles = s.service.library.current.corpus.articles

    assert live_markup(post, {a.url for a in articles if linkable_url(a.url)}) == []
    shown = render_blocks(post["blocks"])
    assert HOSTILE_TITLE.replace("|", "¦") in shown  # shown literally (a link label cannot hold `|`)
    assert "<@U1> said &lt;!here&gt; tariffs" in shown and "Also reported by <@U1> Wire" in shown
    assert "Scott Bessent (<!channel> Treasury <https://evil.example|boss>)" in shown
    assert len(topics) == 2 and all(f"Watching “{topic}”" in shown for topic in topics)
    assert "Explainer: what a very long link looks like" in shown and "a" * 100 not in str(post)
    assert f"<{EDGE_URL}|R&amp;D &lt;and&gt; quotas" in str(post["blocks"])  # the near-limit link kept whole


def test_one_story_from_six_outlets_with_long_urls_keeps_every_link_whole(corpus_copy: Path) -> None:
    """Cutting this section at Slack's limit used to leave `<https://o2.example/dd…|Outlet 2 News Agency of the…`."""
    for i in range(6):
        write_article(corpus_copy, f"truce-{i}", "US and China agree to extend tariff truce", [f"Body {i}."],
                      publisher=f"Outlet {i} News Agency of the World", url=f"https://o{i}.example/" + "d" * 624,
                      published=dt.date(2026, 11, 20))
    snapshot = Library(corpus_copy).load()
    assert snapshot is not None
    new = [a for a in snapshot.corpus.articles if a.id.startswith("truce-")]
    digest = build_digest(local_date=dt.date(2026, 11, 23), new_articles=new, people=None, search=snapshot.search,
                          topics=[])
    assert len(digest.items) == 1 and len(digest.items[0].also) == 5
    payload = digest_message(digest).payload()
    assert live_markup(payload, {a.url for a in new if a.url}) == [] and check_message(payload) is None
    shown = render_blocks(payload["blocks"])
    assert "*US and China agree to extend tariff truce (https://o5.example/ddd" in shown  # the newest leads
    assert "Outlet 4 News Agency of the World (https://o4.example/ddd" in shown  # linked while they fit
    assert shown.endswith(", Outlet 0 News Agency of the World_")  # then named, unlinked


@pytest.mark.parametrize("token", TOKENS)
def test_each_token_in_a_title_publisher_lead_or_topic_is_shown_literally(token: str) -> None:
    text = f"Steel {token} tariffs"
    digest = Digest(
        local_date=dt.date(2026, 11, 23), story_count=1,
        items=(DigestItem(article_id="a", title=text, url="https://wire.example/a", publisher=text,
                          published=dt.date(2026, 11, 22), lead=text,
                          also=(Source(publisher=text, url="https://wire.example/b"),)),),
        people=(PersonInNews(name=text, role=text, mentions=1),),
        topics=(WatchedTopic(topic=text, hits=(TopicHit(title=text, url="https://wire.example/c", snippet=text,
                                                        highlights=((0, 5),)),)),))
    payload = digest_message(digest).payload()
    assert live_markup(payload, {"https://wire.example/a", "https://wire.example/b", "https://wire.example/c"}) == []
    shown = mrkdwn_to_text(str(payload["blocks"][1]["text"]["text"])).split("\n")
    label = text.replace("|", "¦")  # a link label cannot hold `|`
    assert shown == [f"*{label} (https://wire.example/a)*", f"{text} · 22 Nov 2026", text,
                     f"_Also reported by {label} (https://wire.example/b)_"]


def test_the_longest_digest_fits_slack_with_every_link_whole() -> None:
    """20 stories with near-limit URLs and hostile titles, and more watched topics than blocks allow."""
    title = "R&D <!here> " * 20
    item = DigestItem(article_id="a", title=title, url=EDGE_URL, publisher="&" * 200, published=dt.date(2026, 11, 22),
                      lead="<@U1> " * 100, also=tuple(Source(publisher=title, url=EDGE_URL) for _ in range(5)))
    hit = TopicHit(title=title, url=EDGE_URL, snippet="&" * 600, highlights=((0, 3),))
    digest = Digest(local_date=dt.date(2026, 11, 23), items=(item,) * 20, story_count=45,
                    people=(PersonInNews(name=title, role=title, mentions=3),) * 5,
                    topics=tuple(WatchedTopic(topic=f"{title} {n}", hits=(hit,) * 3) for n in range(40)))
    payload = digest_message(digest).payload()
    assert check_message(payload) is None and live_markup(payload, {EDGE_URL}) == []
    shown = render_blocks(payload["blocks"])
    assert shown.count("Trade news digest") == 1 and "…and 25 more." in shown
    assert "more watched topics; `/trade watching` lists them." in shown


# Property: any hostile digest renders to a payload Slack accepts, with no live markup. ---------------

_hostile = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)), min_size=1, max_size=6).map("".join)
_long_run = st.sampled_from(TOKENS).map(lambda t: (t * 3000)[:3000])
TEXT = st.one_of(_hostile, _long_run).filter(lambda s: s.strip())
URL = st.one_of(st.none(), st.sampled_from(["https://wire.example/ok", EDGE_URL, LONG_URL, "javascript:alert(1)",
                                            "https://evil.example/a|b>", "slack://open?team=T1", "file:///etc"]))


@st.composite
def digests(draw: st.DrawFn) -> Digest:
    """Up to 12 stories, 5 people and 8 topics, their texts drawn from a few hostile strings per example."""
    text = st.sampled_from(draw(st.lists(TEXT, min_size=1, max_size=8)))

    @st.composite
    def hits(draw: st.DrawFn) -> TopicHit:
        snippet = draw(text)
        starts = draw(st.lists(st.integers(0, len(snippet) - 1), max_size=4))
        spans = tuple((s, min(len(snippet), s + draw(st.integers(1, 8)))) for s in starts)
        return TopicHit(title=draw(text), url=draw(URL), snippet=snippet, highlights=spans)

    items = st.builds(DigestItem, article_id=st.just("a"), title=text, url=URL, publisher=text,
                      published=st.just(dt.date(2026, 11, 22)), lead=st.one_of(st.just(""), text),
                      also=st.lists(st.builds(Source, publisher=text, url=URL), max_size=5).map(tuple))
    people = st.builds(PersonInNews, name=text, role=st.one_of(st.none(), text), mentions=st.integers(1, 9))
    topics = st.builds(WatchedTopic, topic=text, hits=st.lists(hits(), max_size=3).map(tuple))
    shown = tuple(draw(st.lists(items, max_size=12)))
    return Digest(local_date=dt.date(2026, 11, 23), items=shown, story_count=len(shown) + draw(st.integers(0, 50)),
                  people=tuple(draw(st.lists(people, max_size=5))), topics=tuple(draw(st.lists(topics, max_size=8))))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(digests())
def test_any_hostile_digest_fits_slack_and_links_only_its_articles(digest: Digest) -> None:
    payload = digest_message(digest).payload()
    assert check_message(payload) is None  # what the fake Slack (like Slack) would reject
    urls = [i.url for i in digest.items] + [s.url for i in digest.items for s in i.also]
    urls += [h.url for t in digest.topics for h in t.hits]
    assert live_markup(payload, {u for u in urls if linkable_url(u)}) == []
    assert all(len(t) <= 3000 for t in _texts(payload["blocks"]))
