"""Channel answers: watch lists, the digest's status, a share that could not post."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.answers.compose import NOTE_CHARS, day, notice, or_list
from bot.answers.models import ChannelRef, Code, Line, Notice, Strong
from bot.answers.text import truncate


def watch_changed(topic: str, added: bool) -> Notice:
    verb = "Now watching " if added else "Already watching "
    return notice((verb, Strong(topic), " here; it will appear in the daily digest."))


def unwatch_changed(topic: str, removed: bool) -> Notice:
    return notice(("No longer watching " if removed else "This channel was not watching ", Strong(topic), "."))


def watching(topics: Sequence[str]) -> Notice:
    if not topics:
        return notice(("This channel watches no topics. Add one with ", Code("/trade watch rare earths"), "."))
    return notice(("This channel watches: ", *or_list(topics)))


def digest_status(records: Sequence[tuple[str, dt.date, str, str | None]]) -> Notice:
    """(channel, local date, status, error) per channel: the last digest result of each."""
    words = {"posted": "posted", "failed": "failed", "skipped": "skipped", "claimed": "being posted"}
    lines: list[Line] = [(Strong("Daily digest"),)]
    for channel, date, status, reason in records:
        detail = words.get(status, status) + (f" ({reason})" if reason and status in ("failed", "skipped") else "")
        lines.append(("• ", ChannelRef(channel), f": {day(date)} — {truncate(detail, NOTE_CHARS)}"))
    if not records:
        lines.append(("No digest has been posted yet.",))
    return notice(*lines)


def share_failed(error: str) -> Notice:
    """Why *Share in channel* did not post, from Slack's error code (`connection_lost`: delivery unknown)."""
    if error in ("not_in_channel", "channel_not_found", "is_archived"):
        return notice(("I can't post in this conversation. Invite me with ", Code("/invite @tradebot"),
                       " and try again."))
    if error == "connection_lost":
        return notice(("The connection to Slack broke while sharing. Check the channel before sharing again.",))
    return notice(("Slack refused the post (", Code(truncate(error, 80)), ")."))
