"""Re-ranking the best candidate passages: phrase filter, proximity and title bonuses.

Works from the token positions stored in the index; never re-tokenises text.
"""

from __future__ import annotations

import numpy as np

from bot.search.expand import Expansion
from bot.search.index import SearchIndex
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


def rerank(
    idx: SearchIndex, query: ParsedQuery, expansions: dict[str, list[Expansion]], candidates: np.ndarray, key: np.ndarray
) -> list[tuple[float, int]]:
    """Phrase filter plus proximity and title bonuses, from the stored token positions.

    The candidates' tokens are gathered in one numpy pass and matched against the
    expanded term ids; Python then only walks the (few) matches of each candidate.
    """
    q_terms = list(expansions)
    owner_of: dict[int, int] = {}
    for q_no, term in enumerate(q_terms):
        for option in expansions[term]:
            owner_of.setdefault(option.term_id, q_no)
    if not owner_of:
        return []
    exp_ids = np.fromiter(sorted(owner_of), dtype=np.int32)
    exp_q = np.asarray([owner_of[int(t)] for t in exp_ids], dtype=np.int32)
    starts = idx.token_offsets[candidates]
    lengths = idx.token_offsets[candidates + 1] - starts
    total = int(lengths.sum())
    first_of_each = np.cumsum(lengths) - lengths
    flat = np.repeat(starts - first_of_each, lengths) + np.arange(total)
    positions = flat - np.repeat(starts, lengths)
    owners = np.repeat(np.arange(len(candidates)), lengths)
    tokens = idx.tokens[flat]
    where = np.minimum(np.searchsorted(exp_ids, tokens), len(exp_ids) - 1)
    hit = exp_ids[where] == tokens
    hit_owner, hit_pos, hit_q = owners[hit], positions[hit], exp_q[where[hit]]
    bounds = np.searchsorted(hit_owner, np.arange(len(candidates) + 1))
    phrases = [[q_terms.index(t) for t in phrase] for phrase in query.phrases]
    title_variants = [{e.term_id for e in expansions[t]} for t in q_terms]
    ranked: list[tuple[float, int]] = []
    for k, passage in enumerate(candidates.tolist()):
        lo, hi = bounds[k], bounds[k + 1]
        by_term: dict[int, list[int]] = {}
        for q_no, pos in zip(hit_q[lo:hi].tolist(), hit_pos[lo:hi].tolist()):
            by_term.setdefault(q_no, []).append(pos)
        if phrases and not all(_has_phrase(by_term, phrase) for phrase in phrases):
            continue
        title = idx.title_ids(int(idx.passage_article[passage]))
        in_title = sum(1 for variants in title_variants if variants & title)
        score = float(key[k]) + PROXIMITY_WEIGHT * _proximity(by_term) + TITLE_WEIGHT * in_title
        ranked.append((score, passage))
    ranked.sort(key=lambda sp: (-sp[0], sp[1]))
    return ranked
