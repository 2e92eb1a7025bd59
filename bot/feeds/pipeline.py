"""Feed entries and single pages to corpus articles: fetch, extract (or fall back to the feed's
summary, saying so), de-duplicate against everything held, write atomically, record the outcome.

Checks and writes run on the event loop with no await between them, so feeds polled at once
cannot both write the same story.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from bot.common.clock import Clock, SystemClock
from bot.common.urls import is_web_url
from bot.corpus import Article
from bot.corpus.ingest import slugify, write_article
from bot.feeds.corpus_keys import CorpusKeys
from bot.feeds.extract import ExtractError, PageArticle, extract_page
from bot.feeds.fetch import FEED_ACCEPT, Fetcher, FetchError, FetchResult
from bot.feeds.models import AddRefused, EntryOutcome, FeedReport
from bot.feeds.parse import FeedEntry, FeedParseError, parse_feed
from bot.feeds.safety import UnsafeURL, check_url
from bot.feeds.store import FeedRecord, FeedStore, OtherOutlet
from bot.library import off_loop

log = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=24)
MAX_RETRY_AFTER = dt.timedelta(days=7)
FeedDone = Callable[[FeedReport, int, int], None]


def _host(url: str | None) -> str | None:
    host = urlsplit(url).hostname if url else None
    return host.removeprefix("www.") if host else None


class Ingester:
    def __init__(self, fetcher: Fetcher, store: FeedStore, corpus_dir: Path, *, clock: Clock | None = None,
                 max_entries: int = 50, keys: CorpusKeys | None = None) -> None:
        self.fetcher = fetcher
        self.store = store
        self.corpus_dir = corpus_dir
        self.clock = clock or SystemClock()
        self.max_entries = max_entries
        self._keys = keys
        self._keys_lock = asyncio.Lock()

    async def keys(self) -> CorpusKeys:
        """The corpus's keys, read once (feeds polled at once must share one memory)."""
        async with self._keys_lock:
            if self._keys is None:
                # Daemon threads (a scan of 100k files takes seconds): SIGTERM does not wait for them.
                self._keys = await off_loop(CorpusKeys.scan, self.corpus_dir)
            return self._keys

    async def refresh_corpus(self) -> None:
        """Take in articles added to the corpus by other means since the last poll."""
        async with self._keys_lock:
            if self._keys is not None:
                await off_loop(self._keys.refresh, self.corpus_dir)

    # One page ------------------------------------------------------------------

    async def _page(self, link: str) -> tuple[FetchResult, PageArticle]:
        result = await self.fetcher.get(link)
        page = await asyncio.to_thread(extract_page, result.body, url=result.url, charset=result.charset)
        return result, page

    async def add_url(self, url: str) -> EntryOutcome:
        """One page into the corpus; raises UnsafeURL or AddRefused with the line to show."""
        check_url(url, allow_private=self.fetcher.allow_private)
        keys = await self.keys()
        if found := keys.duplicate_of([url], ""):
            return EntryOutcome(status="skipped", reason=f"already in the corpus as {found[0]}", url=url,
                                duplicate_of=found[0])
        try:
            result, page = await self._page(url)
        except FetchError as exc:
            if exc.unsafe:
                raise UnsafeURL(str(exc)) from None
            raise AddRefused(f"could not fetch {url}: {exc}") from None
        except ExtractError as exc:
            raise AddRefused(f"could not add {url}: {exc}") from None
        outcome = self._write(entry=None, page=page, final_url=result.url, link=url, feed_title=None,
                              note=None, keys=keys)
        if outcome.status == "skipped" and not outcome.duplicate_of:
            raise AddRefused(f"could not add {url}: {outcome.reason}")
        return outcome

    # Feeds ---------------------------------------------------------------------

    async def poll_all(self, records: list[FeedRecord], on_done: FeedDone | None = None) -> list[FeedReport]:
        """Poll feeds at once (the fetcher bounds requests in flight); one feed's failure is its own."""
        done = [0]
        await self.refresh_corpus()

        async def one(record: FeedRecord) -> FeedReport:
            try:
                report = await self.poll(record)
            except Exception as exc:  # a bug in one feed's handling must not stop the others
                log.exception("feed %s: poll failed", record.url)
                report = self._failed(record, self.clock.now(), FetchError(f"internal error: {exc.__class__.__name__}"))
            done[0] += 1
            if on_done:
                on_done(report, done[0], len(records))
            return report

        return list(await asyncio.gather(*(one(r) for r in records)))

    async def poll(self, record: FeedRecord) -> FeedReport:
        now = self.clock.now()
        interval = dt.timedelta(seconds=record.interval_s)
        try:
            result = await self.fetcher.get(record.url, accept=FEED_ACCEPT, etag=record.etag,
                                            last_modified=record.last_modified)
            if result.not_modified:
                return self._ok(record, now, "not modified (304)", etag=result.etag or record.etag,
                                last_modified=result.last_modified or record.last_modified)
            feed = await asyncio.to_thread(parse_feed, result.body, url=result.url, content_type=result.content_type,
                                           charset=result.charset)  # (a large feed takes feedparser a while)
        except FetchError as exc:
            return self._failed(record, now, exc)
        except FeedParseError as exc:
            return self._failed(record, now, FetchError(str(exc)))
        seen = await asyncio.to_thread(self.store.seen_keys, record.url)
        added: list[EntryOutcome] = []
        skipped: list[EntryOutcome] = []
        in_this_feed: set[str] = set()
        fresh: list[FeedEntry] = []
        for entry in feed.entries:
            if entry.key in in_this_feed:
                skipped.append(EntryOutcome(status="skipped", reason=f"duplicate GUID {entry.key[:80]!r} in the feed",
                                            title=entry.title, url=entry.link))
                continue
            in_this_feed.add(entry.key)
            if entry.key not in seen:
                fresh.append(entry)
        later = max(0, len(fresh) - self.max_entries)
        for entry in fresh[: self.max_entries]:
            try:
                outcome = await self._entry(entry, feed.title, record.url)
            except Exception:  # a bug must not lose the other entries; the entry is retried next poll
                log.exception("feed %s: entry %s failed", record.url, entry.key[:80])
                skipped.append(EntryOutcome(status="skipped", reason="internal error (retried next poll)",
                                            title=entry.title, url=entry.link))
                continue
            await asyncio.to_thread(self.store.mark_seen, record.url, entry.key, now=now,
                                    outcome=outcome.reason or outcome.status, article_id=outcome.article_id)
            (added if outcome.status == "added" else skipped).append(outcome)
        status = f"{len(added)} added, {len(skipped)} skipped"
        if later:
            status += f", {later} more entries next poll (at most {self.max_entries} per poll)"
        if not fresh and not skipped:
            status = "no new entries"
        if feed.warning:
            status += f"; {feed.warning}"
        return self._ok(record, now, status, added=added, skipped=skipped, title=feed.title, etag=result.etag,
                        last_modified=result.last_modified, next_in=dt.timedelta(0) if later else interval)

    def _ok(self, record: FeedRecord, now: dt.datetime, status: str, *, added: list[EntryOutcome] | None = None,
            skipped: list[EntryOutcome] | None = None, title: str | None = None, etag: str | None = None,
            last_modified: str | None = None, next_in: dt.timedelta | None = None) -> FeedReport:
        next_at = now + (next_in if next_in is not None else dt.timedelta(seconds=record.interval_s))
        self.store.record_poll(record.url, now=now, next_poll_at=next_at, ok=True, status=status,
                               added=len(added or []), title=title, etag=etag, last_modified=last_modified)
        return FeedReport(feed_url=record.url, ok=True, status=status, added=added or [], skipped=skipped or [],
                          next_poll_at=next_at)

    def _failed(self, record: FeedRecord, now: dt.datetime, exc: FetchError) -> FeedReport:
        status = str(exc)
        failures = record.failures + 1
        delay = min(dt.timedelta(seconds=record.interval_s) * 2 ** min(failures - 1, 10), MAX_BACKOFF)
        if exc.retry_after is not None:
            delay = max(delay, min(dt.timedelta(seconds=exc.retry_after), MAX_RETRY_AFTER))
        if exc.gone:
            status += ": the feed is gone; polling stopped (`tradebot feeds add` starts it again)"
        elif failures > 1:
            status += f" ({failures} failures in a row; next try in {delay})"
        self.store.record_poll(record.url, now=now, next_poll_at=now + delay, ok=False, status=status, stop=exc.gone)
        return FeedReport(feed_url=record.url, ok=False, status=status, next_poll_at=None if exc.gone else now + delay,
                          stopped=exc.gone)

    async def _entry(self, entry: FeedEntry, feed_title: str | None, feed_url: str) -> EntryOutcome:
        keys = await self.keys()
        link = entry.link if entry.link and is_web_url(entry.link) else None
        if link and (found := keys.duplicate_of([link], "")):
            return EntryOutcome(status="skipped", reason=f"duplicate of {found[0]} ({found[1]})", title=entry.title,
                                url=link, duplicate_of=found[0])
        page: PageArticle | None = None
        final_url = link
        note: str | None = None
        if link is None:
            note = "the entry has no link" if not entry.link else "the entry's link is not a web address"
        else:
            try:
                result, page = await self._page(link)
                final_url = result.url
            except (FetchError, ExtractError) as exc:
                note = str(exc)
        return self._write(entry=entry, page=page, final_url=final_url, link=link,
                           feed_title=feed_title or _host(feed_url), note=note, keys=keys)

    def _write(self, *, entry: FeedEntry | None, page: PageArticle | None, final_url: str | None, link: str | None,
               feed_title: str | None, note: str | None, keys: CorpusKeys) -> EntryOutcome:
        """Build, de-duplicate and write one article (no await: atomic on the event loop)."""
        title = (entry.title if entry else None) or (page.title if page else None)
        base = EntryOutcome(status="skipped", title=title, url=link)
        if page is not None:
            paragraphs, source, reason = list(page.paragraphs), "page", None
        elif entry is not None and entry.summary:
            reason = f"feed summary only: {note}"
            marker = f"(Summary from the feed: the full article could not be fetched or extracted: {note}.)"
            paragraphs = [*entry.summary, marker]
            source = "feed summary"
        else:
            return base.model_copy(update={"reason": f"no text: {note}; the feed entry has no summary either"})
        if not title:
            return base.model_copy(update={"reason": "no title in the feed entry or the page"})
        canonical = page.canonical_url if page and page.canonical_url and is_web_url(page.canonical_url) else None
        url = canonical or final_url or link
        publisher = (page.publisher if page else None) or feed_title or _host(url) or "unknown publisher"
        today = self.clock.now().date()
        dates = [entry.published.date() if entry and entry.published else None, page.published if page else None]
        published = next((d for d in dates if d is not None and d <= today), today)
        if any(d is not None and d > today for d in dates):
            reason = (reason + "; " if reason else "") + f"dated in the future: dated {published} instead"
        body = "\n\n".join(paragraphs)
        if found := keys.duplicate_of([url, final_url, link], body):
            article_id, how = found
            if how == "same text" and url:
                self.store.add_other_outlet(article_id, OtherOutlet(publisher=publisher[:200], url=url,
                                                                    title=title[:500]), self.clock.now())
            return base.model_copy(update={"reason": f"duplicate of {article_id} ({how})", "duplicate_of": article_id})
        try:
            article = Article(id=keys.unique_id(slugify(title, published)), title=title[:500],
                              publisher=publisher[:200], url=url, published=published,
                              paragraphs=paragraphs)  # type: ignore[call-arg]  # the packing validator takes it
        except (ValidationError, ValueError) as exc:
            return base.model_copy(update={"reason": f"not a valid article: {str(exc).splitlines()[0][:200]}"})
        write_article(article, self.corpus_dir)
        keys.remember(article)
        log.info("added %s (%s)", article.id, url)
        return EntryOutcome(status="added", reason=reason, article_id=article.id, title=article.title,
                            publisher=article.publisher, url=article.url, published=article.published,
                            author=page.author if page else (entry.author if entry else None), source=source)

