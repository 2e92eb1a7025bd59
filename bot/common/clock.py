"""Time, injectable: the digest asks a clock, never `datetime.now()`, so tests can move it."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock that moves only when told to (tests and the harness)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(dt.UTC)
        self._moved = asyncio.Event()

    def now(self) -> dt.datetime:
        return self._now

    def set(self, when: dt.datetime) -> None:
        """Jump to any time, backwards included (a stepped system clock)."""
        self._now = when.astimezone(dt.UTC)
        self._moved.set()
        self._moved = asyncio.Event()

    def advance(self, **delta: float) -> None:
        self.set(self._now + dt.timedelta(**delta))

    async def sleep(self, seconds: float) -> None:
        target = self._now + dt.timedelta(seconds=seconds)
        while self._now < target:
            await self._moved.wait()
