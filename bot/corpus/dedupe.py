"""When two article files are the same article: same id, same page (canonical URL) or same text.

The keys are computed where an article is read (possibly in a worker process); the
`Deduplicator` then admits articles in file order, so the first file of a set of
duplicates wins however many processes did the reading.
"""

from __future__ import annotations

import hashlib

from bot.common.urls import canonical_url
from bot.corpus.model import Article
from bot.corpus.text import plain_utf8, spaced_words

IdentityKeys = tuple[str, str | None, str]  # id, canonical URL, text fingerprint


def text_fingerprint(text: str) -> str:
    """The same for texts that differ only in case and whitespace (paragraph breaks included)."""
    return hashlib.blake2b(" ".join(text.casefold().split()).encode(), digest_size=16).hexdigest()


def utf8_fingerprint(data: bytes, packed: str | None = None) -> str:
    """`text_fingerprint` of UTF-8 text, 10x cheaper when it is plain (see `plain_utf8`) and its
    non-ASCII characters have no case: then casefolding is `bytes.lower` and the whitespace
    (space, newline) splits the same in bytes; single-spaced, it needs no split into words.
    `packed`: the non-ASCII characters of `data` when the reader proved it packed as is
    (`packed_as_is`: plain, single-spaced, paragraphs one blank line apart): nothing to check again."""
    others = plain_utf8(data) if packed is None else packed
    if others is None or others.casefold() != others:
        return text_fingerprint(data.decode("utf-8"))
    folded = data.lower()
    # when packed, its only newlines are its paragraph breaks ("\n\n")
    joined = folded.replace(b"\n\n", b" ") if packed is not None else spaced_words(folded) or b" ".join(folded.split())
    return hashlib.blake2b(joined, digest_size=16).hexdigest()


def identity_keys(article: Article, packed: str | None = None) -> IdentityKeys:
    """What makes two articles the same one. `packed`: see `utf8_fingerprint` (from the reader only)."""
    body = article.body_utf8  # a memoryview for an article opened from the saved index
    fingerprint = utf8_fingerprint(body if isinstance(body, bytes) else bytes(body), packed)
    return article.id, canonical_url(article.url) if article.url else None, fingerprint


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
