"""The article corpus: one Markdown file per article with YAML front matter.

This module owns the file format (the corpus contract documented in README) and
loading it into validated models. A bad file is skipped with its reason; it
never stops the rest from loading.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass
from pydantic_core import ArgsKwargs

from bot.common.urls import canonical_url, is_web_url
from bot.corpus.text import strip_controls

log = logging.getLogger(__name__)

FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it: 10x faster


class CorpusUnavailable(Exception):
    """The corpus directory is missing or unreadable."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """A clean article, as stored in `corpus/<id>.md`.

    A slotted pydantic dataclass rather than a model: the same validation, but ~70 bytes
    of overhead per article instead of ~1 KB, which at 100k articles is 100 MB."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,119}$")
    title: str = Field(min_length=1, max_length=500)
    publisher: str = Field(min_length=1, max_length=200)
    url: str | None = None
    published: dt.date
    source_file: str | None = None
    # The body is kept as UTF-8 bytes: news text with curly quotes would otherwise be held
    # as 2 bytes per character, which at 100k articles is half a gigabyte more.
    body_utf8: bytes = Field(repr=False)

    @model_validator(mode="before")
    @classmethod
    def _pack_paragraphs(cls, data: Any) -> Any:
        """`Article(..., paragraphs=[...])` is how articles are made; the body is stored packed."""
        if isinstance(data, ArgsKwargs) and data.kwargs and "paragraphs" in data.kwargs:
            kwargs = dict(data.kwargs)
            paragraphs = [str(p) for p in kwargs.pop("paragraphs")]
            if not paragraphs or not all(p.strip() for p in paragraphs):
                raise ValueError("paragraphs: at least one non-empty paragraph is needed")
            kwargs["body_utf8"] = "\n\n".join(paragraphs).encode("utf-8")
            return ArgsKwargs(data.args, kwargs)
        return data

    @field_validator("title", "publisher")
    @classmethod
    def _one_line(cls, value: str) -> str:
        value = " ".join(strip_controls(value).split())
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or not str(value).strip():
            return None
        value = str(value).strip()
        if not is_web_url(value):
            raise ValueError(f"not an http(s) URL: {value[:80]!r}")
        return value

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(self.body.split("\n\n"))

    @property
    def body(self) -> str:
        return self.body_utf8.decode("utf-8")

    @property
    def lead(self) -> str:
        return self.paragraphs[0]


class SkippedFile(BaseModel):
    path: str
    reason: str


class Corpus(BaseModel):
    """What loaded, newest first, and what was skipped and why."""

    articles: tuple[Article, ...]
    skipped: tuple[SkippedFile, ...] = ()

    _by_id: dict[str, Article] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: Any) -> None:
        self._by_id = {a.id: a for a in self.articles}

    def get(self, article_id: str) -> Article | None:
        return self._by_id.get(article_id)

    def publishers(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for article in self.articles:
            counts[article.publisher] = counts.get(article.publisher, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def latest(self, n: int) -> list[Article]:
        return list(self.articles[: max(0, n)])


def text_fingerprint(text: str) -> str:
    """The same for texts that differ only in case and whitespace (paragraph breaks included)."""
    return hashlib.blake2b(" ".join(text.casefold().split()).encode(), digest_size=16).hexdigest()


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


def parse_article(text: str, *, fallback_id: str) -> Article:
    """Parse one article file; raises ValueError with a reason a person can act on."""
    text = text.removeprefix("\ufeff")
    match = FRONT_MATTER_RE.match(text)
    if not match:
        raise ValueError("no front matter block (--- ... ---) at the top")
    try:
        meta = _plain_front_matter(match.group(1)) or yaml.load(match.group(1), Loader=_YAML_LOADER)  # noqa: S506
    except yaml.YAMLError as exc:
        raise ValueError(f"front matter is not valid YAML: {str(exc).splitlines()[0]}") from None
    except ValueError as exc:  # PyYAML builds dates itself: 2025-13-45 fails here
        raise ValueError(f"bad date in front matter ({exc}; want YYYY-MM-DD)") from None
    if not isinstance(meta, dict):
        raise ValueError("front matter is not a mapping of fields")
    body = text[match.end():]
    paragraphs = tuple(" ".join(p.split()) for p in re.split(r"\n\s*\n", strip_controls(body)) if p.strip())
    if not paragraphs:
        raise ValueError("empty body")
    meta.setdefault("id", fallback_id)
    published = meta.get("published")
    if isinstance(published, str):
        try:
            meta["published"] = dt.date.fromisoformat(published.strip())
        except ValueError:
            raise ValueError(f"bad date {published!r} (want YYYY-MM-DD)") from None
    try:
        return Article(**{k: v for k, v in meta.items() if k in Article.__pydantic_fields__}, paragraphs=paragraphs)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "article"
        raise ValueError(f"{field}: {first['msg']}") from None


def corpus_files(directory: Path) -> list[Path]:
    """The article files of a corpus directory, in the order they are loaded."""
    if not directory.is_dir():
        raise CorpusUnavailable(f"corpus directory not found: {directory}")
    return sorted(directory.glob("*.md"))


def read_article(path: Path) -> Article:
    """One article file; raises OSError or ValueError with a reason a person can act on."""
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    return parse_article(text, fallback_id=path.stem.lower())


IdentityKeys = tuple[str, str | None, str]  # id, canonical URL, text fingerprint


def identity_keys(article: Article) -> IdentityKeys:
    """What makes two articles the same one (computed where the article is loaded)."""
    return article.id, canonical_url(article.url) if article.url else None, text_fingerprint(article.body)


class Deduplicator:
    """Remembers the articles kept so far, to refuse a later one with the same id, URL or text."""

    def __init__(self) -> None:
        self._seen: tuple[dict[str, str], dict[str, str], dict[str, str]] = ({}, {}, {})

    def admit(self, name: str, keys: IdentityKeys) -> str | None:
        """None when the article is new (and now remembered), else why it is a duplicate."""
        duplicate_of = next((seen[key] for seen, key in zip(self._seen, keys) if key in seen), None)
        if duplicate_of:
            return f"duplicate of {duplicate_of} (same id, URL or text)"
        for seen, key in zip(self._seen, keys):
            if key is not None:
                seen[key] = name
        return None


def newest_first(articles: list[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (a.published, a.id), reverse=True)


def load_corpus(directory: Path) -> Corpus:
    """Load every `*.md` file; skip (and report) the bad ones and the duplicates."""
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    dedupe = Deduplicator()
    for path in corpus_files(directory):
        try:
            article = read_article(path)
            duplicate = dedupe.admit(path.name, identity_keys(article))
            if duplicate:
                raise ValueError(duplicate)
        except (OSError, ValueError) as exc:
            log.warning("skipping corpus file %s: %s", path.name, exc)
            skipped.append(SkippedFile(path=path.name, reason=str(exc)))
            continue
        articles.append(article)
    return Corpus(articles=tuple(newest_first(articles)), skipped=tuple(skipped))


def corpus_signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap change detector: names, sizes and mtimes of the files that make the corpus."""
    if not directory.is_dir():
        return ()
    entries = []
    for path in sorted(directory.iterdir()):
        if path.suffix in (".md", ".yml", ".yaml"):
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((path.name, st.st_size, st.st_mtime_ns))
    return tuple(entries)
