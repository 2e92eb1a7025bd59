"""Background build processes yield the CPU to the bot's own process (answers first)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from bot.library import people, workers


def _niceness() -> int:
    return os.nice(0)


def test_background_workers_run_at_the_lowest_priority() -> None:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                             initializer=workers.lower_priority) as pool:
        assert pool.submit(_niceness).result(timeout=60) == workers.NICENESS == 19


def test_the_people_worker_is_a_background_process() -> None:
    pool = people._spawned(1)
    try:
        assert pool.submit(_niceness).result(timeout=60) == workers.NICENESS
    finally:
        workers.stop_pool(pool)
