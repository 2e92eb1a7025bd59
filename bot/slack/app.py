"""Build the bolt AsyncApp: a client with retries, our listeners, nothing else."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.dedupe import RecentKeys, event_dedupe_middleware
from bot.slack.deps import Deps
from bot.slack.listeners import register_all
from bot.slack.oauth import NOT_INSTALLED

log = logging.getLogger(__name__)


def build_app(client: AsyncWebClient, deps: Deps, signing_secret: str | None = None,
              seen: RecentKeys | None = None, oauth_flow: AsyncOAuthFlow | None = None) -> AsyncApp:
    """Request signatures are checked in front of bolt (see `bot.slack.http`), so bolt's
    own check is off: it would run after bolt has already parsed the body.

    `seen`: Socket Mode's memory of event ids (it has no guard in front of bolt to catch a
    redelivered event); None in HTTP mode, where the guard has already checked them.
    With `oauth_flow` (many workspaces) every request is authorized with its workspace's
    stored token; a workspace with none is told so instead of being answered."""
    app = AsyncApp(
        name="tradebot",  # (else bolt names the app after its caller's file, reading every frame's source)
        client=client,
        signing_secret=signing_secret or "unused-in-socket-mode",
        request_verification_enabled=False,
        process_before_response=False,
        logger=logging.getLogger("bot.slack.bolt"),
        oauth_flow=oauth_flow,
        user_facing_authorize_error_message=NOT_INSTALLED,
    )

    @app.error
    async def on_error(error: Exception) -> None:
        log.error("unhandled error in a Slack listener: %r", error)

    if seen is not None:
        app.middleware(event_dedupe_middleware(seen))
    register_all(app, deps)
    return app
