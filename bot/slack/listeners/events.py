"""Events: app mentions (answered in a thread), direct messages, and the App Home tab."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.answers.commands import parse_command
from bot.slack.deps import Deps
from bot.slack.payloads import MessageEvent
from bot.slack.send import guarded, post_message
from bot.slack.ui import blocks


def register(app: AsyncApp, deps: Deps) -> None:
    answerer = deps.answerer

    async def reply(event: MessageEvent, client: AsyncWebClient, in_thread: bool) -> None:
        channel = event.channel
        if channel is None:
            return
        thread = (event.thread_ts or event.ts) if in_thread else None
        command = parse_command(event.text)

        async def work() -> None:
            message = await asyncio.to_thread(answerer.answer, command, user=event.user or "unknown",
                                              channel=channel)
            message.blocks = blocks.without_action(message.blocks, blocks.ACTION_SHARE)
            await post_message(client, channel, message, thread_ts=thread)

        async def apologise(message: blocks.Message) -> None:
            await post_message(client, channel, message, thread_ts=thread)

        deps.tasks.spawn(guarded("mention" if in_thread else "dm", work(), apologise), name="event-reply")

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        await reply(MessageEvent.parse(event), client, in_thread=True)

    @app.event("message")
    async def on_message(event: dict[str, Any], client: AsyncWebClient) -> None:
        # Only plain direct messages from people: no edits, joins or bot posts.
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        await reply(MessageEvent.parse(event), client, in_thread=False)

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return

        async def work() -> None:
            view = await asyncio.to_thread(answerer.home)
            await client.views_publish(user_id=event["user"], view=view)

        deps.tasks.spawn(guarded("home", work(), None), name="home")
