"""The background poller `tradebot run` starts: polls each feed when it is due, until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from bot.common.clock import Clock, SystemClock
from bot.feeds.models import EntryOutcome
from bot.feeds.service import FeedService

log = logging.getLogger(__name__)
OnAdded = Callable[[list[EntryOutcome]], Awaitable[None]]
POLL_LEASE = dt.timedelta(minutes=10)  # a feed claimed for polling; the poll's result sets the real next time


class FeedPoller:
    """`start()` returns at once; `stop()` returns within a few seconds, fetches in flight cancelled
    (an entry cut off mid-way is not marked seen, so it is fetched again next time)."""

    def __init__(self, feeds: FeedService, *, clock: Clock | None = None, tick_s: float = 5.0,
                 enabled: bool = True, on_added: OnAdded | None = None) -> None:
        self.feeds = feeds
        self.on_added = on_added  # e.g. instant watch alerts: called after each round that added articles
        self.clock = clock or SystemClock()
        self.tick_s = tick_s
        self.enabled = enabled
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.rounds = 0

    def start(self) -> None:
        if self._task is None and self.enabled:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="feed-poller")

    async def stop(self, timeout: float = 3.0) -> None:
        self._stopping.set()
        if self._task is not None:
            task, self._task = self._task, None
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.feeds.close()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                due = await asyncio.to_thread(self.feeds.store.claim_due, self.clock.now(), POLL_LEASE)
                if due:
                    poll = asyncio.create_task(self.feeds.ingester.poll_all(due))
                    stop = asyncio.create_task(self._stopping.wait())
                    await asyncio.wait({poll, stop}, return_when=asyncio.FIRST_COMPLETED)
                    if not poll.done():
                        poll.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await poll
                        return
                    stop.cancel()
                    for report in poll.result():
                        level = logging.INFO if report.ok else logging.WARNING
                        log.log(level, "feed %s: %s", report.feed_url, report.status)
                    added = [o for report in poll.result() for o in report.added]
                    if added and self.on_added is not None:
                        await self.on_added(added)
                self.rounds += 1
            except Exception:
                log.exception("feed poll round failed; trying again next round")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.tick_s)
