"""Channel answers: watch lists, the digest's status, feeds, a share that could not post."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from bot.answers.compose import NOTE_CHARS, TITLE_CHARS, day, notice, or_list
from bot.answers.models import ChannelRef, Code, FeedList, Icon, Line, Link, Notice, Section, Strong
from bot.answers.text import truncate

FEEDS_SHOWN = 40
FEEDS_NOT_SET_UP = "Feeds and adding pages are not set up on this server."
NOT_A_FEED_EDITOR = ("Only the feed editors set by the admin (TRADEBOT_FEED_EDITORS) can add or remove feeds. "
                     "You can still see them with ")


def watch_changed(topic: str, added: bool, instant: bool = False) -> Notice:
    verb = "Now watching " if added else "Already watching "
    where = (" here; each new matching article is posted here as it arrives." if instant
             else " here; it will appear in the daily digest.")
    return notice((verb, Strong(topic), where))


def unwatch_changed(topic: str, removed: bool) -> Notice:
    return notice(("No longer watching " if removed else "This channel was not watching ", Strong(topic), "."))


def watching(topics: Sequence[str | tuple[str, bool]]) -> Notice:
    """Topics, or (topic, instant) per watch: instant ones are named as such."""
    watches = [(t, False) if isinstance(t, str) else t for t in topics]
    if not watches:
        return notice(("This channel watches no topics. Add one with ", Code("/trade watch rare earths"), "."))
    line: Line = ("This channel watches: ", *or_list([t for t, _ in watches]))
    instant = [t for t, is_instant in watches if is_instant]
    if instant:
        line += (". Posted here as they arrive (instant): ", *or_list(instant))
    return notice(line)


class FeedStatus(Protocol):
    """What `/trade feeds` shows of a feed (the feed store's `FeedRecord`)."""

    @property
    def url(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def active(self) -> bool: ...
    @property
    def last_success_at(self) -> dt.datetime | None: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def articles_added(self) -> int: ...


def feeds_list(feeds: Sequence[FeedStatus]) -> FeedList:
    if not feeds:
        return FeedList(summary="tradebot follows no feeds yet.", parts=(Section((
            ("tradebot follows no feeds yet. Add one with ", Code("/trade feeds add https://example.com/feed.xml"),
             "."),)),))
    lines: list[Line] = []
    for feed in feeds[:FEEDS_SHOWN]:
        label = truncate(feed.title or feed.url, TITLE_CHARS)
        status = "active" if feed.active else "stopped"
        success = day(feed.last_success_at.date()) if feed.last_success_at else "never"
        line: Line = ("• ", Link(feed.url, label), (f" — {status} · last success {success} · "
                      f"{feed.articles_added:,} articles added"))
        if feed.last_error:
            line += (" · last error: ", truncate(feed.last_error, NOTE_CHARS))
        lines.append(line)
    if len(feeds) > FEEDS_SHOWN:
        lines.append((f"…and {len(feeds) - FEEDS_SHOWN:,} more; ", Code("tradebot feeds list"), " shows all."))
    return FeedList(summary=f"{len(feeds)} feeds", icon=Icon.NEWS, heading=(Strong(f"Feeds ({len(feeds)})"),),
                    parts=(Section(tuple(lines)),), count=len(feeds))


def feed_changed(url: str, added: bool | None, removed: bool | None = None) -> Notice:
    shown = Code(truncate(url, TITLE_CHARS))
    if added is not None:
        return notice(("Now following " if added else "Already following ", shown,
                       "; new articles arrive within minutes." if added else "."))
    return notice(("No longer following " if removed else "tradebot was not following ", shown, "."))


def not_a_feed_editor() -> Notice:
    return notice((NOT_A_FEED_EDITOR, Code("/trade feeds"), "."), icon=Icon.WARNING)


def refused(reason: str) -> Notice:
    """A URL tradebot would not or could not fetch; `reason` is the fetcher's line (it names the
    setting for private addresses)."""
    return notice(("I couldn't add that: ", truncate(reason, NOTE_CHARS)), icon=Icon.WARNING)


def no_link() -> Notice:
    return notice(("That message has no link to add. ", Strong("Add to tradebot"),
                   " takes the first web link in a message."))


def add_needs_command() -> Notice:
    return notice(("Adding a page works with ", Code("/trade add <url>"), " or the ", Strong("Add to tradebot"),
                   " message shortcut."))


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


def digest_here(on: bool, changed: bool) -> Notice:
    """`/trade digest on|off`: whether this channel now gets the daily digest."""
    if on:
        return notice(("This channel now gets the daily digest." if changed else
                       "This channel already gets the daily digest.",
                       " Follow topics with ", Code("/trade watch <topic>"), "."))
    return notice(("This channel no longer gets the daily digest." if changed else
                   "This channel was not getting the daily digest.",))


def share_failed(error: str) -> Notice:
    """Why *Share in channel* did not post, from Slack's error code (`connection_lost`: delivery unknown)."""
    if error in ("not_in_channel", "channel_not_found", "is_archived"):
        return notice(("I can't post in this conversation. Invite me with ", Code("/invite @tradebot"),
                       " and try again."))
    if error == "connection_lost":
        return notice(("The connection to Slack broke while sharing. Check the channel before sharing again.",))
    return notice(("Slack refused the post (", Code(truncate(error, 80)), ")."))
