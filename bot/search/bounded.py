"""The best keys over every passage, as a full scan finds them, scoring only a few thousand.

For queries with a common (dense) term, whose passages are too many to list. A key is
`terms matched * TIER + score`. Byte-wide passes count the terms each passage holds
(dense columns read whole, sparse terms marked at their postings), which gives the tier
the `want`-th best key falls in: every passage above it is kept. Within that tier, an
upper bound of each score in 16-bit integers (each option's factor rounded up to whole
`unit`s) is compared with a threshold read from every 64th passage's bound, set so that
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

STEP = 64  # the sample: every STEP-th passage
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


def _bound(idx: SearchIndex, options: list[Expansion], factors: list[np.float32], unit: float) -> np.ndarray:
    """Each passage's score rounded up to whole units, an upper bound in 16 bits."""
    bound: np.ndarray | None = None
    term = np.empty(idx.passage_count, dtype=np.uint16)
    for option, factor in sorted(zip(options, factors), key=lambda of: of[0].term_id not in idx.dense_row):
        units = np.uint16(int(float(factor) / unit) + 1)
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


def best_keys(idx: SearchIndex, groups: list[list[Expansion]], mask: np.ndarray | None, want: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Ascending passages (intp) among which the `want` best keys of any passage are, with
    their keys (every passage holding a term when there are few). `mask` is per article."""
    options = [o for g in groups for o in g]
    factors = [idx.term_scale[o.term_id] * np.float32(o.weight) for o in options]
    matched = _matched(idx, groups, mask)
    if float(sum(factors)) * 255 >= TIER or len(options) >= _STEPS // 2:
        return _scored(idx, options, factors, matched, np.flatnonzero(matched))  # (tiers may overlap: no cut)
    tier, above = len(groups), 0  # the tier the cut falls in; passages in higher tiers
    while tier > 0 and above + (in_tier := int(np.count_nonzero(matched == tier))) < want:
        above += in_tier
        tier -= 1
    if tier == 0 or in_tier <= WHOLE_TIER:
        return _scored(idx, options, factors, matched, np.flatnonzero(matched >= max(tier, 1)))
    unit = float(sum(factors)) / (_STEPS - len(options) - 1)
    bound = _bound(idx, options, factors, unit)
    sample = np.sort(bound[::STEP][matched[::STEP] == tier])
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
