"""Loading a corpus and tokenising it for the search index, in worker processes when it is large.

Reading, validating and tokenising articles is pure Python: one core per process.
Worker processes each take a run of files and send back the articles and their
`Tokens`; this process removes duplicates in file order (as `load_corpus` does),
merges the tokens in the corpus's newest-first order and assembles the index.
Workers are started with `spawn`, never `fork`: the bot builds in a thread beside
a running event loop, and forking a threaded process can deadlock the child.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.common.progress import Progress
from bot.corpus import (
    Article,
    Corpus,
    Deduplicator,
    IdentityKeys,
    SkippedFile,
    corpus_files,
    identity_keys,
    load_corpus,
    newest_first,
    read_article,
)
from bot.search.build import Tokens, assemble_index, build_index, merge_tokens, tokenize_articles
from bot.search.index import SearchIndex

log = logging.getLogger(__name__)

MIN_FILES_FOR_WORKERS = 5000  # below this, starting processes costs more than it saves
CHUNK_FILES = 2500  # files per task: small enough for a moving progress bar and even shares


@dataclass
class _Chunk:
    names: list[str]  # of the files that loaded, in order
    articles: list[Article]
    keys: list[IdentityKeys]
    skipped: list[SkippedFile]
    tokens: Tokens


def _load_chunk(paths: list[Path]) -> _Chunk:
    """In a worker: read, validate and tokenise one run of files (bad ones are reported back)."""
    names: list[str] = []
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    for path in paths:
        try:
            articles.append(read_article(path))
            names.append(path.name)
        except (OSError, ValueError) as exc:
            skipped.append(SkippedFile(path=path.name, reason=str(exc)))
    return _Chunk(names, articles, [identity_keys(a) for a in articles], skipped, tokenize_articles(articles))


def load_and_index(directory: Path, progress: Progress | None = None, workers: int = 1) -> tuple[Corpus, SearchIndex]:
    """The corpus and its index; the same result however many processes do the work."""
    paths = corpus_files(directory)
    if workers >= 2 and len(paths) >= MIN_FILES_FOR_WORKERS:
        try:
            return _in_workers(paths, progress, workers)
        except (BrokenProcessPool, OSError) as exc:  # e.g. no /dev/shm or a killed worker
            log.warning("building in worker processes failed (%r); building in this one", exc)
    corpus = load_corpus(directory)
    return corpus, build_index(corpus, progress)


def _in_workers(paths: list[Path], progress: Progress | None, workers: int) -> tuple[Corpus, SearchIndex]:
    started = time.perf_counter()
    runs = [paths[i : i + CHUNK_FILES] for i in range(0, len(paths), CHUNK_FILES)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_load_chunk, run) for run in runs]
        done = 0
        for future in as_completed(futures):
            finished = future.result()
            done += len(finished.names) + len(finished.skipped)
            if progress:
                progress(done, len(paths))
        chunks = [f.result() for f in futures]
    loaded = time.perf_counter()
    dedupe = Deduplicator()
    skipped: list[SkippedFile] = []
    kept: list[tuple[Article, int, int]] = []  # article, chunk, position in chunk
    for chunk_no, chunk in enumerate(chunks):
        skipped.extend(chunk.skipped)
        for i, (name, article, keys) in enumerate(zip(chunk.names, chunk.articles, chunk.keys)):
            duplicate = dedupe.admit(name, keys)
            if duplicate:
                skipped.append(SkippedFile(path=name, reason=duplicate))
            else:
                kept.append((article, chunk_no, i))
    skipped.sort(key=lambda s: s.path)
    for item in skipped:
        log.warning("skipping corpus file %s: %s", item.path, item.reason)
    final = newest_first([article for article, _, _ in kept])
    place = {article.id: at for at, article in enumerate(final)}
    positions = [np.full(len(chunk.articles), -1, dtype=np.int64) for chunk in chunks]
    for article, chunk_no, i in kept:
        positions[chunk_no][i] = place[article.id]
    corpus = Corpus(articles=tuple(final), skipped=tuple(skipped))
    tokens = merge_tokens([chunk.tokens for chunk in chunks], positions, len(final))
    merged = time.perf_counter()
    index = assemble_index(corpus.articles, tokens)
    log.info("%d files loaded and tokenised in %.1fs by %d processes, merged in %.1fs, indexed in %.1fs",
             len(paths), loaded - started, workers, merged - loaded, time.perf_counter() - merged)
    return corpus, index
