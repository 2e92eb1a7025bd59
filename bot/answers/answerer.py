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
    Command,
    DigestStatus,
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
from bot.answers.models import Answer, ArticlePages, HomeSummary, Notice
from bot.answers.state import AnswerStore, StoredAnswer
from bot.library import Library
from bot.search.query import MAX_QUERY_CHARS

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
    """Watch lists and digest results, kept by the digest's store."""

    def watch(self, channel: str, topic: str) -> bool: ...
    def unwatch(self, channel: str, topic: str) -> bool: ...
    def watching(self, channel: str) -> list[str]: ...
    def last_results(self, channel: str | None = None) -> Sequence[DigestResult]: ...


class Answerer:
    def __init__(self, library: Library, store: AnswerStore | None = None, prefs: ChannelPrefs | None = None) -> None:
        self.library = library
        self.store = store or AnswerStore()
        self.prefs = prefs
        self._reported_error: str | None = None

    def answer_text(self, text: str, *, user: str, channel: str | None) -> Answer:
        return self.answer(parse_command(text), user=user, channel=channel)

    def answer(self, command: Command, *, user: str, channel: str | None, shared_by: str | None = None) -> Answer:
        if isinstance(command, Help):
            return compose.help_page(command.note)
        if isinstance(command, (Watch, Unwatch, Watching, DigestStatus)):
            return self._channel_command(command, channel)
        snapshot = self.library.current
        if snapshot is None:
            return compose.loading() if self.library.loading else self._unavailable()
        key = None if shared_by else self.store.put(StoredAnswer(command, user, channel))
        if isinstance(command, Search):
            return self._search(command, key, shared_by)
        if isinstance(command, Who):
            if snapshot.people is None:
                return compose.notice((PEOPLE_PENDING,))
            matches = snapshot.people.lookup(command.name)
            if not matches:
                return persons.person_not_found(command.name, snapshot.people.suggest(command.name))
            clear = len(matches) == 1 or matches[0].score - matches[1].score >= CLEAR_LEAD
            if clear or shared_by:
                return persons.person_card(command.name, matches[0].person, key, shared_by=shared_by)
            return persons.person_choices(command.name, matches, key or "")
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
        return compose.search_page(response, key, shared_by=shared_by, notices=notices)

    def _unavailable(self) -> Notice:
        """Users are told the corpus is unavailable; the reason (it may hold server paths) goes to the log."""
        if self.library.error != self._reported_error:
            self._reported_error = self.library.error
            log.error("corpus unavailable: %s", self.library.error)
        return compose.unavailable()

    def _channel_command(self, command: Command, channel: str | None) -> Answer:
        if self.prefs is None or channel is None:
            return compose.notice((compose.NOT_SET_UP,))
        if isinstance(command, Watch):
            return channel_notices.watch_changed(command.topic, self.prefs.watch(channel, command.topic))
        if isinstance(command, Unwatch):
            return channel_notices.unwatch_changed(command.topic, self.prefs.unwatch(channel, command.topic))
        if isinstance(command, Watching):
            return channel_notices.watching(self.prefs.watching(channel))
        records = [(r.channel, r.local_date, str(r.status), r.error) for r in self.prefs.last_results(None)]
        return channel_notices.digest_status(records)

    # Buttons -------------------------------------------------------------

    def expired(self) -> Notice:
        return compose.expired()

    def more(self, key: str) -> Answer:
        stored = self.store.get(key)
        if stored is None or not isinstance(stored.command, Search):
            return self.expired()
        command = replace(stored.command, offset=stored.command.offset + PAGE_SIZE)
        return self.answer(command, user=stored.user, channel=stored.channel)

    def share(self, key: str, user: str) -> Answer:
        stored = self.store.get(key)
        if stored is None:
            return self.expired()
        answer = self.answer(stored.command, user=stored.user, channel=stored.channel, shared_by=user)
        return replace(answer, in_channel=True)

    def pick(self, value: str, user: str) -> Answer:
        key, _, index = value.rpartition("|")
        stored = self.store.get(key)
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
        new_key = self.store.put(StoredAnswer(Who(person.name), user, stored.channel))
        return persons.person_card(person.name, person, new_key)

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
