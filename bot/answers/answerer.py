"""From a typed command to the message that answers it: the product's behaviour, Slack-free.

The Slack layer parses a payload, calls one method here, and sends the result.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

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
from bot.answers.state import AnswerStore, StoredAnswer
from bot.library import Library
from bot.slack.ui import blocks, views
from bot.slack.ui.blocks import Message
from bot.slack.ui.mrkdwn import escape, truncate

PAGE_SIZE = 5
PEOPLE_PENDING = ("I'm still reading the articles to find who is who (this takes a minute on a large corpus). "
                  "Search works already; please ask again shortly.")


class ChannelPrefs(Protocol):
    """Watch lists and digest results, kept by the digest's store."""

    def watch(self, channel: str, topic: str) -> bool: ...
    def unwatch(self, channel: str, topic: str) -> bool: ...
    def watching(self, channel: str) -> list[str]: ...
    def status_lines(self, channel: str | None) -> list[str]: ...


class Answerer:
    def __init__(self, library: Library, store: AnswerStore | None = None, prefs: ChannelPrefs | None = None) -> None:
        self.library = library
        self.store = store or AnswerStore()
        self.prefs = prefs

    def answer_text(self, text: str, *, user: str, channel: str | None) -> Message:
        return self.answer(parse_command(text), user=user, channel=channel)

    def answer(self, command: Command, *, user: str, channel: str | None, shared_by: str | None = None) -> Message:
        if isinstance(command, Help):
            return blocks.help_message(command.note)
        if isinstance(command, (Watch, Unwatch, Watching, DigestStatus)):
            return self._channel_command(command, channel)
        snapshot = self.library.current
        if snapshot is None:
            return blocks.loading_message() if self.library.loading else blocks.unavailable_message(self.library.error)
        key = None if shared_by else self.store.put(StoredAnswer(command, user, channel))
        if isinstance(command, Search):
            response = snapshot.search.search(command.query, limit=PAGE_SIZE, offset=command.offset)
            return blocks.search_message(response, key, shared_by=shared_by)
        if isinstance(command, Who):
            if snapshot.people is None:
                return blocks.notice_message(PEOPLE_PENDING)
            matches = snapshot.people.lookup(command.name)
            if not matches:
                return blocks.person_not_found(command.name, snapshot.people.suggest(command.name))
            clear = len(matches) == 1 or matches[0].score - matches[1].score >= 8
            if clear or shared_by:
                return blocks.person_message(command.name, matches[0].person, key, shared_by=shared_by)
            return blocks.person_choices(command.name, matches, key or "")
        if isinstance(command, Latest):
            return blocks.latest_message(snapshot.corpus.latest(command.count))
        if isinstance(command, Sources):
            return blocks.sources_message(snapshot.corpus)
        raise TypeError(f"unhandled command {command!r}")

    def _channel_command(self, command: Command, channel: str | None) -> Message:
        if self.prefs is None or channel is None:
            return blocks.notice_message("Watch lists and the digest are not set up on this server.")
        if isinstance(command, Watch):
            added = self.prefs.watch(channel, command.topic)
            verb = "Now watching" if added else "Already watching"
            return blocks.notice_message(f"{verb} *{escape(command.topic)}* here; it will appear in the daily digest.")
        if isinstance(command, Unwatch):
            removed = self.prefs.unwatch(channel, command.topic)
            text = "No longer watching" if removed else "This channel was not watching"
            return blocks.notice_message(f"{text} *{escape(command.topic)}*.")
        if isinstance(command, Watching):
            topics = self.prefs.watching(channel)
            if not topics:
                return blocks.notice_message("This channel watches no topics. Add one with `/trade watch rare earths`.")
            return blocks.notice_message("This channel watches: " + ", ".join(f"*{escape(t)}*" for t in topics))
        lines = self.prefs.status_lines(None)
        return blocks.notice_message("*Daily digest*\n" + ("\n".join(lines) or "No digest has been posted yet."))

    # Buttons -------------------------------------------------------------

    def expired(self) -> Message:
        return blocks.notice_message("That button has expired; please run the command again.")

    def more(self, key: str) -> Message:
        stored = self.store.get(key)
        if stored is None or not isinstance(stored.command, Search):
            return self.expired()
        command = replace(stored.command, offset=stored.command.offset + PAGE_SIZE)
        return self.answer(command, user=stored.user, channel=stored.channel)

    def share(self, key: str, user: str) -> Message:
        stored = self.store.get(key)
        if stored is None:
            return self.expired()
        message = self.answer(stored.command, user=stored.user, channel=stored.channel, shared_by=user)
        message.in_channel = True
        return message

    def pick(self, value: str, user: str) -> Message:
        key, _, index = value.rpartition("|")
        stored = self.store.get(key)
        snapshot = self.library.current
        if snapshot is not None and snapshot.people is None:
            return blocks.notice_message(PEOPLE_PENDING)
        if stored is None or not isinstance(stored.command, Who) or snapshot is None or not index.isdigit():
            return self.expired()
        assert snapshot.people is not None
        matches = snapshot.people.lookup(stored.command.name)
        if int(index) >= len(matches):
            return self.expired()
        person = matches[int(index)].person
        new_key = self.store.put(StoredAnswer(Who(person.name), user, stored.channel))
        return blocks.person_message(person.name, person, new_key)

    def article_view(self, article_id: str, page: int = 0) -> dict | None:
        snapshot = self.library.current
        article = snapshot.corpus.get(article_id) if snapshot else None
        return views.article_modal(article, page) if article else None

    def article_missing(self, article_id: str) -> Message:
        return blocks.notice_message(f"That article (`{escape(truncate(article_id, 80))}`) is no longer in the corpus.")

    def home(self) -> dict:
        snapshot = self.library.current
        if snapshot is None:
            notice = (":hourglass_flowing_sand: Still reading the articles; this tab fills in a minute."
                      if self.library.loading else ":warning: The article corpus is unavailable right now.")
            return views.home_view([], [], notice=notice)
        return views.home_view(snapshot.corpus.latest(5), snapshot.people.people[:8] if snapshot.people else [])
