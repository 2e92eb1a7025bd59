"""Sending answers, with failures detected and logged rather than lost.

Bolt's `respond()` does not raise when a response_url has expired (404
`expired_url`) or is used up: we check its status, log it, and fall back to
`chat.postEphemeral` where we can. When Slack refuses the answer itself
(`invalid_blocks`, `msg_too_long`, any `ok: false`), the code is logged and the
user gets a short plain-text apology instead of silence. Handler exceptions
become an apology with an error id; the log gets the traceback under the same id.
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
from bot.slack.payloads import MalformedPayload
from bot.slack.ui.blocks import Message, error_message

log = logging.getLogger(__name__)

CONNECTION_LOST = "connection_lost"
GONE = ("expired_url", "used_url", "no_active_hooks", "http_404", "http_410")

Reply = Callable[[Message], Awaitable[Any]]


def refused_apology(code: str) -> Message:
    """Plain text, no blocks: what is left to send when Slack refused the real answer."""
    return Message(text=f"Sorry, Slack refused my answer ({code}). Please try again, or ask in fewer words.")


async def _respond(respond: Callable[..., Awaitable[Any]], message: Message, replace_original: bool) -> str | None:
    """One response_url post; None on success, else an error code."""
    try:
        result = await respond(text=message.text, blocks=message.blocks, replace_original=replace_original,
                               response_type="in_channel" if message.in_channel else "ephemeral")
    except Exception as exc:  # connection errors: aiohttp raises, we report
        log.warning("response_url answer failed: %s", type(exc).__name__)
        return CONNECTION_LOST
    status = getattr(result, "status_code", 200)
    if status == 200:
        return None
    body = str(getattr(result, "body", "") or "").strip()[:60]
    log.warning("response_url answer failed: HTTP %s %s", status, body)
    return body if body.replace("_", "").isalnum() else f"http_{status}"


async def respond_checked(
    respond: Callable[..., Awaitable[Any]], message: Message, *, replace_original: bool = False,
    client: AsyncWebClient | None = None, channel: str | None = None, user: str | None = None,
) -> bool:
    """Answer through the response_url; if it is gone, by `chat.postEphemeral`; if Slack refused
    the answer, with a plain apology the same way."""
    error = await _respond(respond, message, replace_original)
    if error is None:
        return True
    if error not in GONE and error != CONNECTION_LOST:
        return await _respond(respond, refused_apology(error), replace_original) is None
    if client is None or not channel or not user:
        return False
    code = await _ephemeral(client, channel, user, message)
    if code is None:
        log.info("answer delivered with chat.postEphemeral instead")
        return True
    if code in REFUSED:
        await _ephemeral(client, channel, user, refused_apology(code))
    return False


async def _ephemeral(client: AsyncWebClient, channel: str, user: str, message: Message) -> str | None:
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=message.text, blocks=message.blocks or None)
        return None
    except SlackApiError as exc:
        code = slack_error(exc)
    except (TimeoutError, aiohttp.ClientError) as exc:
        code = type(exc).__name__
    log.error("chat.postEphemeral to %s failed: %s", channel, code)
    return code


async def post_message(client: AsyncWebClient, channel: str, message: Message, thread_ts: str | None = None,
                       *, apologise: bool = True) -> str | None:
    """chat.postMessage; returns the error code, or None on success.

    If Slack refuses the message itself, a plain apology is posted in its place unless
    `apologise` is False (the caller tells the user privately instead)."""
    try:
        await client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks,
                                      thread_ts=thread_ts, unfurl_links=False, unfurl_media=False)
        return None
    except SlackApiError as exc:
        error = slack_error(exc)
        log.error("chat.postMessage to %s failed: %s", channel, error)
    except (TimeoutError, aiohttp.ClientError) as exc:
        # Slack may have posted before the connection broke; it is not retried (see bot.slack.client).
        log.warning("chat.postMessage to %s: connection lost, delivery unknown (%s)", channel, type(exc).__name__)
        return CONNECTION_LOST
    if apologise and error in REFUSED:
        try:
            await client.chat_postMessage(channel=channel, text=refused_apology(error).text, thread_ts=thread_ts)
        except (SlackApiError, TimeoutError, aiohttp.ClientError) as exc:
            log.error("the apology for %s could not be posted either: %s", error, type(exc).__name__)
    return error


# Slack refused the message itself: sending the same again cannot work.
REFUSED = ("invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long", "invalid_arguments",
           "too_many_attachments", "invalid_attachments", "no_text")


async def guarded(name: str, work: Awaitable[None], apologise: Reply | None,
                  expired: Callable[[], Message] | None = None) -> None:
    """Run a handler's work. A payload that does not fit (an old or forged button) gets the
    `expired` answer; any other exception is logged with an id and the user is told that id."""
    try:
        await work
    except MalformedPayload as exc:
        log.info("handler %s: %s", name, exc)
        if apologise is not None and expired is not None:
            await _quietly(apologise, expired(), name)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("handler %s failed [error id %s]", name, error_id)
        if apologise is not None:
            await _quietly(apologise, error_message(error_id), name)


async def _quietly(apologise: Reply, message: Message, name: str) -> None:
    try:
        await apologise(message)
    except Exception:
        log.exception("could not send the apology from handler %s", name)
