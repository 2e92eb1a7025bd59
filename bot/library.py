"""The loaded corpus with its search index and people directory, reloaded on change.

A `Snapshot` is immutable; `Library.current` is swapped in one assignment after a
background rebuild, so a query always sees one whole snapshot, never half of one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.corpus import Corpus, CorpusUnavailable, corpus_signature, load_corpus
from bot.people import PeopleDirectory, build_directory
from bot.search import SearchEngine, build_index

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    corpus: Corpus
    search: SearchEngine
    people: PeopleDirectory
    signature: tuple[tuple[str, int, int], ...]
    built_seconds: float


def build_snapshot(corpus_dir: Path, progress: Callable[[int, int], None] | None = None) -> Snapshot:
    started = time.perf_counter()
    signature = corpus_signature(corpus_dir)
    corpus = load_corpus(corpus_dir)
    engine = SearchEngine(build_index(corpus, progress))
    people = build_directory(corpus, corpus_dir / "people.yml")
    return Snapshot(corpus, engine, people, signature, time.perf_counter() - started)


class Library:
    """Holds the current snapshot; `None` with an error message when the corpus is unavailable."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self.current: Snapshot | None = None
        self.error: str | None = None
        self._listeners: list[Callable[[Snapshot], None]] = []

    def load(self) -> Snapshot | None:
        try:
            self.current = build_snapshot(self.corpus_dir)
            self.error = None
            log.info(
                "corpus loaded: %d articles, %d skipped, %d passages, %d people in %.2fs",
                len(self.current.corpus.articles), len(self.current.corpus.skipped),
                self.current.search.index.passage_count, len(self.current.people.people),
                self.current.built_seconds,
            )
        except CorpusUnavailable as exc:
            self.current = None
            self.error = str(exc)
            log.error("corpus unavailable: %s", exc)
        return self.current

    def changed(self) -> bool:
        signature = corpus_signature(self.corpus_dir)
        return signature != (self.current.signature if self.current else ()) or (self.current is None and bool(signature))

    async def reload_if_changed(self) -> bool:
        """Rebuild off the event loop and swap atomically; keep the old snapshot on failure."""
        if not self.changed():
            return False
        try:
            snapshot = await asyncio.to_thread(build_snapshot, self.corpus_dir)
        except CorpusUnavailable as exc:
            self.current, self.error = None, str(exc)
            log.error("corpus unavailable: %s", exc)
            return True
        except Exception:
            log.exception("corpus reload failed; keeping the previous index")
            return False
        self.current, self.error = snapshot, None
        log.info("corpus reloaded: %d articles in %.2fs", len(snapshot.corpus.articles), snapshot.built_seconds)
        return True

    async def watch(self, interval: float) -> None:
        """Poll the corpus directory; runs until cancelled."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reload_if_changed()
            except Exception:  # never let the watcher die silently
                log.exception("corpus watcher error")
