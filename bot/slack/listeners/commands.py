"""`/trade`: ack at once, answer in the background through `respond()`."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.answers.commands import AddPage, parse_command
from bot.slack.listeners.answer import ack_and_answer, deps_of
from bot.slack.payloads import SlashCommand, origin_of, parse
from bot.slack.send import respond_checked
from bot.slack.ui.blocks import Message


async def trade_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient,
                        context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    origin = origin_of(body)

    async def work() -> None:
        slash = parse(SlashCommand, body)
        command = parse_command(slash.text)
        if isinstance(command, AddPage):  # a fetch: awaited here on the loop, not in a worker thread
            message = await deps.answerer.add_page(command, user=slash.user)
        else:
            message = await asyncio.to_thread(deps.answerer.answer, command, user=slash.user, channel=slash.channel,
                                              team=deps.team(context))
        await respond_checked(respond, message, client=client, channel=slash.channel, user=slash.user)

    async def reply(message: Message) -> None:
        await respond_checked(respond, message, client=client, channel=origin.channel, user=origin.user)

    await ack_and_answer(deps, "/trade", work, reply, ack=ack)


def register(app: AsyncApp) -> None:
    app.command("/trade")(trade_command)
