"""The saved index: a complete snapshot on disk, so a restart with an unchanged corpus is quick.

One file per corpus state, named by a hash of the corpus signature and `CACHE_VERSION`;
written atomically (temporary file, then rename), and only the newest is kept.
A file that cannot be read is ignored and rebuilt, never fatal.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path

from bot.common.progress import Progress
from bot.corpus import Signature, corpus_signature
from bot.library.snapshot import UNREAD, Snapshot, build_snapshot

log = logging.getLogger(__name__)

CACHE_VERSION = 7  # bump when Snapshot, Corpus, SearchIndex or the people models change shape


def _cache_file(cache_dir: Path, signature: Signature) -> Path:
    digest = hashlib.sha256(repr((CACHE_VERSION, signature)).encode()).hexdigest()[:20]
    return cache_dir / f"snapshot-{digest}.pickle"


def load_saved(cache_dir: Path | None, signature: Signature) -> Snapshot | None:
    """The saved snapshot for exactly this corpus state, or None."""
    if cache_dir is None:
        return None
    path = _cache_file(cache_dir, signature)
    if not path.exists():
        return None
    try:
        with path.open("rb") as f:
            snapshot = pickle.load(f)  # noqa: S301 - our own file, written by save_snapshot
    except Exception as exc:  # a truncated or stale-format file is rebuilt, not fatal
        log.warning("ignoring unreadable saved index %s: %r", path.name, exc)
        return None
    return snapshot if isinstance(snapshot, Snapshot) and snapshot.signature == signature else None


def save_snapshot(cache_dir: Path | None, snapshot: Snapshot) -> None:
    """Write atomically and keep only the newest file. A snapshot still waiting for a file
    being written is not saved: it is not the state of any corpus on disk."""
    if cache_dir is None or snapshot.people is None or any(size == UNREAD for _, size, _ in snapshot.signature):
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        path = _cache_file(cache_dir, snapshot.signature)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")  # replicas sharing the cache never write one file
        with tmp.open("wb") as f:
            pickle.dump(snapshot, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        for old in cache_dir.glob("snapshot-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not save the index to %s: %s", cache_dir, exc)


def open_snapshot(corpus_dir: Path, cache_dir: Path | None, *, with_people: bool,
                  progress: Progress | None = None, workers: int = 1) -> Snapshot:
    """The saved snapshot when it matches the corpus, else one built now with only what is asked
    for (search alone is much quicker than search and people); a complete one is saved for next time.
    The one-shot commands (`tradebot search`, `who`, `people`) start this way."""
    signature = corpus_signature(corpus_dir)
    saved = load_saved(cache_dir, signature) if signature else None
    if saved is not None and (saved.people is not None or not with_people):
        log.info("corpus loaded from the saved index in %s", cache_dir)
        return saved
    snapshot = build_snapshot(corpus_dir, progress, with_people, workers)
    save_snapshot(cache_dir, snapshot)
    return snapshot
