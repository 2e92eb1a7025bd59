"""The corpus file format (the contract in README): rendering, parsing and reading one file.

Reading records the file's state (`Stamp`) and refuses a file that changed while it
was read, so the loader can tell a complete file from one still being written.
"""

from __future__ import annotations

import codecs
import datetime as dt
import errno
import os
import re
import stat
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.corpus.model import Article, body_paragraphs, pack_body, packed_as_is

FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it: 10x faster
MAX_FILE_BYTES = 4 * 1024 * 1024  # a news article is a few KB; a bigger .md file is not one
_ARTICLE_FIELDS = frozenset(f.name for f in fields(Article)) - {"body_utf8"}

Stamp = tuple[int, int, int]  # inode, size, mtime (ns): changes whenever the file's content may have


class CorpusUnavailable(Exception):
    """The corpus directory is missing or unreadable.

    `reason` is safe to show users; `str()` adds the path, for logs and the operator's CLI."""

    def __init__(self, reason: str, directory: Path) -> None:
        super().__init__(f"{reason}: {directory}")
        self.reason = reason
        self.directory = directory


class FileChanging(Exception):
    """The file changed while it was being read: it is being written."""


def render_article(article: Article) -> str:
    """The file text for an article; deterministic so ingest is byte-for-byte repeatable."""
    meta: dict[str, object] = {"id": article.id, "title": article.title, "publisher": article.publisher}
    if article.url:
        meta["url"] = article.url
    meta["published"] = article.published
    if article.source_file:
        meta["source_file"] = article.source_file
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{front}---\n" + "\n\n".join(article.paragraphs) + "\n"


_PLAIN_LINE_RE = re.compile(r"^([a-z_]+): ([^\s'\"\[\]{}#&*!|>%@`,?:-][^#\n]*?|[^\s'\"\[\]{}#&*!|>%@`,?:-])$")


def _plain_front_matter(block: str) -> dict[str, str] | None:
    """`key: value` lines with plain values, parsed without YAML (the common case; 3x faster).

    Anything else (quotes, lists, colons in a value) returns None and goes to the YAML parser."""
    meta: dict[str, str] = {}
    for line in block.splitlines():
        match = _PLAIN_LINE_RE.match(line)
        if not match or ": " in match.group(2):
            return None
        meta[match.group(1)] = match.group(2)
    return meta


def _body_utf8(body: str, head: str, utf8: bytes | None) -> bytes | None:
    """The body's bytes: the file's (`utf8`) after any BOM and the front matter (`head`), rather
    than encoded again; None when it has lone surrogates (only the full path strips them)."""
    if utf8 is not None:
        return utf8[len(head.encode("utf-8")) + (3 if utf8.startswith(codecs.BOM_UTF8) else 0):]
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        return None


def parse_article(text: str, *, fallback_id: str) -> Article:
    """Parse one article file; raises ValueError with a reason a person can act on."""
    return _parse(text, fallback_id, None)[0]


def _parse(text: str, fallback_id: str, utf8: bytes | None) -> tuple[Article, str | None]:
    """`parse_article` of `text`, the file's bytes `utf8` decoded (saves encoding the body again);
    also the body's non-ASCII characters when it is the file's as is (`packed_as_is`), else None."""
    text = text.removeprefix("\ufeff")
    match = FRONT_MATTER_RE.match(text)
    if not match:
        raise ValueError("no front matter block (--- ... ---) at the top")
    meta: Any
    try:
        meta = _plain_front_matter(match.group(1)) or yaml.load(match.group(1), Loader=_YAML_LOADER)  # noqa: S506
    except yaml.YAMLError as exc:
        raise ValueError(f"front matter is not valid YAML: {str(exc).splitlines()[0]}") from None
    except ValueError as exc:  # PyYAML builds dates itself: 2025-13-45 fails here
        raise ValueError(f"bad date in front matter ({exc}; want YYYY-MM-DD)") from None
    if not isinstance(meta, dict):
        raise ValueError("front matter is not a mapping of fields")
    body = text[match.end():]
    data = _body_utf8(body, text[:match.end()], utf8)
    packed = packed_as_is(data) if data is not None else None
    paragraphs = () if packed else body_paragraphs(body)
    if not packed and not paragraphs:
        raise ValueError("empty body")
    meta.setdefault("id", fallback_id)
    published = meta.get("published")
    if isinstance(published, str):
        try:
            meta["published"] = dt.date.fromisoformat(published.strip())
        except ValueError:
            raise ValueError(f"bad date {published!r} (want YYYY-MM-DD)") from None
    try:
        known = {str(k): v for k, v in meta.items() if k in _ARTICLE_FIELDS}
        return Article(**known, body_utf8=packed[0] if packed else pack_body(paragraphs)), packed[1] if packed else None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "article"
        raise ValueError(f"{field}: {first['msg'].removeprefix('Value error, ')}") from None


def decode_article(raw: bytes, *, fallback_id: str) -> tuple[Article, str | None]:
    """The article in a file's bytes, and `_parse`'s word on its body; ValueError says what is wrong."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("not UTF-8 (a UTF-16 byte order mark)")
    if b"\x00" in raw:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    return _parse(text, fallback_id, raw)


def _stamp(st: os.stat_result) -> Stamp:
    return st.st_ino, st.st_size, st.st_mtime_ns


def renamed_since_written(st: os.stat_result) -> bool:
    """True when the file's last change was a rename (or other metadata change) after its last
    write: a file written elsewhere and moved into place is complete, however new it is.
    A write sets mtime and ctime alike; only a later rename moves ctime past mtime."""
    return st.st_ctime_ns > st.st_mtime_ns


def file_stamp(path: Path) -> Stamp | None:
    """The file's state now; None when it is gone."""
    try:
        return _stamp(path.stat())
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class FileRead:
    """One file as read: its article or why it has none, and its state when read."""

    article: Article | None
    error: str | None
    stamp: Stamp
    renamed: bool = False  # moved into place after its last write (see `renamed_since_written`)
    packed: str | None = None  # the body's non-ASCII characters when it is the file's, as is (`_parse`)


def _read_to_end(fd: int, expect: int, limit: int) -> bytes:
    """Up to `limit` bytes, to the end of the file. A plain `os.read` loop asking first for
    `expect` bytes: a buffered `read(limit)` allocates `limit` (4 MB) for every 5 KB article."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(expect if not chunks else max(expect, 1 << 16), limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_file(path: Path) -> FileRead:
    """Read one article file. Raises FileChanging when it changed during the read, OSError
    when it cannot be opened; every other problem is the `error` of the result."""
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):  # as `open()` refuses it, whatever its size
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        before = _stamp(st)
        raw = _read_to_end(fd, before[1] + 1, MAX_FILE_BYTES + 1) if before[1] <= MAX_FILE_BYTES else b""
        st = os.fstat(fd)
        after = _stamp(st)
    finally:
        os.close(fd)
    renamed = renamed_since_written(st)
    if after != before:
        raise FileChanging(path.name)
    if after[1] > MAX_FILE_BYTES:
        return FileRead(None, f"file too large ({after[1]:,} bytes; an article file holds at most {MAX_FILE_BYTES:,})",
                        after, renamed)
    try:
        article, packed = decode_article(raw, fallback_id=path.stem.lower())
    except ValueError as exc:
        return FileRead(None, str(exc), after, renamed)
    return FileRead(article, None, after, renamed, packed)


def corpus_files(directory: Path) -> list[Path]:
    """The article files of a corpus directory, in the order they are loaded."""
    try:
        with os.scandir(directory) as entries:
            names = sorted(e.name for e in entries if e.name.endswith(".md"))
    except FileNotFoundError:
        raise CorpusUnavailable("corpus directory not found", directory) from None
    except NotADirectoryError:
        raise CorpusUnavailable("corpus path is not a directory", directory) from None
    except OSError as exc:
        raise CorpusUnavailable(f"corpus directory cannot be read ({exc.strerror})", directory) from None
    return [directory / name for name in names]


def read_article(path: Path) -> Article:
    """One article file, for callers that want the article or an exception (the feeds, which
    wrote the file themselves): ValueError says what is wrong with it, OSError that it is unreadable."""
    read = read_file(path)
    if read.article is None:
        raise ValueError(read.error or "not an article")
    return read.article
