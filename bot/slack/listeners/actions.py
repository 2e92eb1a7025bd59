"""Buttons: share in channel, more results, read article (modal and its pages), pick a person."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import slack_error
from bot.slack.deps import Deps
from bot.slack.payloads import ButtonClick
from bot.slack.send import CONNECTION_LOST, guarded, post_message, respond_checked
from bot.slack.ui import blocks


def register(app: AsyncApp, deps: Deps) -> None:
    answerer = deps.answerer

    def spawn(name: str, click: ButtonClick, respond: AsyncRespond, client: AsyncWebClient, work: Any) -> None:
        async def apologise(message: blocks.Message) -> None:
            await respond_checked(respond, message, client=client, channel=click.channel, user=click.user)

        deps.tasks.spawn(guarded(name, work, apologise), name=name)

    def replace_answer_with(action_id: str, name: str, compute: Callable[[ButtonClick], blocks.Message]) -> None:
        """A button whose answer replaces the message it sits in (next page, picked person)."""

        @app.action(action_id)
        async def on_click(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
            await ack()
            click = ButtonClick.parse(body)

            async def work() -> None:
                message = await asyncio.to_thread(compute, click)
                await respond_checked(respond, message, replace_original=True)

            spawn(name, click, respond, client, work())

    replace_answer_with(blocks.ACTION_MORE, "more", lambda click: answerer.more(click.value))
    replace_answer_with(blocks.ACTION_PICK, "pick", lambda click: answerer.pick(click.value, click.user))

    @app.action(blocks.ACTION_SHARE)
    async def on_share(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        click = ButtonClick.parse(body)

        async def work() -> None:
            message = await asyncio.to_thread(answerer.share, click.value, click.user)
            if not message.in_channel or click.channel is None:
                await respond_checked(respond, message)
                return
            error = await post_message(client, click.channel, message)
            if error in ("not_in_channel", "channel_not_found", "is_archived"):
                await respond_checked(respond, blocks.notice_message(
                    "I can't post in this conversation. Invite me with `/invite @tradebot` and try again."))
            elif error == CONNECTION_LOST:
                await respond_checked(respond, blocks.notice_message(
                    "The connection to Slack broke while sharing. Check the channel before sharing again."))
            elif error:
                await respond_checked(respond, blocks.notice_message(f"Slack refused the post (`{error}`)."))

        spawn("share", click, respond, client, work())

    @app.action(blocks.ACTION_READ)
    async def on_read(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        # views.open must use the trigger_id within 3 s, so this one is not deferred.
        await ack()
        click = ButtonClick.parse(body)

        async def work() -> None:
            view = answerer.article_view(click.value)
            if view is None:
                await respond_checked(respond, answerer.article_missing(click.value))
                return
            await client.views_open(trigger_id=click.trigger_id, view=view)

        await guarded("read", work(), lambda m: respond_checked(respond, m))

    @app.action(blocks.ACTION_MODAL_PAGE)
    async def on_modal_page(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        click = ButtonClick.parse(body)
        article_id, _, page = click.value.rpartition("|")
        view = answerer.article_view(article_id, int(page) if page.isdigit() else 0)

        async def work() -> None:
            if view is not None and click.view_id:
                try:
                    await client.views_update(view_id=click.view_id, hash=click.view_hash, view=view)
                except SlackApiError as exc:  # hash_conflict: the user clicked twice; the newer page won
                    if slack_error(exc) != "hash_conflict":
                        raise

        await guarded("modal-page", work(), None)
