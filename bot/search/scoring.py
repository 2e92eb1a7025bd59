"""Choosing the passages worth re-ranking: BM25 over expanded terms, tiered by terms matched.

A passage's key is `terms matched * TIER + score`, so a passage holding every query
term outranks any holding fewer; the `want` best keys go on to the re-rank. They are
found from the passages holding every term when enough articles hold every term, as
they nearly always do (`bot.search.gather`); else from those holding any, listed when
every term is sparse, or bounded by byte-wide passes when one is dense
(`bot.search.bounded`). Either way they are the keys a scan of every passage kept,
ties at the cut going to the lower passage (`keep_best`).

The cost model that chose between a probe (the first way, then done with binary
searches) and that scan now only decides which articles a total counts
(`_counts_every_term`), and how levels are weighed, so that results are what they were.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bot.search.bounded import best_keys
from bot.search.expand import Expansion
from bot.search.gather import TIER as TIER
from bot.search.gather import any_term, any_term_articles, every_term
from bot.search.index import SearchIndex

# The former cost model: rough nanoseconds per element of what a probe and a scan did.
_GATHER_DENSE = 11.0  # probe: read a dense column at a passage, weigh and count it
_SEARCH_SPARSE = 25.0  # probe: binary-search a sparse posting list for a passage, weigh and count it
_MARK_DENSE = 1.2  # probe: list the passages of a dense rarest term, per passage in the corpus
_SCAN_PASSAGE = 0.35  # scan: zero, combine and select, per passage in the corpus
_SCAN_DENSE = 0.4  # scan: add one dense column, per passage in the corpus
_SCATTER = 8.0  # scan: add one sparse posting


class Candidates(NamedTuple):
    key: np.ndarray  # float32: terms matched * TIER + score
    passages: np.ndarray  # the passages, in no particular order
    total: int  # how many articles match (see `_counts_every_term`: all terms, or any term)


NOTHING = Candidates(np.zeros(0, np.float32), np.zeros(0, np.int64), 0)


def keep_best(key: np.ndarray, passages: np.ndarray, want: int) -> tuple[np.ndarray, np.ndarray]:
    """The `want` largest keys; of those tied at the cut, the first (passages come ascending:
    the lower passages, which the re-rank also puts first among equals). So both ways of
    finding candidates cut ties alike, and a cut does not depend on how numpy partitions."""
    if passages.size <= want:
        return key, passages
    cut = np.partition(key, key.size - want)[key.size - want]
    above = np.flatnonzero(key > cut)
    chosen = np.concatenate([above, np.flatnonzero(key == cut)[: want - above.size]])
    return key[chosen], passages[chosen]


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


def _counts_every_term(idx: SearchIndex, groups: list[list[Expansion]]) -> bool:
    """Whether a total counts the articles holding every term rather than any: the former
    probe counted those, and ran where the cost model found it cheaper than a scan. Totals
    stay as they were ("Articles 1-5 of N"), whichever way the candidates are now found."""
    if len(groups) < 2 or not all(groups):
        return False
    sizes = [_postings_size(idx, g) for g in groups]
    rarest = groups[int(np.argmin(sizes))]
    return _probe_cost(idx, groups, rarest, min(sizes)) < _scan_cost(idx, groups)


def candidates(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None, needed: int, want: int,
               filtered: bool = False) -> Candidates:
    """The `want` best keys of passages holding any term, and how many articles match.

    When `needed` articles hold every term, the passages holding fewer rank a tier below
    and cannot reach the page, so only those holding every term are scored (listed from
    the rarest term, unless it is common). Else, or when the re-rank filters candidates
    (`filtered`: phrases) and those do not fill `want`, the best of every passage; except
    where the probe ran, which never looked further. Terms that match nothing do not count."""
    used = [g for g in groups if g]
    if not used:
        return NOTHING
    probed = _counts_every_term(idx, groups)
    found = every_term(idx, used, mask, as_probed=probed)
    if found is not None and (len(used) == 1 or (found[2] >= needed and (probed or not filtered
                                                                         or found[0].size >= want))):
        passages, key, articles = found
        if len(used) > 1 and not probed:
            articles = any_term_articles(idx, used, mask)
    elif (anywhere := any_term(idx, used, mask)) is not None:
        passages, key, articles = anywhere
    else:
        passages, key = best_keys(idx, used, mask, want)
        articles = any_term_articles(idx, used, mask)
    if passages.size == 0:
        return NOTHING
    key, at = top_keys(key, want)
    return Candidates(key, passages[at], articles)


def top_keys(key: np.ndarray, want: int) -> tuple[np.ndarray, np.ndarray]:
    """The `want` largest positive keys and their positions, exactly.

    Selecting the matching positions first (`np.flatnonzero(key > 0)`) costs ~1 ms at
    650k passages: scattered hits defeat branch prediction. So a threshold is guessed
    from every 64th key, set low enough that the keys above it should number a few
    times `want`; those few are selected instead. If too few clear it, the guess was
    high and the plain way is taken; the result is the same either way.
    """
    step = 64
    rank = 2 * want // step + 8
    if key.size >= step * max(want, rank):
        sample = np.sort(key[::step])  # (np.partition is slower here: most keys are 0)
        threshold = sample[sample.size - rank]
        if threshold > 0:
            found = np.flatnonzero(key >= threshold)
            if found.size >= want:
                return keep_best(key[found], found, want)
    found = np.flatnonzero(key > 0)
    return keep_best(key[found], found, want)
