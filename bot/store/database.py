"""One database for all state: connection rules per engine, errors users can be told about.

SQLite (the default, a file beside the corpus) gets WAL mode, a long busy timeout and
`BEGIN IMMEDIATE` for every transaction: a read-then-write (a digest claim) is then atomic
across processes, as PostgreSQL's row locks and `ON CONFLICT` make it there. Any failure to
reach the database becomes `StoreUnavailable`, which surfaces as "temporarily unavailable".
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

log = logging.getLogger(__name__)


class StoreUnavailable(Exception):
    """The database cannot be reached (or stayed locked): the work was not done, try again later."""


def database_url(db_path: Path, url: str | None = None) -> str:
    """`url` as given (a bare `postgresql://` gets the psycopg 3 driver), else SQLite at `db_path`."""
    if url:
        for bare in ("postgresql://", "postgres://"):
            if url.startswith(bare):
                return "postgresql+psycopg://" + url[len(bare):]
        return url
    return f"sqlite:///{db_path}"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" hook below starts transactions itself
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _switch_to_wal(cursor: Any, attempts: int = 100) -> None:
    """WAL mode (it stays set in the file). When several processes open a file that is not in WAL
    mode yet (a new one, or one from the previous version), SQLite can refuse the switch with
    "database is locked" without waiting (its busy handler is skipped there to avoid a deadlock),
    so that one case is retried after a short pause."""
    for attempt in range(attempts):
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.02 + random.random() * 0.08)


def _sqlite_begin(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# One writer at a time per SQLite file within this process, queued on a lock: every transaction
# takes SQLite's write lock (`BEGIN IMMEDIATE`), and a connection that finds it taken waits in
# SQLite's busy handler, which sleeps 1, 2, 5 … 100 ms between tries, so a burst of answers and
# replay checks from several threads would mostly sleep. Other processes still meet the busy handler.
BUSY_TIMEOUT_S = 30  # how long a transaction waits for another writer (this process's or another's)
_FILE_LOCKS: dict[str, threading.RLock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(database: str) -> threading.RLock:
    """The lock of this file, shared by every `Database` on it in this process (an in-memory
    database is its engine's own)."""
    if not database or database == ":memory:":
        return threading.RLock()
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(str(Path(database).resolve()), threading.RLock())


# Claims read `rowcount` of an INSERT … ON CONFLICT DO NOTHING. SQLAlchemy keeps it only for
# UPDATE/DELETE unless told to: with psycopg an INSERT's rowcount is otherwise -1 (SQLite's
# driver happens to keep it), and every claim on PostgreSQL would look lost.
_ROWCOUNT = {"preserve_rowcount": True}


class Database:
    """An engine with the rules above; `schema` is applied by `bot.store.migrations.upgrade`."""

    def __init__(self, url: str) -> None:
        self.url = sa.make_url(url)
        self.dialect = self.url.get_backend_name()
        self._writer: threading.RLock | None = None
        if self.dialect == "sqlite":
            self._writer = _file_lock(self.url.database or "")
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(self.url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
                                           execution_options=_ROWCOUNT)
            sa.event.listen(self.engine, "connect", _sqlite_connect)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = sa.create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                           pool_timeout=10, connect_args=_connect_args(self.dialect),
                                           execution_options=_ROWCOUNT)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden: what logs and `/health` may show."""
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A transaction; a database that cannot be reached raises `StoreUnavailable`."""
        writer = self._writer
        if writer is not None and not writer.acquire(timeout=BUSY_TIMEOUT_S):
            raise StoreUnavailable("database is locked")
        try:
            with self.engine.begin() as connection:
                yield connection
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise StoreUnavailable(_short(exc)) from exc
        except sa.exc.DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreUnavailable(_short(exc)) from exc
            raise
        finally:
            if writer is not None:
                writer.release()

    def _insert(self, table: sa.Table) -> Any:
        """An INSERT with this dialect's `ON CONFLICT` clauses. (Each dialect's module is imported by
        its engine: importing both at the top cost an SQLite bot ~20 ms of every start.)"""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql
            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite
        return sqlite.insert(table)

    def insert_ignore(self, table: sa.Table) -> Any:
        """`INSERT … ON CONFLICT DO NOTHING` in this engine's dialect: a claim that loses a race
        inserts nothing, and `rowcount` says whether this call won (kept by `_ROWCOUNT`)."""
        return self._insert(table).on_conflict_do_nothing()

    def upsert(self, table: sa.Table, keys: list[str], values: dict[str, Any]) -> Any:
        """Insert `values`, or update the row with the same `keys` to them."""
        statement = self._insert(table).values(**values)
        changed = {k: v for k, v in values.items() if k not in keys}
        return statement.on_conflict_do_update(index_elements=keys, set_=changed)

    def ping(self) -> str | None:
        """None when the database answers, else a short reason (for `/health`, `tradebot db check`)."""
        try:
            with self.begin() as connection:
                connection.execute(sa.text("SELECT 1"))
        except StoreUnavailable as exc:
            return str(exc)
        return None

    def close(self) -> None:
        self.engine.dispose()


def _connect_args(dialect: str) -> dict[str, Any]:
    """PostgreSQL: give up on a connection the network stopped answering (a black-holed route)
    after about 15 s rather than the kernel's many minutes, so a stuck query becomes
    `StoreUnavailable` and answers do not wait on it for good."""
    if dialect == "postgresql":
        return {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
                "keepalives_count": 1, "tcp_user_timeout": 15_000}
    return {}


def _short(exc: BaseException) -> str:
    """The driver's first line, without the SQL or parameters SQLAlchemy appends."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return (text[0] if text else type(original).__name__)[:200]
