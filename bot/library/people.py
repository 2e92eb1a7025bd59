"""The people directory, built in a worker process of its own that keeps what each article said.

The bot's process only sends articles (the ones the worker has not seen in this version,
or must read again) and unpickles the directory in parts, so answers do not wait behind
the build; after the first build, a changed corpus costs what changed (`bot.people.build`).
One process, not `TRADEBOT_BUILD_WORKERS`: the other core answers meanwhile. It is started
with `spawn` and ended with `stop_pool`, as the search build's workers are (`bot.library.workers`).
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TypeVar

from bot.corpus import Article, Corpus, LoadAbandoned, Signature
from bot.library.workers import POLL_SECONDS, stop_pool
from bot.people import PeopleCache, PeopleDirectory, Person, Stamp, directory_from
from bot.people.build import MAX_ROUNDS

log = logging.getLogger(__name__)
T = TypeVar("T")


MIN_ARTICLES_FOR_WORKER = 500  # below this (~0.15 s of work), built in this process: starting one costs more
PEOPLE_CHUNK = 2000  # articles per message to the people worker; people per message back
_PEOPLE = PeopleCache()  # in the people worker process: what each article said, kept between builds


def _people_add(articles: list[tuple[Article, Stamp]]) -> None:
    _PEOPLE.add(articles)


def _people_assemble(order: list[tuple[str, Stamp]], overrides: Path) -> list[str] | list[bytes]:
    """In the people worker: the ids it must read first, or the directory in pickled parts (the
    parts are unpickled one by one, so the bot's event loop gets the interpreter between them)."""
    result = _PEOPLE.assemble(order, overrides)
    if isinstance(result, list):
        return result
    people = result.people
    shell = result.model_copy(update={"people": []})  # with its name index
    return [pickle.dumps(shell, protocol=pickle.HIGHEST_PROTOCOL)] + [
        pickle.dumps(people[i : i + PEOPLE_CHUNK], protocol=pickle.HIGHEST_PROTOCOL)
        for i in range(0, len(people), PEOPLE_CHUNK)]


def article_stamps(corpus: Corpus, signature: Signature) -> list[tuple[str, Stamp]]:
    """Each article (newest first) with the version of its file, as the people cache tells versions apart."""
    of_file = {corpus.files[name]: (name, size, mtime) for name, size, mtime in signature if name in corpus.files}
    return [(a.id, of_file.get(a.id) or ("", hash(a.body_utf8), a.published.toordinal())) for a in corpus.articles]


class PeopleWorker:
    """Builds people directories in one worker process, started at the first build and kept."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._local = PeopleCache()  # for a small corpus, kept in this process
        self.read = 0  # articles sent to be read in the last build (both passes)

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
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        pool = self._pool
        sent, needed = 0, list[str]()
        for _ in range(MAX_ROUNDS):
            # The worker takes tasks in order: the articles asked for, then the next assembly. Sent all at
            # once, this process pickles the next run while the worker reads the last.
            added = [pool.submit(_people_add, [(_article(corpus, a), stamps[a]) for a in needed[i : i + PEOPLE_CHUNK]])
                     for i in range(0, len(needed), PEOPLE_CHUNK)]
            answer = _waited(pool.submit(_people_assemble, order, overrides), abandon)
            for future in added:
                future.result()  # done before the assembly; raises what failed there
            if not answer or isinstance(answer[0], bytes):
                directory = _unpacked(answer)  # type: ignore[arg-type]
                self.read = sent
                log.info("people directory: %d people in %.1fs (%d articles read)", len(directory.people),
                         time.perf_counter() - started, sent)
                return directory
            needed = answer
            sent += len(needed)
        raise RuntimeError("the people directory did not settle")

    def close(self) -> None:
        """End the worker (and forget what it kept)."""
        pool, self._pool = self._pool, None  # the service stopping and an abandoned build may both close it
        if pool is not None:
            stop_pool(pool)


def _waited(future: Future[T], abandon: threading.Event | None) -> T:
    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except FuturesTimeout:
            if abandon is not None and abandon.is_set():
                raise LoadAbandoned from None


def _unpacked(parts: list[bytes]) -> PeopleDirectory:
    shell = pickle.loads(parts[0])  # noqa: S301 - from our own worker process
    people: list[Person] = []
    for part in parts[1:]:
        time.sleep(0.001)  # let the event loop's thread have the interpreter between parts
        people += pickle.loads(part)  # noqa: S301
    directory: PeopleDirectory = shell.model_copy(update={"people": people})
    return directory


def _article(corpus: Corpus, article_id: str) -> Article:
    article = corpus.get(article_id)
    assert article is not None, article_id
    return article
