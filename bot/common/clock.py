"""Time, injectable: code asks a clock, never `datetime.now()` or `time.*`, so tests can move it.

`now()` is wall time (what Slack signs requests with, what the digest schedules by, and
what expiries kept in the shared database compare with: every replica agrees on it);
`monotonic()` only ever goes forward, for ages within one process (when to retry), so a
stepped system clock cannot shorten or stretch them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going backwards."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock that moves only when told to (tests and the harness).

    Its monotonic reading moves forward with the wall time, and stands still when the
    wall time is set backwards (as a stepped system clock leaves `time.monotonic` alone).
    """

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(dt.UTC)
        self._monotonic = 0.0
        self._moved = asyncio.Event()

    def now(self) -> dt.datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def set(self, when: dt.datetime) -> None:
        """Jump to any time, backwards included (a stepped system clock)."""
        when = when.astimezone(dt.UTC)
        self._monotonic += max(0.0, (when - self._now).total_seconds())
        self._now = when
        self._moved.set()
        self._moved = asyncio.Event()

    def advance(self, **delta: float) -> None:
        self.set(self._now + dt.timedelta(**delta))

    async def sleep(self, seconds: float) -> None:
        target = self._now + dt.timedelta(seconds=seconds)
        while self._now < target:
            await self._moved.wait()
