"""Instant watch alerts end to end: the feed poller adds articles, each new match of an instant watch
is posted to its channel exactly once (across polls and restarts), and the digest does not repeat it."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.digest.store import DigestStore
from bot.feeds.models import EntryOutcome
from bot.harness.session import HarnessSession
from bot.service import BotService
from bot.slack.alerts import ALERT_EVENT, alert_metadata
from bot.store import open_database
from tests.test_feeds_server import PublisherSite, serve_site

RARE_TITLE = "Rare earth exports resume after licence backlog clears"


@pytest.fixture
def site() -> Iterator[PublisherSite]:
    yield from serve_site()


def session(corpus: Path, tmp_path: Path, **settings: Any) -> HarnessSession:
    values: dict[str, Any] = {"allow_private_urls": True, "feeds_enabled": False, "reload_interval": 0.2,
                              "fetch_timeout": 5.0, **settings}
    return HarnessSession(corpus, db_path=tmp_path / "db.sqlite3", **values)


def service(harness: HarnessSession) -> BotService:
    assert harness.service is not None
    return harness.service


async def slash(harness: HarnessSession, text: str) -> str:
    assert harness.driver is not None
    await (await harness.driver.slash(text)).answer(timeout=20)
    return str(harness.fake.ephemeral_for("U0ALICE", "C0TRADE")[-1]["text"])


def alerts(harness: HarnessSession) -> list[dict[str, Any]]:
    return [m for m in harness.fake.channel_messages("C0TRADE")
            if (m.get("metadata") or {}).get("event_type") == ALERT_EVENT]


def alerted_ids(harness: HarnessSession) -> list[str]:
    return [m["metadata"]["event_payload"]["article_id"] for m in alerts(harness)]


def assert_clean(harness: HarnessSession) -> None:
    assert [(c["method"], c.get("error")) for c in harness.fake.rejections()] == []
    assert [(c["method"], c["notified"]) for c in harness.fake.notifications()] == []


async def test_an_instant_watch_posts_each_match_once_across_polls_and_restarts_and_not_in_the_digest(
        site: PublisherSite, corpus_copy: Path, tmp_path: Path) -> None:
    async with session(corpus_copy, tmp_path, feeds_enabled=True) as harness:
        assert "each new matching article is posted here" in await slash(harness, "watch rare earths --instant")
        await slash(harness, "watch steel")
        watching = await slash(harness, "watching")
        await slash(harness, f"feeds add {site.base}/feed.xml")
        # The background poller (what `tradebot run` starts) polls the new feed within a tick.
        await harness.fake.wait_for(lambda c: c["method"] == "chat.postMessage"
                                    and ALERT_EVENT in str(c.get("params", c)), timeout=30)
        bot = service(harness)
        posting = bot.poller.rounds  # the round posting alerts is not counted until all are posted

        async def round_done() -> None:
            while bot.poller.rounds == posting:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(round_done(), 30)
        rare = next(a for a in bot.library.current.corpus.articles if a.title == RARE_TITLE)  # type: ignore[union-attr]
        first = alerted_ids(harness)
        # A second poll adds nothing; the same outcomes handed over again post nothing either.
        await bot.feeds.ingester.poll_all(bot.feeds.store.feeds())
        await bot.alerts.on_added([EntryOutcome(status="added", article_id=rare.id)])
        again = alerted_ids(harness)
        digest = bot.scheduler.compose("", "C0TRADE", dt.date(2025, 6, 12))
        shown = alerts(harness)[0]
        assert_clean(harness)
    assert "rare earths" in watching and "instant" in watching
    assert rare.id in first and len(first) == len(set(first)) and again == first
    assert RARE_TITLE in shown["text"] and "New on" in shown["text"]
    assert digest is not None and rare.id not in digest.article_ids
    assert "2025-06-12-greer-to-brief-senate-on-trade-talks" in digest.article_ids  # unmatched: the digest has it

    async with session(corpus_copy, tmp_path) as restarted:  # a new process, a fresh Slack client
        await service(restarted).alerts.on_added([EntryOutcome(status="added", article_id=rare.id)])
        await service(restarted).alerts.reconcile()
        assert alerts(restarted) == []
        assert_clean(restarted)


async def test_a_claim_left_by_a_crash_is_reconciled_with_the_channel_not_posted_twice(
        corpus_copy: Path, tmp_path: Path) -> None:
    async with session(corpus_copy, tmp_path) as harness:
        bot = service(harness)
        posted, lost = [a.id for a in bot.library.current.corpus.articles[:2]]  # type: ignore[union-attr]
        stale = bot.settings.stale_claim
        long_ago = bot.clock.now() - 2 * stale
        # One crash after posting (the post is in the channel, its ts never recorded), one before.
        assert bot.store.claim_alert("", "C0TRADE", posted, "tariffs", long_ago, stale) is False
        assert bot.store.claim_alert("", "C0TRADE", lost, "tariffs", long_ago, stale) is False
        await bot.client.chat_postMessage(channel="C0TRADE", text="an alert from before the crash",
                                          metadata=alert_metadata("C0TRADE", posted))
        await bot.alerts.reconcile()
        await bot.alerts.reconcile()
        ids = alerted_ids(harness)
        assert bot.store.pending_alerts() == []
        assert_clean(harness)
    assert sorted(ids) == sorted([posted, lost])


HOSTILE_PAGE = """<html><head><title>&lt;!channel&gt; tariffs &lt;https://evil.example|click&gt;</title>
<meta property="og:site_name" content="&lt;!here&gt; Wire"></head><body><article>
<h1>&lt;!channel&gt; tariffs &lt;https://evil.example|click&gt;</h1>
<p>Rare earths: &lt;!channel&gt; &lt;https://evil.example|click&gt; negotiators &lt;@U0ALICE&gt; met in Geneva on Monday to discuss tariffs on rare
earth magnets, export licences and a timetable for lifting duties; &lt;https://evil.example|read more&gt;
said one official who asked not to be named because the talks are private.</p>
<p>The two sides agreed to meet again next month, and officials said the rare earths licences would be
reviewed every week until the backlog is cleared, according to people familiar with the talks.</p>
</article></body></html>"""


async def test_hostile_page_text_is_shown_literally_and_notifies_nobody(
        corpus_copy: Path, tmp_path: Path) -> None:
    from aiohttp import web

    app = web.Application()
    base = ""

    async def feed(_: web.Request) -> web.Response:
        return web.Response(text=f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title>
<item><title>&lt;!channel&gt; hostile</title><link>{base}/hostile</link><guid>h1</guid></item></channel></rss>""",
                            content_type="application/rss+xml")

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=HOSTILE_PAGE, content_type="text/html")

    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/hostile", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with session(corpus_copy, tmp_path) as harness:
            await slash(harness, "watch rare earths --instant")
            await slash(harness, f"feeds add {base}/feed.xml")
            bot = service(harness)
            [report] = await bot.feeds.ingester.poll_all(bot.feeds.store.feeds())
            await bot.alerts.on_added(report.added)
            [alert] = alerts(harness)
            assert harness.driver is not None
            await (await harness.driver.slash(f"add {base}/hostile")).answer(timeout=20)
            card = harness.fake.ephemeral_for("U0ALICE", "C0TRADE")[-1]
            assert_clean(harness)
    finally:
        await runner.cleanup()
    assert report.ok and len(report.added) == 1
    for message in (alert, card):
        raw = str(message["blocks"]) + message["text"]
        assert "<!channel>" not in raw and "<!here>" not in raw and "<https://evil" not in raw
        assert "<@U0ALICE>" not in raw
        assert "&lt;!channel&gt;" in raw and "&lt;https://evil.example|click&gt;" in raw and "&lt;@U0ALICE&gt;" in raw


def test_a_database_from_before_instant_watches_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE watches (channel TEXT NOT NULL, topic TEXT NOT NULL, topic_key TEXT NOT NULL, "
                "created TEXT NOT NULL, PRIMARY KEY (channel, topic_key))")
    old.execute("INSERT INTO watches VALUES ('C0TRADE', 'tariffs', 'tariffs', '2025-06-01T00:00:00+00:00')")
    old.commit()
    old.close()
    store = DigestStore(open_database(f"sqlite:///{path}"))  # upgraded: the watch is the single workspace's
    try:
        assert store.watches("", "C0TRADE") == [("tariffs", False)]
        assert store.watch("", "C0TRADE", "Tariffs", instant=True) is True  # the same topic, now instant
        assert store.watch("", "C0TRADE", "tariffs", instant=True) is False
        assert store.instant_watches() == [("", "C0TRADE", "tariffs")]
        assert store.watching("", "C0TRADE") == ["tariffs"]
    finally:
        store.db.close()
    reopened = DigestStore(open_database(f"sqlite:///{path}"))  # opening again (already upgraded) is fine too
    try:
        assert reopened.watches("", "C0TRADE") == [("tariffs", True)]
    finally:
        reopened.db.close()
