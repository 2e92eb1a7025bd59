"""Sending answers, with failures detected and logged rather than lost.

Bolt's `respond()` does not raise when a response_url has expired (404
`expired_url`) or is used up: we check its status, log it, and fall back to
`chat.postEphemeral` where we can. Handler exceptions become a short apology
with an error id; the log gets the traceback under the same id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import slack_error
from bot.slack.ui.blocks import Message, error_message

log = logging.getLogger(__name__)

CONNECTION_LOST = "connection_lost"


async def respond_checked(
    respond: Callable[..., Awaitable[Any]], message: Message, *, replace_original: bool = False,
    client: AsyncWebClient | None = None, channel: str | None = None, user: str | None = None,
) -> bool:
    try:
        result = await respond(text=message.text, blocks=message.blocks, replace_original=replace_original,
                               response_type="in_channel" if message.in_channel else "ephemeral")
        status = getattr(result, "status_code", 200)
        body = getattr(result, "body", "")
    except Exception as exc:  # connection errors: aiohttp raises, we report
        status, body = 0, repr(exc)
    if status == 200:
        return True
    log.warning("response_url answer failed: HTTP %s %s", status, str(body)[:200])
    if client is not None and channel and user:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=message.text, blocks=message.blocks)
            log.info("answer delivered with chat.postEphemeral instead")
            return True
        except SlackApiError as exc:
            log.error("chat.postEphemeral fallback failed too: %s", slack_error(exc))
    return False


async def post_message(client: AsyncWebClient, channel: str, message: Message, thread_ts: str | None = None) -> str | None:
    """chat.postMessage; returns the error code, or None on success."""
    try:
        await client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks,
                                      thread_ts=thread_ts, unfurl_links=False, unfurl_media=False)
        return None
    except SlackApiError as exc:
        error = slack_error(exc)
        log.error("chat.postMessage to %s failed: %s", channel, error)
        return error
    except (TimeoutError, aiohttp.ClientError) as exc:
        # Slack may have posted before the connection broke; it is not retried (see bot.slack.client).
        log.warning("chat.postMessage to %s: connection lost, delivery unknown (%r)", channel, exc)
        return CONNECTION_LOST


async def guarded(name: str, work: Awaitable[None], apologise: Callable[[Message], Awaitable[Any]] | None) -> None:
    """Run a handler's work; on an exception log it with an id and tell the user that id."""
    try:
        await work
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("handler %s failed [error id %s]", name, error_id)
        if apologise is not None:
            try:
                await apologise(error_message(error_id))
            except Exception:
                log.exception("could not send the apology for error id %s", error_id)
