"""The fake's workspaces: each has its own state, Web API and granted scopes, and at most one
live bot token.

A bot token belongs to one workspace and every call made with it acts there, so team A's
token cannot see team B's channels (`channel_not_found`, as Slack answers). A token taken
back by an uninstall answers `token_revoked`; one never issued, `invalid_auth`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bot.common.clock import Clock
from bot.harness.slack_state import TEAM, SlackState
from bot.harness.web_api import WebApi

BOT_TOKEN = "xoxb-harness-0000"  # the default workspace's, as if installed by hand (SLACK_BOT_TOKEN)


@dataclass
class Workspace:
    state: SlackState
    api: WebApi
    bot_token: str | None = None  # None: the app is not installed here
    installer: str | None = None

    @property
    def id(self) -> str:
        return self.state.team

    @property
    def name(self) -> str:
        return self.state.team_name

    @property
    def people(self) -> list[str]:
        return self.state.people

    @property
    def trade(self) -> str:
        """The channel the bot is a member of (C0TRADE in the default workspace)."""
        return self.state.trade


class Teams:
    def __init__(self, clock: Clock | None, default_scopes: frozenset[str]) -> None:
        self.clock = clock
        self.by_id: dict[str, Workspace] = {}
        self._live: dict[str, str] = {}  # bot token -> team
        self._revoked: set[str] = set()
        self.default = self.add(TEAM, "Harness", tag="0")
        self.install(self.default, default_scopes, token=BOT_TOKEN)

    def add(self, team: str, name: str, tag: str | None = None) -> Workspace:
        """A workspace the app is not installed in yet; ids are tagged from the team id (TACME: CACMETRADE)."""
        if team in self.by_id:
            raise ValueError(f"workspace {team} exists")
        state = SlackState(self.clock, team=team, team_name=name, tag=tag if tag is not None else team[1:])
        workspace = Workspace(state, WebApi(state, frozenset()))
        self.by_id[team] = workspace
        return workspace

    def install(self, workspace: Workspace, scopes: frozenset[str], installer: str | None = None,
                token: str | None = None) -> str:
        """Grant `scopes` in `workspace`; its bot token (kept across reinstalls, as Slack's is)."""
        workspace.api.granted = scopes
        workspace.installer = installer or workspace.installer
        if workspace.bot_token is None:
            workspace.bot_token = token or f"xoxb-{workspace.id}-{secrets.token_hex(12)}"
            self._live[workspace.bot_token] = workspace.id
        return workspace.bot_token

    def revoke(self, workspace: Workspace) -> str | None:
        """Take the bot token back (an uninstall); the token it was, None when not installed."""
        token, workspace.bot_token = workspace.bot_token, None
        if token is not None:
            self._live.pop(token, None)
            self._revoked.add(token)
        workspace.api.granted = frozenset()
        return token

    def by_token(self, token: str) -> tuple[Workspace | None, str | None]:
        """The workspace a bot token acts in, or Slack's error for the token."""
        if not token:
            return None, "not_authed"
        if token in self._revoked:
            return None, "token_revoked"
        team = self._live.get(token)
        return (self.by_id[team], None) if team else (None, "invalid_auth")

    def with_channel(self, channel: str) -> SlackState:
        """The state holding `channel` (ids are unique across workspaces); the default's otherwise."""
        return next((w.state for w in self.by_id.values() if channel in w.state.channels), self.default.state)

    def of_user(self, user: str) -> SlackState:
        return next((w.state for w in self.by_id.values() if user in w.state.people), self.default.state)

    def with_response_url(self, rid: str) -> SlackState:
        return next((w.state for w in self.by_id.values() if rid in w.state.response_urls), self.default.state)
