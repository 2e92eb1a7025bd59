"""What the corpus already holds, by id, canonical URL and text fingerprint: the de-duplication
memory shared by every feed, checked before an article is written and updated after."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.common.urls import canonical_url
from bot.corpus import Article, corpus_files, identity_keys, read_article, text_fingerprint

log = logging.getLogger(__name__)


class CorpusKeys:
    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.by_url: dict[str, str] = {}
        self.by_text: dict[str, str] = {}

    @classmethod
    def scan(cls, corpus_dir: Path) -> CorpusKeys:
        """Read every article file once (a bad file is left to the corpus loader to report)."""
        keys = cls()
        keys.refresh(corpus_dir)
        return keys

    def refresh(self, corpus_dir: Path) -> int:
        """Read the files added since (by hand or `tradebot ingest`); a listing, not a re-read."""
        if not corpus_dir.is_dir():
            return 0
        added = 0
        for path in corpus_files(corpus_dir):
            if path.stem.lower() in self.ids:
                continue
            self.ids.add(path.stem.lower())
            added += 1
            try:
                self.remember(read_article(path))
            except (OSError, ValueError):
                continue
        return added

    def remember(self, article: Article) -> None:
        article_id, url, fingerprint = identity_keys(article)
        self.ids.add(article_id)
        if url:
            self.by_url.setdefault(url, article_id)
        self.by_text.setdefault(fingerprint, article_id)

    def duplicate_of(self, urls: list[str | None], body: str) -> tuple[str, str] | None:
        """(article id, "same URL" | "same text") of an article already held, else None."""
        for url in urls:
            if url and (found := self.by_url.get(canonical_url(url))):
                return found, "same URL"
        if found := self.by_text.get(text_fingerprint(body)):
            return found, "same text"
        return None

    def unique_id(self, base: str) -> str:
        """`base`, or `base-2`, `base-3`, ... when another article has it."""
        candidate, n = base, 2
        while candidate in self.ids:
            candidate = f"{base[:110]}-{n}"
            n += 1
        return candidate
