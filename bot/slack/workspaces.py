"""Which Web API client speaks for a workspace: what background posts (digest, alerts) need.

Listeners get theirs from bolt (`context.client`, authorized per request); a post nobody
asked for (the daily digest, an instant alert) has only the workspace's id to go on.
With one workspace (`SLACK_BOT_TOKEN`) that is always the one client; with the install
flow it is the workspace's stored bot token (`InstalledWorkspaces`, on `bot.slack.installations`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import make_client


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


class InstalledWorkspaces:
    """The install flow's workspaces: each one's bot token is the one stored when it installed,
    and leaves with the uninstall (`app_uninstalled`, `tokens_revoked`)."""

    def __init__(self, installations: AsyncInstallationStore, base_url: str | None,
                 forget_team: Callable[[str], None]) -> None:
        self.installations = installations
        self.base_url = base_url
        self.forget_team = forget_team

    async def client_for(self, team: str) -> AsyncWebClient:
        bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team) if team else None
        if bot is None:
            raise WorkspaceGone(team)
        return make_client(bot.bot_token, self.base_url)

    async def uninstalled(self, team: str) -> None:
        """The app left the workspace: its tokens go, and what it set up there (watch lists, digest
        channels); the digest ledger stays, so a reinstall the same day does not post twice."""
        await self.installations.async_delete_all(enterprise_id=None, team_id=team)
        await asyncio.to_thread(self.forget_team, team)

    async def revoked(self, team: str) -> None:
        """The workspace's bot token was revoked: it is deleted (a reinstall brings a new one)."""
        await self.installations.async_delete_bot(enterprise_id=None, team_id=team)
