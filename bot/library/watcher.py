"""Watching the corpus directory: what `Library.watch` does between reloads.

A change is found two ways: the directory's own mtime, looked at every DIRECTORY_POLL_SECONDS
(a file added, removed or renamed into place, as the feeds write), and a full check of every
file's size and mtime (a file rewritten in place), spaced by what it costs. Either way the
reload is `Library.reload_if_changed`; checks wait a moment for running answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from bot.corpus import Signature, corpus_signature
from bot.library.snapshot import Snapshot
from bot.library.workers import ANSWERS_FIRST_S

log = logging.getLogger(__name__)

DIRECTORY_POLL_SECONDS = 0.5  # how often the watcher looks at the corpus directory's own mtime
FIRST_CHECK_S = 1.0  # the watcher's first check, this long after it starts
SCAN_SHARE = 50  # a full check of every file takes at most 1/50 of the watcher's time (see `_full_check_every`)


class Watching:
    """The watcher's half of `bot.library.reload.Library` (which provides these attributes)."""

    corpus_dir: Path
    current: Snapshot | None
    settle: float
    _busy: Callable[[], bool] | None
    _scan_seconds: float

    async def reload_if_changed(self) -> bool:
        raise NotImplementedError

    def changed(self) -> bool:
        return self.check() is not None

    def check(self) -> Signature | None:
        """The corpus's signature when it differs from the current snapshot's, else None (passed on
        to the delta, which would otherwise stat every file again: ~0.35 s at 100k)."""
        started = time.perf_counter()
        signature = corpus_signature(self.corpus_dir)
        self._scan_seconds = time.perf_counter() - started
        return signature if signature != (self.current.signature if self.current else ()) else None

    def _full_check_every(self, interval: float) -> float:
        """Seconds between full checks (a stat of every file, for a file rewritten in place): `interval`,
        or longer when one check takes long enough to matter, so that it takes at most 1/SCAN_SHARE of
        the time (at 100k files a check takes 0.3-1 s of the interpreter answers also need). Files added,
        removed or renamed into place are seen within DIRECTORY_POLL_SECONDS whatever this is."""
        return max(interval, SCAN_SHARE * self._scan_seconds)

    def _directory_stamp(self) -> int | None:
        try:
            return self.corpus_dir.stat().st_mtime_ns
        except OSError:
            return None

    async def _wait_for_change(self, seconds: float, before: int | None) -> None:
        """Sleep `seconds`, or less once the directory itself changes: a file added, removed or
        renamed into place (as the feeds write) is seen within DIRECTORY_POLL_SECONDS. A file
        rewritten in place leaves the directory as it was: the full check after `seconds` finds it.
        (Listing 100k files takes ~0.3 s; one stat of the directory, microseconds.)"""
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            await asyncio.sleep(min(left, DIRECTORY_POLL_SECONDS))
            if self._directory_stamp() != before:
                return

    async def _after_answers(self, patience: float = ANSWERS_FIRST_S) -> None:
        """Wait while answers are running, at most `patience` seconds (then the work runs anyway)."""
        waited = 0.0
        while self._busy is not None and self._busy() and waited < patience:
            await asyncio.sleep(0.05)
            waited += 0.05

    async def watch(self, interval: float) -> None:
        """Poll the corpus directory; runs until cancelled."""
        first, stamp = True, self._directory_stamp()  # checks soon: the directory may have changed since the start
        await asyncio.sleep(min(interval, FIRST_CHECK_S))  # (not as the first questions after the start come)
        while True:
            pending = self.current is not None and bool(self.current.corpus.pending)
            if not first:
                every = self._full_check_every(interval)
                await self._wait_for_change(min(every, self.settle + 0.1) if pending else every,  # soon, for a rewrite
                                            stamp)
            first, stamp = False, self._directory_stamp()  # before the check: a change after it ends the next wait
            await self._after_answers()  # a full check takes 0.3-1 s of the interpreter at 100k files
            try:
                await self.reload_if_changed()
            except Exception:  # never let the watcher die silently
                log.exception("corpus watcher error")
