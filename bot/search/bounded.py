"""The best keys over every passage, as a full scan finds them, scoring only a few thousand.

For queries with a common (dense) term, whose passages are too many to list. A key is
`terms matched * TIER + score`. Byte-wide passes count the terms each passage holds
(dense columns read whole, sparse terms marked at their postings), which gives the tier
the `want`-th best key falls in: every passage above it is kept. Within that tier, an
upper bound of each score in 16-bit integers (each option's factor rounded up to whole
`unit`s) is compared with a threshold read from one passage in 64's bound, set so that
some 16 times the passages still wanted should clear it (the bound is loose by up to a
level's worth of units per option). Only the passages that clear it are scored exactly;
if `want` of them really score above the threshold, nothing left out could reach the
cut. If not (a bad sample), the whole tier is scored: the answer is the same either way.

Scores are summed in the order and with the float32 arithmetic of a full scan, so keys
are bit for bit the same; ties at the cut go to the lower passage (`keep_best`).
"""

from __future__ import annotations

import numpy as np

from bot.search.expand import Expansion
from bot.search.gather import TIER, levels_at, postings_at
from bot.search.index import SearchIndex

STEP = 64  # the sample: one passage in STEP, as runs of WIDTH passages (a cache line of bytes) every STEP * WIDTH
WIDTH = 64  # (a strided sample would read every cache line of a byte column, as a full pass does); both powers of 2
WHOLE_TIER = 4096  # a tier this small is scored whole, without a threshold
RANKS = ((16, 64), (128, 512))  # thresholds tried: the (a * passages still wanted / STEP + b)-th sampled bound
_STEPS = 65535 // 255  # the options' factors in units, summed, stay below this: a bound fits 16 bits


def _scored(idx: SearchIndex, options: list[Expansion], factors: list[np.float32], matched: np.ndarray,
            passages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The passages and their float32 keys, summed as a full scan sums them."""
    scores = np.zeros(passages.size, dtype=np.float32)
    for option, factor in zip(options, factors):
        scores += levels_at(idx, option.term_id, passages) * factor
    return passages, matched.take(passages) * np.float32(TIER) + scores


def _matched(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None) -> np.ndarray:
    """How many query terms each passage holds (tariff and tariffs count as one), 0 outside `mask`.
    (Each pass over every passage counts at 1.5M passages: none is made that can be saved.)"""
    matched: np.ndarray | None = None
    for options in groups:
        has: np.ndarray | None = None
        for row in [idx.dense_row[o.term_id] for o in options if o.term_id in idx.dense_row]:
            has = idx.dense[row] != 0 if has is None else np.logical_or(has, idx.dense[row] != 0, out=has)
        if has is None:
            has = np.zeros(idx.passage_count, dtype=bool)
        for option in options:
            if option.term_id not in idx.dense_row:
                has[postings_at(idx, option.term_id)[0]] = True
        # (adding bools casts them one by one, twice as slow as adding their bytes)
        matched = has.view(np.uint8) if matched is None else np.add(matched, has.view(np.uint8), out=matched)
    assert matched is not None
    if mask is not None:
        matched *= mask.take(idx.passage_article)
    return matched


def _units(factor: np.float32, unit: float) -> np.uint16:
    """An option's factor rounded up to whole units (more than the factor, however it rounds)."""
    return np.uint16(int(float(factor) / unit) + 1)


def _bound(idx: SearchIndex, options: list[Expansion], factors: list[np.float32], unit: float) -> np.ndarray:
    """Each passage's score rounded up to whole units, an upper bound in 16 bits."""
    bound: np.ndarray | None = None
    term = np.empty(idx.passage_count, dtype=np.uint16)
    for option, factor in sorted(zip(options, factors), key=lambda of: of[0].term_id not in idx.dense_row):
        units = _units(factor, unit)
        row = idx.dense_row.get(option.term_id)
        if row is None:
            if bound is None:
                bound = np.zeros(idx.passage_count, dtype=np.uint16)
            passages, levels = postings_at(idx, option.term_id)
            bound[passages] += levels * units  # (a term holds a passage once: no repeated index)
        elif bound is None:
            bound = np.multiply(idx.dense[row], units, dtype=np.uint16)
        else:
            bound += np.multiply(idx.dense[row], units, out=term)
    assert bound is not None
    return bound


def _sample(values: np.ndarray) -> np.ndarray:
    """The sampled passages' values: the first WIDTH of every STEP * WIDTH."""
    span = STEP * WIDTH
    return values[: values.size // span * span].reshape(-1, span)[:, :WIDTH].ravel()


def _sampled_postings(passages: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Which of these passages are sampled, and where they are in a sample of `size`.
    (STEP and WIDTH are powers of two: shifts and masks, not integer divisions.)"""
    offset = passages & (WIDTH - 1)
    at = ((passages >> (STEP * WIDTH).bit_length() - 1) << WIDTH.bit_length() - 1) + offset
    on = ((passages & (STEP * WIDTH - 1)) < WIDTH) & (at < size)
    return on, at[on]


def _sampled(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None, factors: list[np.float32],
             unit: float) -> tuple[np.ndarray, np.ndarray]:
    """The terms held and the bound of the sampled passages, from short runs of the dense
    columns and the postings that fall on the sample: no pass over every passage."""
    size = idx.passage_count // (STEP * WIDTH) * WIDTH
    matched = np.zeros(size, dtype=np.uint8)
    bound = np.zeros(size, dtype=np.uint16)
    at = 0
    for options in groups:
        has = np.zeros(size, dtype=bool)
        for option, factor in zip(options, factors[at : at + len(options)]):
            row = idx.dense_row.get(option.term_id)
            if row is not None:
                column = _sample(idx.dense[row])
                has |= column != 0
                bound += column * _units(factor, unit)
            else:
                passages, levels = postings_at(idx, option.term_id)
                on, where = _sampled_postings(passages, size)
                has[where] = True
                bound[where] += levels[on] * _units(factor, unit)
        at += len(options)
        matched += has.view(np.uint8)
    if mask is not None:
        matched *= mask.take(_sample(idx.passage_article))
    return matched, bound


def _exactly(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None, factors: list[np.float32],
             passages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The passages holding a term (outside `mask`: none) and their keys, from their levels alone."""
    scores = np.zeros(passages.size, dtype=np.float32)
    matched = np.zeros(passages.size, dtype=np.uint8)
    at = 0
    for options in groups:
        has = np.zeros(passages.size, dtype=bool)
        for option, factor in zip(options, factors[at : at + len(options)]):
            levels = levels_at(idx, option.term_id, passages)
            scores += levels * factor
            has |= levels != 0
        at += len(options)
        matched += has.view(np.uint8)
    if mask is not None:
        matched *= mask.take(idx.passage_article.take(passages))
    keep = np.flatnonzero(matched)
    return passages.take(keep), matched.take(keep) * np.float32(TIER) + scores.take(keep)


def _every_term_first(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None,
                      factors: list[np.float32], unit: float, want: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The common case without counting the terms every passage holds: when the sample has
    enough passages holding every term, a threshold on the bound alone. A passage below it
    scores at most (threshold - 1) units in any tier, so if `want` keys of those above it
    clear that in the top tier, nothing left out reaches the cut. None when it does not hold."""
    matched, bound = _sampled(idx, groups, mask, factors, unit)
    sample = np.sort(bound[matched == len(groups)])
    times, more = RANKS[0]
    rank = max(1, times * want // STEP + more)
    if sample.size < max(rank, WHOLE_TIER // STEP):
        return None
    threshold = int(sample[sample.size - rank])
    passages, key = _exactly(idx, groups, mask, factors,
                             np.flatnonzero(_bound(idx, [o for g in groups for o in g], factors, unit) >= threshold))
    rounding = 4 * float(np.spacing(np.float32((len(groups) + 1) * TIER)))  # float32 error of a key, and more
    if np.count_nonzero(key >= len(groups) * TIER + (threshold - 1) * unit + rounding) >= want:
        return passages, key
    return None


def best_keys(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None, want: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Ascending passages (intp) among which the `want` best keys of any passage are, with
    their keys (every passage holding a term when there are few). `mask` is per article."""
    options = [o for g in groups for o in g]
    factors = [idx.term_scale[o.term_id] * np.float32(o.weight) for o in options]
    unit = float(sum(factors)) / (_STEPS - len(options) - 1)
    cut = float(sum(factors)) * 255 < TIER and len(options) < _STEPS // 2  # (else tiers may overlap: no cut)
    if cut and (found := _every_term_first(idx, groups, mask, factors, unit, want)) is not None:
        return found
    matched = _matched(idx, groups, mask)
    if not cut:
        return _scored(idx, options, factors, matched, np.flatnonzero(matched))
    tier, above = len(groups), 0  # the tier the cut falls in; passages in higher tiers
    while tier > 0 and above + (in_tier := int(np.count_nonzero(matched == tier))) < want:
        above += in_tier
        tier -= 1
    if tier == 0 or in_tier <= WHOLE_TIER:
        return _scored(idx, options, factors, matched, np.flatnonzero(matched >= max(tier, 1)))
    bound = _bound(idx, options, factors, unit)
    sample = np.sort(_sample(bound)[_sample(matched) == tier])
    rounding = 4 * float(np.spacing(np.float32((tier + 1) * TIER)))  # float32 error of a key, and more
    for times, more in RANKS:
        rank = max(1, times * (want - above) // STEP + more)
        if sample.size < rank:
            break
        threshold = int(sample[sample.size - rank])
        clear = np.flatnonzero(bound >= threshold)  # (few: the rest of the test is on them alone)
        clear = clear[matched.take(clear) == tier]
        if tier < len(groups):
            clear = np.sort(np.concatenate([clear, np.flatnonzero(matched > tier)]), kind="stable")  # (disjoint)
        passages, key = _scored(idx, options, factors, matched, clear)
        # A passage left out scores at most (threshold - 1) units: if `want` keys are above that, it is out of reach.
        if np.count_nonzero(key >= tier * TIER + (threshold - 1) * unit + rounding) >= want:
            return passages, key
    return _scored(idx, options, factors, matched, np.flatnonzero(matched >= tier))
