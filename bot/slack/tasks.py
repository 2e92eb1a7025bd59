"""Work started after `ack()`: tracked so it is never garbage-collected mid-flight
and so shutdown can let it finish (or cancel it cleanly) instead of dropping it.

Answers (commands, buttons, mentions, DMs, the Home tab) go through `submit` and take
turns in a `WorkPool` (see there why); the pool's own notices are `spawn`ed directly."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.slack.workpool import Admission, Tell, WorkPool

log = logging.getLogger(__name__)

# Two answers at once: while one is sent to Slack the other computes, and the loop shares the
# interpreter with at most two threads (load benchmark, 100k articles, 50 commands in 1 s: ack p99
# 683 ms unbounded, 85 ms with one at a time, 60 ms with two; answer p99 1,276 / 1,040 / 765 ms).
ANSWER_WORKERS = 2
ANSWER_QUEUE = 100  # answers that may wait their turn; the next one is told we are busy
QUIET_SECONDS = 0.3  # `busy` until answers have been done this long


class BackgroundTasks:
    def __init__(self, workers: int = ANSWER_WORKERS, queue: int = ANSWER_QUEUE) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.pool = WorkPool(self, workers=workers, queue=queue)
        self._last_done = -math.inf  # monotonic time the last task ended

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def submit(self, name: str, run: Callable[[], Awaitable[None]], tell: Tell | None) -> Admission:
        """An answer: run now, wait in the queue, or (queue full, shutting down) tell the asker."""
        return self.pool.submit(name, run, tell)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._last_done = time.monotonic()
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    def busy(self, quiet: float = QUIET_SECONDS) -> bool:
        """Answers are running or waiting, or one ended less than `quiet` seconds ago: a burst of
        questions has gaps of milliseconds between answers, which background work should not take
        for the end of it. (Read from other threads: plain reads.)"""
        return len(self) > 0 or time.monotonic() - self._last_done < quiet

    def __len__(self) -> int:
        """Answers running or waiting (and notices being sent)."""
        return len(self._tasks) + self.pool.queued

    async def drain(self, timeout: float = 10.0) -> None:
        """Let waiting answers start for half of `timeout` (the rest are told to ask again),
        wait for running work, and cancel what is still running after `timeout`."""
        if not len(self):
            await self.pool.close(0)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        log.info("waiting for %d answers in flight", len(self))
        await self.pool.close(timeout / 2)
        if not self._tasks:
            return
        done, pending = await asyncio.wait(set(self._tasks), timeout=max(0.0, deadline - loop.time()))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            log.warning("cancelled %d answers still running at shutdown", len(pending))
