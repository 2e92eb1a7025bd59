"""The people directory, built in a worker process of its own that keeps what each article said.

The bot's process only sends articles (the ones the worker has not seen in this version,
or must read again) and reads the directory it gets back lazily (`bot.library.parts`), so
answers do not wait behind the build; after the first build, a changed corpus costs what
changed (`bot.people.build`).
One process, not `TRADEBOT_BUILD_WORKERS`: the other core answers meanwhile. It is started
with `spawn` and ended with `stop_pool`, as the search build's workers are (`bot.library.workers`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from bot.corpus import Article, Corpus, LoadAbandoned, Signature
from bot.library.parts import directory_from_parts, directory_parts
from bot.library.workers import POLL_SECONDS, lower_priority, stop_pool
from bot.people import PeopleCache, PeopleDirectory, Stamp, directory_from
from bot.people.build import MAX_ROUNDS, Needed, Reading, read_articles

log = logging.getLogger(__name__)
T = TypeVar("T")


MIN_ARTICLES_FOR_WORKER = 500  # below this (~0.15 s of work), built in this process: starting one costs more
MIN_ARTICLES_FOR_HELPERS = 10_000  # a round reading this many (a first build) is shared by helper processes
PEOPLE_CHUNK = 500  # articles per message to the people worker: pickling one holds the interpreter lock
# (~5 ms), so the event loop waits no longer than that between them
_PEOPLE = PeopleCache()  # in the people worker process: what each article said, kept between builds
_READING: tuple[bytes, Reading] | None = None  # in a helper: the last reading unpickled


def _people_add(articles: list[tuple[Article, Stamp]]) -> None:
    _PEOPLE.add(articles)


def _people_store(read: bytes) -> None:
    _PEOPLE.store(pickle.loads(read))  # noqa: S301 - from our own helper process


def _people_keep(path: str) -> bool:
    """In the people worker: write what it keeps to `path` (beside the saved index), for the next
    process; False when there is nothing yet. Written whole, then renamed into place."""
    if not _PEOPLE.size:
        return False
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(_PEOPLE, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return True


def _people_resume(path: str) -> int:
    """In a new people worker: take up what an earlier process kept (`_people_keep`), so the first
    change after a restart reads what changed, not every article. Anything unreadable: start empty."""
    global _PEOPLE
    try:
        with open(path, "rb") as f:
            kept = pickle.load(f)  # noqa: S301 - our own file, in our own index directory
    except FileNotFoundError:
        return 0
    except Exception as exc:  # damaged or from another version: rebuilt as it would be anyway
        log.warning("the people worker's saved results were unreadable (%r); reading articles afresh", exc)
        return 0
    if not isinstance(kept, PeopleCache):
        return 0
    _PEOPLE = kept
    return _PEOPLE.size


def _people_read(articles: list[tuple[Article, Stamp]], reading: bytes) -> bytes:
    """In a helper: both passes over a run of articles, pickled for the worker (this process only
    passes the bytes on)."""
    global _READING
    if _READING is None or _READING[0] != reading:
        _READING = (reading, pickle.loads(reading))  # noqa: S301 - from our own worker process
    return pickle.dumps(read_articles(articles, _READING[1]), protocol=pickle.HIGHEST_PROTOCOL)


def _people_assemble(order: list[tuple[str, Stamp]], overrides: Path) -> tuple[list[str], bytes] | list[bytes]:
    """In the people worker: the ids it must read first (and how, pickled for helpers), or the
    directory as parts (`bot.library.parts`: the bot unpickles only its name index, then a person
    when an answer shows them)."""
    result = _PEOPLE.assemble(order, overrides)
    if isinstance(result, Needed):
        return result.ids, pickle.dumps(result.reading, protocol=pickle.HIGHEST_PROTOCOL)
    return directory_parts(result)


def _spawned(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=lower_priority)


def article_stamps(corpus: Corpus, signature: Signature) -> list[tuple[str, Stamp]]:
    """Each article (newest first) with the version of its file, as the people cache tells versions apart."""
    of_file = {corpus.files[name]: (name, size, mtime) for name, size, mtime in signature if name in corpus.files}
    return [(a.id, of_file.get(a.id) or ("", hash(a.body_utf8), a.published.toordinal())) for a in corpus.articles]


class PeopleWorker:
    """Builds people directories in one worker process, started at the first build and kept; a
    round that reads most of the corpus (the first build) is shared by `helpers` processes, whose
    results the worker keeps."""

    def __init__(self, helpers: int = 1) -> None:
        self.helpers = helpers
        self._pool: ProcessPoolExecutor | None = None
        self._local = PeopleCache()  # for a small corpus, kept in this process
        self.read = 0  # articles sent to be read in the last build (both passes)
        self._resume_from: Path | None = None  # see `resume`

    def build(self, corpus: Corpus, signature: Signature, overrides: Path,
              abandon: threading.Event | None = None) -> PeopleDirectory:
        """The directory of `corpus`; LoadAbandoned soon after `abandon` is set (the worker is ended)."""
        if len(corpus.articles) < MIN_ARTICLES_FOR_WORKER:
            self.close()
            return directory_from(self._local, article_stamps(corpus, signature), overrides, corpus)
        self._local = PeopleCache()
        try:
            return self._build(corpus, signature, overrides, abandon)
        except BrokenProcessPool as exc:  # e.g. the worker was killed: once more, with a new one
            self.close()
            if abandon is not None and abandon.is_set():
                raise LoadAbandoned from None
            log.warning("the people worker failed (%r); starting another", exc)
            return self._build(corpus, signature, overrides, abandon)
        except BaseException:
            self.close()
            raise

    def _build(self, corpus: Corpus, signature: Signature, overrides: Path,
               abandon: threading.Event | None) -> PeopleDirectory:
        started = time.perf_counter()
        order = article_stamps(corpus, signature)
        stamps = dict(order)
        if self._pool is None:
            self._pool = _spawned(1)
            if self._resume_from is not None:  # what an earlier process kept: taken up first (tasks run in order)
                self._pool.submit(_people_resume, str(self._resume_from)).add_done_callback(
                    _logged("take up the saved results"))
        self._resume_from = None
        pool, helpers = self._pool, None
        sent, needed, reading = 0, list[str](), b""
        try:
            for _ in range(MAX_ROUNDS):
                runs = [[(_article(corpus, a), stamps[a]) for a in needed[i : i + PEOPLE_CHUNK]]
                        for i in range(0, len(needed), PEOPLE_CHUNK)]
                if len(needed) >= MIN_ARTICLES_FOR_HELPERS and self.helpers >= 2:
                    helpers = helpers or _spawned(self.helpers)
                    _read_by_helpers(helpers, pool, runs, reading, abandon)
                    added = []
                else:  # the worker takes tasks in order: the articles asked for, then the next assembly
                    added = [pool.submit(_people_add, run) for run in runs]
                answer = _waited(pool.submit(_people_assemble, order, overrides), abandon)
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
            if helpers is not None:
                stop_pool(helpers)
        raise RuntimeError("the people directory did not settle")

    def keep(self, path: Path) -> None:
        """Have the worker write what it keeps to `path` (beside the saved index), in the background:
        the next process's worker takes it up (`resume`). Nothing when there is no worker."""
        if self._pool is not None:
            self._pool.submit(_people_keep, str(path)).add_done_callback(_logged("write its results"))

    def resume(self, path: Path) -> None:
        """The next build's worker starts with what an earlier process's worker kept at `path`. Read
        only then (at the first change after a restart, in the worker): at 100k articles it takes
        several hundred MB, which a bot whose corpus does not change need not hold."""
        if self._pool is None:
            self._resume_from = path

    def close(self) -> None:
        """End the worker (and forget what it kept)."""
        pool, self._pool = self._pool, None  # the service stopping and an abandoned build may both close it
        if pool is not None:
            stop_pool(pool)


def _logged(what: str) -> Callable[[Future[Any]], None]:
    def done(future: Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.warning("the people worker could not %s: %r", what, future.exception())
    return done


def _read_by_helpers(helpers: ProcessPoolExecutor, pool: ProcessPoolExecutor, runs: list[list[tuple[Article, Stamp]]],
                     reading: bytes, abandon: threading.Event | None) -> None:
    """Runs read by the helpers, each result passed on to the worker as it comes (bytes, never unpickled here)."""
    reads = [helpers.submit(_people_read, run, reading) for run in runs]
    stored = [pool.submit(_people_store, _waited(future, abandon)) for future in reads]
    for future in stored:
        _waited(future, abandon)


def _waited(future: Future[T], abandon: threading.Event | None) -> T:
    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except FuturesTimeout:
            if abandon is not None and abandon.is_set():
                raise LoadAbandoned from None


def _article(corpus: Corpus, article_id: str) -> Article:
    article = corpus.get(article_id)
    assert article is not None, article_id
    return article
