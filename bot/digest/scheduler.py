"""When to post: one digest per channel per local date, at the chosen local time.

The slot is keyed by its local date, so DST days (a slot time that does not exist,
or exists twice) and clock steps still give exactly one digest. A slot missed
while the bot was down is caught up once within the grace window, else skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.common.clock import Clock
from bot.digest.content import build_digest
from bot.digest.poster import post_digest
from bot.digest.store import DigestStore
from bot.library import Library
from bot.settings import Settings
from bot.slack.client import make_client
from bot.slack.ui.blocks import Message

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0


def slot_instant(local_date: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of the slot on a local date. A non-existent local time (spring
    forward) lands just after the gap; an ambiguous one (fall back) is its first occurrence."""
    local = dt.datetime.combine(local_date, at, tzinfo=zone).replace(fold=0)
    return local.astimezone(dt.UTC)


def latest_due_slot(now: dt.datetime, at: dt.time, zone: ZoneInfo) -> tuple[dt.date, dt.datetime]:
    """The most recent slot at or before `now`: today's if it has passed, else yesterday's."""
    today = now.astimezone(zone).date()
    for day in (today, today - dt.timedelta(days=1), today - dt.timedelta(days=2)):
        instant = slot_instant(day, at, zone)
        if instant <= now:
            return day, instant
    raise AssertionError("a slot within the last two days always exists")


class DigestScheduler:
    def __init__(self, settings: Settings, library: Library, store: DigestStore, client: AsyncWebClient | None,
                 clock: Clock) -> None:
        self.settings = settings
        self.library = library
        self.store = store
        self.clock = clock
        # The client never retries a post after a connection reset (that could post twice);
        # the reconcile step of the next tick does that safely.
        self.client = client if client is not None else make_client("")
        self.grace = dt.timedelta(hours=settings.digest_grace_hours)

    def compose(self, channel: str, local_date: dt.date) -> tuple[Message, list[str]] | None:
        """The digest for a channel and the ids of the articles it reports (None: no corpus)."""
        snapshot = self.library.current
        if snapshot is None:
            return None
        sent = self.store.sent_ids(channel)
        new = [a for a in snapshot.corpus.articles if a.id not in sent]
        message = build_digest(local_date=local_date, channel=channel, new_articles=new, people=snapshot.people,
                               search=snapshot.search, topics=self.store.watching(channel),
                               max_items=self.settings.digest_max_items)
        return message, [a.id for a in new]

    async def run_channel(self, channel: str, local_date: dt.date) -> str:
        composed = await asyncio.to_thread(self.compose, channel, local_date)
        if composed is None:
            log.error("digest for %s on %s skipped: corpus unavailable (%s)", channel, local_date, self.library.error)
            return "skipped:corpus_unavailable"
        message, ids = composed
        if not ids and self.settings.digest_skip_empty:
            self.store.finish(channel, local_date, None, "skipped", self.clock.now(), error="nothing new")
            log.info("digest for %s on %s skipped: nothing new", channel, local_date)
            return "skipped:empty"
        return await post_digest(self.client, self.store, channel, local_date, message, self.clock.now(), ids)

    async def tick(self) -> dict[str, str]:
        """Post whatever is due now; returns the outcome per channel that had something due."""
        now = self.clock.now()
        zone = self.settings.zone
        day, instant = latest_due_slot(now, self.settings.digest_time, zone)
        outcomes: dict[str, str] = {}
        for channel in self.settings.digest_channels:
            record = self.store.get(channel, day)
            if record is not None and record.status != "claimed":
                continue
            if now - instant > self.grace and record is None:
                if not self.store.last_results(channel):
                    continue  # a new install: nothing was missed, the first slot is still ahead
                self.store.finish(channel, day, None, "skipped", now, error="missed the slot beyond the grace window")
                log.warning("digest for %s on %s skipped: bot was down past the %s grace window", channel, day, self.grace)
                outcomes[channel] = "skipped:missed"
                continue
            try:
                outcomes[channel] = await self.run_channel(channel, day)
            except Exception:  # one channel's failure must not stop the others
                log.exception("digest for %s on %s failed unexpectedly", channel, day)
                outcomes[channel] = "failed:exception"
        return outcomes

    async def run(self) -> None:
        log.info("digest scheduler: %s at %s %s", ", ".join(self.settings.digest_channels) or "no channels",
                 self.settings.digest_time.strftime("%H:%M"), self.settings.digest_tz)
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("digest scheduler tick failed")
            await self.clock.sleep(TICK_SECONDS)
