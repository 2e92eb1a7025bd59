"""An index of people's name tokens, so `who` scores only people whose names are near the query.

A lookup finds the name tokens near each query token (same length band, a letter-set
filter as a vector operation, then rapidfuzz on the few left), and the prefixes of
tokens; the people holding those tokens are the candidates, scored exactly as a scan
over everyone would score them (`score`), with rapidfuzz's `cdist` over their names.
A lookup costs what the people with names near the query cost, not what the directory holds.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz, process

from bot.corpus.text import normalize_text, terms
from bot.search.build import letter_masks, passage_terms
from bot.search.index import flat_ranges, letter_mask, sorted_unique

MATCH_THRESHOLD = 78.0  # a person matches when their score reaches this
PREFIX_SCORE = 90.0  # a query token of 3+ letters that starts a name token
SUGGEST_CUTOFF = 60.0  # looser: name tokens considered for "did you mean"
# A whole name can match the whole query while no token reaches MATCH_THRESHOLD ("jamiesongreer"):
# for a long query token, people are candidates from this similarity on, and their whole names are
# compared. (Short tokens this loose would make most people candidates.)
WHOLE_NAME_CUTOFF = 67.0
WHOLE_NAME_MIN_LENGTH = 7


class Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def aliases(self) -> tuple[str, ...]: ...

    @property
    def mentions(self) -> int: ...


def _objects(values: Sequence[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _offsets(counts: Sequence[int] | np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


class _Vocabulary:
    """Sorted strings, bucketed by length with letter masks, each naming a run of people."""

    def __init__(self, words: list[str], people: np.ndarray, offsets: np.ndarray) -> None:
        self.words = words
        self.array = _objects(words)
        self.people, self.offsets = people, offsets
        masks = letter_masks(words)
        lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        self.by_length: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for length in np.unique(lengths).tolist():
            ids = np.flatnonzero(lengths == length)
            self.by_length[int(length)] = (ids, masks[ids])

    def near(self, word: str, cutoff: float) -> np.ndarray:
        """Ids of words whose fuzz.ratio with `word` is at least `cutoff`."""
        n = len(word)
        share = cutoff / 100.0
        query_mask = np.uint32(letter_mask(word))
        found: list[np.ndarray] = []
        for length, (ids, masks) in self.by_length.items():
            # ratio = 2 * matches / (n + length) and matches <= min(n, length)
            if 2 * min(n, length) < share * (n + length):
                continue
            # Each insertion or deletion changes at most one letter bit.
            edits = int((1.0 - share) * (n + length) + 1e-9)
            near = ids[np.bitwise_count(masks ^ query_mask) <= edits]
            if near.size == 0:
                continue
            hits = process.extract(word, self.array[near].tolist(), scorer=fuzz.ratio, score_cutoff=cutoff, limit=None)
            if hits:
                found.append(near[np.fromiter((h[2] for h in hits), dtype=np.int64, count=len(hits))])
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def prefixed(self, prefix: str) -> np.ndarray:
        lo = bisect.bisect_left(self.words, prefix)
        hi = bisect.bisect_left(self.words, prefix + "\U0010ffff", lo)
        return np.arange(lo, hi, dtype=np.int64)

    def owners(self, ids: np.ndarray) -> np.ndarray:
        starts = self.offsets[ids]
        return self.people[flat_ranges(starts, self.offsets[ids + 1] - starts)]


class NameIndex:
    """Name tokens (of names and aliases) -> people, and each person's tokens and whole names.

    A person scoring `cutoff` or more holds a name token that close to a query token (a
    mean reaches the cutoff only if one of its terms does), or else a whole name that close
    to the whole query; those are looked for from long query tokens (`candidates`)."""

    def __init__(self, people: Sequence[Named]) -> None:
        normal_of: dict[str, str] = {}  # surnames recur as aliases: each string is done once
        tokens_of: dict[str, list[str]] = {}
        names: list[str] = []  # every person's names and aliases, normalised, person after person
        name_counts: list[int] = []
        held: list[str] = []  # every person's distinct name tokens, person after person
        token_counts: list[int] = []
        for person in people:
            own = (person.name, *person.aliases)
            for n in own:
                if n not in normal_of:
                    normal_of[n] = normalize_text(n)
                    tokens_of[n] = passage_terms(n)  # as `terms` does, faster
            names.extend(normal_of[n] for n in own)
            name_counts.append(len(own))
            tokens = dict.fromkeys(t for n in own for t in tokens_of[n])
            held.extend(tokens)
            token_counts.append(len(tokens))
        words = sorted(set(held))
        token_id = {t: k for k, t in enumerate(words)}
        self.person_tokens = np.fromiter((token_id[t] for t in held), dtype=np.int32, count=len(held))
        self.person_token_offsets = _offsets(token_counts)
        # Token -> people: the (token, person) pairs sorted by token.
        owner = np.repeat(np.arange(len(people), dtype=np.int32), token_counts)
        order = np.argsort(self.person_tokens, kind="stable")
        self.tokens = _Vocabulary(words, owner[order], _offsets(np.bincount(self.person_tokens, minlength=len(words))))
        self.names = _objects(names)
        self.name_lengths = np.fromiter((len(n) for n in names), dtype=np.int64, count=len(names))
        self.name_offsets = _offsets(name_counts)
        # Ties are ranked most mentioned first, then by name.
        ranked = sorted(range(len(people)), key=lambda i: (-people[i].mentions, people[i].name))
        self.tie_rank = np.empty(len(people), dtype=np.int64)
        self.tie_rank[ranked] = np.arange(len(people))

    def lookup(self, query: str, limit: int) -> list[tuple[int, float]]:
        """(person, score rounded to 0.1) for the best `limit` people scoring MATCH_THRESHOLD or more."""
        q_tokens = [t for t in terms(query) if t]
        if not q_tokens or limit <= 0:
            return []
        people = self.candidates(q_tokens, MATCH_THRESHOLD)
        scores = self.score(q_tokens, people)
        keep = scores >= MATCH_THRESHOLD
        if np.count_nonzero(keep) > limit:  # only scores that may round into the best `limit` are rounded exactly
            keep &= scores >= np.partition(scores[keep], -limit)[-limit] - 0.1
        people, scores = people[keep], scores[keep]
        rounded = np.fromiter((round(float(s), 1) for s in scores), dtype=np.float64, count=scores.size)
        order = np.lexsort((self.tie_rank[people], -rounded))[:limit]
        return [(int(people[i]), float(rounded[i])) for i in order]

    def candidates(self, q_tokens: list[str], cutoff: float) -> np.ndarray:
        """People holding a name token near a query token, or a whole name near the query."""
        found = []
        for token in q_tokens:
            loose = len(token) >= WHOLE_NAME_MIN_LENGTH
            ids = self.tokens.near(token, min(cutoff, WHOLE_NAME_CUTOFF) if loose else cutoff)
            if len(token) >= 3:
                ids = np.concatenate([ids, self.tokens.prefixed(token)])
            found.append(self.tokens.owners(ids))
        return sorted_unique(np.concatenate(found).astype(np.int64))

    def _ranges(self, people: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices of each person's run in a CSR column, and where each person's run starts."""
        starts, ends = offsets[people], offsets[people + 1]
        lengths = ends - starts
        firsts = np.cumsum(lengths) - lengths
        flat = np.repeat(starts - firsts, lengths) + np.arange(int(lengths.sum()))
        return flat, firsts

    def score(self, q_tokens: list[str], people: np.ndarray) -> np.ndarray:
        """Per person: the best of (the whole query against each of their names) and (the mean
        over query tokens of the best ratio with any of their name tokens, 90 for a prefix)."""
        if people.size == 0:
            return np.zeros(0)
        flat, firsts = self._ranges(people, self.person_token_offsets)
        held = self.person_tokens[flat]
        distinct, inverse = np.unique(held, return_inverse=True)
        words = self.tokens.array[distinct].tolist()
        per_token = np.zeros(people.size)
        for token in q_tokens:
            ratios = process.cdist([token], words, scorer=fuzz.ratio, dtype=np.float64)[0]
            if len(token) >= 3:
                prefixed = self.tokens.prefixed(token)  # an id range: the vocabulary is sorted
                if prefixed.size:
                    prefix = (distinct >= prefixed[0]) & (distinct <= prefixed[-1])
                    ratios[prefix] = np.maximum(ratios[prefix], PREFIX_SCORE)
            per_token += np.maximum.reduceat(ratios[inverse], firsts)
        per_token /= len(q_tokens)
        # A whole name can raise a person's score only if its length allows (ratio <= 200 min / sum):
        # a short query is compared with few whole names.
        q_full = " ".join(q_tokens)
        name_flat, name_firsts = self._ranges(people, self.name_offsets)
        lengths = self.name_lengths[name_flat]
        bound = 200.0 * np.minimum(lengths, len(q_full)) / (lengths + len(q_full))
        owner = np.repeat(np.arange(people.size), np.diff(np.append(name_firsts, name_flat.size)))
        need = np.flatnonzero(bound > per_token[owner])
        full = np.zeros(name_flat.size)
        if need.size:
            full[need] = process.cdist([q_full], self.names[name_flat[need]].tolist(), scorer=fuzz.ratio,
                                       dtype=np.float64)[0]
        return np.maximum(np.maximum.reduceat(full, name_firsts), per_token)

    def suggest(self, query: str, limit: int) -> list[tuple[int, float]]:
        """(person, score) for names like the query, by rapidfuzz WRatio; best first."""
        q_tokens = [t for t in terms(query) if t]
        if not q_tokens:
            return []
        people = self.candidates(q_tokens, SUGGEST_CUTOFF)
        if people.size == 0:
            return []
        primary = self.names[self.name_offsets[people]].tolist()  # a suggestion names the person, not an alias
        best = process.cdist([normalize_text(query)], primary, scorer=fuzz.WRatio, dtype=np.float64)[0]
        order = np.lexsort((people, -best))[:limit]
        return [(int(people[i]), float(best[i])) for i in order]
