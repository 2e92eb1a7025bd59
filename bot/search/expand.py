"""Typo tolerance: expand a query term to vocabulary terms (exact > prefix > corrected).

Corrections follow a noisy-channel rule: a reading of the typed word is as likely as
it is common (document frequency) and unlikely in the number of edits it needs, each
edit costing a factor of `EDIT_ODDS`. So `tarrifs` reads as `tariffs` (two letters
moved, but in a large share of all articles), not as `tarrips` (one edit, three
passages). A typed word that is in the vocabulary is corrected too when it is rare
and a near word is far more common (news text has misspellings: `hasset` appearing
once must not hide `hassett`); it stays, weighted less, among the expansions.

Edits are counted as OSA distance within a Typesense-like budget (no edits under 4
characters, one up to 6, two from 7). Doubled letters, the most common human
misspelling (`tarrif`, `curency`), cost one edit however many letters moved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.search.index import SearchIndex, _first_key, letter_mask

VARIANT_WEIGHT = 0.9
PREFIX_WEIGHT = 0.7
FUZZY_WEIGHTS = {1: 0.55, 2: 0.35}
KEPT_WEIGHT = 0.3  # a rare typed word that was corrected still matches, below its correction:
KEPT_SHARE = 0.5  # at most half the best impact of the correction
MAX_PREFIX = 8
MAX_FUZZY = 6
EDIT_ODDS = 30.0  # per edit, a reading must be this many times as common to be as likely
REAL_WORD_ODDS = 1.5  # and a word that exists is this much more likely meant than a typo of it
RARE_PER_PASSAGES = 100_000  # a typed real word is "rare" in at most max(2, passages / this)
DOUBLING_FLOOR_PER_PASSAGES = 5_000  # doubled-letter readings two edits away: only words this common
CLOSE_ODDS = 10.0  # other readings kept beside the best: at most this much less likely


@dataclass(frozen=True, slots=True)
class Expansion:
    term_id: int
    term: str
    weight: float
    kind: str  # "exact" | "variant" | "prefix" | "fuzzy"
    distance: int = 0


@dataclass(frozen=True, slots=True)
class Reading:
    """A vocabulary word the typed one may stand for, with its noisy-channel score."""

    term: str
    term_id: int
    edits: int
    score: float  # ln(df) - edits * ln(EDIT_ODDS)


def _variants(term: str) -> list[str]:
    """Singular and plural forms: `tariffs` also finds `tariff`, and `tariff` finds `tariffs`."""
    if len(term) < 4 or not term.isalpha():
        return []
    if term.endswith("ies"):
        return [term[:-3] + "y"]
    if term.endswith("es"):
        return [term[:-1], term[:-2]]
    if term.endswith("s") and not term.endswith("ss"):
        return [term[:-1]]
    if term.endswith("y"):
        return [term[:-1] + "ies", term + "s"]
    return [term + "s", term + "es"]


def typo_budget(term: str) -> int:
    n = len(term)
    return 0 if n < 4 else 1 if n <= 6 else 2


def skeleton(word: str) -> str:
    """The word with runs of one letter collapsed: `tarrif` and `tariff` are both `tarif`."""
    out = [c for i, c in enumerate(word) if i == 0 or c != word[i - 1]]
    return "".join(out)


def _score(df: int, edits: int) -> float:
    return math.log(max(df, 1)) - edits * math.log(EDIT_ODDS)


def _near(index: SearchIndex, term: str, budget: int, min_df: int, firsts: list[str]) -> dict[str, tuple[int, int]]:
    """word -> (OSA distance, term id) for vocabulary words within `budget` edits and in at
    least `min_df` passages. The document-frequency and letter-set filters run as vector
    operations before rapidfuzz sees a word, so a high `min_df` makes this nearly free."""
    found: dict[str, tuple[int, int]] = {}
    query_mask = np.uint32(letter_mask(term))
    for first in firsts:
        for length in range(max(1, len(term) - budget), len(term) + budget + 1):
            words, ids, masks = index.bucket(first, length)
            if not words.size:
                continue
            keep = np.bitwise_count(masks ^ query_mask) <= 2 * budget
            if min_df > 1:
                keep &= index.df[ids] >= min_df
            near = np.flatnonzero(keep)
            if near.size == 0:
                continue
            for word, distance, position in process.extract(
                term, words[near].tolist(), scorer=OSA.distance, score_cutoff=budget, limit=None
            ):
                if word != term:
                    found[word] = (int(distance), int(ids[near[position]]))
    return found


def readings(index: SearchIndex, term: str, typed_df: int) -> list[Reading]:
    """Vocabulary words the term may be a typo of, most likely first; only those that could
    beat the typed word itself when it exists (so a common word costs two vector ops)."""
    budget = typo_budget(term)
    if budget <= 0 or not term:
        return []
    # Cheapest reading is one edit: it must be EDIT_ODDS * REAL_WORD_ODDS times as common.
    min_df = math.ceil(typed_df * EDIT_ODDS * REAL_WORD_ODDS) + 1 if typed_df else 1
    if min_df > index.passage_count:
        return []
    first = _first_key(term)
    found = _near(index, term, budget, min_df, [first])
    shape = skeleton(term)
    if budget == 1:  # doubled letters two edits away (`tarrif` -> `tariff`)
        floor = max(min_df, index.passage_count // DOUBLING_FLOOR_PER_PASSAGES, 2)
        found.update((w, v) for w, v in _near(index, term, 2, floor, [first]).items() if skeleton(w) == shape)
    if not found and not typed_df:  # a typo in the first letter
        found = _near(index, term, budget, 1, sorted({key[0] for key in index.buckets} - {first}))
    out = []
    for word, (distance, term_id) in found.items():
        edits = 1 if skeleton(word) == shape else distance  # doubled letters moved: one slip
        out.append(Reading(word, term_id, edits, _score(int(index.df[term_id]), edits)))
    out.sort(key=lambda r: (-r.score, r.edits, r.term))
    return out


def is_rare(index: SearchIndex, df: int) -> bool:
    """Rare enough that a near word far more common may be what was meant."""
    return df <= max(2, index.passage_count // RARE_PER_PASSAGES)


def _corrections(index: SearchIndex, best: list[Reading], taken: set[int]) -> list[Expansion]:
    """The best reading, its singular/plural, and other readings nearly as likely."""
    out: list[Expansion] = []
    top = best[0]
    for reading in best[:MAX_FUZZY]:
        if reading.score < top.score - math.log(CLOSE_ODDS) or reading.term_id in taken:
            continue
        taken.add(reading.term_id)
        weight = FUZZY_WEIGHTS[min(reading.edits, 2)]
        out.append(Expansion(reading.term_id, reading.term, weight, "fuzzy", reading.edits))
        if reading is top:
            for variant in _variants(reading.term):
                variant_id = index.term_id(variant)
                if variant_id is not None and variant_id not in taken:
                    taken.add(variant_id)
                    out.append(Expansion(variant_id, variant, weight * VARIANT_WEIGHT, "fuzzy", reading.edits))
    return out


def expand_term(index: SearchIndex, term: str) -> list[Expansion]:
    """The vocabulary terms a query term stands for; a correction, when there is one, first."""
    exact = index.term_id(term)
    family = _exact_and_variants(index, term, exact)
    family_df = max((int(index.df[e.term_id]) for e in family), default=0)
    if family and not is_rare(index, family_df):
        return family
    prefix = _prefixes(index, term, {e.term_id for e in family}) if exact is None and len(term) >= 4 else []
    taken = {e.term_id for e in family}
    found = [r for r in readings(index, term, family_df) if r.term_id not in taken]
    # What the typed word reads as without a correction: itself (or its singular or plural),
    # which a person more likely meant than a typo of it; or one of several completions
    # ("semicon"). A completion that is also the likeliest reading ("hasset") is a correction.
    stays = [_score(family_df, 0) + math.log(REAL_WORD_ODDS)] if family else []
    stays += [_score(int(index.df[e.term_id]), 1) for e in prefix if not found or e.term_id != found[0].term_id]
    if not found or (stays and found[0].score <= max(stays)):
        return [*family, *prefix]
    corrections = _corrections(index, found, {e.term_id for e in family})
    # The typed word still matches, but a passage holding it scores below one holding the
    # correction, though a rare word's BM25 impact is far higher than a common one's.
    top = corrections[0]
    ceiling = top.weight * float(index.term_scale[top.term_id])
    kept = [Expansion(e.term_id, e.term, min(KEPT_WEIGHT, KEPT_SHARE * ceiling / float(index.term_scale[e.term_id])),
                      e.kind) for e in family]
    return [*corrections, *kept]


def _exact_and_variants(index: SearchIndex, term: str, exact: int | None) -> list[Expansion]:
    expansions = [Expansion(exact, term, 1.0, "exact")] if exact is not None else []
    for variant in _variants(term):
        variant_id = index.term_id(variant)
        if variant_id is not None:
            expansions.append(Expansion(variant_id, variant, VARIANT_WEIGHT, "variant"))
    return expansions


def _prefixes(index: SearchIndex, term: str, taken: set[int]) -> list[Expansion]:
    lo, hi = index.prefix_range(term)
    ids = [i for i in range(lo, hi) if i not in taken]
    if len(ids) > MAX_PREFIX:
        ids = sorted(ids, key=lambda i: -int(index.df[i]))[:MAX_PREFIX]
    return [Expansion(i, index.vocab[i], PREFIX_WEIGHT, "prefix") for i in ids]


def suggest(index: SearchIndex, term: str, limit: int = 3) -> list[str]:
    """Looser than expansion: a "did you mean" for a term that matched nothing, likeliest first."""
    budget = min(max(1, typo_budget(term) + 1), 3) if len(term) >= 3 else 0
    if budget <= 0:
        return []
    found = _near(index, term, budget, 1, [_first_key(term)])
    ranked = sorted(found.items(), key=lambda kv: (-_score(int(index.df[kv[1][1]]), kv[1][0]), kv[0]))
    return [word for word, _ in ranked[:limit]]
