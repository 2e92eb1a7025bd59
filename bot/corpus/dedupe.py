"""When two article files are the same article: same id, same page (canonical URL) or same text.

The keys are computed where an article is read (possibly in a worker process); the
`Deduplicator` then admits articles in file order, so the first file of a set of
duplicates wins however many processes did the reading.
"""

from __future__ import annotations

import hashlib

from bot.common.urls import canonical_url
from bot.corpus.model import Article

IdentityKeys = tuple[str, str | None, str]  # id, canonical URL, text fingerprint


def text_fingerprint(text: str) -> str:
    """The same for texts that differ only in case and whitespace (paragraph breaks included)."""
    return hashlib.blake2b(" ".join(text.casefold().split()).encode(), digest_size=16).hexdigest()


def identity_keys(article: Article) -> IdentityKeys:
    """What makes two articles the same one."""
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
