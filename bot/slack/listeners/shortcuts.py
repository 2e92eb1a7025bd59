"""The message shortcut *Add to tradebot*: the first link of a message into the corpus.

Slack gives the message as it was posted: rich-text blocks (whose `link` elements carry
the URL) and entity-encoded `text` with `<https://…|label>` links. The answer goes to the
user alone, through the payload's `response_url`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.answers.commands import AddPage
from bot.answers.text import decode_entities
from bot.common.urls import is_web_url
from bot.slack.listeners.answer import ack_and_answer, deps_of
from bot.slack.payloads import parse
from bot.slack.send import respond_checked
from bot.slack.ui.blocks import Message

CALLBACK_ID = "add_to_tradebot"
_TEXT_LINK = re.compile(r"<(https?://[^<>|\s]+)(?:\|[^<>]*)?>", re.IGNORECASE)


class _User(BaseModel):
    id: str


class MessageShortcut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user: _User
    message: dict[str, Any] = {}


def _link_elements(node: Any) -> Iterator[str]:
    """URLs of rich_text `link` elements, in reading order."""
    if isinstance(node, dict):
        if node.get("type") == "link" and isinstance(node.get("url"), str):
            yield node["url"]
        for value in node.values():
            if isinstance(value, (list, dict)):
                yield from _link_elements(value)
    elif isinstance(node, list):
        for item in node:
            yield from _link_elements(item)


def first_link(message: dict[str, Any]) -> str | None:
    """The first web link of a message: from its blocks, else from `<https://…>` in its text."""
    for url in _link_elements(message.get("blocks") or []):
        if is_web_url(url):
            return url
    text = message.get("text")
    for match in _TEXT_LINK.finditer(text if isinstance(text, str) else ""):
        url = decode_entities(match.group(1))
        if is_web_url(url):
            return url
    return None


async def add_to_tradebot(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                          context: AsyncBoltContext) -> None:
    deps = deps_of(context)

    async def work() -> None:
        shortcut = parse(MessageShortcut, body)
        url = first_link(shortcut.message)
        if url is None:
            message = deps.answerer.no_link()
        else:
            message = await deps.answerer.add_page(AddPage(url), user=shortcut.user.id)
        await respond_checked(respond, message)

    async def reply(message: Message) -> None:
        await respond_checked(respond, message)

    await ack_and_answer(deps, "add-shortcut", work, reply, ack=ack)


def register(app: AsyncApp) -> None:
    app.message_shortcut(CALLBACK_ID)(add_to_tradebot)
