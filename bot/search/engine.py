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
from bot.search.delta import delta_expansions
from bot.search.expand import Expansion, expand_term, is_rare, suggest
from bot.search.index import SearchIndex
from bot.search.query import ParsedQuery, parse_query
from bot.search.rerank import rerank
from bot.search.scoring import NOTHING, Candidates, candidates
from bot.search.snippet import make_snippet

DEFAULT_LIMIT = 5
MAX_LIMIT = 50
RERANK = 120
EXPANSIONS_KEPT = 4096  # query terms whose expansions an engine keeps


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
    """Answers queries against one immutable index; cheap to replace on reload.

    With a `delta` (`bot.search.delta`), new and changed articles are searched beside the
    main index and ranked with it, and `hidden` (one flag per main article) keeps the
    articles they replace, or that were removed, out of the results."""

    def __init__(self, index: SearchIndex, delta: SearchIndex | None = None, hidden: np.ndarray | None = None) -> None:
        self.index = index
        self._publishers = sorted({a.publisher for a in index.articles})
        number = {name: i for i, name in enumerate(self._publishers)}
        self._publisher_of = np.asarray([number[a.publisher] for a in index.articles], dtype=np.int32)
        self.delta = SearchEngine(delta) if delta is not None else None
        self.hidden = hidden if hidden is not None and hidden.any() else None
        self._expanded: dict[str, tuple[Expansion, ...]] = {}  # term -> its expansions (the index never changes)

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
        if self.hidden is not None:
            narrow(~self.hidden)
        return mask

    def search(self, raw: str, limit: int = DEFAULT_LIMIT, offset: int = 0) -> SearchResponse:
        started = time.perf_counter()
        query = parse_query(raw)
        response = self._search(query, max(1, min(limit, MAX_LIMIT)), max(0, offset))
        response.took_ms = round((time.perf_counter() - started) * 1000, 3)
        return response

    def _search(self, query: ParsedQuery, limit: int, offset: int) -> SearchResponse:
        notices = list(query.notices)
        response = SearchResponse(query=query.raw, offset=offset, notices=notices)
        if query.is_empty:
            response.message = "Type some words to search for, e.g. `tariffs china`."
            return response
        expansions: dict[str, list[Expansion]] = {t: self._expand(t) for t in query.all_terms}
        corrected = {t: e[0].term for t, e in expansions.items() if e and e[0].kind == "fuzzy"}
        if corrected:
            response.corrected = " ".join(corrected.get(t, t) for t in query.all_terms)
        unmatched = [t for t, e in expansions.items() if not e]
        needed = offset + limit
        layers = [(self, expansions, self._candidates(query, expansions, needed, notices))]
        if self.delta is not None:
            extra = delta_expansions(self.delta.index, expansions)
            layers.append((self.delta, extra, self.delta._candidates(query, extra, needed, [])))
        if all(found.passages.size == 0 for _, _, found in layers):
            indexes = [engine.index for engine, _, _ in layers]
            words = [s for t in (unmatched or query.all_terms) for index in indexes for s in suggest(index, t)]
            response.suggestions = list(dict.fromkeys(words))[:5]
            return response
        return self._finish(response, query, layers, offset, limit)

    def _expand(self, term: str) -> list[Expansion]:
        """The main index's expansions; a word only the delta holds, and not rarely, is taken as
        typed (as a rebuild, which would hold it, takes it) without looking for corrections.
        Kept per term: a typo's corrections take up to a millisecond or two to find, and the
        same words come back (the next page of a search, a search refined)."""
        found = self._expanded.get(term)
        if found is None:
            found = tuple(self._expansions_of(term))
            if len(self._expanded) >= EXPANSIONS_KEPT:
                self._expanded.clear()  # (one step, safe while another thread reads it)
            self._expanded[term] = found
        return list(found)

    def _expansions_of(self, term: str) -> list[Expansion]:
        if self.delta is not None and self.index.term_id(term) is None:
            own = self.delta.index.term_id(term)
            if own is not None and not is_rare(self.index, int(self.delta.index.df[own])):
                return []  # (`delta_expansions` adds the word itself)
        return expand_term(self.index, term)

    def _candidates(self, query: ParsedQuery, expansions: dict[str, list[Expansion]], needed: int,
                    notices: list[str]) -> Candidates:
        idx = self.index
        groups = list(expansions.values())
        mask = self._article_mask(query, notices)
        want = _rerank_size(query, needed)
        if idx.passage_count == 0 or not any(groups):
            return NOTHING
        return candidates(idx, groups, mask, needed, want, filtered=bool(query.phrases))

    def _finish(self, response: SearchResponse, query: ParsedQuery,
                layers: list[tuple[SearchEngine, dict[str, list[Expansion]], Candidates]], offset: int,
                limit: int) -> SearchResponse:
        """Re-rank each layer's candidates, then the best passage per article across them."""
        ranked: list[tuple[float, int, int]] = []  # score, layer, passage
        for layer, (engine, expansions, found) in enumerate(layers):
            if found.passages.size:
                ranked += [(score, layer, passage) for score, passage in
                           rerank(engine.index, query, expansions, found.passages, found.key, offset + limit)]
        if len(layers) > 1:
            ranked.sort(key=lambda r: -r[0])  # (stable: ties keep the main index first, as each layer's order)
        best_per_article: dict[tuple[int, int], tuple[float, int, int]] = {}
        for score, layer, passage in ranked:
            article = (layer, int(layers[layer][0].index.passage_article[passage]))
            if article not in best_per_article:
                best_per_article[article] = (score, layer, passage)
        # With phrases the re-rank filters the candidates; only what survives it is counted.
        found_total = sum(found.total for _, _, found in layers)
        response.total = len(best_per_article) if query.phrases else max(found_total, len(best_per_article))
        page = list(best_per_article.values())[offset : offset + limit]
        matched = {e.term for _, expansions, _ in layers for opts in expansions.values() for e in opts}
        response.results = [layers[layer][0]._hit(passage, score, matched) for score, layer, passage in page]
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
