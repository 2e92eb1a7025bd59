"""A fetched page to the article in it: main text and metadata, with trafilatura.

Navigation, comments and furniture are left out; a page with too little text (a login or
paywall page, an index page) is reported as such so the caller can fall back to the feed.
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel

MIN_CHARS = 280  # less than this is a teaser, a login wall or no article at all
PAYWALL_RE = re.compile(
    r"\b(subscribe (now |today )?to (continue|read)|subscribers only|sign in to (continue|read)|log ?in to "
    r"(continue|read)|create a free account|already a subscriber|this content is for (paid )?subscribers)\b",
    re.IGNORECASE)


class ExtractError(ValueError):
    """The page holds no article text to keep; the message says why."""


class PageArticle(BaseModel):
    title: str | None
    publisher: str | None
    author: str | None
    published: dt.date | None
    canonical_url: str | None
    paragraphs: list[str]


def _decode(body: bytes, charset: str | None) -> str:
    for encoding in (charset, "utf-8"):
        if encoding:
            try:
                return body.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
    return body.decode("cp1252", errors="replace")  # what browsers assume for undeclared Western pages


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def extract_page(body: bytes, *, url: str, charset: str | None = None) -> PageArticle:
    """The article in a page; raises ExtractError for pages with no article text."""
    import trafilatura  # a second to import: only where pages are read

    html = _decode(body, charset)
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                      include_tables=False, favor_precision=True)
    if doc is None or isinstance(doc, dict):
        raise ExtractError("no article text found on the page")
    text = doc.text or ""
    title = " ".join((doc.title or "").split()) or None
    paragraphs = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    if paragraphs and title and paragraphs[0].casefold() == title.casefold():
        paragraphs = paragraphs[1:]
    size = sum(len(p) for p in paragraphs)
    if PAYWALL_RE.search(text) and size < 4 * MIN_CHARS:
        raise ExtractError("the page is a paywall or login page")
    if size < MIN_CHARS:
        raise ExtractError(f"too little text on the page ({size} characters): a paywall, login or index page")
    return PageArticle(title=title, publisher=doc.sitename or None, author=doc.author or None,
                       published=_date(doc.date), canonical_url=doc.url or None, paragraphs=paragraphs)
