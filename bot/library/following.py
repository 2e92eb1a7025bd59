"""The people directory's half of `bot.library.reload.Library`: its build (begun as soon as the
corpus is loaded, while the search index is assembled), put in place when done (also into a delta
made meanwhile), saved with the index and swapped for the saved copy, and followed after each delta.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from bot.corpus import Corpus, LoadAbandoned, Signature
from bot.library.fresh import DeltaState, apply_changes
from bot.library.memory import settle_memory
from bot.library.people import PeopleWorker
from bot.library.saved import load_saved, save_snapshot, worker_file
from bot.library.snapshot import Snapshot, with_people_added
from bot.library.threads import off_loop
from bot.people import PeopleDirectory

log = logging.getLogger(__name__)


class Following:
    """The people half of `Library` (which provides these attributes)."""

    corpus_dir: Path
    cache_dir: Path | None
    settle: float
    current: Snapshot | None
    _abandon: threading.Event
    _delta: DeltaState
    _people: PeopleWorker
    _people_turn: asyncio.Lock
    _following: asyncio.Task[None] | None
    _follow_again: bool
    _early: tuple[Corpus, Future[PeopleDirectory]] | None

    def _log_loaded(self, snapshot: Snapshot, how: str) -> None:
        raise NotImplementedError

    async def _prepare_deltas(self) -> None:
        raise NotImplementedError

    def _start_people(self, corpus: Corpus, signature: Signature, abandon: threading.Event) -> None:
        """The people build of `corpus`, begun in a thread of its own; `_with_people` takes it up."""
        built: Future[PeopleDirectory] = Future()

        def build() -> None:
            try:
                built.set_result(self._people.build(corpus, signature, self.corpus_dir / "people.yml", abandon,
                                                    files=self.corpus_dir))
            except BaseException as exc:  # (LoadAbandoned included: whoever takes it up sees it)
                built.set_exception(exc)

        self._early = (corpus, built)
        threading.Thread(target=build, name="people-build", daemon=True).start()

    def _install_people(self, base: Snapshot, complete: Snapshot) -> bool:
        """`complete` (`base` with its people directory) in place of `base`; or, when a delta was
        applied to `base` meanwhile, its people directory into that. False when `base` was replaced."""
        current = self.current
        if current is base:
            self.current = complete
        elif (current is not None and current.search.index is base.search.index
              and (current.people is None or current.people is base.people)):  # a delta on `base` meanwhile
            self.current = dataclasses.replace(current, people=complete.people)
        else:
            return False
        self._log_loaded(self.current, "complete")
        return True

    def _with_people(self, snapshot: Snapshot, abandon: threading.Event) -> Snapshot:
        started = time.perf_counter()
        early = self._early
        try:
            if early is not None and early[0] is snapshot.corpus:  # begun while its index was assembled
                self._early = None
                people = early[1].result()  # (ends soon after `abandon` is set: the build looks at it)
            else:
                people = self._people.build(snapshot.corpus, snapshot.signature, self.corpus_dir / "people.yml",
                                            abandon, files=self.corpus_dir)
        except LoadAbandoned:
            raise
        except Exception:  # never left without a directory: built here instead, slower for answers meanwhile
            log.exception("the people worker failed; building the people directory in this process")
            return with_people_added(snapshot, self.corpus_dir)
        return dataclasses.replace(snapshot, people=people,
                                   built_seconds=snapshot.built_seconds + time.perf_counter() - started)

    async def _people_for(self, snapshot: Snapshot, abandon: threading.Event) -> Snapshot:
        async with self._people_turn:
            try:
                return await off_loop(self._with_people, snapshot, abandon)
            except asyncio.CancelledError:
                abandon.set()  # the worker process is ended at the build's next look
                raise

    async def _finish_people(self, snapshot: Snapshot, shown: Snapshot, abandon: threading.Event) -> None:
        complete = await self._people_for(snapshot, abandon)
        if not self._install_people(shown, complete):  # replaced by a newer reload meanwhile
            return
        await self._save_and_map(complete)
        # The built snapshot (its index arrays and article bodies, ~450 MB at 100k) is freed only
        # when the last reference goes: these locals are that, so they go before the heap is settled.
        del snapshot, shown, complete
        await off_loop(settle_memory)  # after saving: pickling has its own garbage
        await self._prepare_deltas()

    async def _save_and_map(self, complete: Snapshot) -> None:
        """Save `complete` (atomic: an abandoned write leaves no file) and answer from the saved copy."""
        await off_loop(save_snapshot, self.cache_dir, complete)
        kept = worker_file(self.cache_dir, complete.signature)
        if kept is not None:  # for the next process: its first change then reads only what changed
            self._people.keep(kept)
        # The saved index, memory-mapped, in place of the built one: the same snapshot, but its
        # arrays and its people's bytes are then shared page cache, not this process's own memory.
        mapped = await off_loop(load_saved, self.cache_dir, complete.signature)
        if mapped is not None:
            mapped = dataclasses.replace(mapped, people=mapped.people or complete.people,
                                         built_seconds=complete.built_seconds)
            await self._swap_to_mapped(complete, mapped)

    async def _swap_to_mapped(self, complete: Snapshot, mapped: Snapshot) -> None:
        """`mapped` (the saved `complete`) in its place; or, when a delta was applied to `complete`
        meanwhile, the same delta over `mapped`."""
        current = self.current
        if current is complete:
            self.current = mapped
        elif current is not None and current.search.delta is not None and current.search.index is complete.search.index:
            fresh = await off_loop(apply_changes, mapped, self.corpus_dir, self._delta, self.settle)
            if fresh is not None and self.current is current and fresh.signature == current.signature:
                self.current = fresh

    def _follow_people(self) -> None:
        """After a delta: the people directory follows in the background (the worker reads only the
        articles the change can touch); changes arriving meanwhile are taken in one more round."""
        if self._following is not None and not self._following.done():
            self._follow_again = True
            return
        self._following = asyncio.create_task(self._update_people(), name="people-update")

    async def _update_people(self) -> None:
        while True:
            self._follow_again = False
            base = self.current
            if base is None:
                return
            try:
                complete = await self._people_for(base, self._abandon)
            except LoadAbandoned:
                return
            current = self.current
            if current is not None and current.search.index is base.search.index:  # same main index
                self.current = dataclasses.replace(current, people=complete.people)
                if current is base:
                    self._log_loaded(self.current, "people updated")
            if not self._follow_again:
                return

    async def people_settled(self) -> None:
        """Wait for the people update after a delta (if any) to be in (the harness and tests)."""
        while self._following is not None and not self._following.done():
            await asyncio.shield(self._following)
