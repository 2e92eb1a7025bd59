"""The saved index: a snapshot on disk, so a restart with an unchanged corpus is ready in a moment.

One directory per corpus state, `index-<hash of the corpus signature and CACHE_VERSION>`,
in the layout of `bot.library.mapped`: the search index and the article bodies are
numpy arrays opened by memory mapping (several processes on one host share one copy),
the articles' other fields are one JSON file, and the people directory, which is
saved once it is built, is a file of pickled parts beside them that is read only when
wanted, each person only when asked for (`bot.library.parts`: the event loop is never held up for long).
Only the newest directory is kept. Anything that does not check out (truncated,
damaged, foreign, another version, another corpus state) is ignored and rebuilt.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import logging
import shutil
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bot.common.progress import Progress
from bot.common.signature import SignatureScan
from bot.corpus import Article, Corpus, Signature, SkippedFile
from bot.library import mapped
from bot.library.mapped import Damaged
from bot.library.parts import directory_from_parts, directory_parts
from bot.library.snapshot import UNREAD, Snapshot, build_snapshot, with_people_added
from bot.people import PeopleDirectory
from bot.search import SearchEngine
from bot.search.stored import index_from_parts, index_parts

log = logging.getLogger(__name__)

CACHE_VERSION = 11  # bump when Snapshot, Corpus, Article, SearchIndex, the people models or the layout change
_FIELDS = [f.name for f in dataclasses.fields(Article)]
_COLUMNS = ["id", "title", "publisher", "url", "source_file"]  # str or None each; `_corpus_from` sets them
if sorted(_FIELDS) != sorted([*_COLUMNS, "published", "body_utf8"]):  # pragma: no cover - a new Article field
    raise ImportError("Article's fields changed: update bot.library.saved and CACHE_VERSION")
_SLOTS = {name: vars(Article)[name] for name in _FIELDS}  # each field's slot (a member descriptor)
PEOPLE, PEOPLE_ENTRY, CORPUS = "people.pickle", "people.json", "corpus.json"
SIGNATURE = "signature.json"  # the state saved for, read only by a start after a change (`load_latest`)
WORKER = "people-worker.pickle"  # what the people worker keeps per article (`bot.library.people`)
STALE_TEMPORARY_S = 3600.0  # a temporary directory this old is a save that died


def index_dir(cache_dir: Path, signature: Signature) -> Path:
    return cache_dir / f"index-{_digest(signature)}"


_NAMED: list[tuple[Signature, str]] = []  # the last signatures named, by identity (see `_digest`)


def _digest(signature: Signature) -> str:
    """The corpus state's name: the names (no file name holds NUL) and their sizes and mtimes as
    64-bit numbers, hashed without formatting each entry (100k entries: ~50 ms rather than ~90).
    A start asks for it several times, with one signature object: remembered by identity, since
    hashing 100k entries as a cache key would take ~20 ms each time."""
    for known, name in _NAMED:
        if known is signature:
            return name
    digest = hashlib.sha256(f"{CACHE_VERSION}\n".encode())
    digest.update("\0".join([name for name, _, _ in signature]).encode("utf-8", "surrogatepass"))
    digest.update(array("q", [n for _, size, mtime in signature for n in (size, mtime)]).tobytes())
    name = digest.hexdigest()[:20]
    _NAMED[:] = [(signature, name), *_NAMED[:3]]
    return name


def _signature_columns(signature: Signature) -> dict[str, Any]:
    """As three columns, the names in one string (no file name holds NUL): read back in half the
    time of one list per file."""
    return {"names": "\0".join([name for name, _, _ in signature]), "sizes": [size for _, size, _ in signature],
            "mtimes": [mtime for _, _, mtime in signature]}


def _signature_from(columns: Any) -> Signature:
    """The signature `_signature_columns` wrote; raises (ValueError, TypeError, KeyError...) when it is
    not one: as many names, sizes and mtimes (here), names text and the numbers 64-bit integers (`_digest`)."""
    names = columns["names"].split("\0") if columns["names"] else []
    return tuple(zip(names, columns["sizes"], columns["mtimes"], strict=True))


def _corpus_parts(corpus: Corpus, pause: Callable[[], None]) -> tuple[dict[str, np.ndarray], bytes]:
    """The articles as arrays (their bodies' ends, their dates) and JSON (their other fields), the
    JSON a column at a time with `pause` between (in one piece, encoding it would hold the
    interpreter for ~200 ms at 100k articles); the bodies are written piece by piece (`_write`)."""
    articles = corpus.articles
    arrays: dict[str, np.ndarray] = {
        "body_ends": np.cumsum([len(a.body_utf8) for a in articles], dtype=np.int64),
        "published": np.asarray([a.published.toordinal() for a in articles], dtype=np.int32)}
    columns = []
    for name in _COLUMNS:
        pause()
        values = [getattr(a, name) for a in articles]
        if any(v is not None and not isinstance(v, str) for v in values):
            raise TypeError("an article field other than the date and body is not text")
        columns.append(f"{json.dumps(name)}: {json.dumps(values)}")
    pause()
    skipped = [[s.path, s.reason] for s in corpus.skipped]
    text = (f'{{"fields": {json.dumps(_FIELDS)}, "columns": {{{", ".join(columns)}}}, '
            f'"files": {json.dumps(corpus.files)}, "pending": {json.dumps(corpus.pending)}, "skipped": {json.dumps(skipped)}}}')
    return arrays, text.encode("utf-8")


def _corpus_from(arrays: dict[str, np.ndarray], data: dict[str, Any]) -> Corpus:
    """Articles made as unpickling makes them (no validation: they were valid when saved), each body
    a read-only view of the memory-mapped bodies (`Article.body_utf8`)."""
    if data["fields"] != _FIELDS:
        raise Damaged("articles were saved with other fields")
    columns = [data["columns"][name] for name in _COLUMNS]
    ends = arrays["body_ends"].tolist()
    published = arrays["published"].tolist()
    if any(len(column) != len(ends) for column in (published, *columns)) or (ends and ends[-1] != arrays["bodies"].size):
        raise Damaged("article columns differ in length")
    body = arrays["bodies"].data if arrays["bodies"].size else memoryview(b"")
    # Field by field, each by `map` over the slots' own setters: no Python code runs per article
    # (0.13 s at 100k articles; an object at a time, 0.3 s).
    articles = list(map(object.__new__, itertools.repeat(Article, len(ends))))
    drain = collections.deque[object](maxlen=0).extend
    for name, values in zip(_COLUMNS, columns, strict=True):
        drain(map(_SLOTS[name].__set__, articles, values))
    drain(map(_SLOTS["published"].__set__, articles, map(dt.date.fromordinal, published)))
    views = map(body.__getitem__, map(slice, [0, *ends[:-1]], ends))  # of the mapped file: nothing copied
    drain(map(_SLOTS["body_utf8"].__set__, articles, views))
    return Corpus.model_construct(articles=tuple(articles), files=data["files"], pending=tuple(data["pending"]),
                                  skipped=tuple(SkippedFile(path=p, reason=r) for p, r in data["skipped"]))


def _open(directory: Path, signature: Signature) -> Snapshot:
    manifest = mapped.read_manifest(directory, CACHE_VERSION)
    if manifest.get("state") != _digest(signature):  # (the signature itself is not read: 100k entries)
        raise Damaged("saved for another corpus state")
    arrays = mapped.open_arrays(directory, manifest["arrays"])
    corpus_file = directory / CORPUS
    mapped.check_file(corpus_file, manifest["corpus"])
    mapped.verify(directory, {"corpus": manifest["corpus"]}, ".json")
    corpus = _corpus_from(arrays, json.loads(corpus_file.read_bytes()))
    index = index_from_parts(corpus.articles, {k[len("search."):]: v for k, v in arrays.items()
                                               if k.startswith("search.")}, manifest["search"])
    return Snapshot(corpus, SearchEngine(index), None, signature, float(manifest["built_seconds"]))


def load_saved(cache_dir: Path | None, signature: Signature, *, with_people: bool = True) -> Snapshot | None:
    """The saved snapshot for exactly this corpus state, or None. Its people directory is
    read too when asked for and saved (else `people` is None: see `saved_people`)."""
    if cache_dir is None or not signature:
        return None
    directory = index_dir(cache_dir, signature)
    if not directory.is_dir():
        return None
    started = time.perf_counter()
    try:
        snapshot = _open(directory, signature)
    except Exception as exc:  # damaged, foreign or half-deleted: rebuilt, never fatal
        log.warning("ignoring unreadable saved index %s: %s", directory.name, exc)
        shutil.rmtree(directory, ignore_errors=True)  # (published whole by a rename: no writer is inside)
        return None
    log.info("saved index %s opened in %.2fs", directory.name, time.perf_counter() - started)
    if with_people:
        snapshot = dataclasses.replace(snapshot, people=saved_people(cache_dir, signature))
    return snapshot


def load_latest(cache_dir: Path | None) -> Snapshot | None:
    """The newest saved snapshot whatever corpus state it was saved for (search only): a start
    opens it while the corpus's signature is worked out, and uses it as it is when that is the
    state it was saved for, else applies the change as a delta (`bot.library.fresh`)."""
    if cache_dir is None or not cache_dir.is_dir():
        return None
    found = sorted(cache_dir.glob("index-*"), key=lambda d: d.stat().st_mtime, reverse=True)
    for directory in found[:1]:
        try:
            mapped.read_manifest(directory, CACHE_VERSION)
            signature = _signature_from(json.loads((directory / SIGNATURE).read_bytes()))
            if index_dir(cache_dir, signature) != directory:
                raise Damaged("its signature is not the state it is named after")
        except (Damaged, OSError, ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            log.warning("ignoring unreadable saved index %s: %s", directory.name, exc)
            continue
        return load_saved(cache_dir, signature, with_people=False)
    return None


def open_newest(corpus_dir: Path, cache_dir: Path | None) -> tuple[Snapshot | None, Signature]:
    """The newest save (search only; `load_latest`) and the corpus's signature, worked out together:
    the save is opened while a child process stats the corpus's files (`SignatureScan`). Without a
    save, the signature is not waited for (the build that follows works it out): then ()."""
    if cache_dir is None:
        return None, ()
    scan = SignatureScan(corpus_dir)
    try:
        latest = load_latest(cache_dir)
        return latest, scan.result() if latest is not None else ()
    finally:
        scan.close()


def worker_file(cache_dir: Path | None, signature: Signature) -> Path | None:
    """Where the people worker keeps its per-article results beside this corpus state's saved index
    (None without a saved index): removed with it, so they never outlive the state they were kept in."""
    if cache_dir is None or not signature:
        return None
    directory = index_dir(cache_dir, signature)
    return directory / WORKER if directory.is_dir() else None


def saved_people(cache_dir: Path | None, signature: Signature) -> PeopleDirectory | None:
    """The saved people directory for this corpus state, or None (not saved yet, or unreadable)."""
    if cache_dir is None:
        return None
    directory = index_dir(cache_dir, signature)
    try:
        entry = json.loads((directory / PEOPLE_ENTRY).read_text(encoding="utf-8"))
        data = mapped.map_checked(directory / PEOPLE, entry)  # (a person's bytes are read when asked for)
        ends = np.cumsum(entry["parts"]).tolist()
        if not ends or ends[-1] != len(data):
            raise Damaged(f"{PEOPLE}: parts of {ends[-1] if ends else 0} bytes in all, the file has {len(data)}")
        return directory_from_parts(data[start:end] for start, end in itertools.pairwise([0, *ends]))
    except FileNotFoundError:
        return None
    except Exception as exc:
        log.warning("ignoring unreadable saved people directory in %s: %s", directory.name, exc)
        return None


def verify_saved(cache_dir: Path | None, signature: Signature) -> bool:
    """Every byte of the saved index against its checksums; a damaged one is removed.
    (Opening checks only sizes and file ends, so that it takes no time.)"""
    if cache_dir is None:
        return False
    directory = index_dir(cache_dir, signature)
    try:
        mapped.verify(directory, mapped.read_manifest(directory, CACHE_VERSION)["arrays"])
        return True
    except Damaged as exc:
        log.error("saved index %s is damaged (%s): removing it", directory.name, exc)
        shutil.rmtree(directory, ignore_errors=True)
        return False


def _write(directory: Path, snapshot: Snapshot, pause: Callable[[], None]) -> None:
    corpus_arrays, corpus_json = _corpus_parts(snapshot.corpus, pause)
    search_arrays, search_meta = index_parts(snapshot.search.index)
    arrays = {**corpus_arrays, **{f"search.{k}": v for k, v in search_arrays.items()}}
    entries = mapped.write_arrays(directory, arrays, pause)
    pause()
    entries["bodies"] = mapped.write_bytes(directory, "bodies", [a.body_utf8 for a in snapshot.corpus.articles])
    (directory / CORPUS).write_bytes(corpus_json)
    (directory / SIGNATURE).write_text(json.dumps(_signature_columns(snapshot.signature)), encoding="utf-8")
    mapped.write_manifest(directory, {"state": _digest(snapshot.signature), "built_seconds": snapshot.built_seconds,
                                      "arrays": entries, "search": search_meta,
                                      "corpus": mapped.file_entry(directory / CORPUS)}, CACHE_VERSION)


def _add_people(directory: Path, people: PeopleDirectory) -> None:
    """The parts first, then the entry that vouches for them (with each part's length): a reader sees both or neither."""
    parts = directory_parts(people)
    mapped.replace_file(directory / PEOPLE, parts)
    entry = {**mapped.file_entry(directory / PEOPLE), "parts": [len(part) for part in parts]}
    mapped.replace_file(directory / PEOPLE_ENTRY, [json.dumps(entry).encode()])


def _remove_others(cache_dir: Path, keep: Path) -> None:
    for old in cache_dir.iterdir():
        if old == keep:
            continue
        if old.name.startswith("index-") or (old.name.startswith(".tmp-index-")
                                             and time.time() - old.stat().st_mtime > STALE_TEMPORARY_S):
            shutil.rmtree(old, ignore_errors=True)  # (a process that has it mapped keeps its copy)
        elif old.name.startswith("snapshot-") and old.suffix == ".pickle":  # the format before version 8
            old.unlink(missing_ok=True)


def save_snapshot(cache_dir: Path | None, snapshot: Snapshot, pause: Callable[[], None] = lambda: None) -> None:
    """Save the search index (if not saved yet) and the people directory (if built and not saved
    yet), atomically; keep only the newest. A snapshot still waiting for a file being written
    is not saved: it is not the state of any corpus on disk. `pause` is called between the files
    (the bot waits there while answers run: a save at 100k articles takes seconds)."""
    if cache_dir is None or any(size == UNREAD for _, size, _ in snapshot.signature):
        return
    if snapshot.search.delta is not None or snapshot.search.hidden is not None:
        return  # a main index with a delta beside it: saved once merged
    started = time.perf_counter()
    final = index_dir(cache_dir, snapshot.signature)
    try:
        if not (final / mapped.MANIFEST).exists():
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = mapped.temporary_beside(final)
            try:
                _write(tmp, snapshot, pause)
                if snapshot.people is not None:  # published with the rest, in one rename
                    _add_people(tmp, snapshot.people)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            if final.exists() and not (final / mapped.MANIFEST).exists():
                shutil.rmtree(final, ignore_errors=True)  # a leftover that is not a save
            mapped.publish(tmp, final)
        if snapshot.people is not None and not (final / PEOPLE_ENTRY).exists():
            _add_people(final, snapshot.people)
        _remove_others(cache_dir, final)
    except (OSError, TypeError) as exc:
        log.warning("could not save the index to %s: %s", cache_dir, exc)
        return
    log.info("index saved to %s in %.1fs", final, time.perf_counter() - started)


def open_snapshot(corpus_dir: Path, cache_dir: Path | None, *, with_people: bool,
                  progress: Progress | None = None, workers: int = 1) -> Snapshot:
    """The saved snapshot when it matches the corpus, else one built now; either way with only
    what is asked for (search alone is much quicker than search and people), and what was
    built is saved for next time. The one-shot commands (`tradebot search`, `who`, `people`) start this way."""
    saved, signature = open_newest(corpus_dir, cache_dir)
    if saved is not None and signature and saved.signature == signature:
        log.info("corpus loaded from the saved index in %s", cache_dir)
        if with_people:
            people = saved_people(cache_dir, signature)
            if people is not None:
                return dataclasses.replace(saved, people=people)
            saved = with_people_added(saved, corpus_dir)
            save_snapshot(cache_dir, saved)
        return saved
    snapshot = build_snapshot(corpus_dir, progress, with_people, workers)
    save_snapshot(cache_dir, snapshot)
    return snapshot
