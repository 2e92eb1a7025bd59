"""The candidate search as it was before `bot.search.gather` and `bot.search.bounded`: a probe
(binary searches from the rarest term's passages) where its cost model found it cheaper, else
a scan adding every term's impacts into a score per passage. Kept as the reference the tests
compare the new ways with; only the cut among tied keys is the new one (`keep_best`), as the
former cut depended on how numpy partitions."""

from __future__ import annotations

import numpy as np

from bot.search import scoring
from bot.search.engine import SearchEngine, _rerank_size
from bot.search.expand import Expansion
from bot.search.index import SearchIndex, sorted_unique
from bot.search.query import ParsedQuery
from bot.search.scoring import NOTHING, TIER, Candidates, keep_best, top_keys


def impacts_at(idx: SearchIndex, term_id: int, passages: np.ndarray) -> np.ndarray:
    scale = idx.term_scale[term_id]
    row = idx.dense_row.get(term_id)
    if row is not None:
        return idx.dense[row][passages] * scale
    lo, hi = idx.offsets[term_id], idx.offsets[term_id + 1]
    out = np.zeros(passages.size, dtype=np.float32)
    if hi > lo:
        at = lo + np.searchsorted(idx.post_passage[lo:hi], passages)
        at = np.minimum(at, hi - 1)
        hit = idx.post_passage[at] == passages
        out[hit] = idx.post_level[at[hit]] * scale
    return out


def _passages_of(idx: SearchIndex, options: list[Expansion]) -> np.ndarray:
    if not any(o.term_id in idx.dense_row for o in options):
        return sorted_unique(np.concatenate([idx.levels(o.term_id)[0] for o in options]))
    present = np.zeros(idx.passage_count, dtype=bool)
    for option in options:
        row = idx.dense_row.get(option.term_id)
        if row is not None:
            np.logical_or(present, idx.dense[row] > 0, out=present)
        else:
            present[idx.levels(option.term_id)[0]] = True
    return np.flatnonzero(present)


def probe(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None, needed: int,
          want: int) -> Candidates | None:
    if not scoring._counts_every_term(idx, groups):
        return None
    sizes = [scoring._postings_size(idx, g) for g in groups]
    base = _passages_of(idx, groups[int(np.argmin(sizes))])
    scores = np.zeros(base.size, dtype=np.float32)
    complete = np.ones(base.size, dtype=bool)
    for options in groups:
        has_term = np.zeros(base.size, dtype=bool)
        for option in options:
            impacts = impacts_at(idx, option.term_id, base)
            scores += impacts * np.float32(option.weight)
            has_term |= impacts > 0
        complete &= has_term
    passages, scores = base[complete], scores[complete]
    if mask is not None:
        keep = mask[idx.passage_article[passages]]
        passages, scores = passages[keep], scores[keep]
    owners = idx.passage_article[passages]
    articles = int(np.count_nonzero(np.diff(owners))) + 1 if owners.size else 0
    if articles < needed:
        return None
    key, passages = keep_best(scores + np.float32(len(groups) * TIER), passages, want)
    return Candidates(key, passages, articles)


def scan(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None, want: int) -> Candidates:
    n = idx.passage_count
    scores = np.zeros(n, dtype=np.float32)
    matched = np.zeros(n, dtype=np.uint8)
    articles = np.zeros(idx.article_count, dtype=bool)
    for options in groups:
        if len(options) == 1:
            _add(idx, options[0], scores, matched, articles)
        elif options:
            has_term = np.zeros(n, dtype=np.uint8)
            for option in options:
                _add(idx, option, scores, has_term, articles)
            matched += has_term > 0
    if mask is not None:
        keep = mask[idx.passage_article]
        matched *= keep
        scores *= keep
        articles &= mask
    if n == 0 or not matched.any():
        return NOTHING
    key = matched * np.float32(TIER) + scores
    key, passages = top_keys(key, want)
    return Candidates(key, passages, int(np.count_nonzero(articles)))


def _add(idx: SearchIndex, option: Expansion, scores: np.ndarray, counts: np.ndarray, articles: np.ndarray) -> None:
    factor = idx.term_scale[option.term_id] * np.float32(option.weight)
    row = idx.dense_row.get(option.term_id)
    if row is not None:
        column = idx.dense[row]
        scores += column * factor
        counts += column > 0
        articles |= idx.dense_articles[row]
    else:
        passages, levels = idx.levels(option.term_id)
        np.add.at(scores, passages, levels * factor)
        np.add.at(counts, passages, np.uint8(1))
        articles[idx.passage_article[passages]] = True


class ReferenceEngine(SearchEngine):
    """A `SearchEngine` that finds its candidates the former way."""

    def _candidates(self, query: ParsedQuery, expansions: dict[str, list[Expansion]], needed: int,
                    notices: list[str]) -> Candidates:
        idx = self.index
        groups = list(expansions.values())
        mask = self._article_mask(query, notices)
        want = _rerank_size(query, needed)
        if idx.passage_count == 0 or not any(groups):
            return NOTHING
        return probe(idx, groups, mask, needed, want) or scan(idx, groups, mask, want)
