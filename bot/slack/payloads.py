"""Typed views of the Slack payloads we use, so listeners never index raw dicts."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

_ID_RE = re.compile(r"^[A-Z0-9]{1,40}$")
_MENTION_RE = re.compile(r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>\s*)+")


def slack_id(value: Any) -> str | None:
    """A Slack id (U123, C123) or None: ids end up inside `<@...>`, so check their shape."""
    return value if isinstance(value, str) and _ID_RE.match(value) else None


class SlashCommand(BaseModel):
    text: str
    user: str
    channel: str | None
    response_url: str | None
    trigger_id: str | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> SlashCommand:
        return cls(
            text=str(body.get("text") or ""),
            user=slack_id(body.get("user_id")) or "unknown",
            channel=slack_id(body.get("channel_id")),
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
        )


class ButtonClick(BaseModel):
    action_id: str
    value: str
    user: str
    channel: str | None
    trigger_id: str | None
    view_id: str | None
    view_hash: str | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ButtonClick:
        action = (body.get("actions") or [{}])[0]
        view = body.get("view") or {}
        return cls(
            action_id=str(action.get("action_id") or ""),
            value=str(action.get("value") or ""),
            user=slack_id((body.get("user") or {}).get("id")) or "unknown",
            channel=slack_id((body.get("channel") or {}).get("id")),
            trigger_id=body.get("trigger_id"),
            view_id=view.get("id"),
            view_hash=view.get("hash"),
        )


class MessageEvent(BaseModel):
    """An app mention or a direct message to the bot."""

    text: str
    user: str | None
    channel: str | None
    ts: str | None
    thread_ts: str | None

    @classmethod
    def parse(cls, event: dict[str, Any]) -> MessageEvent:
        return cls(
            text=_MENTION_RE.sub("", str(event.get("text") or "")),
            user=slack_id(event.get("user")),
            channel=slack_id(event.get("channel")),
            ts=event.get("ts"),
            thread_ts=event.get("thread_ts"),
        )
