"""Is the database there, and at the schema this code expects? For `tradebot db check` and `/health`.

`/health` is answered on the event loop, so it never waits on the database: `DatabaseProbe`
keeps the last answer and refreshes it in a thread when it is a few seconds old (a ping gives
up within the driver's connect timeout, so a dead server never piles threads up).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel

from bot.common.clock import Clock, SystemClock
from bot.store.database import Database, StoreUnavailable
from bot.store.migrations import version
from bot.store.schema import SCHEMA_VERSION

State = Literal["ok", "behind", "ahead", "unreachable"]


class DatabaseStatus(BaseModel):
    engine: str  # "sqlite" or "postgresql"
    url: str  # without the password
    reachable: bool
    error: str | None = None  # why it is not reachable
    schema_version: int | None = None  # what the database is at (None: not reachable; 0: nothing created)
    code_version: int = SCHEMA_VERSION  # what this tradebot expects

    @property
    def state(self) -> State:
        if not self.reachable or self.schema_version is None:
            return "unreachable"
        if self.schema_version < self.code_version:
            return "behind"
        if self.schema_version > self.code_version:
            return "ahead"
        return "ok"

    def health(self) -> dict[str, object]:
        """The `/health` fields."""
        return {"engine": self.engine, "url": self.url, "reachable": self.reachable,
                "schema": self.schema_version, "error": self.error}


def database_status(database: Database) -> DatabaseStatus:
    """Ping, then read the schema version; never raises for a database that cannot be reached."""
    status = DatabaseStatus(engine=database.dialect, url=database.safe_url, reachable=False)
    reason = database.ping()
    if reason is not None:
        return status.model_copy(update={"error": reason})
    try:
        return status.model_copy(update={"reachable": True, "schema_version": version(database)})
    except StoreUnavailable as exc:
        return status.model_copy(update={"error": str(exc)})


def missing_sqlite_file(url: sa.URL) -> Path | None:
    """The file of a SQLite URL when it does not exist yet (a check must not create it)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database)
    return None if path.exists() else path


class DatabaseProbe:
    """The last `DatabaseStatus`, refreshed in the background once it is `every` seconds old."""

    def __init__(self, database: Database, clock: Clock | None = None, every: float = 5.0) -> None:
        self.database = database
        self.clock = clock or SystemClock()
        self.every = every
        self._lock = threading.Lock()
        self._status = database_status(database)  # at start-up, right after the upgrade: quick
        self._checked = self.clock.monotonic()
        self._refresh: threading.Thread | None = None
        self._closed = False

    def current(self) -> DatabaseStatus:
        """At once: the last status, starting a refresh when it is stale."""
        with self._lock:
            stale = self.clock.monotonic() - self._checked >= self.every
            if stale and not self._closed and (self._refresh is None or not self._refresh.is_alive()):
                self._refresh = threading.Thread(target=self._run, name="database-probe", daemon=True)
                self._refresh.start()
            return self._status

    def _run(self) -> None:
        status = database_status(self.database)
        with self._lock:
            self._status = status
            self._checked = self.clock.monotonic()

    def close(self, timeout: float = 10.0) -> None:
        """No more refreshes; waits for one in flight (before the database is closed)."""
        with self._lock:
            self._closed = True
            refresh = self._refresh
        if refresh is not None:
            refresh.join(timeout)
