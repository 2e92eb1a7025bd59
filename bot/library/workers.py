"""Loading a corpus and tokenising it for the search index, in worker processes when it is large.

Reading, validating and tokenising articles is pure Python: one core per process.
Worker processes each read a run of files (`bot.corpus.read_run`) and tokenise what
loaded; this process combines the runs exactly as a one-process load does
(`bot.corpus.combine`: duplicates dropped in file order, newest first), merges the
tokens in that order and assembles the index. Workers are started with `spawn`,
never `fork`: the bot builds in a thread beside a running event loop, and forking a
threaded process can deadlock the child. The people directory's worker
(`bot.library.people`) is started and stopped the same way (`stop_pool`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.common.progress import Progress
from bot.corpus import (
    Corpus,
    FileRun,
    LoadAbandoned,
    combine,
    corpus_files,
    held_files,
    kept_versions,
    load_files,
    read_run,
)
from bot.search.build import Tokens, assemble_index, build_index, merge_tokens, tokenize_articles
from bot.search.index import SearchIndex

log = logging.getLogger(__name__)

MIN_FILES_FOR_WORKERS = 5000  # below this, starting processes costs more than it saves
CHUNK_FILES = 2500  # files per task: small enough for a moving progress bar and even shares
POLL_SECONDS = 0.2  # how often a multi-process build looks at its `abandon` flag
STOP_JOIN_SECONDS = 2.0  # a terminated worker is gone within milliseconds; a bound, not a wait
# Background builds (the people directory; a rebuild while the previous index answers) run at the
# lowest priority: on a machine of two cores a process at niceness 5 still took a quarter of the
# core an answer was running on; at 19 it takes what the answers leave (~1.5% when they want it all).
NICENESS = 19
ANSWERS_FIRST_S = 2.0  # the longest background work (a people build's next step, the watcher's check) waits for
# running answers to be done: a bot answering all the time still gets its directory and its reloads


YIELD_POLL_S = 0.02


def yield_to_answers(busy: Callable[[], bool] | None, abandon: threading.Event | None = None,
                     limit: float = ANSWERS_FIRST_S) -> None:
    """(In a background thread.) Wait while `busy` says answers are running, at most `limit` seconds;
    LoadAbandoned once `abandon` is set. Background work, though at the lowest priority, shares the
    cores, memory bandwidth and this process's interpreter with the answers."""
    deadline = time.monotonic() + limit
    while busy is not None and busy() and time.monotonic() < deadline:
        if abandon is not None and abandon.is_set():
            raise LoadAbandoned
        time.sleep(YIELD_POLL_S)


def checked(progress: Progress | None, abandon: threading.Event | None) -> Progress | None:
    """`progress` that also stops the build (LoadAbandoned) once `abandon` is set."""
    if abandon is None:
        return progress

    def report(done: int, total: int) -> None:
        if progress:
            progress(done, total)
        if abandon.is_set():
            raise LoadAbandoned

    return report


@dataclass
class _Chunk:
    run: FileRun
    tokens: Tokens


def _load_chunk(paths: list[Path], settle: float, hold: frozenset[str]) -> _Chunk:
    """In a worker: read, validate and tokenise one run of files (bad ones are reported back)."""
    run = read_run(paths, settle, hold=hold)
    return _Chunk(run, tokenize_articles(run.articles))


def load_and_index(directory: Path, progress: Progress | None = None, workers: int = 1, *,
                   settle: float = 0.0, previous: Corpus | None = None,
                   abandon: threading.Event | None = None, background: bool = False,
                   loaded: Callable[[Corpus], None] | None = None) -> tuple[Corpus, SearchIndex]:
    """The corpus and its index; the same result however many processes do the work.

    `settle` and `previous` are as for `bot.corpus.load_corpus`: a file still being written
    keeps its version in `previous`. Once `abandon` is set, the build stops within a moment
    (worker processes are terminated) and raises LoadAbandoned. `background` (a rebuild while the
    previous index answers): the workers run at the lowest priority and the index is assembled in
    one thread, so answers keep a core. `loaded` is told the corpus once it is loaded, before its
    index is assembled (the people build starts from it meanwhile)."""
    paths = corpus_files(directory)
    progress = checked(progress, abandon)
    if workers >= 2 and len(paths) >= MIN_FILES_FOR_WORKERS:
        try:
            return _in_workers(paths, progress, workers, settle, previous, abandon, background, loaded)
        except (BrokenProcessPool, OSError) as exc:  # e.g. no /dev/shm or a killed worker
            if abandon is not None and abandon.is_set():
                raise LoadAbandoned from None
            log.warning("building in worker processes failed (%r); building in this one", exc)
    corpus = load_files(paths, settle=settle, previous=previous, abandon=abandon)
    if loaded is not None:
        loaded(corpus)
    return corpus, build_index(corpus, progress)


class _BackgroundProcess(multiprocessing.context.SpawnProcess):
    """A spawned process put at NICENESS the moment it exists: lowered by itself (a pool's
    initializer), it would first import the bot's modules (~1 s of CPU) at the bot's own priority,
    just when a build starts and the first questions come."""

    def start(self) -> None:
        super().start()
        if self.pid is not None:
            try:
                os.setpriority(os.PRIO_PROCESS, self.pid, NICENESS)
            except OSError:  # not allowed here: the same priority, still another process
                pass


class _BackgroundContext(multiprocessing.context.SpawnContext):
    Process = _BackgroundProcess


def background_context() -> multiprocessing.context.SpawnContext:
    """The `spawn` context for background workers (the people directory; a rebuild while the
    previous index answers): their processes run at the lowest priority from their first instruction."""
    return _BackgroundContext()


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and terminate the workers: a chunk can take many seconds.

    A worker terminated while it sends a result leaves part of a message in the result pipe,
    and the pool's own thread then waits for the rest forever: this process writes to that
    pipe too, so it never sees the end of it. The interpreter joins that thread at exit, so
    SIGTERM during a build once never ended the bot. Closing this process's end of the pipe,
    once the workers are gone, ends the wait (the pool reports itself broken and cleans up)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # no public way before 3.14
    results = getattr(pool, "_result_queue", None)  # (shutdown forgets both: taken first)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(STOP_JOIN_SECONDS)
    writer = getattr(results, "_writer", None)
    if writer is not None and all(not p.is_alive() for p in processes):
        writer.close()


def _in_workers(paths: list[Path], progress: Progress | None, workers: int, settle: float,
                previous: Corpus | None, abandon: threading.Event | None, background: bool,
                loaded: Callable[[Corpus], None] | None) -> tuple[Corpus, SearchIndex]:
    started = time.perf_counter()
    runs = [paths[i : i + CHUNK_FILES] for i in range(0, len(paths), CHUNK_FILES)]
    pool = ProcessPoolExecutor(workers, mp_context=background_context() if background
                               else multiprocessing.get_context("spawn"))
    try:
        held = held_files(previous)
        futures = [pool.submit(_load_chunk, run, settle, frozenset(p.name for p in run if p.name in held))
                   for run in runs]
        waiting: set[Future[_Chunk]] = set(futures)
        finished: set[Future[_Chunk]] = set()
        done = 0
        while waiting:
            finished, waiting = wait(waiting, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            if abandon is not None and abandon.is_set():
                raise LoadAbandoned
            for future in finished:
                run = future.result().run
                done += len(run.names) + len(run.skipped) + len(run.pending)
                if progress:
                    progress(done, len(paths))
        chunks = [f.result() for f in futures]
        del futures, finished  # (each future holds its chunk: the runs' tokens are freed with `chunks` below)
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()
    loaded_at = time.perf_counter()
    kept = kept_versions([name for chunk in chunks for name in chunk.run.pending], previous)
    corpus, positions = combine([chunk.run for chunk in chunks] + [kept])
    if loaded is not None:
        loaded(corpus)
    parts = [chunk.tokens for chunk in chunks] + [tokenize_articles(kept.articles)]
    tokens = merge_tokens(parts, [np.array(p, dtype=np.int64) for p in positions], len(corpus.articles))
    del chunks, parts, kept  # the runs' own tokens and vocabularies (~300 MB at 100k): merged, not needed
    merged = time.perf_counter()
    index = assemble_index(corpus.articles, tokens, threads=1 if background else None)  # (answers come first)
    log.info("%d files loaded and tokenised in %.1fs by %d processes, merged in %.1fs, indexed in %.1fs",
             len(paths), loaded_at - started, workers, merged - loaded_at, time.perf_counter() - merged)
    return corpus, index

