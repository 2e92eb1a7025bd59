"""The feed machinery built from the settings: store, fetcher and ingester, one way for the
command line, the poller and (later) Slack to get them."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver

from bot.common.clock import Clock, SystemClock
from bot.corpus import Article, read_article
from bot.feeds.fetch import Fetcher, FetchLimits
from bot.feeds.models import AddRefused, EntryOutcome
from bot.feeds.pipeline import Ingester
from bot.feeds.safety import check_url
from bot.feeds.store import FeedRecord, FeedStore, OtherOutlet
from bot.settings import Settings
from bot.store import Database, open_database


class FeedService:
    def __init__(self, settings: Settings, *, database: Database | None = None, clock: Clock | None = None,
                 resolver: AbstractResolver | None = None) -> None:
        """`database`: the bot's shared one (the service's); without it the CLI opens its own."""
        self.settings = settings
        self.clock = clock or SystemClock()
        self._own_database = database is None
        self.database = database or open_database(settings.resolved_database_url)
        self.store = FeedStore(self.database)
        limits = FetchLimits(max_bytes=settings.fetch_max_bytes, timeout_s=settings.fetch_timeout,
                             max_redirects=settings.fetch_max_redirects, concurrency=settings.fetch_concurrency)
        self.fetcher = Fetcher(limits, allow_private=settings.allow_private_urls, resolver=resolver)
        self.ingester = Ingester(self.fetcher, self.store, settings.corpus_dir, clock=self.clock,
                                 max_entries=settings.feed_max_entries)

    def may_change_feeds(self, user_id: str) -> bool:
        """Who may add and remove feeds from Slack: everyone, or the users in TRADEBOT_FEED_EDITORS."""
        return not self.settings.feed_editors or user_id in self.settings.feed_editors

    def add_feed(self, url: str, *, added_by: str | None = None, every_minutes: float | None = None) -> bool:
        """Start following a feed (False: already followed). Raises UnsafeURL for a refused URL."""
        url = url.strip()
        check_url(url, allow_private=self.settings.allow_private_urls)
        if len(url) > 2000:
            raise AddRefused("the feed URL is longer than 2,000 characters")
        minutes = every_minutes if every_minutes is not None else self.settings.feed_interval_minutes
        if not 1 <= minutes <= 7 * 24 * 60:
            raise AddRefused("the polling interval must be between 1 minute and 7 days")
        return self.store.add_feed(url, interval_s=round(minutes * 60),
                                   now=self.clock.now(), added_by=added_by)

    def remove_feed(self, url: str) -> bool:
        return self.store.remove_feed(url.strip())

    def find_feed(self, url: str) -> FeedRecord | None:
        return self.store.get(url.strip())

    async def add_page(self, url: str) -> tuple[EntryOutcome, Article | None]:
        """`/trade add`: the outcome and the article now in the corpus (the new one, or the one it
        duplicates), for its card. Raises UnsafeURL or AddRefused with the line to show."""
        outcome = await self.ingester.add_url(url.strip())
        article_id = outcome.article_id or outcome.duplicate_of
        path = self.settings.corpus_dir / f"{article_id}.md"
        try:
            article = read_article(path) if article_id else None
        except (OSError, ValueError):
            article = None
        return outcome, article

    def also_reported_by(self, article_id: str) -> list[OtherOutlet]:
        return self.store.also_reported_by(article_id)

    def pending_retry(self, record: FeedRecord) -> dt.datetime | None:
        """When a server asked us (Retry-After) or repeated failures tell us to wait; None: poll now."""
        if record.failures and record.next_poll_at and record.next_poll_at > self.clock.now():
            return record.next_poll_at
        return None

    async def close(self) -> None:
        await self.fetcher.close()
        if self._own_database:
            self.database.close()


def feed_label(record: FeedRecord) -> str:
    return record.title or urlsplit(record.url).hostname or record.url
