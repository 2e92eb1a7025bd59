"""`Library`: the current snapshot, built at start (or loaded from the saved index) and rebuilt on change.

`Library.current` is swapped in one assignment after a background rebuild, so a query
always sees one whole snapshot, never half of one. Search comes first; the people
directory (slower to build on a large corpus) follows in a second swap; after a reload
the previous directory answers until then. A file being written while the corpus is read
keeps its previous version (see `bot.corpus.loading`) and is read again at the next check.

The people directory is built in a worker process of its own (`PeopleWorker`), which keeps
what each article said, so answers never wait behind it and an update (after a delta, or a
rebuild) reads only what changed.

Building runs in daemon threads, not the default executor: a process told to stop
(SIGTERM) must not wait for a build of minutes to finish. A cancelled build is told to
stop (`abandon`): loading and indexing end within a moment, worker processes are
terminated, and anything still running in the thread is dropped when the process exits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from bot.corpus import Corpus, CorpusUnavailable, Signature
from bot.library.following import Following
from bot.library.fresh import DeltaState, apply_changes, merge_due
from bot.library.memory import settle_memory
from bot.library.people import PeopleWorker
from bot.library.saved import open_newest, saved_people, verify_saved, worker_file
from bot.library.snapshot import Snapshot, build_snapshot
from bot.library.threads import off_loop
from bot.library.watcher import Watching
from bot.library.workers import yield_to_answers
from bot.people import PeopleDirectory

log = logging.getLogger(__name__)

SETTLE_SECONDS = 0.5  # a file changed this recently is read only once it stays unchanged this long


class Library(Following, Watching):
    """Holds the current snapshot; `None` with a message (`error`, safe to show users) when the
    corpus is unavailable. The log has the details, such as the directory's path."""

    def __init__(self, corpus_dir: Path, cache_dir: Path | None = None,
                 progress: Callable[[int, int], None] | None = None, workers: int = 1,
                 settle: float = SETTLE_SECONDS, busy: Callable[[], bool] | None = None) -> None:
        self.corpus_dir = corpus_dir
        self.cache_dir = cache_dir
        self.progress = progress
        self.workers = workers
        self.settle = settle
        self.current: Snapshot | None = None
        self.error: str | None = None
        self.loading = True  # until the first load has finished, one way or the other
        self._abandon = threading.Event()  # set when a build in progress is cancelled
        self._delta = DeltaState()  # shared by the deltas over one main index
        self._busy = busy  # True while answers are running: background work waits a moment (answers first)
        self._people = PeopleWorker(helpers=workers, busy=busy)  # helpers for a first build, as many as the search build's
        self._people_turn = asyncio.Lock()  # one people build at a time: the worker keeps one cache
        self._following: asyncio.Task[None] | None = None  # the people update after a delta
        self._early: tuple[Signature, Future[PeopleDirectory]] | None = None  # a people build begun with the search build
        self._scan_seconds = 0.0  # how long the last full check of the corpus directory took
        self._follow_again = False

    def _log_loaded(self, snapshot: Snapshot, how: str) -> None:
        log.info("corpus %s: %d articles, %d skipped, %d passages, %s people in %.2fs", how,
                 len(snapshot.corpus.articles), len(snapshot.corpus.skipped), snapshot.search.index.passage_count,
                 len(snapshot.people.people) if snapshot.people else "(pending)", snapshot.built_seconds)
        if snapshot.corpus.pending:
            log.info("still being written, read again at the next check: %s", ", ".join(map(repr, snapshot.corpus.pending)))

    def _unavailable(self, exc: CorpusUnavailable) -> None:
        self.current, self.error = None, exc.reason
        log.error("corpus unavailable: %s", exc)

    def _build(self, with_people: bool, abandon: threading.Event | None = None,
               loaded: Callable[[Corpus, Signature], None] | None = None) -> Snapshot:
        previous = self.current.corpus if self.current else None
        return build_snapshot(self.corpus_dir, self.progress, with_people, self.workers, settle=self.settle,
                              previous=previous, abandon=abandon, background=previous is not None, loaded=loaded)

    def _build_for_people(self, abandon: threading.Event) -> Snapshot:
        """Search first; the people build starts as soon as the corpus is loaded, while its index is
        assembled (`_start_people`), so that its processes take what the assembly leaves of the cores."""
        try:
            return self._build(with_people=False, abandon=abandon,
                               loaded=lambda corpus, signature: self._start_people(corpus, signature, abandon))
        except BaseException:
            # (`abandon` is not set here: the people updates after deltas use it. A people build begun
            # for a corpus that is not shown ends by itself, or with `abandon` when the bot stops.)
            self._early = None
            raise

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
            task = await self._start_from_saved() if self.cache_dir is not None else None
            return task if task is not None else await self._rebuild()
        finally:
            self.loading = False

    async def _start_from_saved(self) -> asyncio.Task[None] | None:
        """From the newest save, opened while a child process works out the corpus signature: as it
        is when it was saved for that signature, else with the change applied as a delta; None when
        there is no save or the change needs a rebuild."""
        latest, signature = await off_loop(open_newest, self.corpus_dir, self.cache_dir)
        if latest is None or not signature:
            return None
        if latest.signature == signature:
            snapshot, how = latest, "loaded from the saved index"
        else:
            fresh = await off_loop(apply_changes, latest, self.corpus_dir, self._delta, self.settle,
                                   signature=signature)
            if fresh is None:  # not a small change
                return None
            snapshot, how = fresh, "loaded from the saved index and brought up to date"
        self.current, self.error = snapshot, None
        self._log_loaded(snapshot, how)
        await off_loop(settle_memory)
        return asyncio.create_task(self._finish_saved(snapshot, latest.signature), name="people-directory")

    async def _finish_saved(self, snapshot: Snapshot, saved: Signature) -> None:
        """After a start from the saved index (saved for `saved`): its people directory (read, or
        built if it was not saved; with a delta, as saved until the delta is merged), then a check of
        every byte of the saved index, which opening skips to be quick. A damaged one is removed
        and the corpus built again."""
        people = await off_loop(saved_people, self.cache_dir, saved)
        if people is None:
            await self._finish_people(snapshot, snapshot, self._abandon, search_saved=True)
        else:
            if self._install_people(snapshot, dataclasses.replace(snapshot, people=people)):
                await off_loop(settle_memory)
            kept = worker_file(self.cache_dir, saved)
            if kept is not None:  # so that the next change costs what changed (or nothing is there)
                self._people.resume(kept)
        damaged = not await off_loop(verify_saved, self.cache_dir, saved)
        if damaged and self.current is not None and self.current.signature == snapshot.signature:
            task = await self._rebuild()
            if task is not None:
                await task
        elif not damaged:
            await self._prepare_deltas()

    async def _prepare_deltas(self) -> None:
        """The current main index's canonical URLs, worked out in the background as answers allow,
        so that the first new article's delta need not (~1 s of its way to search at 100k articles)."""
        current = self.current
        if current is not None:
            await off_loop(self._delta.urls_of, current.search.index, lambda: yield_to_answers(self._busy))

    async def _rebuild(self) -> asyncio.Task[None] | None:
        """Search first; the people directory follows (meanwhile a reload shows the previous one)."""
        abandon = self._abandon = threading.Event()
        people = self.current.people if self.current else None
        try:
            snapshot = await off_loop(self._build_for_people, abandon)
        except CorpusUnavailable as exc:
            self._unavailable(exc)
            return None
        except asyncio.CancelledError:
            abandon.set()  # the build thread stops at its next check
            log.info("corpus build abandoned")
            raise
        shown = dataclasses.replace(snapshot, people=people) if people is not None else snapshot
        self.current, self.error = shown, None
        self._log_loaded(snapshot, "indexed for search")
        await off_loop(settle_memory)
        return asyncio.create_task(self._finish_people(snapshot, shown, abandon), name="people-directory")

    def close(self) -> None:
        """End the people worker process (the service stopping)."""
        self._abandon.set()
        if self._following is not None:
            self._following.cancel()
        self._people.close()

    async def _apply_delta(self, signature: Signature | None = None) -> bool:
        """A small change (to `signature`, when just worked out) as a delta index beside the current
        one (`bot.library.fresh`): searchable in moments. False when it needs a full rebuild. (A people directory still being built for
        the snapshot it replaces is put into it when done: `_install_people`.)"""
        for _ in range(3):  # again when the same state was swapped meanwhile (its people added)
            current = self.current
            if current is None:
                return False
            try:
                fresh = await off_loop(apply_changes, current, self.corpus_dir, self._delta, self.settle,
                                       signature=signature)
            except Exception:
                log.exception("corpus delta failed; rebuilding in full")
                return False
            if fresh is None:
                return False
            if self.current is current:
                self.current = fresh
                self._log_loaded(fresh, "updated")
                if current.people is not None:  # else the build in progress puts its directory in
                    self._follow_people()
                return True
            if self.current is None or self.current.signature != current.signature:
                return False
        return False

    async def _merge_if_due(self) -> bool:
        """Rebuild in full (and save) once the delta has grown or aged enough."""
        if self.current is None or not merge_due(self.current, self._delta):
            return False
        log.info("merging the delta index of %d articles: rebuilding in full",
                 self.current.search.delta.index.article_count if self.current.search.delta else 0)
        task = await self._rebuild()
        if task is not None:
            await task
        return True

    async def reload_if_changed(self) -> bool:
        """A delta on a small change; else rebuild off the event loop and swap atomically; keep the
        old snapshot on failure."""
        signature = await off_loop(self.check)
        if signature is None:
            return await self._merge_if_due()
        if await self._apply_delta(signature):
            return True
        try:
            task = await self._rebuild()
        except Exception:
            log.exception("corpus reload failed; keeping the previous index")
            return False
        if task is not None:
            await task
        return True
