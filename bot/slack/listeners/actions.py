"""Buttons: share in channel, more results, pick a person, read an article and page through it.

Every kind matches its bare action_id and `BASE-SUFFIX` (see `action_ids`). A click
whose value does not parse (an old or forged button) is told the button has expired.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import slack_error
from bot.slack.listeners.answer import ack_and_answer, action_ids, deps_of, modal_notice
from bot.slack.payloads import ButtonClick, ModalPage, PersonPick, parse, view_of
from bot.slack.send import Reply, post_message, respond_checked
from bot.slack.ui import blocks
from bot.slack.ui.blocks import Message


def _reply(respond: AsyncRespond) -> Reply:
    async def send(message: Message) -> None:
        await respond_checked(respond, message)

    return send


async def more_results(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
    deps = deps_of(context)

    async def work() -> None:
        click = parse(ButtonClick, body)
        message = await asyncio.to_thread(deps.answerer.more, click.value, deps.team(context))
        await respond_checked(respond, message, replace_original=True)

    await ack_and_answer(deps, "more", work, _reply(respond), ack=ack)


async def pick_person(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
    deps = deps_of(context)

    async def work() -> None:
        click = parse(ButtonClick, body)
        pick = PersonPick.from_value(click.value)
        message = await asyncio.to_thread(deps.answerer.pick, pick.value, click.user, deps.team(context))
        await respond_checked(respond, message, replace_original=True)

    await ack_and_answer(deps, "pick", work, _reply(respond), ack=ack)


async def share_in_channel(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient,
                           context: AsyncBoltContext) -> None:
    deps = deps_of(context)

    async def work() -> None:
        click = parse(ButtonClick, body)
        message = await asyncio.to_thread(deps.answerer.share, click.value, click.user, deps.team(context))
        if not message.in_channel or click.channel is None:
            await respond_checked(respond, message)
            return
        error = await post_message(client, click.channel, message, apologise=False)  # the user is told below
        if error:  # the wording per Slack error lives with the other answers
            await respond_checked(respond, deps.answerer.share_failed(error))

    await ack_and_answer(deps, "share", work, _reply(respond), ack=ack)


async def read_article(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient,
                       context: AsyncBoltContext) -> None:
    deps = deps_of(context)

    async def work() -> None:
        click = parse(ButtonClick, body)
        view = deps.answerer.article_view(click.value)
        if view is None:
            await respond_checked(respond, deps.answerer.article_missing(click.value))
            return
        await client.views_open(trigger_id=click.trigger_id, view=view)

    # views.open must use the trigger_id within 3 s, so this one is not deferred.
    await ack_and_answer(deps, "read", work, _reply(respond), ack=ack, in_background=False)


async def turn_modal_page(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                          context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    view_id = view_of(body)

    async def work() -> None:
        click = parse(ButtonClick, body)
        page = ModalPage.from_value(click.value)
        view = deps.answerer.article_view(page.article_id, page.page)
        if view is None:
            view = modal_notice(deps.answerer.article_missing(page.article_id))
        if click.view_id:
            try:
                await client.views_update(view_id=click.view_id, hash=click.view_hash, view=view)
            except SlackApiError as exc:  # hash_conflict: the user clicked twice; the newer page won
                if slack_error(exc) != "hash_conflict":
                    raise

    async def reply(message: Message) -> None:
        if view_id is not None:
            await client.views_update(view_id=view_id, view=modal_notice(message))

    await ack_and_answer(deps, "modal-page", work, reply, ack=ack)


def register(app: AsyncApp) -> None:
    app.action(action_ids(blocks.ACTION_MORE))(more_results)
    app.action(action_ids(blocks.ACTION_PICK))(pick_person)
    app.action(action_ids(blocks.ACTION_SHARE))(share_in_channel)
    app.action(action_ids(blocks.ACTION_READ))(read_article)
    app.action(action_ids(blocks.ACTION_MODAL_PAGE))(turn_modal_page)
