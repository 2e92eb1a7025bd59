"""`Library`: the current snapshot, built at start (or loaded from the saved index) and rebuilt on change.

`Library.current` is swapped in one assignment after a background rebuild, so a query
always sees one whole snapshot, never half of one. Search comes first; the people
directory (slower to build on a large corpus) follows in a second swap. A file being
written while the corpus is read keeps its previous version (see `bot.corpus.loading`)
and is read again at the next check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from bot.corpus import CorpusUnavailable, corpus_signature
from bot.library.memory import settle_memory
from bot.library.saved import load_saved, save_snapshot
from bot.library.snapshot import Snapshot, build_snapshot, with_people_added

log = logging.getLogger(__name__)

SETTLE_SECONDS = 0.5  # a file changed this recently is read only once it stays unchanged this long


class Library:
    """Holds the current snapshot; `None` with a message (`error`, safe to show users) when the
    corpus is unavailable. The log has the details, such as the directory's path."""

    def __init__(self, corpus_dir: Path, cache_dir: Path | None = None,
                 progress: Callable[[int, int], None] | None = None, workers: int = 1,
                 settle: float = SETTLE_SECONDS) -> None:
        self.corpus_dir = corpus_dir
        self.cache_dir = cache_dir
        self.progress = progress
        self.workers = workers
        self.settle = settle
        self.current: Snapshot | None = None
        self.error: str | None = None
        self.loading = True  # until the first load has finished, one way or the other

    def _log_loaded(self, snapshot: Snapshot, how: str) -> None:
        log.info("corpus %s: %d articles, %d skipped, %d passages, %s people in %.2fs", how,
                 len(snapshot.corpus.articles), len(snapshot.corpus.skipped), snapshot.search.index.passage_count,
                 len(snapshot.people.people) if snapshot.people else "(pending)", snapshot.built_seconds)
        if snapshot.corpus.pending:
            log.info("still being written, read again at the next check: %s", ", ".join(map(repr, snapshot.corpus.pending)))

    def _unavailable(self, exc: CorpusUnavailable) -> None:
        self.current, self.error = None, exc.reason
        log.error("corpus unavailable: %s", exc)

    def _build(self, with_people: bool) -> Snapshot:
        previous = self.current.corpus if self.current else None
        return build_snapshot(self.corpus_dir, self.progress, with_people, self.workers,
                              settle=self.settle, previous=previous)

    def load(self) -> Snapshot | None:
        """Everything, synchronously (the CLI and tests)."""
        self.loading = False
        try:
            self.current = self._build(with_people=True)
            self.error = None
            self._log_loaded(self.current, "loaded")
            settle_memory()
        except CorpusUnavailable as exc:
            self._unavailable(exc)
        return self.current

    async def start(self) -> asyncio.Task[None] | None:
        """Ready to search as soon as possible; returns the task finishing the people directory."""
        try:
            signature = await asyncio.to_thread(corpus_signature, self.corpus_dir)
            saved = await asyncio.to_thread(load_saved, self.cache_dir, signature) if signature else None
            if saved is not None:
                self.current, self.error = saved, None
                self._log_loaded(saved, "loaded from the saved index")
                await asyncio.to_thread(settle_memory)
                return None
            return await self._rebuild()
        finally:
            self.loading = False

    async def _rebuild(self) -> asyncio.Task[None] | None:
        try:
            snapshot = await asyncio.to_thread(self._build, False)
        except CorpusUnavailable as exc:
            self._unavailable(exc)
            return None
        self.current, self.error = snapshot, None
        self._log_loaded(snapshot, "indexed for search")
        await asyncio.to_thread(settle_memory)
        return asyncio.create_task(self._finish_people(snapshot), name="people-directory")

    async def _finish_people(self, snapshot: Snapshot) -> None:
        complete = await asyncio.to_thread(with_people_added, snapshot, self.corpus_dir)
        if self.current is snapshot:  # not replaced by a newer reload meanwhile
            self.current = complete
            self._log_loaded(complete, "complete")
            await asyncio.to_thread(save_snapshot, self.cache_dir, complete)
            await asyncio.to_thread(settle_memory)  # after saving: pickling has its own garbage

    def changed(self) -> bool:
        signature = corpus_signature(self.corpus_dir)
        return signature != (self.current.signature if self.current else ())

    async def reload_if_changed(self) -> bool:
        """Rebuild off the event loop and swap atomically; keep the old snapshot on failure."""
        if not await asyncio.to_thread(self.changed):
            return False
        try:
            task = await self._rebuild()
        except Exception:
            log.exception("corpus reload failed; keeping the previous index")
            return False
        if task is not None:
            await task
        return True

    async def watch(self, interval: float) -> None:
        """Poll the corpus directory; runs until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reload_if_changed()
            except Exception:  # never let the watcher die silently
                log.exception("corpus watcher error")
