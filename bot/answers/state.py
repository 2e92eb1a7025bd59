"""Server-side state behind buttons: a button value holds a short key, not the query.

Slack caps a button value at 2,000 characters; a query plus paging state can be
longer, and the value is visible to the client. The state is a `button_state` row, so
any replica answers a click for an answer another one gave, and a restart loses none.
Keys expire after a day of wall time (every replica's clock agrees on it; one process's
monotonic clock would not). A row that does not decode (an older or garbled command) is
treated as expired, never as an error.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any, get_args

import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError

from bot.answers.commands import Command
from bot.common.clock import Clock, SystemClock
from bot.store import Database
from bot.store.expiry import Pruner
from bot.store.schema import button_state

log = logging.getLogger(__name__)

TTL = 86_400.0  # a day

_KINDS: dict[str, TypeAdapter[Any]] = {kind.__name__: TypeAdapter(kind) for kind in get_args(Command)}


def command_to_json(command: Command) -> str:
    """`{"kind": "Search", "fields": {...}}`: the class name tags the fields (ASCII only, so any
    engine stores it as given)."""
    return json.dumps({"kind": type(command).__name__, "fields": dataclasses.asdict(command)}, sort_keys=True)


def command_from_json(text: str) -> Command | None:
    """The command `command_to_json` wrote; None for anything else (unknown kind, wrong fields)."""
    try:
        data = json.loads(text)
        adapter = _KINDS[data["kind"]]
        command: Command = adapter.validate_python(data["fields"])
    except (ValueError, TypeError, KeyError, RecursionError, ValidationError):
        return None
    return command


@dataclass(frozen=True)
class StoredAnswer:
    command: Command
    user: str
    channel: str | None
    team: str = ""  # the workspace; a click from another one finds nothing


class AnswerStore:
    """Button state in the shared database; a database that cannot be reached raises
    `bot.store.StoreUnavailable` (the answerer says so, or answers without the buttons)."""

    def __init__(self, database: Database, clock: Clock | None = None, ttl: float = TTL) -> None:
        self.db = database
        self.clock = clock or SystemClock()
        self.ttl = ttl
        self.pruner = Pruner(database, button_state)

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def put(self, answer: StoredAnswer) -> str:
        key = secrets.token_urlsafe(9)
        now = self._now()
        with self.db.begin() as db:
            db.execute(button_state.insert().values(
                key=key, team_id=answer.team, user_id=answer.user, channel=answer.channel,
                command=command_to_json(answer.command), expires_at=now + self.ttl))
        if self.pruner.due():
            self.pruner.prune(now)
        return key

    def get(self, key: str) -> StoredAnswer | None:
        """The state behind `key`; None when unknown, expired or not decodable."""
        with self.db.begin() as db:
            row = db.execute(sa.select(button_state).where(
                button_state.c.key == key, button_state.c.expires_at > self._now())).first()
        if row is None:
            return None
        command = command_from_json(row.command)
        if command is None:
            log.warning("button state %s does not decode; treated as expired", key[:12])
            return None
        return StoredAnswer(command, row.user_id, row.channel, row.team_id)
