"""Post one digest to one channel exactly once, whatever goes wrong in between.

Order: claim (workspace, channel, date) in the database -> reconcile with the channel (a claim taken over
from a run that died may have posted already; the sender can find that post) -> post ->
record the ts. A crash between post and record is healed by the reconcile step on restart.
How a post reaches Slack is the sender's business (`bot.slack.digest`); this module only
knows the three ways a send ends: done, refused, or uncertain.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Protocol

from bot.digest.content import Digest
from bot.digest.records import DigestOutcome, SlotStatus
from bot.digest.store import DigestStore

log = logging.getLogger(__name__)


class SendRefused(Exception):
    """The post was refused and did not happen; `error` is the reason (e.g. `channel_not_found`)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class SendUncertain(Exception):
    """The connection broke: the post may have happened. Only reconciling can tell."""


class DigestSender(Protocol):
    """A way to post digests, given to the scheduler by the service wiring."""

    async def find_posted(self, team: str, channel: str, local_date: dt.date) -> str | None:
        """The ts of our digest for this date already in the channel, if there is one."""
        ...

    async def post(self, team: str, channel: str, digest: Digest) -> str:
        """Post the digest (marked as ours for its date) and return its ts."""
        ...


async def deliver(sender: DigestSender, store: DigestStore, team: str, channel: str, digest: Digest,
                  now: dt.datetime, stale_after: dt.timedelta) -> DigestOutcome:
    """`stale_after` (`TRADEBOT_DIGEST_CLAIM_TIMEOUT_SECONDS`): a claim unfinished this long is taken over."""
    local_date = digest.local_date
    claimed = await asyncio.to_thread(store.claim, team, channel, local_date, now, stale_after)
    if claimed is None:
        record = await asyncio.to_thread(store.get, team, channel, local_date)
        finished = record is not None and record.status != SlotStatus.CLAIMED
        log.info("digest for %s on %s: %s", channel, local_date,
                 f"already {record.status}" if record is not None and finished else "another process holds the claim")
        return DigestOutcome.ALREADY_POSTED if finished else DigestOutcome.BUSY
    claim, takeover = claimed
    try:
        # Only a claim taken over from a run that never recorded its result can have posted.
        ts = await sender.find_posted(team, channel, local_date) if takeover else None
        if ts:
            log.info("digest for %s on %s was already posted (ts %s); recording it", channel, local_date, ts)
        else:
            ts = await sender.post(team, channel, digest)
    except SendRefused as exc:
        log.error("digest for %s on %s failed: %s", channel, local_date, exc.error)
        await asyncio.to_thread(store.finish, team, channel, local_date, claim, SlotStatus.FAILED, now,
                                error=exc.error)
        return DigestOutcome.FAILED
    except SendUncertain as exc:
        # Slack may have accepted the post; leave the claim so the next attempt reconciles.
        log.warning("digest for %s on %s: %s; will reconcile and retry", channel, local_date, exc)
        return DigestOutcome.PENDING
    await asyncio.to_thread(store.finish, team, channel, local_date, claim, SlotStatus.POSTED, now, ts=ts)
    await asyncio.to_thread(store.mark_sent, team, channel, list(digest.article_ids), local_date)
    log.info("digest posted to %s for %s (ts %s)", channel, local_date, ts)
    return DigestOutcome.POSTED
