"""Schema upgrades: a SQLite file written by the previous tradebot keeps every row; upgrading is
idempotent and happens once when several processes start at once; a database newer than the
code is refused; and a database that cannot be reached is reported, not waited on forever."""

from __future__ import annotations

import datetime as dt
import socket
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.digest.records import SlotStatus
from bot.digest.store import DigestStore
from bot.feeds.store import FeedStore, OtherOutlet
from bot.store import Database, open_database
from bot.store.migrations import SchemaTooNew, upgrade, version
from bot.store.schema import SCHEMA_VERSION, metadata, schema_version
from tests import racers
from tests.databases import sqlite_url

# The previous version's files, frozen: the digest store's SCHEMA as of 2d63dc3 (and, before
# instant watches, as of e61687e^), and the feed tables SQLAlchemy created for bot/feeds/store.py.
LEGACY_DIGEST_SCHEMA = """
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
    PRIMARY KEY (channel, article_id));
"""
LEGACY_DIGEST_SCHEMA_BEFORE_INSTANT = """
CREATE TABLE IF NOT EXISTS watches (
    channel TEXT NOT NULL, topic TEXT NOT NULL, topic_key TEXT NOT NULL, created TEXT NOT NULL,
    PRIMARY KEY (channel, topic_key));
CREATE TABLE IF NOT EXISTS digests (
    channel TEXT NOT NULL, local_date TEXT NOT NULL, status TEXT NOT NULL, claim TEXT,
    claimed_at TEXT, ts TEXT, error TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, local_date));
CREATE TABLE IF NOT EXISTS sent_articles (
    channel TEXT NOT NULL, article_id TEXT NOT NULL, local_date TEXT NOT NULL,
    PRIMARY KEY (channel, article_id));
"""
LEGACY_FEED_TABLES = """
CREATE TABLE also_reported (
	article_id VARCHAR(120) NOT NULL,
	url VARCHAR(2000) NOT NULL,
	publisher VARCHAR(200) NOT NULL,
	title VARCHAR(500),
	seen_at DATETIME NOT NULL,
	PRIMARY KEY (article_id, url)
);
CREATE TABLE feed_entries (
	feed_url VARCHAR(2000) NOT NULL,
	entry_key VARCHAR(500) NOT NULL,
	article_id VARCHAR(120),
	outcome VARCHAR(500) NOT NULL,
	seen_at DATETIME NOT NULL,
	PRIMARY KEY (feed_url, entry_key)
);
CREATE TABLE feeds (
	url VARCHAR(2000) NOT NULL,
	title VARCHAR(500),
	added_at DATETIME NOT NULL,
	added_by VARCHAR(100),
	interval_s INTEGER NOT NULL,
	active BOOLEAN NOT NULL,
	etag VARCHAR(500),
	last_modified VARCHAR(100),
	next_poll_at DATETIME,
	last_attempt_at DATETIME,
	last_success_at DATETIME,
	last_error VARCHAR(1000),
	last_status VARCHAR(1000),
	failures INTEGER NOT NULL,
	articles_added INTEGER NOT NULL,
	PRIMARY KEY (url)
);
"""
FEED = "https://wire.example/feed.xml"
DAY = dt.date(2025, 7, 1)
LEGACY_TABLES = ("watches", "digests", "sent_articles", "alerts", "feeds", "feed_entries", "also_reported")


def write_legacy_file(path: Path, *, instant_column: bool = True) -> dict[str, int]:
    """A file as the previous tradebot left it (the old code's own SQL), a row or two in every
    table; returns the row count per table."""
    db = sqlite3.connect(path)
    db.executescript(LEGACY_DIGEST_SCHEMA if instant_column else LEGACY_DIGEST_SCHEMA_BEFORE_INSTANT)
    db.executescript(LEGACY_FEED_TABLES)
    if instant_column:
        db.execute("INSERT INTO watches VALUES ('C0TRADE', 'Steel tariffs', 'steel tariffs', "
                   "'2025-07-01T08:00:00+00:00', 1)")
        db.execute("INSERT INTO watches VALUES ('C0TRADE', 'soybeans', 'soybeans', '2025-07-02T08:00:00+00:00', 0)")
        db.execute("INSERT INTO alerts VALUES ('C0TRADE', 'alerted', 'Steel tariffs', 'posted', "
                   "'2025-07-01T09:00:00+00:00', '3.3', NULL)")
        db.execute("INSERT INTO alerts VALUES ('C0TRADE', 'pending', 'Steel tariffs', 'claimed', "
                   "'2025-07-01T10:00:00+00:00', NULL, NULL)")
        db.execute("INSERT INTO sent_articles VALUES ('C0TRADE', 'alerted', '2025-07-01')")
        db.execute("INSERT INTO sent_articles VALUES ('C0TRADE', 'pending', '2025-07-01')")
    else:
        db.execute("INSERT INTO watches VALUES ('C0TRADE', 'Steel tariffs', 'steel tariffs', "
                   "'2025-07-01T08:00:00+00:00')")
        db.execute("INSERT INTO watches VALUES ('C0TRADE', 'soybeans', 'soybeans', '2025-07-02T08:00:00+00:00')")
    db.execute("INSERT INTO digests VALUES ('C0TRADE', '2025-07-01', 'posted', 'tok1', '2025-07-01T08:00:00+00:00', "
               "'1.1', NULL, '2025-07-01T08:00:02+00:00')")
    db.execute("INSERT INTO digests VALUES ('C0OTHER', '2025-07-01', 'claimed', 'tok2', '2025-07-01T08:00:00+00:00', "
               "NULL, NULL, '2025-07-01T08:00:00+00:00')")
    db.execute("INSERT INTO sent_articles VALUES ('C0TRADE', 'digested', '2025-07-01')")
    db.execute("INSERT INTO feeds VALUES (?, 'Wire', '2025-07-01 07:00:00.000000', 'U0ALICE', 900, 1, '\"e1\"', "
               "NULL, '2025-07-01 08:15:00.000000', '2025-07-01 08:00:00.000000', '2025-07-01 08:00:00.000000', "
               "NULL, '2 new', 0, 2)", (FEED,))
    db.execute("INSERT INTO feed_entries VALUES (?, 'guid-1', 'digested', 'added', '2025-07-01 08:00:00.000000')",
               (FEED,))
    db.execute("INSERT INTO feed_entries VALUES (?, 'guid-2', NULL, 'not about trade', '2025-07-01 08:00:00.000000')",
               (FEED,))
    db.execute("INSERT INTO also_reported VALUES ('digested', 'https://other.example/1', 'Other Wire', 'Same story', "
               "'2025-07-01 08:00:00.000000')")
    db.commit()
    tables = [t for t in LEGACY_TABLES if instant_column or t != "alerts"]
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    db.close()
    return counts


def counts(database: Database, tables: list[str]) -> dict[str, int]:
    with database.begin() as db:
        return {t: db.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def assert_current_shape(database: Database) -> None:
    """Every table has exactly the columns and primary key `bot.store.schema` says."""
    with database.begin() as db:
        inspector = sa.inspect(db)
        assert set(inspector.get_table_names()) == set(metadata.tables)
        for table in metadata.tables.values():
            assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.columns.keys()), table.name
            primary = inspector.get_pk_constraint(table.name)["constrained_columns"]
            assert set(primary) == {c.name for c in table.primary_key}, table.name


@pytest.mark.parametrize("instant_column", [True, False], ids=["previous", "before-instant-watches"])
def test_a_file_from_the_previous_version_upgrades_with_every_row_kept(tmp_path: Path, instant_column: bool) -> None:
    path = tmp_path / "tradebot.sqlite3"
    before = write_legacy_file(path, instant_column=instant_column)
    database = open_database(sqlite_url(path))
    try:
        assert version(database) == SCHEMA_VERSION
        assert_current_shape(database)
        assert counts(database, list(before)) == before
        with database.begin() as db:
            for table in ("watches", "digests", "sent_articles", "alerts"):
                teams = set(db.execute(sa.text(f"SELECT DISTINCT team_id FROM {table}")).scalars())
                assert teams <= {""}, table

        store = DigestStore(database)
        assert store.watches("", "C0TRADE") == [("Steel tariffs", instant_column), ("soybeans", False)]
        posted = store.get("", "C0TRADE", DAY)
        assert posted is not None and (posted.status, posted.claim, posted.ts) == (SlotStatus.POSTED, "tok1", "1.1")
        now = dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.UTC)
        assert store.claim("", "C0TRADE", DAY, now, dt.timedelta(minutes=10)) is None  # still posted once
        taken = store.claim("", "C0OTHER", DAY, now, dt.timedelta(minutes=10))  # the stale claim is taken over
        assert taken is not None and taken[1] is True
        assert store.claim_alert("", "C0TRADE", "digested", "Steel tariffs", now, dt.timedelta(minutes=10)) is None
        if instant_column:
            assert store.sent_ids("", "C0TRADE") == {"digested", "alerted", "pending"}
            assert store.pending_alerts() == [("", "C0TRADE", "pending", "Steel tariffs")]
        else:
            assert store.sent_ids("", "C0TRADE") == {"digested"} and store.pending_alerts() == []

        feeds = FeedStore(database)
        record = feeds.get(FEED)
        assert record is not None
        assert (record.title, record.added_by, record.etag, record.articles_added) == ("Wire", "U0ALICE", '"e1"', 2)
        assert record.next_poll_at == dt.datetime(2025, 7, 1, 8, 15, tzinfo=dt.UTC)
        assert feeds.seen_keys(FEED) == {"guid-1", "guid-2"}
        assert feeds.also_reported_by("digested") == [
            OtherOutlet(publisher="Other Wire", url="https://other.example/1", title="Same story")]

        assert upgrade(database) == []  # twice: nothing to do, nothing lost
        assert counts(database, list(before)) == before
    finally:
        database.close()


def test_a_file_whose_schema_version_says_1_gets_version_2_with_every_row_kept(tmp_path: Path) -> None:
    """`schema_version` present and at 1 (the first version recorded, the second not yet): only
    the second runs, on the first version's tables and rows."""
    path = tmp_path / "tradebot.sqlite3"
    before = write_legacy_file(path)
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at VARCHAR(40) NOT NULL, "
                    "note VARCHAR(200) NOT NULL)")
        raw.execute("INSERT INTO schema_version VALUES (1, '2025-06-30T00:00:00+00:00', 'watch lists')")
    database = Database(sqlite_url(path))
    try:
        assert version(database) == 1
        assert upgrade(database) == [2]
        assert version(database) == SCHEMA_VERSION
        assert_current_shape(database)
        assert counts(database, list(before)) == before
        assert DigestStore(database).watches("", "C0TRADE") == [("Steel tariffs", True), ("soybeans", False)]
        assert upgrade(database) == []
    finally:
        database.close()


def test_a_fresh_database_gets_every_version_once(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert version(database) == 0
        assert upgrade(database) == list(range(1, SCHEMA_VERSION + 1))
        assert upgrade(database) == []
        assert version(database) == SCHEMA_VERSION
        assert_current_shape(database)
        with database.begin() as db:
            assert [r.version for r in db.execute(sa.select(schema_version).order_by("version"))] == list(range(1, SCHEMA_VERSION + 1))
    finally:
        database.close()


def test_processes_upgrading_a_fresh_database_at_once_apply_each_version_once(database_url: str) -> None:
    applied = racers.run_processes("upgrade", database_url, 4)
    assert sorted(v for run in applied for v in run) == list(range(1, SCHEMA_VERSION + 1))
    database = Database(database_url)
    try:
        assert_current_shape(database)
        with database.begin() as db:
            assert db.execute(sa.select(sa.func.count()).select_from(schema_version)).scalar() == SCHEMA_VERSION
    finally:
        database.close()


def test_processes_upgrading_a_previous_file_at_once_keep_every_row(tmp_path: Path) -> None:
    path = tmp_path / "tradebot.sqlite3"
    before = write_legacy_file(path)
    applied = racers.run_processes("upgrade", sqlite_url(path), 4)
    assert sorted(v for run in applied for v in run) == list(range(1, SCHEMA_VERSION + 1))
    database = Database(sqlite_url(path))
    try:
        assert counts(database, list(before)) == before
    finally:
        database.close()


def test_a_previous_file_being_written_still_switches_to_wal(tmp_path: Path) -> None:
    """The old bot mid-write (a claim holds `BEGIN IMMEDIATE`) while the new one starts: SQLite
    refuses the switch to WAL at once, without its busy wait, so the switch must wait its turn."""
    path = tmp_path / "tradebot.sqlite3"
    before = write_legacy_file(path)
    holding, release = threading.Event(), threading.Event()

    def old_bot() -> None:
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE digests SET updated_at = updated_at")
        holding.set()
        release.wait(10)
        db.execute("COMMIT")
        db.close()

    writer = threading.Thread(target=old_bot)
    writer.start()
    holding.wait(10)
    threading.Timer(0.5, release.set).start()
    try:
        database = open_database(sqlite_url(path))
    finally:
        release.set()
        writer.join()
    try:
        assert counts(database, list(before)) == before
        with database.begin() as db:
            assert db.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        database.close()


def test_a_database_newer_than_the_code_is_refused(database: Database, database_url: str) -> None:
    with database.begin() as db:
        db.execute(schema_version.insert().values(version=SCHEMA_VERSION + 7, applied_at="2030-01-01", note="future"))
    with pytest.raises(SchemaTooNew, match=f"schema version {SCHEMA_VERSION + 7}.*knows up to {SCHEMA_VERSION}"):
        upgrade(database)
    with pytest.raises(SchemaTooNew, match="upgrade tradebot"):
        open_database(database_url)
    assert version(database) == SCHEMA_VERSION + 7  # left as it was


# A database that cannot be reached --------------------------------------------------------------

def ping_within(database: Database, limit: float = 60.0) -> str | None:
    """`ping()` from a thread: fails (rather than hanging the suite) if it does not return."""
    result: list[str | None] = []
    thread = threading.Thread(target=lambda: result.append(database.ping()), daemon=True)
    thread.start()
    thread.join(limit)
    assert result, f"ping() did not return within {limit}s"
    return result[0]


def test_ping_reports_a_dead_postgres_server() -> None:
    database = Database("postgresql+psycopg://postgres@127.0.0.1:1/test")
    try:
        reason = ping_within(database)
        assert reason and "port 1 failed" in reason and "refused" in reason.lower()
    finally:
        database.close()


def test_ping_gives_up_on_a_server_that_never_answers() -> None:
    """A port that accepts the connection and then says nothing (a hung server, a black-holed
    proxy): the connect timeout ends the wait."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # never accepted: the kernel completes the handshake, nobody ever replies
        database = Database(f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/test")
        try:
            reason = ping_within(database)
            assert reason and "timeout" in reason.lower()
        finally:
            database.close()


def test_ping_reports_a_sqlite_file_that_cannot_be_opened(tmp_path: Path) -> None:
    database = Database(sqlite_url(tmp_path))  # a directory, not a database file
    try:
        reason = ping_within(database)
        assert reason and "unable to open" in reason
    finally:
        database.close()


def test_ping_is_none_for_a_live_database(database: Database) -> None:
    assert database.ping() is None
