"""Schema versions, applied in order on start (`tradebot run`) or by `tradebot db upgrade`.

A small equivalent of alembic for a handful of tables: each migration is a function of one
transaction, recorded in `schema_version`. Replicas starting at once serialise on a lock
(PostgreSQL: an advisory lock; SQLite: `BEGIN IMMEDIATE`), so each step runs exactly once.
A database without `schema_version` but with the first version's tables (every SQLite file
written before this module) is upgraded in place: its rows are kept, under the single
workspace "".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from bot.store import schema
from bot.store.database import Database

log = logging.getLogger(__name__)

LOCK_ID = 7_203_011  # any fixed number: the advisory lock all tradebot replicas take to migrate

# Version 1, frozen: the digest tables as the first SQLite store wrote them (the feed tables
# were created by SQLAlchemy with the shapes `schema` still has).
_V1_DIGEST_TABLES = """
CREATE TABLE IF NOT EXISTS watches (
    channel TEXT NOT NULL, topic TEXT NOT NULL, topic_key TEXT NOT NULL, created TEXT NOT NULL,
    instant INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, topic_key));
CREATE TABLE IF NOT EXISTS digests (
    channel TEXT NOT NULL, local_date TEXT NOT NULL, status TEXT NOT NULL, claim TEXT,
    claimed_at TEXT, ts TEXT, error TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, local_date));
CREATE TABLE IF NOT EXISTS sent_articles (
    channel TEXT NOT NULL, article_id TEXT NOT NULL, local_date TEXT NOT NULL,
    PRIMARY KEY (channel, article_id));
CREATE TABLE IF NOT EXISTS alerts (
    channel TEXT NOT NULL, article_id TEXT NOT NULL, topic TEXT NOT NULL, status TEXT NOT NULL,
    claimed_at TEXT NOT NULL, ts TEXT, error TEXT,
    PRIMARY KEY (channel, article_id))
"""
_TEAM_KEYED = ("watches", "digests", "sent_articles", "alerts")


def _v1_baseline(db: sa.Connection) -> None:
    for statement in _V1_DIGEST_TABLES.split(";"):
        db.exec_driver_sql(statement)
    columns = {c["name"] for c in sa.inspect(db).get_columns("watches")}
    if "instant" not in columns:  # a file from before instant watches
        db.exec_driver_sql("ALTER TABLE watches ADD COLUMN instant INTEGER NOT NULL DEFAULT 0")
    for table in (schema.feeds, schema.feed_entries, schema.also_reported):
        table.create(db, checkfirst=True)


def _v2_workspaces(db: sa.Connection) -> None:
    """Key watches and the digest ledger by workspace; add the state replicas share."""
    for name in _TEAM_KEYED:
        current = schema.metadata.tables[name]
        staging = current.to_metadata(sa.MetaData(), name=f"{name}_v2")
        staging.create(db)
        columns = [c.name for c in current.columns if c.name != "team_id"]
        listed = ", ".join(columns)
        db.exec_driver_sql(f"INSERT INTO {name}_v2 (team_id, {listed}) SELECT '', {listed} FROM {name}")
        db.exec_driver_sql(f"DROP TABLE {name}")
        db.exec_driver_sql(f"ALTER TABLE {name}_v2 RENAME TO {name}")
    for table in (schema.digest_channels, schema.button_state, schema.seen_keys, schema.installations,
                  schema.oauth_states):
        table.create(db, checkfirst=True)


@dataclass(frozen=True)
class Migration:
    version: int
    note: str
    apply: Callable[[sa.Connection], None]


MIGRATIONS = (
    Migration(1, "watch lists, digest ledger, feeds", _v1_baseline),
    Migration(2, "workspaces; button state, seen keys, installations", _v2_workspaces),
)
assert MIGRATIONS[-1].version == schema.SCHEMA_VERSION


class SchemaTooNew(Exception):
    """The database was upgraded by a newer tradebot than this one."""


def current_version(db: sa.Connection) -> int:
    if not sa.inspect(db).has_table("schema_version"):
        return 0
    return int(db.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar() or 0)


def upgrade(database: Database) -> list[int]:
    """Apply what is missing; returns the versions applied (empty when up to date)."""
    applied: list[int] = []
    with database.begin() as db:
        if database.dialect == "postgresql":
            db.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
        schema.schema_version.create(db, checkfirst=True)
        version = current_version(db)
        if version > schema.SCHEMA_VERSION:
            raise SchemaTooNew(f"the database is at schema version {version}, this tradebot knows up to "
                               f"{schema.SCHEMA_VERSION}: upgrade tradebot")
        for migration in MIGRATIONS:
            if migration.version <= version:
                continue
            migration.apply(db)
            db.execute(schema.schema_version.insert().values(
                version=migration.version, note=migration.note,
                applied_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
            applied.append(migration.version)
    if applied:
        log.info("database schema upgraded to version %d (%s)", applied[-1], database.safe_url)
    return applied


def version(database: Database) -> int:
    """The schema version the database is at (0: nothing created yet)."""
    with database.begin() as db:
        return current_version(db)
