"""Choosing the passages worth re-ranking: BM25 over expanded terms, tiered by terms matched.

A passage's key is `terms matched * TIER + score`, so a passage holding every query
term outranks any holding fewer. Two ways to find the best keys give the same answer
at different costs, and a cost model picks one per query:

- probe: take the passages of the rarest term and look the other terms up there
  (a dense column read, or a binary search in sparse postings). Exact when the
  passages holding every term fill the page; otherwise it gives up.
- scan: add every term's impacts into one score per passage (dense terms add whole
  columns, sparse ones scatter their postings), then cut the best tiers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bot.search.expand import Expansion
from bot.search.index import SearchIndex, sorted_unique

TIER = 1000.0  # score distance between "matches k terms" and "matches k+1 terms"
# Rough cost, in nanoseconds per element on a 2-core machine, of the numpy operations each
# way needs; only their ratios matter. Fitted to timings of both ways on the benchmark corpus.
_GATHER_DENSE = 11.0  # probe: read a dense column at a passage, weigh and count it
_SEARCH_SPARSE = 25.0  # probe: binary-search a sparse posting list for a passage, weigh and count it
_MARK_DENSE = 1.2  # probe: list the passages of a dense rarest term, per passage in the corpus
_SCAN_PASSAGE = 0.35  # scan: zero, combine and select, per passage in the corpus
_SCAN_DENSE = 0.4  # scan: add one dense column, per passage in the corpus
_SCATTER = 8.0  # scan: add one sparse posting


class Candidates(NamedTuple):
    key: np.ndarray  # float32: terms matched * TIER + score
    passages: np.ndarray  # the passages, in no particular order
    total: int  # how many articles match (all terms, for a probe; any term, for a scan)


NOTHING = Candidates(np.zeros(0, np.float32), np.zeros(0, np.int64), 0)


def keep_best(key: np.ndarray, passages: np.ndarray, want: int) -> tuple[np.ndarray, np.ndarray]:
    if passages.size <= want:
        return key, passages
    top = np.argpartition(-key, want - 1)[:want]
    return key[top], passages[top]


def _postings_size(idx: SearchIndex, options: list[Expansion]) -> int:
    return sum(int(idx.df[o.term_id]) for o in options)


def _probe_cost(idx: SearchIndex, groups: list[list[Expansion]], rarest: list[Expansion], base: int) -> float:
    per_passage = sum(_GATHER_DENSE if o.term_id in idx.dense_row else _SEARCH_SPARSE for g in groups for o in g)
    listing = idx.passage_count * _MARK_DENSE if any(o.term_id in idx.dense_row for o in rarest) else 0.0
    return base * per_passage + listing


def _scan_cost(idx: SearchIndex, groups: list[list[Expansion]]) -> float:
    options = [o for g in groups for o in g]
    dense = sum(o.term_id in idx.dense_row for o in options)
    sparse = sum(int(idx.df[o.term_id]) for o in options if o.term_id not in idx.dense_row)
    return idx.passage_count * (_SCAN_PASSAGE + _SCAN_DENSE * dense) + _SCATTER * sparse


def _passages_of(idx: SearchIndex, options: list[Expansion]) -> np.ndarray:
    """Ascending passages holding any of the options (tariff or tariffs), each once."""
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
    """The best passages holding every term, found from the rarest term's passages.

    None when probing would cost more than scanning, or when fewer than `needed`
    articles hold every term (then lower tiers matter and only a scan sees them).
    """
    if len(groups) < 2 or not all(groups):
        return None
    sizes = [_postings_size(idx, g) for g in groups]
    rarest = groups[int(np.argmin(sizes))]
    if _probe_cost(idx, groups, rarest, min(sizes)) >= _scan_cost(idx, groups):
        return None
    base = _passages_of(idx, rarest)
    scores = np.zeros(base.size, dtype=np.float32)
    complete = np.ones(base.size, dtype=bool)
    for options in groups:
        has_term = np.zeros(base.size, dtype=bool)
        for option in options:
            impacts = idx.impacts_at(option.term_id, base)
            scores += impacts * np.float32(option.weight)
            has_term |= impacts > 0
        complete &= has_term
    passages, scores = base[complete], scores[complete]
    if mask is not None:
        keep = mask[idx.passage_article[passages]]
        passages, scores = passages[keep], scores[keep]
    owners = idx.passage_article[passages]  # ascending, as the passages are
    articles = int(np.count_nonzero(np.diff(owners))) + 1 if owners.size else 0
    if articles < needed:
        return None
    key, passages = keep_best(scores + np.float32(len(groups) * TIER), passages, want)
    return Candidates(key, passages, articles)


def scan(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None, want: int) -> Candidates:
    """Score every passage holding any term; keep the `want` best keys, best tier first."""
    n = idx.passage_count
    scores = np.zeros(n, dtype=np.float32)
    matched = np.zeros(n, dtype=np.uint8)  # how many query terms each passage holds
    articles = np.zeros(idx.article_count, dtype=bool)  # which articles hold any
    for options in groups:
        if len(options) == 1:
            _add(idx, options[0], scores, matched, articles)
        elif options:
            has_term = np.zeros(n, dtype=np.uint8)  # tariff and tariffs count as one term
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
    key = matched * np.float32(TIER) + scores  # 0 where nothing matched
    key, passages = top_keys(key, want)
    return Candidates(key, passages, int(np.count_nonzero(articles)))


def top_keys(key: np.ndarray, want: int) -> tuple[np.ndarray, np.ndarray]:
    """The `want` largest positive keys and their positions, exactly.

    Selecting the matching positions first (`np.flatnonzero(key > 0)`) costs ~1 ms at
    650k passages: scattered hits defeat branch prediction. So a threshold is guessed
    from every 64th key, set low enough that the keys above it should number a few
    times `want`; those few are selected instead. If too few clear it, the guess was
    high and the plain way is taken; the result is the same either way.
    """
    step = 64
    if key.size >= 64 * want:
        sample = np.sort(key[::step])  # (np.partition is slower here: most keys are 0)
        threshold = sample[sample.size - (2 * want // step + 8)]
        if threshold > 0:
            found = np.flatnonzero(key >= threshold)
            if found.size >= want:
                return keep_best(key[found], found, want)
    found = np.flatnonzero(key > 0)
    return keep_best(key[found], found, want)


def _add(idx: SearchIndex, option: Expansion, scores: np.ndarray, counts: np.ndarray, articles: np.ndarray) -> None:
    """Add one expanded term's impacts to `scores`, count it in `counts`, flag its articles."""
    factor = idx.term_scale[option.term_id] * np.float32(option.weight)
    row = idx.dense_row.get(option.term_id)
    if row is not None:
        column = idx.dense[row]
        scores += column * factor
        counts += column > 0
        articles |= idx.dense_articles[row]
    else:
        passages, levels = idx.levels(option.term_id)
        np.add.at(scores, passages, levels * factor)  # (ufunc.at is twice as fast as a[i] += x here)
        np.add.at(counts, passages, np.uint8(1))
        articles[idx.passage_article[passages]] = True
