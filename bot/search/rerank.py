"""Re-ranking the best candidate passages: phrase filter, proximity and title bonuses.

Works from the token positions stored in the index; never re-tokenises text.
"""

from __future__ import annotations

import numpy as np

from bot.search.expand import Expansion
from bot.search.index import SearchIndex, flat_ranges
from bot.search.query import ParsedQuery

PROXIMITY_WEIGHT = 3.0
TITLE_WEIGHT = 1.5


def _proximity(positions: dict[int, list[int]]) -> float:
    """1.0 when all matched query terms stand side by side, falling off with the gap."""
    lists = [p for p in positions.values() if p]
    if len(lists) < 2:
        return 0.0
    events = sorted((pos, k) for k, plist in enumerate(lists) for pos in plist)
    need = len(lists)
    counts = [0] * need
    covered = 0
    best = 10**9
    left = 0
    for pos, k in events:
        counts[k] += 1
        covered += counts[k] == 1
        while covered == need:
            best = min(best, pos - events[left][0])
            lk = events[left][1]
            counts[lk] -= 1
            covered -= counts[lk] == 0
            left += 1
    return (need - 1) / max(need - 1, best)


def _has_phrase(by_term: dict[int, list[int]], phrase: list[int]) -> bool:
    """Whether the query terms of `phrase` stand at consecutive positions."""
    if any(q not in by_term for q in phrase):
        return False
    later = [set(by_term[q]) for q in phrase[1:]]
    return any(all(start + j + 1 in later[j] for j in range(len(later))) for start in by_term[phrase[0]])


def _within_reach(idx: SearchIndex, candidates: np.ndarray, key: np.ndarray, needed: int,
                  bonus: float) -> tuple[np.ndarray, np.ndarray]:
    """Drop candidates that cannot reach the first `needed` articles even with every bonus.

    Bonuses only add, so the `needed`-th best article by key alone is a floor for the
    final page; a passage whose key plus the largest bonus stays below it is out.
    """
    order = np.argsort(-key, kind="stable")
    articles = idx.passage_article[candidates[order]]
    seen: set[int] = set()
    for rank, article in enumerate(articles.tolist()):
        seen.add(article)
        if len(seen) == needed:
            keep = key >= key[order[rank]] - bonus
            return candidates[keep], key[keep]
    return candidates, key


def _hits(tokens: np.ndarray, starts: np.ndarray, ends: np.ndarray, exp_ids: np.ndarray,
          exp_q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the expanded query terms occur in token ranges: (range no, position, query term no),
    ordered by range then position. One numpy pass over all ranges together."""
    lengths = ends - starts
    flat = flat_ranges(starts, lengths)
    owners = np.repeat(np.arange(len(starts)), lengths)
    found = tokens[flat]
    where = np.minimum(np.searchsorted(exp_ids, found), len(exp_ids) - 1)
    hit = exp_ids[where] == found
    return owners[hit], (flat - np.repeat(starts, lengths))[hit], exp_q[where[hit]]


def _distinct_terms(owner: np.ndarray, q: np.ndarray, n_owners: int, n_terms: int) -> np.ndarray:
    """How many different query terms each range holds."""
    pairs = np.unique(owner.astype(np.int64) * n_terms + q)
    return np.bincount(pairs // n_terms, minlength=n_owners)


def _proximities(owner: np.ndarray, pos: np.ndarray, q: np.ndarray, need: np.ndarray) -> np.ndarray:
    """`_proximity` of every candidate. With two terms the closest pair is always adjacent in
    position order, so numpy does it; candidates holding three or more terms go through Python."""
    out = np.zeros(need.size, dtype=np.float32)
    if owner.size < 2:
        return out
    pair = (owner[1:] == owner[:-1]) & (q[1:] != q[:-1])
    gap = np.full(need.size, np.iinfo(np.int64).max)
    np.minimum.at(gap, owner[1:][pair], (pos[1:] - pos[:-1])[pair])
    two = need == 2
    out[two] = 1.0 / np.maximum(gap[two], 1)
    bounds = np.searchsorted(owner, np.arange(need.size + 1))
    for k in np.flatnonzero(need > 2).tolist():
        by_term: dict[int, list[int]] = {}
        for q_no, at in zip(q[bounds[k]:bounds[k + 1]].tolist(), pos[bounds[k]:bounds[k + 1]].tolist()):
            by_term.setdefault(q_no, []).append(at)
        out[k] = _proximity(by_term)
    return out


def rerank(
    idx: SearchIndex, query: ParsedQuery, expansions: dict[str, list[Expansion]], candidates: np.ndarray,
    key: np.ndarray, needed: int,
) -> list[tuple[float, int]]:
    """Phrase filter plus proximity and title bonuses, from the stored token positions.

    The candidates' tokens (and their titles') are gathered in one numpy pass each and
    matched against the expanded term ids; Python walks matches only for phrases and
    for candidates holding three or more query terms.
    """
    q_terms = list(expansions)
    if not query.phrases:  # a phrase filter may drop any candidate: then all are needed
        candidates, key = _within_reach(idx, candidates, key, needed, PROXIMITY_WEIGHT + TITLE_WEIGHT * len(q_terms))
    owner_of: dict[int, int] = {}
    for q_no, term in enumerate(q_terms):
        for option in expansions[term]:
            owner_of.setdefault(option.term_id, q_no)
    if not owner_of or candidates.size == 0:
        return []
    exp_ids = np.fromiter(sorted(owner_of), dtype=np.int32)
    exp_q = np.asarray([owner_of[int(t)] for t in exp_ids], dtype=np.int64)
    n, m = candidates.size, len(q_terms)
    owner, pos, q = _hits(idx.tokens, idx.token_offsets[candidates], idx.token_offsets[candidates + 1], exp_ids, exp_q)
    articles = idx.passage_article[candidates]
    t_owner, _, t_q = _hits(idx.title_tokens, idx.title_offsets[articles], idx.title_offsets[articles + 1],
                            exp_ids, exp_q)
    scores = (key.astype(np.float64) + PROXIMITY_WEIGHT * _proximities(owner, pos, q, _distinct_terms(owner, q, n, m))
              + TITLE_WEIGHT * _distinct_terms(t_owner, t_q, n, m))
    keep = np.ones(n, dtype=bool)
    if query.phrases:
        phrases = [[q_terms.index(t) for t in phrase] for phrase in query.phrases]
        bounds = np.searchsorted(owner, np.arange(n + 1))
        for k in range(n):
            by_term: dict[int, list[int]] = {}
            for q_no, at in zip(q[bounds[k]:bounds[k + 1]].tolist(), pos[bounds[k]:bounds[k + 1]].tolist()):
                by_term.setdefault(q_no, []).append(at)
            keep[k] = all(_has_phrase(by_term, phrase) for phrase in phrases)
    ranked = sorted(zip(scores[keep].tolist(), candidates[keep].tolist()), key=lambda sp: (-sp[0], sp[1]))
    return ranked
