"""What an article is once loaded: validated, immutable, and cheap to hold 100k of."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator
from pydantic.dataclasses import dataclass
from pydantic_core import ArgsKwargs

from bot.common.urls import url_problem
from bot.corpus.text import plain_utf8, spaced_words, strip_controls


def body_paragraphs(body: str) -> tuple[str, ...]:
    """A file's body text as paragraphs (split at blank lines), each on one line with single spaces."""
    return tuple(" ".join(p.split()) for p in re.split(r"\n\s*\n", strip_controls(body)) if p.strip())


def packed_as_is(body: bytes) -> tuple[bytes, str] | None:
    """`pack_body(body_paragraphs(body))` when the body (UTF-8) provably is that already but for
    blank ends (as `render_article` writes it), with its non-ASCII characters (`plain_utf8`, for
    the text fingerprint); else None. Byte checks: ~20x cheaper."""
    body = body.strip(b" \n")
    others = plain_utf8(body)
    return (body, others) if others is not None and spaced_words(body) else None


def pack_body(paragraphs: Iterable[str]) -> bytes:
    """Paragraphs as an article stores them (`Article.body_utf8`), invisible characters stripped."""
    texts = [strip_controls(str(p)) for p in paragraphs]
    if not texts or not all(p.strip() for p in texts):
        raise ValueError("paragraphs: at least one non-empty paragraph is needed")
    return "\n\n".join(texts).encode("utf-8")


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
    # as 2 bytes per character, which at 100k articles is half a gigabyte more. An article
    # opened from the saved index holds a read-only memoryview of its memory-mapped file
    # instead (`bot.library.saved`): the bodies are then shared page cache, not this process's.
    body_utf8: bytes = Field(repr=False)

    @model_validator(mode="before")
    @classmethod
    def _pack_paragraphs(cls, data: Any) -> Any:
        """`Article(..., paragraphs=[...])` is how articles are made; the body is stored packed."""
        if isinstance(data, ArgsKwargs) and data.kwargs and "paragraphs" in data.kwargs:
            kwargs = dict(data.kwargs)
            kwargs["body_utf8"] = pack_body(kwargs.pop("paragraphs"))
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
        """Only a URL the one URL rule accepts is stored; anything else refuses the file, with why."""
        if value is None or not str(value).strip():
            return None
        value = str(value).strip()
        problem = url_problem(value)
        if problem:
            raise ValueError(f"{problem}: {value[:80]!r}")
        return value

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(self.body.split("\n\n"))

    @property
    def body(self) -> str:
        return str(self.body_utf8, "utf-8")  # (bytes or a memoryview of the saved index)

    def __getstate__(self) -> list[object]:
        """Pickled (to a worker process) with its body as bytes: a memoryview cannot be pickled."""
        return [bytes(self.body_utf8) if f.name == "body_utf8" else getattr(self, f.name) for f in _FIELDS]

    @property
    def lead(self) -> str:
        return self.paragraphs[0]


_FIELDS = dataclasses.fields(Article)


class SkippedFile(BaseModel):
    path: str
    reason: str


class Corpus(BaseModel):
    """What loaded, newest first, and what was skipped and why.

    `files` names the file each article came from, so a reload can keep an article's
    previous version while its file is being rewritten; `pending` are the files that were
    still being written (kept at their previous version, if any, and read again next time)."""

    articles: tuple[Article, ...]
    skipped: tuple[SkippedFile, ...] = ()
    files: dict[str, str] = Field(default_factory=dict)  # file name -> article id
    pending: tuple[str, ...] = ()

    _by_id: dict[str, Article] = PrivateAttr(default_factory=dict)
    _summary: tuple[dict[str, int], tuple[dt.date, dt.date] | None] | None = PrivateAttr(default=None)

    def model_post_init(self, __context: Any) -> None:
        self._by_id = {a.id: a for a in self.articles}

    def get(self, article_id: str) -> Article | None:
        return self._by_id.get(article_id)

    def from_file(self, name: str) -> Article | None:
        """The article loaded from file `name`, if one was."""
        article_id = self.files.get(name)
        return self._by_id.get(article_id) if article_id else None

    def publishers(self) -> dict[str, int]:
        """Articles per publisher, most first."""
        return dict(self._summarised()[0])

    def date_range(self) -> tuple[dt.date, dt.date] | None:
        """The oldest and newest publication dates; None when there are no articles."""
        return self._summarised()[1]

    def _summarised(self) -> tuple[dict[str, int], tuple[dt.date, dt.date] | None]:
        """Counted once per corpus (it does not change): at 100k articles a count takes ~40 ms of the
        interpreter, and `/trade sources` asked for it on every call."""
        if self._summary is None:
            counts: dict[str, int] = {}
            for article in self.articles:
                counts[article.publisher] = counts.get(article.publisher, 0) + 1
            dates = [a.published for a in self.articles]
            self._summary = (dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
                             (min(dates), max(dates)) if dates else None)
        return self._summary

    def latest(self, n: int) -> list[Article]:
        return list(self.articles[: max(0, n)])


def newest_first(articles: list[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (a.published, a.id), reverse=True)
