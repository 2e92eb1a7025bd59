"""Instant alerts' Slack side: the `AlertSender` `bot.feeds.alerts` is given.

Posts carry metadata naming the article, so after a crash between post and record the
alert is found in the channel's history instead of being posted twice. Joining a public
channel and turning Slack errors into done / refused / uncertain is the digest sender's.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.answers.models import Answer
from bot.slack.digest import HISTORY_LIMIT, SlackDigestSender
from bot.slack.ui.blocks import render_message

ALERT_EVENT = "tradebot_alert"


def alert_metadata(channel: str, article_id: str) -> dict[str, Any]:
    return {"event_type": ALERT_EVENT, "event_payload": {"channel": channel, "article_id": article_id}}


class SlackAlertSender(SlackDigestSender):
    """The digest sender (same client, same join-and-retry) plus alerts."""

    async def find_alert(self, team: str, channel: str, article_id: str) -> str | None:
        async def history(client: AsyncWebClient) -> str | None:
            response = await client.conversations_history(channel=channel, limit=HISTORY_LIMIT,
                                                               include_all_metadata=True)
            for message in response.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == ALERT_EVENT and payload.get("article_id") == article_id:
                    return str(message.get("ts"))
            return None

        return await self._joining(team, channel, history)

    async def post_alert(self, team: str, channel: str, article_id: str, answer: Answer) -> str:
        message = render_message(answer)

        async def post(client: AsyncWebClient) -> str:
            response = await client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks, unfurl_links=False, unfurl_media=False,
                metadata=alert_metadata(channel, article_id))
            return str(response["ts"])

        return await self._joining(team, channel, post)
