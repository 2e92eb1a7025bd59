"""Modal submissions. The article modal has no inputs; submitting it just closes it."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.deps import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    @app.view("trade_article")
    async def on_article_submitted(ack: AsyncAck) -> None:
        await ack(response_action="clear")
