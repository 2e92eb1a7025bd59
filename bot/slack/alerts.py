"""Instant alerts' Slack side: the `AlertSender` `bot.feeds.alerts` is given.

Posts carry metadata naming the article, so after a crash between post and record the
alert is found in the channel's history instead of being posted twice. Joining a public
channel and turning Slack errors into done / refused / uncertain is the digest sender's.
"""

from __future__ import annotations

from typing import Any

from bot.answers.models import Answer
from bot.slack.digest import SlackDigestSender
from bot.slack.ui.blocks import render_message

ALERT_EVENT = "tradebot_alert"


def alert_metadata(channel: str, article_id: str) -> dict[str, Any]:
    return {"event_type": ALERT_EVENT, "event_payload": {"channel": channel, "article_id": article_id}}


class SlackAlertSender(SlackDigestSender):
    """The digest sender (same client, same join-and-retry) plus alerts."""

    async def find_alert(self, team: str, channel: str, article_id: str) -> str | None:
        return await self.find_ours(team, channel, ALERT_EVENT, "article_id", article_id)

    async def post_alert(self, team: str, channel: str, article_id: str, answer: Answer) -> str:
        return await self.post_ours(team, channel, render_message(answer), alert_metadata(channel, article_id))
