"""`/trade`: ack at once, answer in the background through `respond()`."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.answers.commands import parse_command
from bot.slack.deps import Deps
from bot.slack.payloads import SlashCommand
from bot.slack.send import guarded, respond_checked


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/trade")
    async def on_trade(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        slash = SlashCommand.parse(body)

        async def work() -> None:
            command = parse_command(slash.text)
            message = await asyncio.to_thread(deps.answerer.answer, command, user=slash.user, channel=slash.channel)
            await respond_checked(respond, message, client=client, channel=slash.channel, user=slash.user)

        async def apologise(message: Any) -> None:
            await respond_checked(respond, message, client=client, channel=slash.channel, user=slash.user)

        deps.tasks.spawn(guarded("/trade", work(), apologise), name="trade-command")
