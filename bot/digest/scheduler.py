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

from bot.common.clock import Clock
from bot.digest.content import Digest, build_digest
from bot.digest.delivery import DigestSender, deliver
from bot.digest.records import DigestOutcome, SlotStatus
from bot.digest.store import DigestStore
from bot.library import Library, off_loop
from bot.settings import Settings

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


def compose_digest(library: Library, store: DigestStore, team: str, channel: str, local_date: dt.date,
                   max_items: int) -> Digest | None:
    """The digest of what this channel has not been sent yet (None: no corpus)."""
    snapshot = library.current
    if snapshot is None:
        return None
    sent = store.sent_ids(team, channel)
    new = [a for a in snapshot.corpus.articles if a.id not in sent]
    return build_digest(local_date=local_date, new_articles=new, people=snapshot.people, search=snapshot.search,
                        topics=store.watching(team, channel), max_items=max_items)


class DigestScheduler:
    """Decides what is due and composes it; `sender` (given by the wiring) does the posting."""

    def __init__(self, settings: Settings, library: Library, store: DigestStore, sender: DigestSender,
                 clock: Clock) -> None:
        self.settings = settings
        self.library = library
        self.store = store
        self.sender = sender
        self.clock = clock
        self.grace = dt.timedelta(hours=settings.digest_grace_hours)

    def compose(self, team: str, channel: str, local_date: dt.date) -> Digest | None:
        return compose_digest(self.library, self.store, team, channel, local_date, self.settings.digest_max_items)

    def channels(self) -> list[tuple[str, str]]:
        """(workspace, channel) to post to: DIGEST_CHANNEL (the single workspace's) and every channel
        that asked with `/trade digest on`."""
        wanted = [("", c) for c in self.settings.digest_channels] + self.store.subscribed()
        return list(dict.fromkeys(wanted))

    async def run_channel(self, team: str, channel: str, local_date: dt.date) -> DigestOutcome:
        # In a daemon thread: composing from a large corpus takes seconds, and SIGTERM must not wait for it.
        digest = await off_loop(self.compose, team, channel, local_date)
        if digest is None:
            log.error("digest for %s on %s skipped: corpus unavailable (%s)", channel, local_date, self.library.error)
            return DigestOutcome.SKIPPED_NO_CORPUS
        if not digest.article_ids and self.settings.digest_skip_empty:
            await asyncio.to_thread(self.store.finish, team, channel, local_date, None, SlotStatus.SKIPPED,
                                    self.clock.now(), error="nothing new")
            log.info("digest for %s on %s skipped: nothing new", channel, local_date)
            return DigestOutcome.SKIPPED_EMPTY
        return await deliver(self.sender, self.store, team, channel, digest, self.clock.now(),
                             self.settings.stale_claim)

    async def tick(self) -> dict[str, DigestOutcome]:
        """Post whatever is due now; returns the outcome per channel that had something due."""
        now = self.clock.now()
        day, instant = latest_due_slot(now, self.settings.digest_time, self.settings.zone)
        outcomes: dict[str, DigestOutcome] = {}
        for team, channel in await asyncio.to_thread(self.channels):
            record = await asyncio.to_thread(self.store.get, team, channel, day)
            if record is not None and record.status != SlotStatus.CLAIMED:
                continue
            if now - instant > self.grace and record is None:
                if not await asyncio.to_thread(self.store.last_results, team, channel):
                    continue  # a new install: nothing was missed, the first slot is still ahead
                await asyncio.to_thread(self.store.finish, team, channel, day, None, SlotStatus.SKIPPED, now,
                                        error="missed the slot beyond the grace window")
                log.warning("digest for %s on %s skipped: bot was down past the %s grace window", channel, day, self.grace)
                outcomes[channel] = DigestOutcome.SKIPPED_MISSED
                continue
            try:
                outcomes[channel] = await self.run_channel(team, channel, day)
            except Exception:  # one channel's failure must not stop the others
                log.exception("digest for %s on %s failed unexpectedly", channel, day)
                outcomes[channel] = DigestOutcome.FAILED
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
