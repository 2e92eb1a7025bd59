"""Ranked passage search: BM25 over expanded terms, then a re-rank of the best candidates.

Ranking: the number of query terms a passage matches comes first, then the BM25
score of its matched (and typo-corrected) terms, plus bonuses for query terms
standing close together and for terms in the article's title. One passage per
article is returned: the best one.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import numpy as np
from pydantic import BaseModel
from rapidfuzz import fuzz

from bot.search.expand import Expansion, expand_term, suggest
from bot.search.index import SearchIndex
from bot.search.query import ParsedQuery, parse_query
from bot.search.rerank import rerank
from bot.search.snippet import make_snippet
from bot.text import normalize_text

DEFAULT_LIMIT = 5
MAX_LIMIT = 50
RERANK = 120
TIER = 1000.0  # score distance between "matches k terms" and "matches k+1 terms"
FAST_PATH_POSTINGS = 100_000  # the rarest term's postings at most, for the all-terms-first path


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


def _keep_best(key: np.ndarray, candidates: np.ndarray, want: int) -> tuple[np.ndarray, np.ndarray]:
    if candidates.size <= want:
        return key, candidates
    top = np.argpartition(-key, want - 1)[:want]
    return key[top], candidates[top]


class _Scratch(threading.local):
    """Per-thread score arrays, allocated once and cleaned after each query by touching only
    the passages that query touched, so a query costs its postings, not the corpus size."""

    def __init__(self) -> None:
        self.size = -1
        self.buffers: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def arrays(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.buffers is None or self.size != size:
            self.size = size
            self.buffers = (np.zeros(size, np.float32), np.zeros(size, np.float32), np.full(size, -1, np.int16))
        return self.buffers


class SearchEngine:
    """Answers queries against one immutable index; cheap to replace on reload."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self._scratch = _Scratch()
        self._publishers = sorted({a.publisher for a in index.articles})
        number = {name: i for i, name in enumerate(self._publishers)}
        self._publisher_of = np.asarray([number[a.publisher] for a in index.articles], dtype=np.int32)

    def __getstate__(self) -> dict[str, object]:
        """Saved with the snapshot: everything but the per-thread scratch arrays."""
        return {k: v for k, v in self.__dict__.items() if k != "_scratch"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._scratch = _Scratch()

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
            term_id = idx.term_ids.get(term)
            if term_id is not None:
                passages, _ = idx.postings(term_id)
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
        fast = self._all_terms_first(query, expansions, offset + limit, notices)
        if fast is not None:
            key, candidates, total = fast
            return self._finish(response, query, expansions, candidates, key, total, offset, limit)
        scratch = self._scratch.arrays(idx.passage_count)
        scores, matched, stamp = scratch
        touched: list[np.ndarray] = []
        try:
            for term_no, options in enumerate(expansions.values()):
                for option in options:
                    passages, impacts = idx.postings(option.term_id)
                    scores[passages] += impacts * np.float32(option.weight)
                    # `stamp` says which query term last counted a passage, so a passage with two
                    # variants of one term (tariff, tariffs) counts it once; -1 marks untouched.
                    fresh = passages[stamp[passages] != term_no]
                    touched.append(fresh[stamp[fresh] == -1])
                    stamp[fresh] = term_no
                    matched[fresh] += 1.0
            candidates = np.concatenate(touched) if touched else np.zeros(0, dtype=np.int32)
            key, candidates, total = self._select(query, candidates, scores, matched, offset + limit, notices)
        finally:
            for array, clean in zip(scratch, (0.0, 0.0, -1)):
                for passages in touched:
                    array[passages] = clean
        if candidates.size == 0:
            response.suggestions = [s for t in (unmatched or query.all_terms) for s in suggest(idx, t)][:5]
            return response
        return self._finish(response, query, expansions, candidates, key, total, offset, limit)

    def _finish(self, response: SearchResponse, query: ParsedQuery, expansions: dict[str, list[Expansion]],
                candidates: np.ndarray, key: np.ndarray, total: int, offset: int, limit: int) -> SearchResponse:
        idx = self.index
        ranked = rerank(idx, query, expansions, candidates, key)
        best_per_article: dict[int, tuple[float, int]] = {}
        for score, passage in ranked:
            article = int(idx.passage_article[passage])
            if article not in best_per_article:
                best_per_article[article] = (score, passage)
        response.total = max(total, len(best_per_article))
        page = list(best_per_article.values())[offset : offset + limit]
        response.results = [self._hit(passage, score, expansions) for score, passage in page]
        return response

    def _all_terms_first(self, query: ParsedQuery, expansions: dict[str, list[Expansion]], needed: int,
                         notices: list[str]) -> tuple[np.ndarray, np.ndarray, int] | None:
        """Score only the passages of the rarest query term, when enough of them hold every term.

        Passages matching every term rank above all others, and each of them contains the
        rarest term, so when they fill the page the postings of common terms are only
        probed (binary search), never scanned. Returns None to fall back to full scoring.
        """
        idx = self.index
        groups = [opts for opts in expansions.values() if opts]
        if len(groups) < 2 or len(groups) != len(expansions):
            return None
        sizes = [sum(int(idx.df[o.term_id]) for o in opts) for opts in groups]
        order = sorted(range(len(groups)), key=sizes.__getitem__)
        rarest = groups[order[0]]
        if sizes[order[0]] > FAST_PATH_POSTINGS or sizes[order[0]] * 4 > sizes[order[-1]]:
            return None  # no term is rare enough, or much rarer than the rest: nothing to gain
        lists = [idx.postings(o.term_id)[0] for o in rarest]
        base = lists[0] if len(lists) == 1 else np.unique(np.concatenate(lists))
        scores = np.zeros(base.size, dtype=np.float32)
        matched = np.zeros(base.size, dtype=np.float32)
        for opts in groups:
            has_term = np.zeros(base.size, dtype=bool)
            for option in opts:
                passages, impacts = idx.postings(option.term_id)
                at = np.minimum(np.searchsorted(passages, base), max(passages.size - 1, 0))
                hit = passages[at] == base if passages.size else np.zeros(base.size, bool)
                scores[hit] += impacts[at[hit]] * np.float32(option.weight)
                has_term |= hit
            matched += has_term
        complete = matched == len(groups)
        candidates, scores, matched = base[complete], scores[complete], matched[complete]
        mask = self._article_mask(query, notices)
        if mask is not None:
            keep = mask[idx.passage_article[candidates]]
            candidates, scores, matched = candidates[keep], scores[keep], matched[keep]
        articles = np.unique(idx.passage_article[candidates])
        if articles.size < needed:
            return None
        key, candidates = _keep_best(matched * TIER + scores, candidates, _rerank_size(query, needed))
        return key, candidates, int(articles.size)

    def _select(self, query: ParsedQuery, candidates: np.ndarray, scores: np.ndarray, matched: np.ndarray,
                needed: int, notices: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
        """Filter, count and cut the candidate passages to the few worth re-ranking."""
        idx = self.index
        mask = self._article_mask(query, notices)
        if mask is not None:
            candidates = candidates[mask[idx.passage_article[candidates]]]
        if candidates.size == 0:
            return np.zeros(0, np.float32), candidates, 0
        total = 0  # with phrases, count what survives the re-rank
        if not query.phrases:
            seen = np.zeros(len(idx.articles), dtype=bool)
            seen[idx.passage_article[candidates]] = True
            total = int(np.count_nonzero(seen))
        want = _rerank_size(query, needed)
        tiers = matched[candidates]
        best_tier = candidates[tiers == tiers.max()]
        if best_tier.size >= want:  # enough passages match the most terms: rank only those
            candidates = best_tier
        key, candidates = _keep_best(matched[candidates] * TIER + scores[candidates], candidates, want)
        return key, candidates, total

    def _hit(self, passage: int, score: float, expansions: dict[str, list[Expansion]]) -> SearchHit:
        idx = self.index
        article = idx.articles[idx.passage_article[passage]]
        text = idx.passage_text(passage)
        snippet, spans = make_snippet(text, {e.term for opts in expansions.values() for e in opts})
        return SearchHit(
            article_id=article.id, title=article.title, publisher=article.publisher, url=article.url,
            published=article.published, snippet=snippet, highlights=spans, passage=text, score=round(score, 4),
        )
