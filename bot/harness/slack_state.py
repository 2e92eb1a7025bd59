"""What Slack holds and users see in one workspace: channels with members and history, ephemeral
messages, views, response_urls and trigger_ids, all on an injectable clock so expiry is testable.

Each workspace has its own ids (Slack's are unique across workspaces): the harness's default
one has C0TRADE, U0ALICE and the bot UTRADEBOT; another, made with `tag="ACME"`, has
CACMETRADE, UACMEALICE and UACMETRADEBOT, so a call that reaches the wrong one fails."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from bot.common.clock import Clock, SystemClock
from bot.harness.mentions import notified
from bot.harness.scopes import ChannelKind

TEAM = "T0HARNESS"
BOT_USER = "UTRADEBOT"
BOT_ID = "B0TRADEBOT"
TEXT_CHARS = 40_000  # Slack truncates longer `text` rather than refusing it
RESPONSE_URL_LIFETIME = dt.timedelta(minutes=30)
RESPONSE_URL_USES = 5
TRIGGER_LIFETIME = dt.timedelta(seconds=3)


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_member: bool = True  # the bot
    is_im: bool = False
    members: set[str] = field(default_factory=set)  # people
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kind(self) -> ChannelKind:
        return "im" if self.is_im else "private" if self.is_private else "public"


@dataclass
class MessageRef:
    """Where a message lives: a channel's history, or one user's ephemeral messages."""

    channel: str
    ts: str
    ephemeral_for: str | None = None


@dataclass
class ResponseUrl:
    channel: str
    user: str
    issued: dt.datetime
    uses: int = 0
    expired: bool = False
    original: MessageRef | None = None  # the message a button sat in; for a command, its first answer


@dataclass
class Trigger:
    user: str
    issued: dt.datetime
    used: bool = False


def bot_message(ts: str, payload: dict[str, Any], user: str = BOT_USER, bot_id: str = BOT_ID) -> dict[str, Any]:
    """A message as Slack stores it (text truncated, not refused, past 40,000 characters)."""
    message: dict[str, Any] = {"type": "message", "user": user, "bot_id": bot_id, "ts": ts,
                               "text": str(payload.get("text") or "")[:TEXT_CHARS],
                               "blocks": copy.deepcopy(payload.get("blocks") or []),
                               "notified": notified(payload)}
    for key in ("thread_ts", "metadata"):
        if payload.get(key):
            message[key] = copy.deepcopy(payload[key])
    return message


class SlackState:
    def __init__(self, clock: Clock | None = None, team: str = TEAM, team_name: str = "Harness",
                 tag: str = "0") -> None:
        self.clock: Clock = clock or SystemClock()
        self.team, self.team_name = team, team_name
        self.bot_user, self.bot_id = (BOT_USER, BOT_ID) if tag == "0" else (f"U{tag}TRADEBOT", f"B{tag}TRADEBOT")
        self.people = [f"U{tag}ALICE", f"U{tag}BOB", f"U{tag}CAROL"]
        people, alice = set(self.people), self.people[0]
        self.trade = f"C{tag}TRADE"  # the channel where the bot is a member
        self.channels: dict[str, Channel] = {
            self.trade: Channel(self.trade, "trade-news", members=set(people)),
            f"C{tag}PUBLIC": Channel(f"C{tag}PUBLIC", "general", is_member=False, members=set(people)),
            f"C{tag}PRIVATE": Channel(f"C{tag}PRIVATE", "secret", is_private=True, is_member=False, members={alice}),
            f"C{tag}ARCHIVED": Channel(f"C{tag}ARCHIVED", "old", is_archived=True, members=set(people)),
        }
        self.ephemeral: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home: dict[str, dict[str, Any]] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.triggers: dict[str, Trigger] = {}
        self._ts = itertools.count(1)

    def next_ts(self) -> str:
        return f"{int(self.clock.now().timestamp())}.{next(self._ts):06d}"

    # Conversations --------------------------------------------------------------

    def open_dm(self, user: str) -> str:
        """The bot's DM with `user` (Slack creates it when the user first writes; D… ids are not made up)."""
        channel_id = "D" + user[1:]
        self.channels.setdefault(channel_id, Channel(channel_id, channel_id, is_private=True, is_im=True,
                                                     members={user}))
        return channel_id

    def user_says(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> dict[str, Any]:
        """A person's message in a channel (what a mention or DM event reports)."""
        message: dict[str, Any] = {"type": "message", "user": user, "ts": self.next_ts(), "text": text}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.channels[channel].messages.append(message)
        return message

    # Messages -------------------------------------------------------------------

    def post(self, channel: str, payload: dict[str, Any]) -> dict[str, Any]:
        message = bot_message(self.next_ts(), payload, self.bot_user, self.bot_id)
        self.channels[channel].messages.append(message)
        return message

    def post_ephemeral(self, channel: str, user: str, payload: dict[str, Any]) -> dict[str, Any]:
        message = bot_message(self.next_ts(), payload, self.bot_user, self.bot_id)
        self.ephemeral.setdefault((user, channel), []).append(message)
        return message

    def lookup(self, ref: MessageRef) -> tuple[list[dict[str, Any]], int] | None:
        """The list holding a message and its index, or None when it is gone."""
        if ref.ephemeral_for is not None:
            messages = self.ephemeral.get((ref.ephemeral_for, ref.channel), [])
        else:
            channel = self.channels.get(ref.channel)
            messages = channel.messages if channel else []
        for i, message in enumerate(messages):
            if message["ts"] == ref.ts:
                return messages, i
        return None

    def replace(self, ref: MessageRef, payload: dict[str, Any]) -> dict[str, Any] | None:
        found = self.lookup(ref)
        if found is None:
            return None
        messages, i = found
        updated = bot_message(messages[i]["ts"], payload, self.bot_user, self.bot_id)
        for key in ("thread_ts", "metadata"):  # an update keeps the thread; metadata unless replaced
            if key in messages[i] and key not in updated:
                updated[key] = messages[i][key]
        messages[i] = updated
        return updated

    def delete(self, ref: MessageRef) -> bool:
        found = self.lookup(ref)
        if found is None:
            return False
        messages, i = found
        del messages[i]
        return True

    def find_visible(self, blocks: list[dict[str, Any]], user: str, channel: str) -> MessageRef | None:
        """The newest message `user` can see in `channel` that shows exactly these blocks."""
        for message in reversed(self.ephemeral.get((user, channel), [])):
            if message["blocks"] == blocks:
                return MessageRef(channel, message["ts"], ephemeral_for=user)
        for message in reversed(self.channels[channel].messages if channel in self.channels else []):
            if message.get("blocks") == blocks:
                return MessageRef(channel, message["ts"])
        return None

    # Interactions -----------------------------------------------------------------

    def new_response_url(self, channel: str, user: str, original: MessageRef | None = None) -> str:
        rid = uuid.uuid4().hex[:12]
        self.response_urls[rid] = ResponseUrl(channel, user, self.clock.now(), original=original)
        return rid

    def new_trigger(self, user: str) -> str:
        trigger_id = f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:32]}"
        self.triggers[trigger_id] = Trigger(user, self.clock.now())
        return trigger_id

    def exchange_trigger(self, trigger_id: str) -> str | None:
        """Use a trigger_id once, within 3 s; the Slack error code when that is not possible."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            return "invalid_trigger_id"
        if trigger.used:
            return "exchanged_trigger_id"
        if self.clock.now() - trigger.issued > TRIGGER_LIFETIME:
            return "expired_trigger_id"
        trigger.used = True
        return None
