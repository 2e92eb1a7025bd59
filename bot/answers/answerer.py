"""From a typed command to the typed answer: the product's behaviour, Slack-free.

A surface (the Slack layer, the terminal) parses its input, calls one method
here, and renders the answer it gets back; none of them composes words.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from bot.answers import channel_notices, compose, pages, persons
from bot.answers.commands import (
    AddPage,
    Command,
    DigestHere,
    DigestStatus,
    Feeds,
    Help,
    Latest,
    Search,
    Sources,
    Unwatch,
    Watch,
    Watching,
    Who,
    parse_command,
)
from bot.answers.compose import AlsoReported
from bot.answers.models import Answer, ArticlePages, HomeSummary, Note, Notice
from bot.answers.state import AnswerStore, StoredAnswer
from bot.common.logs import RateLimitedLog
from bot.corpus import Article
from bot.feeds.models import AddRefused, EntryOutcome
from bot.feeds.safety import UnsafeURL
from bot.feeds.store import FeedRecord
from bot.library import Library
from bot.search.query import MAX_QUERY_CHARS
from bot.store import StoreUnavailable

log = logging.getLogger(__name__)

PAGE_SIZE = 5
PEOPLE_PENDING = compose.PEOPLE_PENDING
CLEAR_LEAD = 8  # a best person match this far ahead of the next is answered without asking


class DigestResult(Protocol):
    """A channel's last digest outcome, as the digest store records it."""

    @property
    def channel(self) -> str: ...
    @property
    def local_date(self) -> dt.date: ...
    @property
    def status(self) -> str: ...
    @property
    def error(self) -> str | None: ...


class ChannelPrefs(Protocol):
    """Watch lists, digest channels and digest results of a workspace (`team`), kept by the digest's store."""

    def watch(self, team: str, channel: str, topic: str, instant: bool = False) -> bool: ...
    def unwatch(self, team: str, channel: str, topic: str) -> bool: ...
    def watches(self, team: str, channel: str) -> list[tuple[str, bool]]: ...
    def subscribe(self, team: str, channel: str, user: str | None = None) -> bool: ...
    def unsubscribe(self, team: str, channel: str) -> bool: ...
    def last_results(self, team: str, channel: str | None = None) -> Sequence[DigestResult]: ...


class FeedListing(Protocol):
    def feeds(self) -> list[FeedRecord]: ...


class FeedDesk(Protocol):
    """The feed machinery `/trade add` and `/trade feeds` use (`bot.feeds.service.FeedService`)."""

    @property
    def store(self) -> FeedListing: ...
    def may_change_feeds(self, user_id: str) -> bool: ...
    def add_feed(self, url: str, *, added_by: str | None = None, every_minutes: float | None = None) -> bool: ...
    def remove_feed(self, url: str) -> bool: ...
    async def add_page(self, url: str) -> tuple[EntryOutcome, Article | None]: ...


class Answerer:
    """Anything that needs the database while it is down is answered "temporarily unavailable"
    (and nothing is said to be done); answers from the corpus are still given, without the
    buttons whose state could not be stored."""

    def __init__(self, library: Library, store: AnswerStore, prefs: ChannelPrefs | None = None,
                 feeds: FeedDesk | None = None, also_reported_by: AlsoReported | None = None) -> None:
        self.library = library
        self.store = store
        self.prefs = prefs
        self.feeds = feeds
        self.also_reported_by = also_reported_by  # "also reported by" under results and cards (optional)
        self._reported_error: str | None = None
        self._store_log = RateLimitedLog(log, interval=60)

    def answer_text(self, text: str, *, user: str, channel: str | None, team: str = "") -> Answer:
        return self.answer(parse_command(text), user=user, channel=channel, team=team)

    def answer(self, command: Command, *, user: str, channel: str | None, team: str = "",
               shared_by: str | None = None) -> Answer:
        """`team`: the workspace asking ("" for the single workspace of `SLACK_BOT_TOKEN`)."""
        try:
            return self._answer(command, user=user, channel=channel, team=team, shared_by=shared_by)
        except StoreUnavailable as exc:
            return self._store_unavailable(exc)

    def _answer(self, command: Command, *, user: str, channel: str | None, team: str,
                shared_by: str | None) -> Answer:
        if isinstance(command, Help):
            return compose.help_page(command.note)
        if isinstance(command, (Watch, Unwatch, Watching, DigestStatus, DigestHere)):
            return self._channel_command(command, team, channel, user)
        if isinstance(command, Feeds):
            return self._feeds(command, user)
        if isinstance(command, AddPage):  # network work: surfaces await `add_page` on their event loop
            return channel_notices.add_needs_command()
        snapshot = self.library.current
        if snapshot is None:
            return compose.loading() if self.library.loading else self._unavailable()
        stored = StoredAnswer(command, user, channel, team)
        if isinstance(command, Search):
            key = None if shared_by else self._button_key(stored)
            return self._buttons_off(self._search(command, key, shared_by), key is None and not shared_by)
        if isinstance(command, Who):
            if snapshot.people is None:
                return compose.notice((PEOPLE_PENDING,))
            matches = snapshot.people.lookup(command.name)
            if not matches:
                return persons.person_not_found(command.name, snapshot.people.suggest(command.name))
            key = None if shared_by else self._button_key(stored)
            clear = len(matches) == 1 or matches[0].score - matches[1].score >= CLEAR_LEAD
            if clear or shared_by:
                card = persons.person_card(command.name, matches[0].person, key, shared_by=shared_by)
                return self._buttons_off(card, key is None and not shared_by)
            return self._buttons_off(persons.person_choices(command.name, matches, key), key is None)
        if isinstance(command, Latest):
            return compose.latest(snapshot.corpus.latest(command.count))
        if isinstance(command, Sources):
            return compose.sources(snapshot.corpus)
        raise TypeError(f"unhandled command {command!r}")

    def _search(self, command: Search, key: str | None, shared_by: str | None) -> Answer:
        snapshot = self.library.current
        assert snapshot is not None
        query, notices = command.query, []
        typed = command.typed_chars or len(query)
        if typed > MAX_QUERY_CHARS:  # said here, with the length the user typed, not the cut one
            notices.append(compose.query_too_long(typed, MAX_QUERY_CHARS))
            query = query[:MAX_QUERY_CHARS]
        response = snapshot.search.search(query, limit=PAGE_SIZE, offset=command.offset)
        return compose.search_page(response, key, shared_by=shared_by, notices=notices, also=self._also,
                                   reads=shared_by is None)

    # The database -----------------------------------------------------------

    def _store_unavailable(self, exc: StoreUnavailable) -> Notice:
        self._store_log.log(logging.WARNING, "down", "database unavailable, answered 'temporarily unavailable': %s",
                            exc)
        return compose.store_unavailable()

    def _button_key(self, stored: StoredAnswer) -> str | None:
        """The key behind an answer's buttons; None (the answer goes without them) when the
        database cannot store it: an answer from the corpus is not lost to an outage."""
        try:
            return self.store.put(stored)
        except StoreUnavailable as exc:
            self._store_log.log(logging.WARNING, "buttons", "database unavailable, answered without buttons: %s", exc)
            return None

    @staticmethod
    def _buttons_off(answer: Answer, off: bool) -> Answer:
        """`answer`, told (when `off`) why it has no buttons."""
        if not off:
            return answer
        return replace(answer, parts=(*answer.parts, Note(((compose.BUTTONS_UNAVAILABLE,),))))

    def _also(self, article_id: str) -> Sequence[compose.Outlet]:
        """The other outlets of a story; a failing store costs the line, never the answer."""
        if self.also_reported_by is None:
            return ()
        try:
            return self.also_reported_by(article_id)[:compose.ALSO_SHOWN]
        except Exception:
            log.exception("also-reported-by lookup failed for %s", article_id)
            return ()

    # Feeds -----------------------------------------------------------------

    async def add_page(self, command: AddPage, *, user: str) -> Answer:
        """`/trade add` and the message shortcut: fetch, add, answer with the article's card."""
        if self.feeds is None:
            return compose.notice((channel_notices.FEEDS_NOT_SET_UP,))
        try:
            outcome, article = await self.feeds.add_page(command.url)
        except (UnsafeURL, AddRefused) as exc:
            return channel_notices.refused(str(exc))
        except StoreUnavailable as exc:
            return self._store_unavailable(exc)
        log.info("user %s added %s (%s)", user, outcome.article_id or outcome.duplicate_of, outcome.status)
        if article is None:
            return compose.notice((("Added, but the article could not be read back; it appears once the corpus "
                                   "reloads."),))
        duplicate = outcome.status == "skipped"
        note = outcome.reason if outcome.source == "feed summary" else None
        return compose.article_card(article, duplicate=duplicate, note=note, also=self._also(article.id))

    def _feeds(self, command: Feeds, user: str) -> Answer:
        if self.feeds is None:
            return compose.notice((channel_notices.FEEDS_NOT_SET_UP,))
        if command.action == "list":
            return channel_notices.feeds_list(self.feeds.store.feeds())
        if not self.feeds.may_change_feeds(user):
            return channel_notices.not_a_feed_editor()
        if command.action == "remove":
            return channel_notices.feed_changed(command.url, None, self.feeds.remove_feed(command.url))
        try:
            return channel_notices.feed_changed(command.url, self.feeds.add_feed(command.url, added_by=user))
        except (UnsafeURL, AddRefused) as exc:
            return channel_notices.refused(str(exc))

    def _unavailable(self) -> Notice:
        """Users are told the corpus is unavailable; the reason (it may hold server paths) goes to the log."""
        if self.library.error != self._reported_error:
            self._reported_error = self.library.error
            log.error("corpus unavailable: %s", self.library.error)
        return compose.unavailable()

    def _channel_command(self, command: Command, team: str, channel: str | None, user: str) -> Answer:
        if self.prefs is None or channel is None:
            return compose.notice((compose.NOT_SET_UP,))
        if isinstance(command, Watch):
            changed = self.prefs.watch(team, channel, command.topic, instant=command.instant)
            return channel_notices.watch_changed(command.topic, changed, command.instant)
        if isinstance(command, Unwatch):
            return channel_notices.unwatch_changed(command.topic, self.prefs.unwatch(team, channel, command.topic))
        if isinstance(command, Watching):
            return channel_notices.watching(self.prefs.watches(team, channel))
        if isinstance(command, DigestHere):
            if command.on:
                return channel_notices.digest_here(True, self.prefs.subscribe(team, channel, user))
            return channel_notices.digest_here(False, self.prefs.unsubscribe(team, channel))
        records = [(r.channel, r.local_date, str(r.status), r.error) for r in self.prefs.last_results(team, None)]
        return channel_notices.digest_status(records)

    # Buttons -------------------------------------------------------------

    def expired(self) -> Notice:
        return compose.expired()

    def _stored(self, key: str, team: str) -> StoredAnswer | None:
        """A button's state, only for the workspace that made it."""
        stored = self.store.get(key)
        return stored if stored is not None and stored.team == team else None

    def more(self, key: str, team: str = "") -> Answer:
        try:
            stored = self._stored(key, team)
        except StoreUnavailable as exc:
            return self._store_unavailable(exc)
        if stored is None or not isinstance(stored.command, Search):
            return self.expired()
        command = replace(stored.command, offset=stored.command.offset + PAGE_SIZE)
        return self.answer(command, user=stored.user, channel=stored.channel, team=team)

    def share(self, key: str, user: str, team: str = "") -> Answer:
        try:
            stored = self._stored(key, team)
        except StoreUnavailable as exc:
            return self._store_unavailable(exc)
        if stored is None:
            return self.expired()
        answer = self.answer(stored.command, user=stored.user, channel=stored.channel, team=team, shared_by=user)
        return replace(answer, in_channel=True)

    def pick(self, value: str, user: str, team: str = "") -> Answer:
        key, _, index = value.rpartition("|")
        try:
            stored = self._stored(key, team)
        except StoreUnavailable as exc:
            return self._store_unavailable(exc)
        snapshot = self.library.current
        if snapshot is not None and snapshot.people is None:
            return compose.notice((PEOPLE_PENDING,))
        if (stored is None or not isinstance(stored.command, Who) or snapshot is None or snapshot.people is None
                or not (index.isascii() and index.isdigit())):
            return self.expired()
        matches = snapshot.people.lookup(stored.command.name)
        if int(index) >= len(matches):
            return self.expired()
        person = matches[int(index)].person
        new_key = self._button_key(StoredAnswer(Who(person.name), user, stored.channel, team))
        return self._buttons_off(persons.person_card(person.name, person, new_key), new_key is None)

    def article_pages(self, article_id: str, page: int = 0) -> ArticlePages | None:
        snapshot = self.library.current
        article = snapshot.corpus.get(article_id) if snapshot else None
        return pages.article_pages(article, page) if article else None

    def article_page_value(self, value: str) -> ArticlePages | None:
        """A page button's value; None when it does not parse or the article is gone (expired)."""
        parsed = pages.parse_page_value(value)
        return self.article_pages(*parsed) if parsed else None

    def article_missing(self, article_id: str) -> Notice:
        return compose.article_missing(article_id)

    def home(self) -> HomeSummary:
        snapshot = self.library.current
        if snapshot is None:
            return pages.home([], [], notice=pages.HOME_LOADING if self.library.loading else pages.HOME_UNAVAILABLE)
        return pages.home(snapshot.corpus.latest(5), snapshot.people.people[:8] if snapshot.people else [])
