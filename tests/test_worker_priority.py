"""Background build processes yield the CPU to the bot's own process (answers first)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from bot.library import people, workers


def _niceness() -> int:
    return os.nice(0)


def test_background_workers_run_at_the_lowest_priority_from_the_start() -> None:
    """Lowered by the bot as each process is made, not by the process once it has imported the bot."""
    with ProcessPoolExecutor(1, mp_context=workers.background_context()) as pool:
        pool.submit(_niceness).result(timeout=60)
        (process,) = pool._processes.values()  # type: ignore[attr-defined]
        assert os.getpriority(os.PRIO_PROCESS, process.pid) == workers.NICENESS == 19
        assert pool.submit(_niceness).result(timeout=60) == 19


def test_other_build_workers_keep_the_bots_priority() -> None:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(_niceness).result(timeout=60) == os.nice(0)


def test_the_people_worker_is_a_background_process() -> None:
    pool = people._spawned(1)
    try:
        assert pool.submit(_niceness).result(timeout=60) == workers.NICENESS
    finally:
        workers.stop_pool(pool)
