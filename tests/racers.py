"""Work for racing OS processes (spawned by tests/test_store*.py): each opens the database by URL,
waits at a barrier, makes the same claims (or upgrade) as the others, and reports what it got.

Kept apart from the test modules so a spawned child imports only this and `bot`.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import traceback
from typing import Any

from bot.digest.store import DigestStore
from bot.store import Database, open_database
from bot.store.migrations import upgrade

DAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
STALE = dt.timedelta(minutes=10)
ROUNDS = 5  # races per run, each a digest claim and an alert claim


def claims(store: DigestStore, i: int, now: dt.datetime) -> tuple[Any, Any]:
    """Round i: digest slot DAY + i days, then instant alert for article art-i (both in channel C0RACE)."""
    return (store.claim("", "C0RACE", DAY + dt.timedelta(days=i), now, STALE),
            store.claim_alert("", "C0RACE", f"art-{i}", "steel", now, STALE))


def race(kind: str, url: str, now: dt.datetime, barrier: Any, results: Any) -> None:
    """One racer: puts ("ok", outcomes) or ("error", traceback) on `results`."""
    database: Database | None = None
    try:
        if kind == "upgrade":
            database = Database(url)
            barrier.wait(timeout=60)
            results.put(("ok", upgrade(database)))
            return
        database = open_database(url)
        store = DigestStore(database)
        outcomes = []
        for i in range(ROUNDS):  # a barrier per round, so every round is a real race
            barrier.wait(timeout=60)
            outcomes.append(claims(store, i, now))
        results.put(("ok", outcomes))
    except BaseException:
        results.put(("error", traceback.format_exc()))
    finally:
        if database is not None:
            database.close()


def run_processes(kind: str, url: str, n: int, now: dt.datetime = NOW) -> list[Any]:
    """Start `n` spawned processes racing at `kind` ("claims" or "upgrade") on the
    database at `url`; returns each one's outcomes (fails on any racer's exception)."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(n)
    results = ctx.Queue()
    procs = [ctx.Process(target=race, args=(kind, url, now, barrier, results), daemon=True) for _ in range(n)]
    for p in procs:
        p.start()
    try:
        got = [results.get(timeout=120) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    errors = [detail for what, detail in got if what == "error"]
    assert not errors, "\n".join(errors)
    return [detail for _, detail in got]
