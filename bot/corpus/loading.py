"""Loading a corpus directory: read every file, keep the complete ones, drop duplicates.

A file rewritten in place is, for a while, a prefix of itself, and its writer may pause
for any time mid-file. Such a file is never loaded: a file counts as complete only when
it did not change while it was read and has not changed for `settle` seconds since.
A file that is still changing is `pending`: its previous version (from the corpus loaded
before) is kept, and the next reload tries it again. For a file that has a previous
version (`hold`), "not changed for `settle` seconds" means last written that long ago:
its old version is served meanwhile, so nothing is lost by waiting, however long the
writer pauses. A new file written moments ago costs one short wait per run of files
(it has no old version to show instead). A file moved into place after its last write
(written elsewhere, then renamed) is complete at once.

Reading is split into runs (`read_run`, possibly in worker processes) and `combine`,
which admits articles in file order, so the result is the same however the runs
were read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.corpus.dedupe import Deduplicator, IdentityKeys, identity_keys
from bot.corpus.files import FileChanging, FileRead, corpus_files, file_stamp, read_file
from bot.corpus.model import Article, Corpus, SkippedFile, newest_first

log = logging.getLogger(__name__)

PENDING_REASON = "still being written; tried again at the next reload"
CHECK_EVERY = 256  # files between looks at the `abandon` flag


class LoadAbandoned(Exception):
    """The load was told to stop (`abandon` was set): the process is shutting down."""


@dataclass
class FileRun:
    """What reading a run of files gave: the articles (in file order) and the files without one."""

    names: list[str] = field(default_factory=list)  # of the files that loaded, in order
    articles: list[Article] = field(default_factory=list)
    keys: list[IdentityKeys] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # files that were still changing

    def add(self, name: str, read: FileRead) -> None:
        if read.article is None:
            self.skipped.append(SkippedFile(path=name, reason=read.error or "unreadable"))
        else:
            self.names.append(name)
            self.articles.append(read.article)
            self.keys.append(identity_keys(read.article, read.packed))


def read_run(paths: Sequence[Path], settle: float = 0.0, abandon: threading.Event | None = None,
             hold: frozenset[str] = frozenset()) -> FileRun:
    """Read files, keeping only those complete and unchanged for `settle` seconds.
    Raises LoadAbandoned soon after `abandon` is set."""
    run = FileRun()
    fresh: list[tuple[Path, FileRead]] = []
    settle_ns = int(settle * 1e9)
    for n, path in enumerate(paths):
        if abandon is not None and n % CHECK_EVERY == 0 and abandon.is_set():
            raise LoadAbandoned
        try:
            read = read_file(path)
        except FileChanging:
            run.pending.append(path.name)
            continue
        except OSError as exc:  # e.g. deleted since it was listed, or a directory named *.md
            run.skipped.append(SkippedFile(path=path.name, reason=f"cannot be read ({exc.strerror or exc})"))
            continue
        if settle_ns and not read.renamed and time.time_ns() - read.stamp[2] < settle_ns:
            if path.name in hold:  # rewritten in place moments ago: keep the old version for now
                run.pending.append(path.name)
            else:
                fresh.append((path, read))
        else:
            run.add(path.name, read)
    if fresh:  # changed moments ago: complete only if it stays as it is for `settle`
        youngest = max(read.stamp[2] for _, read in fresh)
        time.sleep(max(0.0, min(settle, (youngest + settle_ns - time.time_ns()) / 1e9)))
        for path, read in fresh:
            if file_stamp(path) == read.stamp:
                run.add(path.name, read)
            else:
                run.pending.append(path.name)
    return run


def held_files(previous: Corpus | None) -> frozenset[str]:
    """The files that have a version loaded before, to keep while they are rewritten."""
    return frozenset(previous.files) if previous is not None else frozenset()


def kept_versions(pending: Sequence[str], previous: Corpus | None) -> FileRun:
    """For files still being written: their previous versions, where there are any."""
    run = FileRun()
    for name in pending:
        old = previous.from_file(name) if previous else None
        if old is None:
            run.skipped.append(SkippedFile(path=name, reason=PENDING_REASON))
        else:
            run.names.append(name)
            run.articles.append(old)
            run.keys.append(identity_keys(old))
    return run


def combine(runs: Sequence[FileRun]) -> tuple[Corpus, list[list[int]]]:
    """The corpus from runs of files: duplicates dropped in file-name order (the first file wins),
    newest first. Also, per run, where each of its articles ended up (-1: dropped)."""
    entries = sorted((name, run_no, i) for run_no, run in enumerate(runs) for i, name in enumerate(run.names))
    dedupe = Deduplicator()
    skipped = [s for run in runs for s in run.skipped]
    kept: list[tuple[Article, str, int, int]] = []
    for name, run_no, i in entries:
        duplicate = dedupe.admit(name, runs[run_no].keys[i])
        if duplicate:
            skipped.append(SkippedFile(path=name, reason=duplicate))
        else:
            kept.append((runs[run_no].articles[i], name, run_no, i))
    skipped.sort(key=lambda s: s.path)
    for item in skipped:
        log.warning("skipping corpus file %r: %s", item.path, item.reason)
    final = newest_first([article for article, _, _, _ in kept])
    place = {article.id: at for at, article in enumerate(final)}
    positions = [[-1] * len(run.names) for run in runs]
    for article, _, run_no, i in kept:
        positions[run_no][i] = place[article.id]
    pending = tuple(sorted(name for run in runs for name in run.pending))
    corpus = Corpus(articles=tuple(final), skipped=tuple(skipped), pending=pending,
                    files={name: article.id for article, name, _, _ in kept})
    return corpus, positions


def load_files(paths: Sequence[Path], *, settle: float = 0.0, previous: Corpus | None = None,
               abandon: threading.Event | None = None) -> Corpus:
    """These files as a corpus; with `previous`, a file still being written keeps the version loaded then."""
    run = read_run(paths, settle, abandon, held_files(previous))
    corpus, _ = combine([run, kept_versions(run.pending, previous)])
    return corpus


def load_corpus(directory: Path, *, settle: float = 0.0, previous: Corpus | None = None) -> Corpus:
    """Load every `*.md` file; skip (and report) the bad ones and the duplicates."""
    return load_files(corpus_files(directory), settle=settle, previous=previous)
