"""Feed documents to entries: RSS 0.9x/1.0/2.0 and Atom with feedparser, JSON Feed by hand.

A feed that is really an HTML page, or XML too broken to yield entries, raises `FeedParseError`
with the status line to show; a slightly broken feed that still yields entries is kept.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
from typing import Any
from urllib.parse import urljoin

from pydantic import BaseModel

from bot.feeds.html import html_to_paragraphs


class FeedParseError(ValueError):
    """The document is not a feed tradebot can read; the message says what it is instead."""


class FeedEntry(BaseModel):
    key: str  # GUID/id, else link, else a hash of title and text: what "seen before" means
    title: str | None
    link: str | None  # absolute
    published: dt.datetime | None
    summary: list[str]  # plain-text paragraphs of the entry's own content or summary
    author: str | None = None


class ParsedFeed(BaseModel):
    title: str | None
    site: str | None
    format: str  # "rss20", "atom10", "json1", ...
    entries: list[FeedEntry]
    warning: str | None = None  # e.g. "malformed XML (kept 3 entries)"


def _absolute(base: str, link: object) -> str | None:
    if not isinstance(link, str) or not link.strip():
        return None
    return urljoin(base, link.strip())


def _entry_key(guid: object, link: str | None, title: str | None, text: str) -> str:
    """At most 500 characters and no NUL: the key is stored (`feed_entries.entry_key`) and compared
    with what was stored, so it must be a value the column keeps as it is."""
    if isinstance(guid, str) and guid.replace("\x00", "").strip():
        return guid.replace("\x00", "").strip()[:500]
    if link:
        return link.replace("\x00", "")[:500]
    return "sha:" + hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:32]


def _when(struct: Any) -> dt.datetime | None:
    if not struct:
        return None
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(struct), dt.UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _parse_iso(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def parse_json_feed(data: dict[str, Any], base: str) -> ParsedFeed:
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedParseError("JSON Feed without an items list")
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        link = _absolute(base, item.get("url") or item.get("external_url"))
        title = item.get("title") if isinstance(item.get("title"), str) else None
        html = item.get("content_html") if isinstance(item.get("content_html"), str) else ""
        text = next((v for v in (item.get("content_text"), item.get("summary")) if isinstance(v, str) and v), "")
        paragraphs = html_to_paragraphs(html) if html else [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        authors = authors if isinstance(authors, list) else []
        author = next((a.get("name") for a in authors if isinstance(a, dict) and a.get("name")), None)
        entries.append(FeedEntry(key=_entry_key(str(item.get("id") or ""), link, title, " ".join(paragraphs)),
                                 title=title, link=link, summary=paragraphs, author=author,
                                 published=_parse_iso(item.get("date_published") or item.get("date_modified"))))
    version = str(data.get("version", "")).rstrip("/").rsplit("/", 1)[-1]
    return ParsedFeed(title=data.get("title") if isinstance(data.get("title"), str) else None,
                      site=_absolute(base, data.get("home_page_url")), format=f"json{version}", entries=entries)


def _looks_like_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type or body.lstrip()[:1] == b"{"


def parse_feed(body: bytes, *, url: str, content_type: str = "", charset: str | None = None) -> ParsedFeed:
    """Entries of a feed document; raises FeedParseError when it is not one."""
    if _looks_like_json(body, content_type):
        try:
            data = json.loads(body.decode(charset or "utf-8", errors="replace"))
        except ValueError as exc:
            raise FeedParseError(f"malformed JSON ({exc})") from None
        if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
            raise FeedParseError("JSON that is not a JSON Feed (no jsonfeed.org version)")
        return parse_json_feed(data, url)
    import feedparser  # here, not at the top: ~70 ms of every start, for the first feed's poll

    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type + (f"; charset={charset}" if charset else "")
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    problem = parsed.get("bozo_exception")
    if not parsed.get("version"):
        head = body[:2000].lower()
        if b"<html" in head or b"<!doctype html" in head:
            raise FeedParseError("not a feed: the URL returned an HTML page (look for the site's RSS or Atom link)")
        if problem is not None:
            raise FeedParseError(f"malformed XML: {str(problem).splitlines()[0][:160]}")
        raise FeedParseError("not a feed: no RSS, Atom or JSON Feed content")
    if problem is not None and not parsed.entries and not isinstance(problem, feedparser.CharacterEncodingOverride):
        raise FeedParseError(f"malformed XML: {str(problem).splitlines()[0][:160]}")
    entries = []
    for item in parsed.entries:
        link = _absolute(url, item.get("link"))
        title = item.get("title") or None
        html = next((c.get("value") for c in item.get("content", []) if c.get("value")), None) or item.get("summary")
        paragraphs = html_to_paragraphs(html) if html else []
        entries.append(FeedEntry(key=_entry_key(item.get("id"), link, title, " ".join(paragraphs)), title=title,
                                 link=link, summary=paragraphs, author=item.get("author") or None,
                                 published=_when(item.get("published_parsed") or item.get("updated_parsed"))))
    warning = None
    if problem is not None and not isinstance(problem, feedparser.CharacterEncodingOverride):
        warning = f"malformed feed ({str(problem).splitlines()[0][:120]}); kept {len(entries)} entries"
    feed = parsed.feed
    return ParsedFeed(title=feed.get("title") or None, site=_absolute(url, feed.get("link")),
                      format=parsed.version, entries=entries, warning=warning)
