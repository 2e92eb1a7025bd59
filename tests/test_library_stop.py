"""Stopping during a build: the build is abandoned, not finished first, and its worker
processes go with it (#14: SIGTERM exits promptly in every state)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.corpus import LoadAbandoned
from bot.library import Library
from bot.library import workers as build_workers

FILE = "---\nid: a{i}\ntitle: Tariffs, round {i}\npublisher: Wire\npublished: 2025-07-01\n---\nTalks on day {i} went on.\n"


def write_articles(directory: Path, n: int) -> None:
    for i in range(n):
        (directory / f"a{i}.md").write_text(FILE.format(i=i), encoding="utf-8")


async def test_a_cancelled_build_stops_instead_of_finishing(tmp_path: Path) -> None:
    write_articles(tmp_path, 1001)  # tokenising reports progress every 1,000 articles
    reached, go = threading.Event(), threading.Event()
    calls: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if done == 1000:  # before the last article is tokenised
            reached.set()
            go.wait(60)

    library = Library(tmp_path, progress=progress, settle=0.0)
    starting = asyncio.create_task(library.start())
    assert await asyncio.to_thread(reached.wait, 60)
    starting.cancel()  # what the service does to its tasks on SIGTERM
    with pytest.raises(asyncio.CancelledError):
        await starting
    [build] = [t for t in threading.enumerate() if t.name.startswith("library-_build")]
    assert build.daemon  # the process never waits for it at exit
    go.set()
    await asyncio.to_thread(build.join, 60)
    assert not build.is_alive() and calls == [1000]  # stopped at its next check, not after the rest
    assert library.current is None and not library.loading


def test_abandoning_a_multi_process_build_terminates_its_workers(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers are kept busy for minutes (files just written, and a long settle wait);
    abandoning must end them rather than wait for them."""
    write_articles(tmp_path, 40)
    monkeypatch.setattr(build_workers, "MIN_FILES_FOR_WORKERS", 10)
    monkeypatch.setattr(build_workers, "CHUNK_FILES", 20)
    before = set(multiprocessing.active_children())
    abandon = threading.Event()
    timer = threading.Timer(3.0, abandon.set)  # once the workers are well into their chunks
    timer.start()
    try:
        with pytest.raises(LoadAbandoned):
            build_workers.load_and_index(tmp_path, workers=2, settle=600.0, abandon=abandon)
    finally:
        timer.cancel()
    deadline = time.monotonic() + 60  # far less than the workers' 600 s wait: a bound, not a timing test
    while set(multiprocessing.active_children()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(multiprocessing.active_children()) - before == set()


STUCK_RESULT = '''
import os, struct, sys, threading, time
from concurrent.futures import ProcessPoolExecutor
import multiprocessing

from bot.corpus import LoadAbandoned
from bot.library.workers import stop_pool


def half_a_result():
    """Start a 10 MB result message, send 100 bytes of it, then hang: as a worker terminated
    mid-send leaves it. The pool's thread in the parent now waits for the rest."""
    result_queue = sys._getframe(1).f_locals["result_queue"]
    os.write(result_queue._writer.fileno(), struct.pack("!i", 10_000_000) + b"x" * 100)
    time.sleep(600)


if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    future = pool.submit(half_a_result)
    time.sleep(float(sys.argv[1]))  # the worker starts and writes
    stop_pool(pool)
    print("stopped", flush=True)
'''


def test_a_worker_ended_mid_result_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    """The hang seen once at 100k articles: SIGTERM during the build, and the bot never exited,
    its interpreter waiting at exit for the pool's thread, which waited for the rest of a result."""
    script = tmp_path / "stuck.py"
    script.write_text(STUCK_RESULT, encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run([sys.executable, str(script), "5"], cwd=root, capture_output=True, text=True,
                              timeout=60, env={**os.environ, "PYTHONPATH": str(root)})
    except subprocess.TimeoutExpired:
        pytest.fail("the process did not exit: the pool's thread still waits for the rest of the result")
    assert done.returncode == 0 and "stopped" in done.stdout, done.stderr[-2000:]
