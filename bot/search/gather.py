"""Scoring only the passages that hold the query's terms, listed from their postings.

Adding every term's impacts into a score per passage (the former scan) costs a dozen
passes over 6 MB float arrays at 1.5M passages, whatever the query. Where the terms
are sparse (below n/16 passages) their passages can be listed instead, and each term's
level looked up there:

- `every_term`: the passages holding every term, from the rarest term's postings
  (tariff or tariffs: their union, merged by a stable sort). When enough articles are
  among them, only they can reach a page (a passage holding fewer terms ranks a whole
  tier below).
- `any_term`: the passages holding any term, for when too few hold every one, if no
  term is dense: exactly what the scan scored. (With a dense term, `bot.search.bounded`.)

A term's levels at the base are a read of its dense column; or a binary search in its
postings when the base is much smaller than they are; else its levels written into a
byte per passage once and read there. Scores are summed in the scan's order with its
float32 arithmetic, so keys are the scan's, bit for bit. Index arrays are int32, and
numpy's fancy indexing is several times faster with native (intp) indices: hence the
conversions before each gather or scatter.
"""

from __future__ import annotations

import numpy as np

from bot.search.expand import Expansion
from bot.search.index import SearchIndex

TIER = 1000.0  # score distance between "matches k terms" and "matches k+1 terms"
SEARCH_SHARE = 16  # binary-search a term's postings when they outnumber the base this many times
Scored = tuple[np.ndarray, np.ndarray, int]  # ascending passages, their keys, how many articles they are in


def _sparse(idx: SearchIndex, term_id: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = idx.offsets[term_id], idx.offsets[term_id + 1]
    return idx.post_passage[lo:hi], idx.post_level[lo:hi]


def postings_at(idx: SearchIndex, term_id: int) -> tuple[np.ndarray, np.ndarray]:
    """A sparse term's passages (intp, ascending) and its levels there."""
    passages, levels = _sparse(idx, term_id)
    return passages.astype(np.intp), levels


def spread(idx: SearchIndex, term_id: int) -> np.ndarray:
    """The term's level in every passage (0 = absent): its dense column, or its postings written out."""
    row = idx.dense_row.get(term_id)
    if row is not None:
        return idx.dense[row]
    passages, levels = postings_at(idx, term_id)
    out = np.zeros(idx.passage_count, dtype=np.uint8)
    out[passages] = levels
    return out


def levels_at(idx: SearchIndex, term_id: int, base: np.ndarray) -> np.ndarray:
    """The term's level at each base passage (intp, ascending), 0 where it is absent."""
    row = idx.dense_row.get(term_id)
    if row is not None:
        return idx.dense[row].take(base)
    passages, levels = _sparse(idx, term_id)
    if passages.size <= SEARCH_SHARE * base.size:
        return spread(idx, term_id).take(base)
    out = np.zeros(base.size, dtype=np.uint8)
    if passages.size:
        at = np.minimum(np.searchsorted(passages, base), passages.size - 1)
        hit = passages[at] == base
        out[hit] = levels[at[hit]]
    return out


def _union(idx: SearchIndex, options: list[Expansion]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Ascending passages (intp) holding any of the (sparse) options, and the levels there of
    the option whose postings they are, if there is one option. (A stable sort merges sorted
    runs in linear time; a full-width mark and `flatnonzero` would cost several times more.)"""
    if len(options) == 1:
        passages, levels = _sparse(idx, options[0].term_id)
        return passages.astype(np.intp), {options[0].term_id: levels}
    merged = np.sort(np.concatenate([_sparse(idx, o.term_id)[0] for o in options]), kind="stable")
    first = np.ones(merged.size, dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=first[1:])
    return merged[first].astype(np.intp), {}


def _scored(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None, base: np.ndarray,
            known: dict[int, np.ndarray], every: bool, as_probed: bool = False) -> Scored:
    """The base passages holding every term (`every`) or any, with their keys and articles.
    A level is weighed as the scan weighed it, `level * (scale * weight)`, or `as_probed`,
    `(level * scale) * weight`: float32 rounds the two apart in the last bit."""
    scores = np.zeros(base.size, dtype=np.float32)
    matched = np.zeros(base.size, dtype=np.uint8)  # how many query terms each passage holds
    for options in groups:
        has = np.zeros(base.size, dtype=bool)  # tariff and tariffs count as one term
        for option in options:
            levels = known.get(option.term_id)
            if levels is None:
                levels = levels_at(idx, option.term_id, base)
            if as_probed:
                scores += levels * idx.term_scale[option.term_id] * np.float32(option.weight)
            else:
                scores += levels * (idx.term_scale[option.term_id] * np.float32(option.weight))
            has |= levels != 0
        matched += has.view(np.uint8)
    keep = matched == len(groups) if every else matched != 0
    if mask is not None:
        keep &= mask.take(idx.passage_article.take(base))
    at = np.flatnonzero(keep)  # (then `take`: boolean indexing is several times slower)
    passages = base.take(at)
    owners = idx.passage_article.take(passages)  # ascending, as the passages are
    articles = int(np.count_nonzero(np.diff(owners))) + 1 if owners.size else 0
    return passages, matched.take(at) * np.float32(TIER) + scores.take(at), articles


def every_term(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None,
               as_probed: bool = False) -> Scored | None:
    """The passages holding every term (each group: one of its options), listed from the
    rarest term's postings, keyed; `mask` (one flag per article) narrows them. None when the
    rarest term is common (dense): its passages are too many to list."""
    sizes = [sum(int(idx.df[o.term_id]) for o in g) for g in groups]
    rarest = groups[int(np.argmin(sizes))]
    if any(o.term_id in idx.dense_row for o in rarest):
        return None
    return _scored(idx, groups, mask, *_union(idx, rarest), every=True, as_probed=as_probed)


def any_term(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None) -> Scored | None:
    """The passages holding any term, keyed, when no term is common (dense); else None."""
    options = [o for g in groups for o in g]
    if any(o.term_id in idx.dense_row for o in options):
        return None
    return _scored(idx, groups, mask, *_union(idx, options), every=False)


def any_term_articles(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None) -> int:
    """How many articles hold any of the terms (what `any_term` counts, without scoring)."""
    articles = np.zeros(idx.article_count, dtype=bool)
    for option in (o for g in groups for o in g):
        row = idx.dense_row.get(option.term_id)
        if row is not None:
            articles |= idx.dense_articles[row]
        else:
            owners = idx.passage_article.take(_sparse(idx, option.term_id)[0].astype(np.intp))
            articles[owners.astype(np.intp)] = True
    if mask is not None:
        articles &= mask
    return int(np.count_nonzero(articles))
