"""Every fault a feed reader meets gets a clear status line and loses nothing else
(bad-input-and-faults.md items 51-56)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.corpus import load_corpus
from bot.feeds import FeedReport
from bot.slack.ui.mrkdwn import escape
from tests.test_feeds_server import PublisherSite, make_service, serve_site


@pytest.fixture
def site() -> Iterator[PublisherSite]:
    yield from serve_site()


async def poll_with_good_feed(site: PublisherSite, tmp_path: Path, path: str, **settings: object) -> FeedReport:
    """Poll a faulty feed next to a good one; the good one must be unaffected."""
    service = make_service(tmp_path, **settings)
    try:
        service.add_feed(site.base + "/atom/feed.atom")
        service.add_feed(site.base + path)
        reports = {r.feed_url: r for r in await service.ingester.poll_all(service.store.feeds())}
    finally:
        await service.close()
    good = reports[site.base + "/atom/feed.atom"]
    assert good.ok and len(good.added) == 1, good.status
    record = service.store.get(site.base + path)
    assert record is not None and record.last_status == reports[site.base + path].status
    return reports[site.base + path]


@pytest.mark.parametrize("path,status", [
    ("/html-feed", "not a feed: the URL returned an HTML page"),
    ("/broken.xml", "malformed XML"),
    ("/missing", "404 Not Found"),
    ("/big", "response too large (6,291,461 bytes; limit 5,242,880)"),
    ("/bomb", "response too large (over 5,242,880 bytes after decompression)"),
    ("/loop", "more than 5 redirects"),
    ("/slow", "timed out after 1 s"),
])
async def test_a_broken_feed_gets_a_status_line_and_others_are_unaffected(
        site: PublisherSite, tmp_path: Path, path: str, status: str) -> None:
    report = await poll_with_good_feed(site, tmp_path, path, TRADEBOT_FETCH_TIMEOUT_SECONDS=1)
    assert not report.ok and status in report.status, report.status


async def test_a_refused_connection_is_a_status_line(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    try:
        service.add_feed("http://127.0.0.1:9/feed.xml")  # the discard port: nothing listens
        [report] = await service.ingester.poll_all(service.store.feeds())
    finally:
        await service.close()
    assert not report.ok and report.status.startswith("cannot connect to 127.0.0.1"), report.status


async def test_410_stops_polling_the_feed(site: PublisherSite, tmp_path: Path) -> None:
    report = await poll_with_good_feed(site, tmp_path, "/gone")
    assert report.stopped and "410 Gone" in report.status and "polling stopped" in report.status
    service = make_service(tmp_path)
    try:
        record = service.store.get(site.base + "/gone")
        assert record is not None and not record.active
        assert record.url not in {f.url for f in service.store.due(dt.datetime(2100, 1, 1, tzinfo=dt.UTC))}
    finally:
        await service.close()


@pytest.mark.parametrize("path,at_least", [("/busy", dt.timedelta(hours=2)), ("/unavailable", dt.timedelta(days=6))])
async def test_429_and_503_with_retry_after_back_off(site: PublisherSite, tmp_path: Path, path: str,
                                                     at_least: dt.timedelta) -> None:
    report = await poll_with_good_feed(site, tmp_path, path)
    assert "Retry-After" in report.status and report.next_poll_at is not None
    assert report.next_poll_at - dt.datetime.now(dt.UTC) >= at_least - dt.timedelta(minutes=1)
    service = make_service(tmp_path)
    try:
        assert site.base + path not in {f.url for f in service.store.due(dt.datetime.now(dt.UTC))}
    finally:
        await service.close()


async def test_repeated_errors_back_off_longer(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    try:
        service.add_feed(site.base + "/missing")
        waits = []
        for _ in range(3):
            [report] = await service.ingester.poll_all(service.store.feeds())
            assert report.next_poll_at is not None
            waits.append(report.next_poll_at - dt.datetime.now(dt.UTC))
    finally:
        await service.close()
    assert waits[0] < waits[1] < waits[2] and "3 failures in a row" in report.status


async def test_a_tls_error_is_a_status_line(tmp_path: Path) -> None:
    from aiohttp import web

    app = web.Application()  # plain HTTP on the port an https:// URL is sent to: the TLS handshake fails
    runner = web.AppRunner(app)
    await runner.setup()
    plain = web.TCPSite(runner, "127.0.0.1", 0)
    await plain.start()
    port = runner.addresses[0][1]
    service = make_service(tmp_path)
    try:
        service.add_feed(f"https://127.0.0.1:{port}/feed.xml")
        [report] = await service.ingester.poll_all(service.store.feeds())
    finally:
        await service.close()
        await runner.cleanup()
    assert not report.ok and report.status.startswith(("TLS error", "connection failed")), report.status


async def test_odd_entries_no_link_no_date_future_date_duplicate_guid(site: PublisherSite, tmp_path: Path) -> None:
    report = await poll_with_good_feed(site, tmp_path, "/odd.xml")
    assert report.ok, report.status
    reasons = {o.title: o.reason or "" for o in [*report.added, *report.skipped]}
    assert "feed summary only: the entry has no link" in reasons["No link but a summary"]
    assert "no text: the entry has no link" in reasons["No link and no summary"]
    assert "dated in the future" in reasons["Rare earth exports resume after licence backlog clears"]
    assert "duplicate GUID" in reasons["Same GUID again"]
    assert "duplicate of" in reasons["EU weighs retaliatory duties on US steel"]  # also in the Atom feed
    corpus = load_corpus(tmp_path / "corpus")
    assert not corpus.skipped
    rare = next(a for a in corpus.articles if a.title.startswith("Rare earth"))
    assert str(rare.published) == "2025-06-11"  # the page's date, not 2100
    no_link = next(a for a in corpus.articles if a.title == "No link but a summary")
    assert no_link.url is None and str(no_link.published) == "2025-06-09"


async def test_wrong_charset_header_is_overridden_by_the_document(site: PublisherSite, tmp_path: Path) -> None:
    report = await poll_with_good_feed(site, tmp_path, "/latin1.xml")
    assert report.ok and [o.title for o in report.added] == ["Café exports and tariffs"], report


async def test_at_most_n_entries_per_poll_the_rest_next_time(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path, TRADEBOT_FEED_MAX_ENTRIES=2)
    try:
        service.add_feed(site.base + "/feed.xml")
        [first] = await service.ingester.poll_all(service.store.feeds())
        service.store.record_poll(site.base + "/feed.xml", now=dt.datetime.now(dt.UTC), ok=True, status="x",
                                  next_poll_at=dt.datetime.now(dt.UTC))  # forget the validators: full GET
        [second] = await service.ingester.poll_all(service.store.feeds())
    finally:
        await service.close()
    assert len(first.added) == 2 and "1 more entries next poll" in first.status
    assert len(second.added) == 1 and first.next_poll_at is not None


async def test_slack_markup_in_page_text_stays_literal(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    try:
        outcome = await service.ingester.add_url(site.base + "/2025/06/10/tariff-truce")
    finally:
        await service.close()
    article = load_corpus(tmp_path / "corpus").get(outcome.article_id or "")
    assert article is not None and "<!channel>" in article.body  # stored as the page said it
    shown = escape(article.body)
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown and "<https://evil" not in shown


def test_json_feeds_with_odd_values_do_not_crash() -> None:
    from bot.feeds.parse import FeedParseError, parse_feed

    odd = (b'{"version": "https://jsonfeed.org/version/1.1", "title": 5, "items": [7, {"id": 3, "title": ["x"],'
           b' "url": "relative/path", "authors": "me", "content_html": 9, "summary": "Plain text.",'
           b' "date_published": "yesterday"}]}')
    feed = parse_feed(odd, url="https://example.com/feed.json")
    [entry] = feed.entries
    assert entry.key == "3" and entry.title is None and entry.link == "https://example.com/relative/path"
    assert entry.summary == ["Plain text."] and entry.published is None
    with pytest.raises(FeedParseError, match="not a JSON Feed"):
        parse_feed(b'{"items": []}', url="https://example.com/x.json")
    with pytest.raises(FeedParseError, match="malformed JSON"):
        parse_feed(b'{"version": ', url="https://example.com/x.json", content_type="application/json")


async def test_at_most_n_fetches_at_once(site: PublisherSite) -> None:
    import asyncio

    from bot.feeds import Fetcher, FetchLimits

    async with Fetcher(FetchLimits(concurrency=2), allow_private=True) as fetcher:
        results = await asyncio.gather(*(fetcher.get(f"{site.base}/hold/{i}") for i in range(8)))
    assert [r.body for r in results] == [b"ok"] * 8 and site.most_in_flight == 2
