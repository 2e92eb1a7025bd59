"""Post one digest to one channel, exactly once, with Slack's errors handled.

Order: claim (channel, date) in SQLite -> reconcile with the channel's history
(our earlier post carries metadata naming the date) -> post -> record the ts.
A crash between post and record is healed by the reconcile step on restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.content import DIGEST_EVENT, digest_metadata
from bot.digest.store import DigestStore
from bot.slack.client import slack_error
from bot.slack.ui.blocks import Message

log = logging.getLogger(__name__)

STALE_CLAIM = dt.timedelta(minutes=3)
FATAL = {"channel_not_found", "is_archived", "invalid_auth", "token_revoked", "account_inactive",
         "not_authed", "missing_scope", "method_not_supported_for_channel_type"}


async def find_posted(client: AsyncWebClient, channel: str, local_date: dt.date) -> str | None:
    """The ts of our digest for this date in the channel's recent history, if there is one."""
    response = await client.conversations_history(channel=channel, limit=100, include_all_metadata=True)
    for message in response.get("messages", []):
        meta = message.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        if meta.get("event_type") == DIGEST_EVENT and payload.get("date") == local_date.isoformat():
            return message.get("ts")
    return None


async def post_digest(client: AsyncWebClient, store: DigestStore, channel: str, local_date: dt.date,
                      message: Message, now: dt.datetime, article_ids: list[str]) -> str:
    """Returns the outcome: posted | already | busy | failed:<error> | pending:<reason>."""
    claimed = await asyncio.to_thread(store.claim, channel, local_date, now, STALE_CLAIM)
    if claimed is None:
        record = store.get(channel, local_date)
        return "already" if record and record.status != "claimed" else "busy"
    claim, takeover = claimed
    try:
        # Only a claim taken over from a run that never recorded its result can have posted.
        ts = await _reconcile(client, channel, local_date) if takeover else None
        if ts:
            log.info("digest for %s on %s was already posted (ts %s); recording it", channel, local_date, ts)
        else:
            ts = await _post_with_join(client, channel, message, local_date)
    except SlackApiError as exc:
        error = slack_error(exc)
        log.error("digest for %s on %s failed: %s", channel, local_date, error)
        store.finish(channel, local_date, claim, "failed", now, error=error)
        return f"failed:{error}"
    except (TimeoutError, aiohttp.ClientError) as exc:
        # Slack may have accepted the post; leave the claim so the next attempt reconciles.
        log.warning("digest for %s on %s: connection problem (%r); will reconcile and retry", channel, local_date, exc)
        return "pending:connection"
    store.finish(channel, local_date, claim, "posted", now, ts=ts)
    store.mark_sent(channel, article_ids, local_date)
    log.info("digest posted to %s for %s (ts %s)", channel, local_date, ts)
    return "posted"


async def _reconcile(client: AsyncWebClient, channel: str, local_date: dt.date) -> str | None:
    try:
        return await find_posted(client, channel, local_date)
    except SlackApiError as exc:
        if slack_error(exc) != "not_in_channel":
            raise
    await client.conversations_join(channel=channel)
    return await find_posted(client, channel, local_date)


async def _post_with_join(client: AsyncWebClient, channel: str, message: Message, local_date: dt.date) -> str:
    async def post() -> str:
        response = await client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, unfurl_links=False, unfurl_media=False,
            metadata=digest_metadata(channel, local_date))
        return str(response["ts"])

    try:
        return await post()
    except SlackApiError as exc:
        if slack_error(exc) != "not_in_channel":
            raise
    log.info("not in %s; joining it and retrying once", channel)
    await client.conversations_join(channel=channel)  # fails for private channels: a clear error
    return await post()
