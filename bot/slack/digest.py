"""The digest's Slack side: posting through the Web API, and watch lists as `/trade` shows them.

`SlackDigestSender` is the `DigestSender` the scheduler is given: it renders a `Digest`,
posts it with metadata naming its date (so a restarted bot can find it in the channel's
history), joins a public channel it is not in, and turns Slack's errors into the
delivery's three endings: done, refused (`SendRefused`), or uncertain (`SendUncertain`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.content import Digest
from bot.digest.delivery import SendRefused, SendUncertain
from bot.slack.client import slack_error
from bot.slack.ui.blocks import Message
from bot.slack.ui.digest import digest_message
from bot.slack.workspaces import WorkspaceGone, Workspaces

log = logging.getLogger(__name__)

DIGEST_EVENT = "tradebot_digest"
HISTORY_LIMIT = 100  # messages searched for our earlier post; a digest is posted at most once a day

T = TypeVar("T")


def digest_metadata(channel: str, local_date: dt.date) -> dict[str, Any]:
    return {"event_type": DIGEST_EVENT, "event_payload": {"channel": channel, "date": local_date.isoformat()}}


@asynccontextmanager
async def _slack_errors() -> AsyncIterator[None]:
    try:
        yield
    except SlackApiError as exc:
        raise SendRefused(slack_error(exc)) from exc
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise SendUncertain(f"connection problem ({type(exc).__name__})") from exc


class SlackDigestSender:
    """Posts digests with a client that never retries a post after a connection reset
    (`bot.slack.client`): that could post twice; the delivery's reconcile step retries safely."""

    def __init__(self, workspaces: Workspaces) -> None:
        self.workspaces = workspaces

    async def _joining(self, team: str, channel: str,
                       call: Callable[[AsyncWebClient], Awaitable[T]]) -> T:
        """`call(client)` with the workspace's client, and once more after joining the channel when
        Slack says we are not in it. An uninstalled workspace is a refusal, not a retry."""
        try:
            client = await self.workspaces.client_for(team)
        except WorkspaceGone as exc:
            raise SendRefused("app_uninstalled") from exc
        async with _slack_errors():
            try:
                return await call(client)
            except SlackApiError as exc:
                if slack_error(exc) != "not_in_channel":
                    raise
            log.info("not in %s; joining it and retrying once", channel)
            await client.conversations_join(channel=channel)  # fails for private channels: a clear error
            return await call(client)

    async def find_ours(self, team: str, channel: str, event_type: str, key: str, value: str) -> str | None:
        """The ts of our post in the channel's recent history whose metadata says `key: value`."""
        async def history(client: AsyncWebClient) -> str | None:
            response = await client.conversations_history(channel=channel, limit=HISTORY_LIMIT,
                                                          include_all_metadata=True)
            for message in response.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == event_type and payload.get(key) == value:
                    return str(message.get("ts"))
            return None

        return await self._joining(team, channel, history)

    async def post_ours(self, team: str, channel: str, message: Message, metadata: dict[str, Any]) -> str:
        """Post `message` marked with `metadata` (so `find_ours` finds it after a crash); its ts."""
        async def post(client: AsyncWebClient) -> str:
            response = await client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks, unfurl_links=False, unfurl_media=False,
                metadata=metadata)
            return str(response["ts"])

        return await self._joining(team, channel, post)

    async def find_posted(self, team: str, channel: str, local_date: dt.date) -> str | None:
        return await self.find_ours(team, channel, DIGEST_EVENT, "date", local_date.isoformat())

    async def post(self, team: str, channel: str, digest: Digest) -> str:
        return await self.post_ours(team, channel, digest_message(digest), digest_metadata(channel, digest.local_date))
