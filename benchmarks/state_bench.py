"""Shared-state latency: what a request pays for the database (issue #16).

    python -m benchmarks.state_bench [--n 500] [--url postgresql://postgres@127.0.0.1:5432/test]

Per operation, on a fresh SQLite file and (with `--url`) a fresh PostgreSQL schema: the
replay check every HTTP request makes (`RecentKeys.first_time`, awaited as the guard does,
through a worker thread), and storing and reading the state behind an answer's buttons
(`AnswerStore.put` / `get`, which run in the answer's worker thread). Nearest-rank p50/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from bot.answers.commands import Search
from bot.answers.state import AnswerStore, StoredAnswer
from bot.slack.dedupe import RecentKeys
from bot.store import Database, database_url, open_database


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _line(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"  {name:<22} p50 {_percentile(ms, 50):6.2f} ms   p99 {_percentile(ms, 99):6.2f} ms   (n={len(ms)})"


def _timed(run: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        run()
        out.append(time.perf_counter() - started)
    return out


async def _first_times(keys: RecentKeys, n: int) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        await keys.first_time(f"sig:v0={uuid.uuid4().hex}{i}")
        out.append(time.perf_counter() - started)
    return out


def measure(database: Database, n: int) -> list[str]:
    keys = RecentKeys(database=database)
    store = AnswerStore(database)
    stored = StoredAnswer(Search("tariffs china"), user="U0ALICE", channel="C0TRADE")
    put_keys: list[str] = []
    lines = [_line("replay check (async)", asyncio.run(_first_times(keys, n)))]
    lines.append(_line("button state put", _timed(lambda: put_keys.append(store.put(stored)), n)))
    lines.append(_line("button state get", _timed(lambda: store.get(put_keys[len(put_keys) // 2]), n)))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="operations of each kind")
    parser.add_argument("--url", help="a PostgreSQL server to measure too (a scratch schema is made and dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database = open_database(f"sqlite:///{Path(directory) / 'state.sqlite3'}")
        print("SQLite (WAL, a file in a temporary directory):")
        print("\n".join(measure(database, args.n)))
        database.close()
    if args.url:
        schema = "bench_" + uuid.uuid4().hex[:12]
        admin = sa.create_engine(database_url(Path(), args.url))
        with admin.begin() as db:
            db.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        try:
            sep = "&" if "?" in args.url else "?"
            database = open_database(f"{args.url}{sep}options=-csearch_path%3D{schema}")
            print(f"PostgreSQL ({database.safe_url.split('?')[0]}):")
            print("\n".join(measure(database, args.n)))
            database.close()
        finally:
            with admin.begin() as db:
                db.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()


if __name__ == "__main__":
    main()
