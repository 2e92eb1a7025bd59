"""Modal submissions. The article modal has no inputs; submitting it just closes it."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp


async def article_submitted(ack: AsyncAck) -> None:
    await ack(response_action="clear")


def register(app: AsyncApp) -> None:
    app.view("trade_article")(article_submitted)
