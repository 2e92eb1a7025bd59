"""What the people worker process and its helpers run (`bot.library.people.PeopleWorker` sends it).

The worker keeps one `PeopleCache` (what each article said) between builds; helpers read runs
of articles for it and pass their results on as bytes. Only for our own processes and files:
this is unpickling.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bot.corpus import Article, FileChanging, read_file
from bot.library.memory import trim_heap
from bot.library.parts import Part, directory_parts
from bot.people import PeopleCache, Stamp
from bot.people.build import Needed, Reading, read_articles

log = logging.getLogger(__name__)

_PEOPLE = PeopleCache()  # in the people worker: what each article said, kept between builds
_FROM_FILES: dict[str, tuple[Stamp, Article]] = {}  # in a helper: articles it read from files (`_from_file`)
_READING: tuple[bytes, Reading] | None = None  # in a helper: the last reading unpickled


def people_add(articles: list[tuple[Article, Stamp]]) -> None:
    with _no_gc():
        _PEOPLE.add(articles)


def people_store(read: bytes) -> None:
    with _no_gc():
        _PEOPLE.store(pickle.loads(read))  # noqa: S301 - from our own helper process


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """In the people worker and its helpers: no cyclic collection while results pile up, and what
    is kept frozen out of its way afterwards. The cache holds millions of small objects and no
    cycles (entries are replaced whole, freed by reference counting); every full collection would
    walk them all, and they trigger often while a build allocates (a third of a build's time)."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def people_keep(path: str) -> bool:
    """In the people worker: write what it keeps to `path` (beside the saved index), for the next
    process; False when there is nothing yet. Written whole, then renamed into place."""
    if not _PEOPLE.size:
        return False
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(_PEOPLE, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return True


def people_resume(path: str) -> int:
    """In a new people worker: take up what an earlier process kept (`people_keep`), so the first
    change after a restart reads what changed, not every article. Anything unreadable: start empty."""
    global _PEOPLE
    try:
        with open(path, "rb") as f, _no_gc():
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


def people_read(run: list[tuple[Article | str, Stamp]], reading: bytes, directory: str | None = None,
                ) -> tuple[bytes, list[str]]:
    """In a helper: both passes over a run of articles, pickled for the worker (the bot only passes
    the bytes on). An article given by id is read from its file in `directory` (its stamp names it),
    so the bot need not pickle it; one whose file is no longer that version is not read here, and
    its id comes back to be sent as the article."""
    global _READING
    with _no_gc():
        if _READING is None or _READING[0] != reading:
            _READING = (reading, pickle.loads(reading))  # noqa: S301 - from our own worker process
        articles, missed = [], []
        kept = len(_FROM_FILES)
        for item, stamp in run:
            article = item if isinstance(item, Article) else _from_file(directory, item, stamp)
            if article is None:
                missed.append(str(item))
            else:
                articles.append((article, stamp))
        read = pickle.dumps(read_articles(articles, _READING[1]), protocol=pickle.HIGHEST_PROTOCOL)
        if len(_FROM_FILES) < kept:  # kept articles were used up: their memory goes back as they are,
            del articles  # not when the helper ends (the people worker grows meanwhile)
            trim_heap()
        return read, missed


def _from_file(directory: str | None, article_id: str, stamp: Stamp) -> Article | None:
    """The article `article_id` from the file `stamp` names, if it is still that version of it.
    Kept until it is asked for once more: a first build reads every article twice (the second time
    for the names the first found), and a helper is asked for the same articles both times
    (`bot.library.people._read_by_helpers`); the helper, and what it keeps, ends with the build."""
    kept = _FROM_FILES.pop(article_id, None)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    if directory is None or not isinstance(stamp, tuple) or len(stamp) != 3 or not stamp[0]:
        return None
    try:
        read = read_file(Path(directory, stamp[0]))
    except (OSError, FileChanging):
        return None
    if read.article is None or read.article.id != article_id or read.stamp[1:] != stamp[1:]:
        return None
    _FROM_FILES[article_id] = (stamp, read.article)
    return read.article


FileStamp = tuple[str, int, int]  # the stamps the bot gives: file name (or ""), size, mtime (or two other ints)


def pack_order(order: list[tuple[str, FileStamp]]) -> tuple[bytes, bytes, bytes]:
    """Article ids and stamps as three flat buffers: pickling 100k tuples of them would hold the
    bot's interpreter lock for ~200 ms in one C call (every ack waits); these are copied in ~1 ms.
    (Ids are `[a-z0-9-]` and file names hold no NUL: both are joined with one.)"""
    numbers = np.fromiter((n for _, (_, size, mtime) in order for n in (size, mtime)), np.int64, 2 * len(order))
    return ("\0".join(i for i, _ in order).encode(), "\0".join(s[0] for _, s in order).encode("utf-8", "surrogateescape"),
            numbers.tobytes())


def unpack_order(packed: tuple[bytes, bytes, bytes]) -> list[tuple[str, FileStamp]]:
    ids_bytes, names_bytes, numbers_bytes = packed
    if not ids_bytes and not numbers_bytes:
        return []
    ids, names = ids_bytes.decode().split("\0"), names_bytes.decode("utf-8", "surrogateescape").split("\0")
    numbers = np.frombuffer(numbers_bytes, dtype=np.int64).reshape(-1, 2).tolist()
    return [(i, (name, size, mtime)) for i, name, (size, mtime) in zip(ids, names, numbers, strict=True)]


def people_assemble(order: tuple[bytes, bytes, bytes], overrides: Path) -> tuple[list[str], bytes] | list[Part]:
    """In the people worker: the ids it must read first (and how, pickled for helpers), or the
    directory as parts (`bot.library.parts`: the bot unpickles only its name index, then a person
    when an answer shows them). `order` as `pack_order` gives it."""
    with _no_gc():
        result = _PEOPLE.assemble(unpack_order(order), overrides)
    if isinstance(result, Needed):
        return result.ids, pickle.dumps(result.reading, protocol=pickle.HIGHEST_PROTOCOL)
    return directory_parts(result)
