"""A `Snapshot`: one immutable state of the corpus with its search index and people directory.

Building reads one way: the corpus is loaded (and tokenised, in workers when large,
`bot.library.workers`), the search index assembled from it, then the people directory.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.corpus import Corpus, Signature, corpus_signature
from bot.library.workers import load_and_index
from bot.people import PeopleDirectory, build_directory
from bot.search import SearchEngine

UNREAD = -1  # size and mtime recorded for a file still being written: the next check sees a change


@dataclass(frozen=True)
class Snapshot:
    corpus: Corpus
    search: SearchEngine
    people: PeopleDirectory | None  # None while it is still being built
    signature: Signature  # of the files as read: a pending file never matches its real state
    built_seconds: float


def _mark_pending(signature: Signature, pending: tuple[str, ...]) -> Signature:
    """The signature with the files still being written marked unread, so they are read again."""
    if not pending:
        return signature
    waiting = set(pending)
    return tuple((name, UNREAD, UNREAD) if name in waiting else (name, size, mtime) for name, size, mtime in signature)


def build_snapshot(corpus_dir: Path, progress: Callable[[int, int], None] | None = None,
                   with_people: bool = True, workers: int = 1, *, settle: float = 0.0,
                   previous: Corpus | None = None, abandon: threading.Event | None = None,
                   background: bool = False, loaded: Callable[[Corpus, Signature], None] | None = None) -> Snapshot:
    """Load and index the corpus (in `workers` processes when it is large), then the people.

    A file that changed within `settle` seconds is read only if it then stays unchanged;
    until it does, it keeps its version in `previous`. Setting `abandon` stops the loading
    and indexing soon (LoadAbandoned). `background`: build processes at the lowest priority.
    `loaded`: told the corpus and its signature once loaded, before the index is assembled."""
    started = time.perf_counter()
    signature = corpus_signature(corpus_dir)  # before reading: a file changed meanwhile is read again next time
    marked: list[Signature] = []

    def corpus_loaded(corpus: Corpus) -> None:
        marked.append(_mark_pending(signature, corpus.pending))
        if loaded is not None:
            loaded(corpus, marked[-1])

    corpus, index = load_and_index(corpus_dir, progress, workers, settle=settle, previous=previous, abandon=abandon,
                                   background=background, loaded=corpus_loaded)
    snapshot = Snapshot(corpus, SearchEngine(index), None, marked[-1], time.perf_counter() - started)
    return with_people_added(snapshot, corpus_dir) if with_people else snapshot


def with_people_added(snapshot: Snapshot, corpus_dir: Path) -> Snapshot:
    started = time.perf_counter()
    people = build_directory(snapshot.corpus, corpus_dir / "people.yml")
    return dataclasses.replace(snapshot, people=people,
                               built_seconds=snapshot.built_seconds + time.perf_counter() - started)
