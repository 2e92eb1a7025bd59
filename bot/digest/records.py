"""The digest's typed outcomes: what the store records per (channel, date), and what one run did."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel


class SlotStatus(StrEnum):
    """The state of one (channel, local date) slot in the store."""

    CLAIMED = "claimed"  # a run is posting (or died while posting: reconciled on takeover)
    POSTED = "posted"
    FAILED = "failed"  # Slack refused; `error` says why
    SKIPPED = "skipped"  # nothing new, or missed beyond the grace window; `error` says which


class DigestRecord(BaseModel):
    team_id: str = ""
    channel: str
    local_date: dt.date
    status: SlotStatus
    claim: str | None
    claimed_at: dt.datetime | None
    ts: str | None
    error: str | None
    updated_at: dt.datetime


class DigestOutcome(StrEnum):
    """What one attempt at a channel's digest did."""

    POSTED = "posted"
    ALREADY_POSTED = "already"  # another run finished this slot
    BUSY = "busy"  # another run holds a fresh claim on it
    FAILED = "failed"  # refused (the slot is marked failed with the error) or an unexpected exception
    PENDING = "pending"  # the connection broke mid-post: the next tick reconciles with the channel
    SKIPPED_EMPTY = "skipped_empty"  # nothing new, and DIGEST_SKIP_EMPTY is set
    SKIPPED_MISSED = "skipped_missed"  # the bot was down past the grace window
    SKIPPED_NO_CORPUS = "skipped_no_corpus"  # the corpus is unavailable: no empty post
