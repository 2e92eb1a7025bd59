"""A verbatim copy of how corpus files were read before the fast path (commit f4dabb7), kept
so tests can prove the fast path gives exactly the same articles, keys and errors; and of
`url_problem` before its ASCII fast path (commit 52e5f34).

Only names are changed (`RefArticle`, `ref_*`); the code is the old code. It reuses
`strip_controls` and `canonical_url`, whose behaviour the fast path must not change either."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass
from pydantic_core import ArgsKwargs

from bot.common.urls import canonical_url
from bot.corpus.text import strip_controls

WEB_SCHEMES = ("http", "https")
_FORBIDDEN = set("<>|\"' \\^`{}")


def ref_url_problem(url: str) -> str | None:
    bad = next((c for c in url if c in _FORBIDDEN or unicodedata.category(c)[0] in ("C", "Z")), None)
    if bad is not None:
        return f"URL contains a character that is not allowed ({bad!r})"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. a malformed IPv6 host
        return "malformed URL"
    if parts.scheme.lower() not in WEB_SCHEMES:
        return f"not an http(s) URL (scheme {parts.scheme.lower() + ':' if parts.scheme else 'missing'})"
    if not host:
        return "URL has no host"
    return None


def ref_pack_body(paragraphs: Iterable[str]) -> bytes:
    texts = [strip_controls(str(p)) for p in paragraphs]
    if not texts or not all(p.strip() for p in texts):
        raise ValueError("paragraphs: at least one non-empty paragraph is needed")
    return "\n\n".join(texts).encode("utf-8")


@dataclass(frozen=True, slots=True, kw_only=True)
class RefArticle:
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,119}$")
    title: str = Field(min_length=1, max_length=500)
    publisher: str = Field(min_length=1, max_length=200)
    url: str | None = None
    published: dt.date
    source_file: str | None = None
    body_utf8: bytes = Field(repr=False)

    @model_validator(mode="before")
    @classmethod
    def _pack_paragraphs(cls, data: Any) -> Any:
        if isinstance(data, ArgsKwargs) and data.kwargs and "paragraphs" in data.kwargs:
            kwargs = dict(data.kwargs)
            kwargs["body_utf8"] = ref_pack_body(kwargs.pop("paragraphs"))
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
        problem = ref_url_problem(value)
        if problem:
            raise ValueError(f"{problem}: {value[:80]!r}")
        return value

    @property
    def body(self) -> str:
        return self.body_utf8.decode("utf-8")


FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FILE_BYTES = 4 * 1024 * 1024
_ARTICLE_FIELDS = frozenset(f.name for f in fields(RefArticle)) - {"body_utf8"}
_PLAIN_LINE_RE = re.compile(r"^([a-z_]+): ([^\s'\"\[\]{}#&*!|>%@`,?:-][^#\n]*?|[^\s'\"\[\]{}#&*!|>%@`,?:-])$")


def _plain_front_matter(block: str) -> dict[str, str] | None:
    meta: dict[str, str] = {}
    for line in block.splitlines():
        match = _PLAIN_LINE_RE.match(line)
        if not match or ": " in match.group(2):
            return None
        meta[match.group(1)] = match.group(2)
    return meta


def ref_parse_article(text: str, *, fallback_id: str) -> RefArticle:
    text = text.removeprefix("\ufeff")
    match = FRONT_MATTER_RE.match(text)
    if not match:
        raise ValueError("no front matter block (--- ... ---) at the top")
    meta: Any
    try:
        meta = _plain_front_matter(match.group(1)) or yaml.load(match.group(1), Loader=_YAML_LOADER)  # noqa: S506
    except yaml.YAMLError as exc:
        raise ValueError(f"front matter is not valid YAML: {str(exc).splitlines()[0]}") from None
    except ValueError as exc:
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
        known = {str(k): v for k, v in meta.items() if k in _ARTICLE_FIELDS}
        return RefArticle(**known, body_utf8=ref_pack_body(paragraphs))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "article"
        raise ValueError(f"{field}: {first['msg'].removeprefix('Value error, ')}") from None


def ref_decode_article(raw: bytes, *, fallback_id: str) -> RefArticle:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("not UTF-8 (a UTF-16 byte order mark)")
    if b"\x00" in raw:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    return ref_parse_article(text, fallback_id=fallback_id)


def ref_read_raw(path: Path) -> bytes:
    """The bytes the old `read_file` decoded (its stamp checks aside)."""
    with path.open("rb") as f:
        before = os.fstat(f.fileno()).st_size
        return f.read(MAX_FILE_BYTES + 1) if before <= MAX_FILE_BYTES else b""


def ref_text_fingerprint(text: str) -> str:
    return hashlib.blake2b(" ".join(text.casefold().split()).encode(), digest_size=16).hexdigest()


def ref_identity_keys(article: Any) -> tuple[str, str | None, str]:
    return article.id, canonical_url(article.url) if article.url else None, ref_text_fingerprint(article.body)
