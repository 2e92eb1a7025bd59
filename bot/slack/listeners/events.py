"""Events: app mentions (answered in a thread), direct messages, and the App Home tab.

Bolt acks events itself; the answer is posted with chat.postMessage.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.answers.commands import AddPage, parse_command
from bot.slack.deps import Deps
from bot.slack.listeners.answer import ack_and_answer, deps_of
from bot.slack.payloads import HomeOpened, MalformedPayload, MessageEvent, parse
from bot.slack.send import post_message
from bot.slack.ui import blocks

log = logging.getLogger(__name__)
Event = TypeVar("Event", MessageEvent, HomeOpened)


async def _reply(deps: Deps, event: MessageEvent, client: AsyncWebClient, in_thread: bool, team: str) -> None:
    channel = event.channel
    if channel is None:
        return
    thread = (event.thread_ts or event.ts) if in_thread else None

    async def work() -> None:
        command = parse_command(event.text)
        if isinstance(command, AddPage):  # a fetch: awaited here on the loop, not in a worker thread
            message = await deps.answerer.add_page(command, user=event.user or "unknown")
        else:
            message = await asyncio.to_thread(deps.answerer.answer, command,
                                              user=event.user or "unknown", channel=channel, team=team)
        message.blocks = blocks.without_action(message.blocks, blocks.ACTION_SHARE)
        await post_message(client, channel, message, thread_ts=thread)

    async def reply(message: blocks.Message) -> None:
        await post_message(client, channel, message, thread_ts=thread)

    await ack_and_answer(deps, "mention" if in_thread else "dm", work, reply)


def _parsed(model: type[Event], event: dict[str, Any]) -> Event | None:
    """An event we cannot read has no one to answer: it is logged and dropped."""
    try:
        return parse(model, event)
    except MalformedPayload as exc:
        log.info("ignored an event: %s", exc)
        return None


async def app_mention(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient,
                      context: AsyncBoltContext) -> None:
    message = _parsed(MessageEvent, event)
    if message is not None:
        deps = deps_of(context)
        await _reply(deps, message, client, in_thread=True, team=deps.team(context))


async def direct_message(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient,
                         context: AsyncBoltContext) -> None:
    message = _parsed(MessageEvent, event)
    if message is not None and message.from_a_person_in_a_dm:
        deps = deps_of(context)
        await _reply(deps, message, client, in_thread=False, team=deps.team(context))


async def home_opened(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    home = _parsed(HomeOpened, event)
    if home is None or home.tab != "home" or home.user is None:
        return
    user = home.user

    async def work() -> None:
        view = await asyncio.to_thread(deps.answerer.home)
        await client.views_publish(user_id=user, view=view)

    await ack_and_answer(deps, "home", work, None)


def register(app: AsyncApp) -> None:
    app.event("app_mention")(app_mention)
    app.event("message")(direct_message)
    app.event("app_home_opened")(home_opened)
