"""Answers wait their turn so acks never wait for answers.

An answer is CPU-bound Python (search, rendering) run in a thread; threads share one
interpreter lock with the event loop that acks Slack's requests within 3 s. With every
answer of a burst in its own thread, the loop gets a small share of the lock and acks
queue up behind answers. So at most `workers` answers run at once and the rest wait, in
order, in a bounded queue: the loop competes with at most `workers` threads. Past the
queue's bound the asker is told at once that we are busy (never a silent drop); on
shutdown, answers that never started are told to ask again after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from bot.slack.ui import blocks
from bot.slack.ui.blocks import Message

if TYPE_CHECKING:
    from bot.slack.tasks import BackgroundTasks

log = logging.getLogger(__name__)

Tell = Callable[[Message], Awaitable[None]]
BUSY_TEXT = "I'm busy right now, please try again in a moment."
RESTARTING_TEXT = "I'm restarting, please ask again in a moment."
TELL_TIMEOUT_S = 3.0  # a notice that Slack does not take within this long is given up (logged)


class Admission(Enum):
    STARTED = "started"
    QUEUED = "queued"
    BUSY = "busy"  # the queue was full: the asker was told to try again
    CLOSED = "closed"  # shutting down: the asker was told to ask again after the restart


@dataclass
class Job:
    name: str
    run: Callable[[], Awaitable[None]]  # the whole answer, failures already answered (see `guarded`)
    tell: Tell | None  # how to reach the asker with a notice; None when there is no one to tell


class WorkPool:
    """At most `workers` jobs run at once; up to `queue` more wait, first come first served."""

    def __init__(self, tasks: BackgroundTasks, workers: int = 1, queue: int = 100) -> None:
        if workers < 1 or queue < 0:
            raise ValueError("a work pool needs at least one worker and a queue of zero or more")
        self._tasks = tasks
        self.workers, self.queue_limit = workers, queue
        self._pending: deque[Job] = deque()
        self._running = 0
        self._closing = False  # no new answers are taken
        self._frozen = False  # no waiting answer is started
        self._emptied = asyncio.Event()

    @property
    def queued(self) -> int:
        return len(self._pending)

    @property
    def running(self) -> int:
        return self._running

    def submit(self, name: str, run: Callable[[], Awaitable[None]], tell: Tell | None) -> Admission:
        job = Job(name, run, tell)
        if self._closing:
            self._notify(job, RESTARTING_TEXT, "shutting down")
            return Admission.CLOSED
        if self._running < self.workers:
            self._start(job)
            return Admission.STARTED
        if len(self._pending) >= self.queue_limit:
            self._notify(job, BUSY_TEXT, f"{self._running} running and {len(self._pending)} waiting")
            return Admission.BUSY
        self._pending.append(job)
        self._emptied.clear()
        return Admission.QUEUED

    def _start(self, job: Job) -> None:
        self._running += 1
        self._tasks.spawn(self._run(job), name=job.name)

    async def _run(self, job: Job) -> None:
        try:
            await job.run()
        except asyncio.CancelledError:  # shutdown ran out of time: say so rather than go quiet
            await self._tell(job, RESTARTING_TEXT)
            raise
        finally:
            self._running -= 1
            self._next()

    def _next(self) -> None:
        while self._pending and self._running < self.workers and not self._frozen:
            self._start(self._pending.popleft())
        if not self._pending:
            self._emptied.set()

    def _notify(self, job: Job, text: str, why: str) -> None:
        log.warning("answer %s not run (%s): the asker is told %r", job.name, why, text)
        if job.tell is not None:
            self._tasks.spawn(self._tell(job, text), name=f"{job.name}-notice")

    async def _tell(self, job: Job, text: str) -> None:
        if job.tell is None:
            return
        try:
            await asyncio.wait_for(job.tell(blocks.notice_message(text)), TELL_TIMEOUT_S)
        except Exception:
            log.exception("could not tell the asker of %s that %r", job.name, text)

    async def close(self, timeout: float) -> None:
        """Stop taking answers; let the queue run for up to `timeout`, then tell whoever is
        still waiting to ask again. Running answers are the caller's to wait for."""
        self._closing = True
        if self._pending:
            log.info("%d answers waiting at shutdown; running them for up to %.1fs", len(self._pending), timeout)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._emptied.wait(), timeout)
        self._frozen = True
        while self._pending:
            self._notify(self._pending.popleft(), RESTARTING_TEXT, "shutting down")
        self._emptied.set()
