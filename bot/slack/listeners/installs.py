"""Uninstalls: Slack's `tokens_revoked` and `app_uninstalled` events.

With the install flow they remove that workspace's tokens (and, on uninstall, its watch
lists and digest channels). With `SLACK_BOT_TOKEN` there is nothing stored to remove: the
token is the operator's, so the log says it no longer works. Bolt runs these without
authorizing first (the token is already gone) and acks them itself.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.slack.deps import authorized_team
from bot.slack.listeners.answer import deps_of

log = logging.getLogger(__name__)


async def app_uninstalled(body: dict[str, Any], context: AsyncBoltContext) -> None:
    deps, team = deps_of(context), authorized_team(context)
    if deps.installed is None or not team:
        log.warning("Slack says tradebot was uninstalled: SLACK_BOT_TOKEN no longer works")
        return
    await deps.installed.uninstalled(team)
    log.info("uninstalled from workspace %s: its tokens, watch lists and digest channels are deleted", team)


async def tokens_revoked(event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
    tokens = event.get("tokens")
    if not isinstance(tokens, dict) or not tokens.get("bot"):
        return  # user tokens only: tradebot keeps none
    deps, team = deps_of(context), authorized_team(context)
    if deps.installed is None or not team:
        log.warning("Slack says the bot token was revoked: SLACK_BOT_TOKEN no longer works")
        return
    await deps.installed.revoked(team)


def register(app: AsyncApp) -> None:
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
