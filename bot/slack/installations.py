"""slack-sdk's installation and OAuth state stores, on our tables (`bot.store.installations`).

Bolt's install flow saves what `oauth.v2.access` returned through `StoredInstallations`,
and its `authorize` finds each request's bot token there. One installation per workspace
(bot scopes only, so there are no user tokens to keep apart); an org-wide install is
refused, as the manifest does not ask for one. The database work runs in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.error import BoltError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.store.installations import InstallationRecords, OAuthStates

log = logging.getLogger(__name__)

# The bot scopes an install asks for: manifest.yml's `oauth_config.scopes.bot` (a test keeps them equal).
BOT_SCOPES = ("commands", "chat:write", "chat:write.public", "app_mentions:read", "im:history",
              "channels:history", "channels:join", "groups:history")


class StoredInstallations(AsyncInstallationStore):
    def __init__(self, records: InstallationRecords) -> None:
        self.records = records

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        if installation.is_enterprise_install or not installation.team_id:
            raise BoltError("org-wide installs are not supported: install tradebot into a workspace")
        await asyncio.to_thread(self.records.save, installation.team_id, dict(vars(installation)),
                                enterprise=installation.enterprise_id, name=installation.team_name,
                                bot_user=installation.bot_user_id)
        log.info("installed in workspace %s", installation.team_id)

    async def async_save_bot(self, bot: Bot) -> None:
        """A refreshed bot token (token rotation, which tradebot does not turn on) replaces the old one."""
        found = await self._find(bot.team_id)
        if found is not None:
            found.bot_token, found.bot_refresh_token = bot.bot_token, bot.bot_refresh_token
            found.bot_token_expires_at = bot.bot_token_expires_at
            await self.async_save(found)

    async def _find(self, team_id: str | None) -> Installation | None:
        data = await asyncio.to_thread(self.records.find, team_id) if team_id else None
        return Installation(**data) if data is not None else None

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        installation = await self._find(team_id)
        if installation is None or (user_id is not None and user_id != installation.user_id):
            return None  # only the installer has an installation of their own, and it holds no user token
        return installation

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        installation = await self._find(team_id)
        return installation.to_bot() if installation is not None and installation.bot_token else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                        user_id: str | None = None) -> None:
        if user_id is None:  # a user's own installation holds nothing: only the workspace's is deleted
            await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        if not team_id:
            return
        if await asyncio.to_thread(self.records.delete, team_id):
            log.info("deleted the installation (tokens) of workspace %s", team_id)


class StoredStates(AsyncOAuthStateStore):
    def __init__(self, states: OAuthStates) -> None:
        self.states = states

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.states.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.states.consume, state)
