"""Feeds in the formats publishers really serve, turned into clean corpus articles, once each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.corpus import load_corpus
from tests.test_feeds_server import PublisherSite, make_service, serve_site


@pytest.fixture
def site() -> Iterator[PublisherSite]:
    yield from serve_site()


async def poll(service, urls: list[str]):  # -> list[FeedReport]
    for url in urls:
        service.add_feed(url)
    return await service.ingester.poll_all(service.store.feeds())


async def test_rss_with_content_encoded_becomes_clean_full_articles(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    try:
        [report] = await poll(service, [site.base + "/feed.xml"])
    finally:
        await service.close()
    assert report.ok, report.status
    corpus = load_corpus(tmp_path / "corpus")
    truce = next(a for a in corpus.articles if "truce" in a.title)
    assert truce.title == "US and China agree to extend tariff truce by 90 days"
    assert truce.publisher == "Harbour Times"  # og:site_name, not the feed's "Harbour Times – Trade"
    assert truce.url == site.base + "/2025/06/10/tariff-truce"  # the page's canonical URL, no utm_ tags
    assert str(truce.published) == "2025-06-10"
    assert truce.lead.startswith("Negotiators from Washington and Beijing agreed on Tuesday")
    body = truce.body
    for furniture in ("Section 12", "Comment number", "Related Articles", "All rights reserved", "Subscribe for"):
        assert furniture not in body
    rare = next(a for a in corpus.articles if "Rare earth" in a.title)
    assert rare.lead.startswith("Shipments of rare earth magnets from China")  # the <article> element's text


async def test_atom_relative_links_and_json_feed_with_og_only_page(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    try:
        reports = await poll(service, [site.base + "/atom/feed.atom", site.base + "/feed.json"])
    finally:
        await service.close()
    assert all(r.ok for r in reports), [r.status for r in reports]
    by_title = {a.title: a for a in load_corpus(tmp_path / "corpus").articles}
    steel = by_title["EU weighs retaliatory duties on US steel"]
    assert steel.url == site.base + "/stories/eu-steel"  # "../stories/eu-steel" against xml:base /atom/
    assert steel.publisher == "Pacific Ledger" and "€95 billion" in steel.body
    japan = by_title["Japan and US near deal on auto tariffs"]
    assert japan.publisher == "Lantern Wire" and japan.url == site.base + "/stories/japan-autos"  # og:url
    assert str(japan.published) == "2025-06-09" and "Ryosei Akazawa" in japan.body


async def test_paywall_page_keeps_the_feed_summary_and_says_so(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    try:
        [report] = await poll(service, [site.base + "/feed.xml"])
    finally:
        await service.close()
    greer = next(o for o in report.added if o.title and "Greer" in o.title)
    assert greer.source == "feed summary" and "paywall or login" in (greer.reason or "")
    article = load_corpus(tmp_path / "corpus").get(greer.article_id or "")
    assert article is not None and article.lead.startswith("US Trade Representative Jamieson Greer will brief")
    assert "Summary from the feed" in article.paragraphs[-1] and "paywall" in article.paragraphs[-1]
    assert "Subscribe to continue" not in article.body


async def test_second_poll_is_conditional_and_adds_nothing(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    try:
        [first] = await poll(service, [site.base + "/feed.xml"])
        [second] = await service.ingester.poll_all(service.store.feeds())
        site.feed_version = 2  # the feed changes: only the new entry is fetched
        [third] = await service.ingester.poll_all(service.store.feeds())
    finally:
        await service.close()
    assert len(first.added) == 3 and second.status == "not modified (304)" and not second.added
    conditional = site.requests_to("/feed.xml")[1]
    assert conditional.get("If-None-Match") and conditional.get("If-Modified-Since")
    assert [o.title for o in third.added] == ["Late item"] and not third.skipped
    record = service.store.get(site.base + "/feed.xml")
    assert record is not None and record.articles_added == 4 and record.last_success_at and record.failures == 0


async def test_the_same_story_from_two_outlets_is_kept_once_with_also_reported_by(
        site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    try:
        reports = await poll(service, [site.base + "/feed.xml", site.base + "/courier.xml"])
    finally:
        await service.close()
    truce = [a for a in load_corpus(tmp_path / "corpus").articles if "truce" in a.title]
    assert len(truce) == 1, [a.id for a in truce]
    others = service.also_reported_by(truce[0].id)
    kept_by = truce[0].publisher
    assert {o.publisher for o in others} == {"Harbour Times", "Coastal Courier"} - {kept_by}
    skipped = [o for r in reports for o in r.skipped]
    assert any(o.duplicate_of == truce[0].id for o in skipped)


async def test_articles_already_in_the_corpus_are_not_added_again(site: PublisherSite, tmp_path: Path) -> None:
    first = make_service(tmp_path)
    try:
        await poll(first, [site.base + "/feed.xml"])
    finally:
        await first.close()
    before = sorted(p.name for p in (tmp_path / "corpus").glob("*.md"))
    second = make_service(tmp_path / "other-db", TRADEBOT_CORPUS=str(tmp_path / "corpus"))  # no memory of entries
    try:
        [report] = await poll(second, [site.base + "/feed.xml"])
    finally:
        await second.close()
    assert not report.added and all(o.duplicate_of for o in report.skipped)
    assert sorted(p.name for p in (tmp_path / "corpus").glob("*.md")) == before


async def test_add_one_page(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    try:
        outcome = await service.ingester.add_url(site.base + "/2025/06/11/rare-earths")
        again = await service.ingester.add_url(site.base + "/2025/06/11/rare-earths/")
    finally:
        await service.close()
    assert outcome.status == "added" and outcome.publisher == "Harbour Times" and str(outcome.published) == "2025-06-11"
    assert again.status == "skipped" and again.duplicate_of == outcome.article_id
    assert [a.id for a in load_corpus(tmp_path / "corpus").articles] == [outcome.article_id]
