"""Workspaces that installed the app, and the one-time `state` values of installs in progress.

Slack-free: an installation is stored as the JSON the Slack layer gives (tokens included),
keyed by its workspace, beside a few columns worth reading without it. A state is issued
with an expiry and consumed at most once, across any number of replicas: the `DELETE` that
removes it is the check, so two redirects carrying one state cannot both succeed.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import sqlalchemy as sa

from bot.common.clock import Clock, SystemClock
from bot.store.database import Database
from bot.store.expiry import Pruner
from bot.store.schema import installations, oauth_states


class InstallationRecords:
    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self.db = database
        self.clock = clock or SystemClock()

    def save(self, team: str, data: dict[str, Any], *, enterprise: str | None = None, name: str | None = None,
             bot_user: str | None = None) -> None:
        """Store (or replace: a reinstall) the workspace's installation."""
        with self.db.begin() as db:
            db.execute(self.db.upsert(installations, ["team_id"], {
                "team_id": team, "enterprise_id": enterprise, "team_name": name, "bot_user_id": bot_user,
                "installed_at": self.clock.now().timestamp(), "data": json.dumps(data)}))

    def find(self, team: str) -> dict[str, Any] | None:
        with self.db.begin() as db:
            data = db.execute(sa.select(installations.c.data).where(installations.c.team_id == team)).scalar()
        return json.loads(data) if data is not None else None

    def delete(self, team: str) -> bool:
        """Forget the workspace's installation (its tokens); True when there was one."""
        with self.db.begin() as db:
            return db.execute(installations.delete().where(installations.c.team_id == team)).rowcount == 1

    def teams(self) -> list[str]:
        with self.db.begin() as db:
            return list(db.execute(sa.select(installations.c.team_id).order_by(installations.c.team_id)).scalars())


class OAuthStates:
    def __init__(self, database: Database, lifetime: float = 600.0, clock: Clock | None = None) -> None:
        self.db = database
        self.lifetime = lifetime
        self.clock = clock or SystemClock()
        self._pruner = Pruner(database, oauth_states)

    def issue(self) -> str:
        """A new state, valid for `lifetime` seconds; expired ones are pruned now and then, as
        button state and seen keys are."""
        state = secrets.token_urlsafe(24)
        now = self.clock.now().timestamp()
        with self.db.begin() as db:
            db.execute(oauth_states.insert().values(state=state, expires_at=now + self.lifetime))
        if self._pruner.due():
            self._pruner.prune(now)
        return state

    def consume(self, state: str) -> bool:
        """True exactly once for a state that was issued and has not expired."""
        if not state:
            return False
        with self.db.begin() as db:
            return db.execute(oauth_states.delete().where(
                oauth_states.c.state == state,
                oauth_states.c.expires_at >= self.clock.now().timestamp())).rowcount == 1
