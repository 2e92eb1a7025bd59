"""Ranked passage search: BM25 over expanded terms, then a re-rank of the best candidates.

Ranking: the number of query terms a passage matches comes first, then the BM25
score of its matched (and typo-corrected) terms, plus bonuses for query terms
standing close together and for terms in the article's title. One passage per
article is returned: the best one.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
from pydantic import BaseModel
from rapidfuzz import fuzz

from bot.corpus.text import normalize_text
from bot.search.expand import Expansion, expand_term, suggest
from bot.search.index import SearchIndex
from bot.search.query import ParsedQuery, parse_query
from bot.search.rerank import rerank
from bot.search.scoring import Candidates, probe, scan
from bot.search.snippet import make_snippet

DEFAULT_LIMIT = 5
MAX_LIMIT = 50
RERANK = 120


class SearchHit(BaseModel):
    article_id: str
    title: str
    publisher: str
    url: str | None
    published: dt.date
    snippet: str
    highlights: list[tuple[int, int]]
    passage: str
    score: float


class SearchResponse(BaseModel):
    query: str
    corrected: str | None = None
    took_ms: float = 0.0
    results: list[SearchHit] = []
    total: int = 0
    offset: int = 0
    suggestions: list[str] = []
    notices: list[str] = []
    message: str | None = None

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.results) < self.total


def _rerank_size(query: ParsedQuery, needed: int) -> int:
    """How many candidate passages the re-rank sees (more with phrases: it filters them)."""
    return max(RERANK, needed * 8) * (4 if query.phrases else 1)


class SearchEngine:
    """Answers queries against one immutable index; cheap to replace on reload."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self._publishers = sorted({a.publisher for a in index.articles})
        number = {name: i for i, name in enumerate(self._publishers)}
        self._publisher_of = np.asarray([number[a.publisher] for a in index.articles], dtype=np.int32)

    def _article_mask(self, query: ParsedQuery, notices: list[str]) -> np.ndarray | None:
        idx = self.index
        mask: np.ndarray | None = None

        def narrow(keep: np.ndarray) -> None:
            nonlocal mask
            mask = keep if mask is None else mask & keep

        if query.source:
            wanted = normalize_text(query.source)
            ok = [i for i, p in enumerate(self._publishers) if fuzz.partial_ratio(wanted, normalize_text(p)) >= 80]
            if not ok:
                notices.append(f"No source matches “{query.source}”.")
            narrow(np.isin(self._publisher_of, np.asarray(ok, dtype=np.int32)))
        if query.since:
            narrow(idx.article_published >= query.since.toordinal())
        if query.until:
            narrow(idx.article_published <= query.until.toordinal())
        for term in query.excluded:
            term_id = idx.term_id(term)
            if term_id is not None:
                passages, _ = idx.levels(term_id)
                keep = np.ones(len(idx.articles), dtype=bool)
                keep[idx.passage_article[passages]] = False
                narrow(keep)
        return mask

    def search(self, raw: str, limit: int = DEFAULT_LIMIT, offset: int = 0) -> SearchResponse:
        started = time.perf_counter()
        query = parse_query(raw)
        response = self._search(query, max(1, min(limit, MAX_LIMIT)), max(0, offset))
        response.took_ms = round((time.perf_counter() - started) * 1000, 3)
        return response

    def _search(self, query: ParsedQuery, limit: int, offset: int) -> SearchResponse:
        idx = self.index
        notices = list(query.notices)
        response = SearchResponse(query=query.raw, offset=offset, notices=notices)
        if query.is_empty:
            response.message = "Type some words to search for, e.g. `tariffs china`."
            return response
        expansions: dict[str, list[Expansion]] = {t: expand_term(idx, t) for t in query.all_terms}
        corrected = {t: e[0].term for t, e in expansions.items() if e and e[0].kind == "fuzzy"}
        if corrected:
            response.corrected = " ".join(corrected.get(t, t) for t in query.all_terms)
        unmatched = [t for t, e in expansions.items() if not e]
        groups = list(expansions.values())
        needed = offset + limit
        mask = self._article_mask(query, notices)
        want = _rerank_size(query, needed)
        found = probe(idx, groups, mask, needed, want) or scan(idx, groups, mask, want)
        if found.passages.size == 0:
            response.suggestions = [s for t in (unmatched or query.all_terms) for s in suggest(idx, t)][:5]
            return response
        return self._finish(response, query, expansions, found, offset, limit)

    def _finish(self, response: SearchResponse, query: ParsedQuery, expansions: dict[str, list[Expansion]],
                found: Candidates, offset: int, limit: int) -> SearchResponse:
        idx = self.index
        ranked = rerank(idx, query, expansions, found.passages, found.key, offset + limit)
        best_per_article: dict[int, tuple[float, int]] = {}
        for score, passage in ranked:
            article = int(idx.passage_article[passage])
            if article not in best_per_article:
                best_per_article[article] = (score, passage)
        # With phrases the re-rank filters the candidates; only what survives it is counted.
        response.total = len(best_per_article) if query.phrases else max(found.total, len(best_per_article))
        page = list(best_per_article.values())[offset : offset + limit]
        matched = {e.term for opts in expansions.values() for e in opts}
        response.results = [self._hit(passage, score, matched) for score, passage in page]
        return response

    def _hit(self, passage: int, score: float, matched: set[str]) -> SearchHit:
        idx = self.index
        article = idx.articles[idx.passage_article[passage]]
        text = idx.passage_text(passage)
        snippet, spans = make_snippet(text, matched)
        return SearchHit(
            article_id=article.id, title=article.title, publisher=article.publisher, url=article.url,
            published=article.published, snippet=snippet, highlights=spans, passage=text, score=round(score, 4),
        )
