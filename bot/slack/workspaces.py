"""Which Web API client speaks for a workspace: what background posts (digest, alerts) need.

Listeners get theirs from bolt (`context.client`, authorized per request); a post nobody
asked for (the daily digest, an instant alert) has only the workspace's id to go on.
With one workspace (`SLACK_BOT_TOKEN`) that is always the one client; with the install
flow it is the workspace's stored bot token (`bot.slack.installations`).
"""

from __future__ import annotations

from typing import Protocol

from slack_sdk.web.async_client import AsyncWebClient


class WorkspaceGone(Exception):
    """The workspace uninstalled the app (or never installed it): there is nobody to post as."""


class Workspaces(Protocol):
    async def client_for(self, team: str) -> AsyncWebClient:
        """The client posting as the bot in `team`; raises WorkspaceGone when there is none."""
        ...


class SingleWorkspace:
    """`SLACK_BOT_TOKEN`'s workspace: the team id is "" throughout."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def client_for(self, team: str) -> AsyncWebClient:
        return self.client
