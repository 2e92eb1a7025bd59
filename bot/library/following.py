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
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from bot.corpus import Corpus, LoadAbandoned, Signature
from bot.library.fresh import DeltaState, apply_changes
from bot.library.memory import settle_memory
from bot.library.people import PeopleWorker
from bot.library.saved import load_saved, save_snapshot, saved_people, worker_file
from bot.library.snapshot import Snapshot, with_people_added
from bot.library.threads import off_loop
from bot.library.workers import yield_to_answers
from bot.people import PeopleDirectory

log = logging.getLogger(__name__)

# The search save after a large build waits for the first questions to come (those waiting for
# search to be ready ask at once) and be answered, and then between its files while answers run:
# its writes share the interpreter and the cores with them (the built copy is kept meanwhile).
# SAVE_PATIENCE_S bounds the waits in all, so a bot asked all the time still saves (and gets the
# people directory, put in after the save). A smaller save takes well under a second: no waits.
QUIET_SAVE_ARTICLES = 10_000
SAVE_GRACE_S = 2.0
SAVE_PATIENCE_S = 10.0


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
    _early: tuple[Signature, Future[PeopleDirectory]] | None
    _busy: Callable[[], bool] | None

    def _log_loaded(self, snapshot: Snapshot, how: str) -> None:
        raise NotImplementedError

    if TYPE_CHECKING:  # `Watching`'s (a definition here would come first in `Library`)
        async def _after_answers(self, patience: float = ...) -> None: ...

    async def _prepare_deltas(self) -> None:
        raise NotImplementedError

    def _start_people(self, corpus: Corpus, signature: Signature, abandon: threading.Event) -> None:
        """The people build of `corpus`, begun in a thread of its own; `_with_people` takes it up.
        Only the build holds `corpus` (`PeopleWorker.rebase` can then let it go for the saved copy)."""
        built: Future[PeopleDirectory] = Future()
        handed = [corpus]
        del corpus

        def build() -> None:
            try:
                built.set_result(self._people.build(handed.pop(), signature, self.corpus_dir / "people.yml", abandon,
                                                    files=self.corpus_dir))
            except BaseException as exc:  # (LoadAbandoned included: whoever takes it up sees it)
                built.set_exception(exc)

        self._early = (signature, built)
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
            if early is not None and early[0] is snapshot.signature:  # begun while its index was assembled
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

    async def _finish_people(self, snapshot: Snapshot, shown: Snapshot, abandon: threading.Event,
                             search_saved: bool = False) -> None:
        """`snapshot`'s people directory, built while `shown` (`snapshot`, or it with the previous
        directory) answers; saved with it. Unless it is (`search_saved`: opened from the save), the
        search index is saved first and answers from its memory-mapped copy meanwhile: the built
        one (its index arrays and article bodies, ~900 MB at 100k articles) goes then, not once the
        people are in."""
        if not search_saved:
            built = [snapshot, shown]  # the built copy's last references (answers may hold it a moment)
            del snapshot
            shown = await self._save_search(*built)
            search_saved = shown is not built[1]
            if search_saved:  # freed in a thread (a large one once answers are done: 100k articles' objects)
                if _large(built[0]):
                    await self._after_answers()
                await off_loop(built.clear)
            del built
        else:
            del snapshot
        await off_loop(settle_memory)
        complete = await self._people_for(shown, abandon)
        if not self._install_people(shown, complete):  # replaced by a newer reload meanwhile
            return
        if search_saved:
            await self._save_people(complete)
        else:  # the search save failed, or was not wanted: both now
            await self._save_and_map(complete)
        del shown, complete
        await off_loop(settle_memory)  # after saving: pickling has its own garbage
        await self._prepare_deltas()

    async def _save_search(self, snapshot: Snapshot, shown: Snapshot) -> Snapshot:
        """Save `snapshot`'s search index (people not built yet) and show its memory-mapped copy in
        place of `shown` (with `shown`'s people); returns what the people build's result then goes
        into (the mapped copy, or `shown` when it was not saved or `shown` was replaced meanwhile)."""
        if self.cache_dir is None:  # nowhere to save: the built copy answers on
            return shown
        await off_loop(save_snapshot, self.cache_dir, snapshot, await self._answers_first(snapshot))
        mapped = await off_loop(load_saved, self.cache_dir, snapshot.signature, with_people=False)
        if mapped is None:
            return shown
        mapped = dataclasses.replace(mapped, people=shown.people, built_seconds=snapshot.built_seconds)
        if not await self._swap_to_mapped(shown, mapped):
            return shown
        self._people.rebase(snapshot.corpus, mapped.corpus)  # a build still going looks articles up there
        return mapped

    async def _answers_first(self, snapshot: Snapshot) -> Callable[[], None]:
        """Once the first questions after search is ready have been answered (SAVE_GRACE_S, then
        until answers are done), the pause between the save's files: while answers run, up to
        SAVE_PATIENCE_S in all (the people directory is put in once the save is done)."""
        if self._busy is None or not _large(snapshot):
            return lambda: None
        deadline = time.monotonic() + SAVE_PATIENCE_S
        await asyncio.sleep(SAVE_GRACE_S)
        await self._after_answers(SAVE_PATIENCE_S - SAVE_GRACE_S)
        return lambda: yield_to_answers(self._busy, limit=max(0.0, deadline - time.monotonic()))

    async def _save_people(self, complete: Snapshot) -> None:
        """Add `complete`'s people directory to its saved index, and answer from the saved copy (its
        bytes memory-mapped)."""
        await off_loop(save_snapshot, self.cache_dir, complete)
        self._keep_worker_results(complete)
        people = await off_loop(saved_people, self.cache_dir, complete.signature)
        current = self.current
        if people is not None and current is not None and current.people is complete.people:
            self.current = dataclasses.replace(current, people=people)

    def _keep_worker_results(self, complete: Snapshot) -> None:
        kept = worker_file(self.cache_dir, complete.signature)
        if kept is not None:  # for the next process: its first change then reads only what changed
            self._people.keep(kept)

    async def _save_and_map(self, complete: Snapshot) -> None:
        """Save `complete` (atomic: an abandoned write leaves no file) and answer from the saved copy."""
        await off_loop(save_snapshot, self.cache_dir, complete)
        self._keep_worker_results(complete)
        # The saved index, memory-mapped, in place of the built one: the same snapshot, but its
        # arrays and its people's bytes are then shared page cache, not this process's own memory.
        mapped = await off_loop(load_saved, self.cache_dir, complete.signature)
        if mapped is not None:
            mapped = dataclasses.replace(mapped, people=mapped.people or complete.people,
                                         built_seconds=complete.built_seconds)
            await self._swap_to_mapped(complete, mapped)

    async def _swap_to_mapped(self, complete: Snapshot, mapped: Snapshot) -> bool:
        """`mapped` (the saved `complete`) in its place; or, when a delta was applied to `complete`
        meanwhile, the same delta over `mapped`. False when neither could be done."""
        current = self.current
        if current is complete:
            self.current = mapped
            return True
        if current is not None and current.search.delta is not None and current.search.index is complete.search.index:
            fresh = await off_loop(apply_changes, mapped, self.corpus_dir, self._delta, self.settle)
            if fresh is not None and self.current is current and fresh.signature == current.signature:
                self.current = fresh
                return True
        return False

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


def _large(snapshot: Snapshot) -> bool:
    """Large enough that saving it, or letting it go, is worth waiting for answers (QUIET_SAVE_ARTICLES)."""
    return len(snapshot.corpus.articles) >= QUIET_SAVE_ARTICLES
