"""The background poller `tradebot run` starts: it adds articles by itself and stops promptly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.corpus import load_corpus
from bot.feeds import EntryOutcome
from bot.feeds.poller import FeedPoller
from tests.test_feeds_server import PublisherSite, make_service, serve_site


@pytest.fixture
def site() -> Iterator[PublisherSite]:
    yield from serve_site()


async def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait for a condition (a generous deadline, not a speed check)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_the_poller_adds_due_feeds_and_polls_again_only_when_due(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    service.add_feed(site.base + "/feed.json")
    alerts: list[list[str | None]] = []

    async def on_added(outcomes: list[EntryOutcome]) -> None:  # where instant watch alerts plug in
        alerts.append([o.article_id for o in outcomes])

    poller = FeedPoller(service, tick_s=0.05, on_added=on_added)
    poller.start()
    try:
        await until(lambda: (tmp_path / "corpus").is_dir() and any((tmp_path / "corpus").glob("*.md")))
        await until(lambda: poller.rounds >= 5)
    finally:
        await asyncio.wait_for(poller.stop(), 10)
    assert [a.title for a in load_corpus(tmp_path / "corpus").articles] == ["Japan and US near deal on auto tariffs"]
    assert len(site.requests_to("/feed.json")) == 1  # the next poll is 15 minutes away
    assert alerts == [["2025-06-09-japan-and-us-near-deal-on-auto-tariffs"]]


async def test_stop_cancels_a_fetch_in_flight_and_loses_nothing(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path, TRADEBOT_FETCH_TIMEOUT_SECONDS=60)
    service.add_feed(site.base + "/slow")
    poller = FeedPoller(service, tick_s=0.05)
    poller.start()
    await until(lambda: bool(site.requests_to("/slow")))
    await asyncio.wait_for(poller.stop(), 10)  # not the 60 s the fetch would take
    again = make_service(tmp_path)
    try:
        record = again.store.get(site.base + "/slow")
        assert record is not None and record.active and record.last_attempt_at is None  # polled again next start
    finally:
        await again.close()


async def test_articles_added_by_hand_meanwhile_are_not_duplicated(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    try:
        outcome, article = await service.add_page(site.base + "/og-only")  # the corpus memory is now made
        assert article is not None and article.id == outcome.article_id and article.publisher == "Lantern Wire"
        by_hand = make_service(tmp_path / "elsewhere", TRADEBOT_CORPUS=str(tmp_path / "corpus"))
        try:
            await by_hand.ingester.add_url(site.base + "/2025/06/11/rare-earths")
        finally:
            await by_hand.close()
        service.add_feed(site.base + "/feed.xml")
        [report] = await service.ingester.poll_all(service.store.feeds())
    finally:
        await service.close()
    rare = next(o for o in report.skipped if o.title and o.title.startswith("Rare earth"))
    assert rare.duplicate_of == "2025-06-11-rare-earth-exports-resume-after-licence-backlog-clears"
    assert not load_corpus(tmp_path / "corpus").skipped
