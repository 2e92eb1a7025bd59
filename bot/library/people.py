"""The people directory, built in a worker process of its own that keeps what each article said.

The bot's process only sends the articles the worker has not seen in this version, or must
read again (a first build's helpers read them from their files), and reads the directory it
gets back lazily (`bot.library.parts`), so answers do not wait behind the build; after the
first build, a changed corpus costs what changed (`bot.people.build`). What runs in the worker
and its helpers is `bot.library.people_tasks`.
One process, not `TRADEBOT_BUILD_WORKERS`: the other core answers meanwhile. It is started
at the lowest priority (`bot.library.workers.background_context`), ended with `stop_pool` or,
idle, once its results are written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from bot.corpus import Article, Corpus, LoadAbandoned, Signature
from bot.library.parts import directory_from_parts
from bot.library.people_tasks import (
    FileStamp,
    pack_order,
    people_add,
    people_assemble,
    people_keep,
    people_read,
    people_resume,
    people_store,
)
from bot.library.workers import POLL_SECONDS, background_context, stop_pool, yield_to_answers
from bot.people import PeopleCache, PeopleDirectory, Stamp, directory_from
from bot.people.build import MAX_ROUNDS, article_of

log = logging.getLogger(__name__)
T = TypeVar("T")


MIN_ARTICLES_FOR_WORKER = 500  # below this (~0.15 s of work), built in this process: starting one costs more
MIN_ARTICLES_FOR_HELPERS = 10_000  # a round reading this many (a first build) is shared by helper processes
PEOPLE_CHUNK = 500  # articles per message to the people worker: pickling one holds the interpreter lock
# (~5 ms), so the event loop waits no longer than that between them
# A worker with nothing to do for this long writes what it keeps beside the saved index (unless it
# has, as after a build that was saved) and ends: at 100k articles it holds ~700 MB, and the next
# change's worker takes the file up in ~3 s. Long enough for changes that come together (a feed's
# articles, files copied in one after another); feeds poll every few minutes.
IDLE_SECONDS = 10.0
IN_FLIGHT_PER_HELPER = 2  # runs handed to each helper ahead (~0.15 s of work each)
KEEP_TIMEOUT_S = 120.0  # writing what it keeps takes seconds at 100k articles; a bound, not a wait


def _spawned(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=background_context())


def article_stamps(corpus: Corpus, signature: Signature) -> list[tuple[str, FileStamp]]:
    """Each article (newest first) with the version of its file, as the people cache tells versions apart."""
    of_file = {corpus.files[name]: (name, size, mtime) for name, size, mtime in signature if name in corpus.files}
    return [(a.id, of_file.get(a.id) or ("", hash(a.body_utf8), a.published.toordinal())) for a in corpus.articles]


class _Texts:
    """The corpus a build in progress looks articles up in (by id): `PeopleWorker.rebase` points it
    at the same articles opened from the saved index, so the build no longer holds its own copy."""

    __slots__ = ("corpus",)

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    def article(self, article_id: str) -> Article:
        return article_of(self.corpus, article_id)


class PeopleWorker:
    """Builds people directories in one worker process, started at the first build; a round that
    reads most of the corpus (the first build) is shared by `helpers` processes, whose results the
    worker keeps. Once it has somewhere to keep them (`keep`, `resume`), a worker with nothing to
    do for `idle_seconds` writes them there and ends; the next build's worker takes them up."""

    def __init__(self, helpers: int = 1, idle_seconds: float = IDLE_SECONDS,
                 busy: Callable[[], bool] | None = None) -> None:
        self.helpers = helpers
        self.busy = busy  # True while answers are running: a build's start and a first build's reading wait
        self.idle_seconds = idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._local = PeopleCache()  # for a small corpus, kept in this process
        self.read = 0  # articles sent to be read in the last build (both passes)
        self._resume_from: Path | None = None  # see `resume`
        self._kept_at: Path | None = None  # where the worker's results are written (`keep`, the idle end)
        self._unkept = False  # the worker holds results newer than what it last wrote there
        self._turn = threading.Lock()  # a build or the idle end, one at a time
        self._idle: threading.Timer | None = None
        self._texts: _Texts | None = None  # of the build in progress

    def build(self, corpus: Corpus, signature: Signature, overrides: Path,
              abandon: threading.Event | None = None, files: Path | None = None) -> PeopleDirectory:
        """The directory of `corpus`; LoadAbandoned soon after `abandon` is set (the worker is ended).
        `files`: the directory `signature` is of, where helpers may read the articles themselves."""
        with self._turn:
            self._cancel_idle()
            if len(corpus.articles) < MIN_ARTICLES_FOR_WORKER:
                order = article_stamps(corpus, signature)
                self.close()  # (a larger corpus before may have started a worker)
                return directory_from(self._local, order, overrides, corpus)
            self._local = PeopleCache()
            texts = self._texts = _Texts(corpus)
            del corpus  # (held by `texts` only: see `rebase`)
            try:
                directory = self._build(texts, signature, overrides, abandon, files)
            except BrokenProcessPool as exc:  # e.g. the worker was killed: once more, with a new one
                self.close()
                if abandon is not None and abandon.is_set():
                    raise LoadAbandoned from None
                log.warning("the people worker failed (%r); starting another", exc)
                directory = self._build(texts, signature, overrides, abandon, files)
            except BaseException:
                self.close()
                raise
            finally:
                self._texts = None
            self._unkept = True
            self._end_when_idle()
            return directory

    def rebase(self, built: Corpus, saved: Corpus) -> None:
        """A build in progress of `built` looks its articles up in `saved` (the same corpus state,
        opened from the saved index) from now on: `built`'s bodies need not stay in memory for it."""
        texts = self._texts
        if texts is not None and texts.corpus is built:
            texts.corpus = saved

    def _build(self, texts: _Texts, signature: Signature, overrides: Path,
               abandon: threading.Event | None, files: Path | None) -> PeopleDirectory:
        yield_to_answers(self.busy, abandon)  # (every build: a rebuild's starts while answers are running)
        started = time.perf_counter()
        # (The bot's builds start as the corpus is loaded, while its search index is assembled, so
        # these are worked out before search is said ready: worked out as the first questions came,
        # they took 0.1-0.5 s of the interpreter the answers wanted.)
        order = article_stamps(texts.corpus, signature)
        stamps, packed = dict(order), pack_order(order)
        if self._pool is None:
            self._pool = _spawned(1)
            if self._resume_from is not None:  # what an earlier process kept: taken up first (tasks run in order)
                self._pool.submit(people_resume, str(self._resume_from)).add_done_callback(
                    _logged("take up the saved results"))
        self._resume_from = None
        pool, helpers = self._pool, list[ProcessPoolExecutor]()
        sent, needed, reading, helper_rounds = 0, list[str](), b"", 0
        try:
            for _ in range(MAX_ROUNDS):
                if len(needed) >= MIN_ARTICLES_FOR_HELPERS and self.helpers >= 2:
                    helpers = helpers or [_spawned(1) for _ in range(self.helpers)]
                    _read_by_helpers(helpers, pool, texts, [(a, stamps[a]) for a in needed], reading, files,
                                     abandon, self.busy)
                    added, helper_rounds = [], helper_rounds + 1
                    if helper_rounds == 2:  # what the helpers kept from the first round is used up: they
                        for helper in helpers:  # go before the worker assembles (it grows most then)
                            stop_pool(helper)
                        helpers = []
                else:  # the worker takes tasks in order: the articles asked for, then the next assembly
                    added = [pool.submit(people_add, [(texts.article(a), stamps[a]) for a in run])
                             for run in _runs(needed)]
                answer = _waited(pool.submit(people_assemble, packed, overrides), abandon)
                for future in added:
                    future.result()  # done before the assembly; raises what failed there
                if isinstance(answer, tuple):
                    needed, reading = answer
                    sent += len(needed)
                    log.info("people directory: %.1fs in, %d articles to read", time.perf_counter() - started,
                             len(needed))
                    continue
                directory = directory_from_parts(answer)
                self.read = sent
                log.info("people directory: %d people in %.1fs (%d articles read)", len(directory.people),
                         time.perf_counter() - started, sent)
                return directory
        finally:
            for helper in helpers:
                stop_pool(helper)
        raise RuntimeError("the people directory did not settle")

    @property
    def running(self) -> bool:
        """Whether a worker process is up (it ends when idle, see the class)."""
        return self._pool is not None

    def keep(self, path: Path) -> None:
        """Have the worker write what it keeps to `path` (beside the saved index), in the background:
        the next process's worker takes it up (`resume`), and so does this one's after an idle end."""
        self._kept_at = path
        pool = self._pool
        if pool is None:
            return
        try:
            pool.submit(people_keep, str(path)).add_done_callback(_logged("write its results"))
        except RuntimeError:  # ended (idle) this moment, having written the same results where they were kept
            return
        self._unkept = False  # (tasks run in order: this one writes what the builds before it left)
        self._end_when_idle()

    def resume(self, path: Path) -> None:
        """The next build's worker starts with what an earlier process's worker kept at `path`. Read
        only then (at the first change after a restart, in the worker): at 100k articles it takes
        several hundred MB, which a bot whose corpus does not change need not hold."""
        if self._pool is None:
            self._resume_from = self._kept_at = path

    def close(self) -> None:
        """End the worker (and forget what it kept)."""
        self._cancel_idle()
        pool, self._pool = self._pool, None  # the service stopping and an abandoned build may both close it
        if pool is not None:
            stop_pool(pool)

    def _end_when_idle(self) -> None:
        self._cancel_idle()
        if self._pool is not None and self._kept_at is not None:
            self._idle = threading.Timer(self.idle_seconds, self._idle_end)
            self._idle.daemon = True  # a stopping process does not wait for it
            self._idle.start()

    def _cancel_idle(self) -> None:
        idle, self._idle = self._idle, None
        if idle is not None:
            idle.cancel()

    def _idle_end(self) -> None:
        """(A timer's thread.) Write what the worker keeps, unless written since, and end it; kept on
        when that fails, so that the next change still costs what changed."""
        if not self._turn.acquire(blocking=False):
            return  # a build is on: it starts the next timer
        try:
            pool, path = self._pool, self._kept_at
            if pool is None or path is None:
                return
            try:
                written = pool.submit(people_keep, str(path)).result(KEEP_TIMEOUT_S) if self._unkept else True
            except Exception as exc:  # closed meanwhile, or the write failed (logged in the worker)
                log.warning("the idle people worker could not write its results (%r); kept on", exc)
                return
            if not written:
                return
            self._pool, self._resume_from, self._unkept = None, path, False
        finally:
            self._turn.release()
        pool.shutdown(wait=True)  # nothing is left for it to do: it exits at once
        log.info("people worker ended after %.0fs idle; its results are kept for the next change", self.idle_seconds)


def _logged(what: str) -> Callable[[Future[Any]], None]:
    def done(future: Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.warning("the people worker could not %s: %r", what, future.exception())
    return done


def _runs(items: list[T]) -> list[list[T]]:
    return [items[i : i + PEOPLE_CHUNK] for i in range(0, len(items), PEOPLE_CHUNK)]


def _read_by_helpers(helpers: list[ProcessPoolExecutor], pool: ProcessPoolExecutor, texts: _Texts,
                     needed: list[tuple[str, Stamp]], reading: bytes, files: Path | None,
                     abandon: threading.Event | None, busy: Callable[[], bool] | None) -> None:
    """Articles read by the helpers, each run's result passed on to the worker as it comes (bytes,
    never unpickled here). With `files`, helpers read the articles from their files: pickling 100k
    articles here (twice in a first build) would take seconds of this process's interpreter from
    the answers; an article whose file changed since is sent as the article, after the rest. Run k
    goes to helper k mod n in every round, so a helper reads again the articles it read before and
    keeps (`people_tasks._from_file`: a first build's second round reads no file). A few runs at a
    time, the next once answers are done (`yield_to_answers`)."""
    if files is None:
        runs: list[list[tuple[Article | str, Stamp]]] = [
            [(texts.article(a), stamp) for a, stamp in run] for run in _runs(needed)]
    else:
        runs = [list[tuple[Article | str, Stamp]](run) for run in _runs(needed)]
    directory = None if files is None else str(files)
    waiting, reads = deque(enumerate(runs)), deque[Future[tuple[bytes, list[str]]]]()
    stamps, stored, missed = dict(needed), list[Future[None]](), list[str]()
    while waiting or reads:
        while waiting and len(reads) < IN_FLIGHT_PER_HELPER * len(helpers):
            yield_to_answers(busy, abandon)
            k, run = waiting.popleft()
            reads.append(helpers[k % len(helpers)].submit(people_read, run, reading, directory))
        read, not_read = _waited(reads.popleft(), abandon)
        stored.append(pool.submit(people_store, read))
        missed += not_read
    for ids in _runs(missed):
        read, _ = _waited(helpers[0].submit(people_read, [(texts.article(a), stamps[a]) for a in ids], reading),
                          abandon)
        stored.append(pool.submit(people_store, read))
    for done in stored:
        _waited(done, abandon)


def _waited(future: Future[T], abandon: threading.Event | None) -> T:
    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except FuturesTimeout:
            if abandon is not None and abandon.is_set():
                raise LoadAbandoned from None
