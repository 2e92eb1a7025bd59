"""Replays and redeliveries across processes: `seen_keys` in the shared database, this process's
memory while the database is down or slow. On SQLite and PostgreSQL (a fresh schema each);
the outages are real: a proxy that cuts or stalls the PostgreSQL connection, a locked SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.common.clock import FakeClock
from bot.slack import dedupe
from bot.slack.dedupe import RecentKeys
from bot.store import Database, open_database
from bot.store.expiry import Pruner
from bot.store.schema import seen_keys
from tests.databases import fresh_postgres_schema
from tests.state_helpers import CuttableProxy, via

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def databases(database_url: str) -> Iterator[list[Database]]:
    """Three connection pools on one database: three processes."""
    opened = [open_database(database_url) for _ in range(3)]
    yield opened
    for db in opened:
        db.close()


def rows(database: Database) -> int:
    with database.begin() as db:
        return int(db.execute(sa.select(sa.func.count()).select_from(seen_keys)).scalar_one())


async def test_a_key_seen_by_one_process_is_not_new_to_another(databases: list[Database]) -> None:
    clock = FakeClock(START)
    a, b = RecentKeys(clock, databases[0]), RecentKeys(clock, databases[1])
    assert await a.first_time("sig:v0=abc")
    assert not await b.first_time("sig:v0=abc")
    assert not await a.first_time("sig:v0=abc")
    assert await b.first_time("event:Ev1") and not await a.first_time("event:Ev1")


async def test_racing_processes_let_exactly_one_through(databases: list[Database]) -> None:
    clock = FakeClock(START)
    replicas = [RecentKeys(clock, db) for db in databases for _ in range(2)]  # six memories, three pools
    for n in range(10):
        results = await asyncio.gather(*(r.first_time(f"event:Ev{n}") for r in replicas))
        assert sorted(results) == [False] * 5 + [True]


async def test_an_expired_key_is_new_again_once(databases: list[Database]) -> None:
    clock = FakeClock(START)
    assert await RecentKeys(clock, databases[0]).first_time("event:Ev9")
    clock.advance(seconds=2 * dedupe.WINDOW + 1)
    later = [RecentKeys(clock, db) for db in databases]  # fresh memories: only the row decides
    assert await later[0].first_time("event:Ev9")  # the expired row was taken over
    assert not await later[1].first_time("event:Ev9") and not await later[2].first_time("event:Ev9")
    assert rows(databases[0]) == 1


async def test_a_long_key_is_hashed_to_fit(databases: list[Database]) -> None:
    clock = FakeClock(START)
    key = "event:" + "x" * 5000
    assert await RecentKeys(clock, databases[0]).first_time(key)
    assert not await RecentKeys(clock, databases[1]).first_time(key)


async def test_expired_keys_are_pruned_in_bounded_batches(databases: list[Database]) -> None:
    clock = FakeClock(START)
    keys = RecentKeys(clock, databases[0])
    for n in range(30):
        assert await keys.first_time(f"event:Old{n}")
    clock.advance(seconds=2 * dedupe.WINDOW + 1)
    pruner = Pruner(databases[0], seen_keys, every=5, limit=12)
    now = clock.now().timestamp()
    assert [pruner.prune(now) for _ in range(4)] == [12, 12, 6, 0]
    assert rows(databases[0]) == 0


async def test_keys_prune_themselves_as_they_are_written(databases: list[Database]) -> None:
    clock = FakeClock(START)
    keys = RecentKeys(clock, databases[0])
    for n in range(Pruner(databases[0], seen_keys).every - 1):
        await keys.first_time(f"event:Old{n}")
    clock.advance(seconds=2 * dedupe.WINDOW + 1)
    await keys.first_time("event:New")  # the hundredth write prunes, in the background
    for _ in range(100):
        if rows(databases[0]) == 1:
            break
        await asyncio.sleep(0.05)
    assert rows(databases[0]) == 1


# Outages ---------------------------------------------------------------------------------


@pytest.fixture
def proxied() -> Iterator[tuple[CuttableProxy, str]]:
    """A PostgreSQL schema reached through a proxy the test can cut."""
    with fresh_postgres_schema() as url, CuttableProxy("127.0.0.1", sa.make_url(url).port or 5432) as proxy:
        yield proxy, via(url, proxy.port)


async def test_while_the_database_is_down_keys_are_remembered_in_process(
        proxied: tuple[CuttableProxy, str], caplog: pytest.LogCaptureFixture) -> None:
    proxy, url = proxied
    clock = FakeClock(START)
    database = open_database(url)
    other = open_database(url)
    try:
        keys, elsewhere = RecentKeys(clock, database), RecentKeys(clock, other)
        assert await keys.first_time("sig:before")
        proxy.cut()
        caplog.set_level(logging.WARNING, logger="bot.slack.dedupe")
        assert await keys.first_time("sig:during")  # answered: the database is not needed for that
        assert not await keys.first_time("sig:during")  # a replay to this process is still caught
        assert not await keys.first_time("sig:before")
        for n in range(5):
            assert await keys.first_time(f"sig:more{n}")
        assert caplog.text.count("database unavailable for de-duplication") == 1  # once, not per request
        proxy.restore()
        clock.advance(seconds=dedupe.RETRY_AFTER + 1)  # then it asks the database again, by itself
        assert await keys.first_time("sig:after")
        assert not await elsewhere.first_time("sig:after")  # shared again: no restart needed
        assert "reachable again" in caplog.text
    finally:
        proxy.restore()
        database.close()
        other.close()


async def test_a_stalled_database_does_not_hold_a_request_for_long(proxied: tuple[CuttableProxy, str]) -> None:
    proxy, url = proxied
    database = open_database(url)
    try:
        keys = RecentKeys(FakeClock(START), database, wait=0.5)
        assert await keys.first_time("sig:warm")  # a pooled connection, which the stall then freezes
        proxy.stall()
        started = time.monotonic()
        assert await keys.first_time("sig:stalled")
        assert time.monotonic() - started < 5  # the wait (0.5 s), not the network's timeout
        assert not await keys.first_time("sig:stalled")
    finally:
        proxy.restore()
        database.close()


async def test_a_locked_sqlite_file_does_not_hold_a_request_for_long(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    database = open_database(f"sqlite:///{path}")
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        keys = RecentKeys(FakeClock(START), database, wait=0.5)
        assert await keys.first_time("sig:first")
        locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock (busy_timeout is 30 s)
        started = time.monotonic()
        assert await keys.first_time("sig:locked")
        assert time.monotonic() - started < 5
        assert not await keys.first_time("sig:locked")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
        database.close()
