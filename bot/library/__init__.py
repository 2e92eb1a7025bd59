"""The loaded corpus with its search index and people directory, reloaded on change.

A `Snapshot` is immutable; `Library.current` is swapped in one assignment after a
background rebuild, so a query always sees one whole snapshot, never half of one.
Search comes first; the people directory (slower to build on a large corpus)
follows in a second swap. A complete snapshot is saved to disk, so a restart
with an unchanged corpus is ready in seconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.corpus import Corpus, CorpusUnavailable, corpus_signature
from bot.library.memory import settle_memory
from bot.library.workers import load_and_index
from bot.people import PeopleDirectory, build_directory
from bot.search import SearchEngine

log = logging.getLogger(__name__)

Signature = tuple[tuple[str, int, int], ...]
CACHE_VERSION = 5  # bump when Snapshot, SearchIndex or the people models change shape


@dataclass(frozen=True)
class Snapshot:
    corpus: Corpus
    search: SearchEngine
    people: PeopleDirectory | None  # None while it is still being built
    signature: Signature
    built_seconds: float


def build_snapshot(corpus_dir: Path, progress: Callable[[int, int], None] | None = None,
                   with_people: bool = True, workers: int = 1) -> Snapshot:
    """Load and index the corpus (in `workers` processes when it is large), then the people."""
    started = time.perf_counter()
    signature = corpus_signature(corpus_dir)
    corpus, index = load_and_index(corpus_dir, progress, workers)
    engine = SearchEngine(index)
    snapshot = Snapshot(corpus, engine, None, signature, time.perf_counter() - started)
    return with_people_added(snapshot, corpus_dir) if with_people else snapshot


def with_people_added(snapshot: Snapshot, corpus_dir: Path) -> Snapshot:
    started = time.perf_counter()
    people = build_directory(snapshot.corpus, corpus_dir / "people.yml")
    return dataclasses.replace(snapshot, people=people,
                               built_seconds=snapshot.built_seconds + time.perf_counter() - started)


def _cache_file(cache_dir: Path, signature: Signature) -> Path:
    digest = hashlib.sha256(repr((CACHE_VERSION, signature)).encode()).hexdigest()[:20]
    return cache_dir / f"snapshot-{digest}.pickle"


def load_saved(cache_dir: Path | None, signature: Signature) -> Snapshot | None:
    """The saved snapshot for exactly this corpus state, or None."""
    if cache_dir is None:
        return None
    path = _cache_file(cache_dir, signature)
    if not path.exists():
        return None
    try:
        with path.open("rb") as f:
            snapshot = pickle.load(f)  # noqa: S301 - our own file, written by save_snapshot
    except Exception as exc:  # a truncated or stale-format file is rebuilt, not fatal
        log.warning("ignoring unreadable saved index %s: %r", path.name, exc)
        return None
    return snapshot if isinstance(snapshot, Snapshot) and snapshot.signature == signature else None


def save_snapshot(cache_dir: Path | None, snapshot: Snapshot) -> None:
    """Write atomically and keep only the newest file."""
    if cache_dir is None or snapshot.people is None:
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        path = _cache_file(cache_dir, snapshot.signature)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(snapshot, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        for old in cache_dir.glob("snapshot-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not save the index to %s: %s", cache_dir, exc)


class Library:
    """Holds the current snapshot; `None` with an error message when the corpus is unavailable."""

    def __init__(self, corpus_dir: Path, cache_dir: Path | None = None,
                 progress: Callable[[int, int], None] | None = None, workers: int = 1) -> None:
        self.corpus_dir = corpus_dir
        self.cache_dir = cache_dir
        self.progress = progress
        self.workers = workers
        self.current: Snapshot | None = None
        self.error: str | None = None
        self.loading = True  # until the first load has finished, one way or the other

    def _log_loaded(self, snapshot: Snapshot, how: str) -> None:
        log.info("corpus %s: %d articles, %d skipped, %d passages, %s people in %.2fs", how,
                 len(snapshot.corpus.articles), len(snapshot.corpus.skipped), snapshot.search.index.passage_count,
                 len(snapshot.people.people) if snapshot.people else "(pending)", snapshot.built_seconds)

    def load(self) -> Snapshot | None:
        """Everything, synchronously (the CLI and tests)."""
        self.loading = False
        try:
            self.current = build_snapshot(self.corpus_dir, self.progress, workers=self.workers)
            self.error = None
            self._log_loaded(self.current, "loaded")
            settle_memory()
        except CorpusUnavailable as exc:
            self.current = None
            self.error = str(exc)
            log.error("corpus unavailable: %s", exc)
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
            snapshot = await asyncio.to_thread(build_snapshot, self.corpus_dir, self.progress, False, self.workers)
        except CorpusUnavailable as exc:
            self.current, self.error = None, str(exc)
            log.error("corpus unavailable: %s", exc)
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
