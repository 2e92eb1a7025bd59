"""Typo tolerance: expand a query term to vocabulary terms (exact > prefix > fuzzy).

The typo budget follows Typesense: no edits under 4 characters, one up to 6,
two from 7. Corrected terms count for less than exact ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.search.index import SearchIndex, _first_key, letter_mask

VARIANT_WEIGHT = 0.9
PREFIX_WEIGHT = 0.7
FUZZY_WEIGHTS = {1: 0.55, 2: 0.35}
MAX_PREFIX = 8
MAX_FUZZY = 6


@dataclass(frozen=True, slots=True)
class Expansion:
    term_id: int
    term: str
    weight: float
    kind: str  # "exact" | "prefix" | "fuzzy"
    distance: int = 0


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


def fuzzy_candidates(index: SearchIndex, term: str, budget: int, limit: int) -> list[tuple[str, int, int]]:
    """(term, distance, term_id) within `budget` edits, nearest and most common first.

    Compares against the vocabulary slices of the same first letter and nearby
    lengths; only when that finds nothing are other first letters tried.
    """
    if budget <= 0 or not term:
        return []
    found: dict[str, tuple[int, int]] = {}
    query_mask = np.uint32(letter_mask(term))

    def scan(first: str) -> None:
        for length in range(max(1, len(term) - budget), len(term) + budget + 1):
            words, ids, masks = index.bucket(first, length)
            if not words.size:
                continue
            near = np.flatnonzero(np.bitwise_count(masks ^ query_mask) <= 2 * budget)
            if near.size == 0:
                continue
            subset = words[near].tolist()
            for word, distance, position in process.extract(
                term, subset, scorer=OSA.distance, score_cutoff=budget, limit=limit
            ):
                if word != term:
                    found[word] = (int(distance), int(ids[near[position]]))

    scan(_first_key(term))
    if not found:
        for first in {key[0] for key in index.buckets} - {_first_key(term)}:
            scan(first)
    ranked = sorted(found.items(), key=lambda kv: (kv[1][0], -int(index.df[kv[1][1]]), kv[0]))
    return [(word, distance, term_id) for word, (distance, term_id) in ranked[:limit]]


def expand_term(index: SearchIndex, term: str) -> list[Expansion]:
    expansions: list[Expansion] = []
    exact = index.term_id(term)
    if exact is not None:
        expansions.append(Expansion(exact, term, 1.0, "exact"))
    for variant in _variants(term):
        variant_id = index.term_id(variant)
        if variant_id is not None:
            expansions.append(Expansion(variant_id, variant, VARIANT_WEIGHT, "variant"))
    # A word that is in the vocabulary means what it says; a word that is not may be
    # cut short ("bessen") or mistyped ("bessnt"): try completions, then corrections.
    if exact is None and len(term) >= 4:
        lo, hi = index.prefix_range(term)
        taken = {e.term_id for e in expansions}
        ids = [i for i in range(lo, hi) if i not in taken]
        if len(ids) > MAX_PREFIX:
            ids = sorted(ids, key=lambda i: -int(index.df[i]))[:MAX_PREFIX]
        expansions.extend(Expansion(i, index.vocab[i], PREFIX_WEIGHT, "prefix") for i in ids)
    if exact is None and len(expansions) == 0:
        for word, distance, term_id in fuzzy_candidates(index, term, typo_budget(term), MAX_FUZZY):
            expansions.append(Expansion(term_id, word, FUZZY_WEIGHTS[distance], "fuzzy", distance))
    return expansions


def suggest(index: SearchIndex, term: str, limit: int = 3) -> list[str]:
    """Looser than expansion: a "did you mean" for a term that matched nothing."""
    budget = max(1, typo_budget(term) + 1) if len(term) >= 3 else 0
    return [word for word, _, _ in fuzzy_candidates(index, term, min(budget, 3), limit)]
