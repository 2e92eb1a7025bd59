"""What a fetch did, as typed values the command line, Slack and tests all read."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel


class EntryOutcome(BaseModel):
    """One feed entry or page: added (with the article's fields) or skipped (with the reason)."""

    status: Literal["added", "skipped"]
    reason: str | None = None  # why skipped; for "added", what was unusual ("feed summary only: ...")
    article_id: str | None = None
    title: str | None = None
    publisher: str | None = None
    url: str | None = None
    published: dt.date | None = None
    author: str | None = None
    source: Literal["page", "feed summary"] | None = None
    duplicate_of: str | None = None


class FeedReport(BaseModel):
    feed_url: str
    ok: bool
    status: str  # the one status line: "3 added, 1 skipped", "not modified (304)", "404 Not Found", ...
    added: list[EntryOutcome] = []
    skipped: list[EntryOutcome] = []
    next_poll_at: dt.datetime | None = None
    stopped: bool = False


class AddRefused(Exception):
    """`tradebot add` / `/trade add` could not add the page; the message is the one line to show."""
