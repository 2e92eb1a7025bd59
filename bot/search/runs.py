"""Merging the token runs that worker processes made (`bot.search.build.merge_tokens`):
one sorted vocabulary for all of them, and the token stream copied article by article
into its new order, with no temporaries the size of the stream (~50M tokens at 100k)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def merged_vocab(vocabs: Sequence[list[str]]) -> tuple[list[str], list[np.ndarray]]:
    """Every run's terms once, sorted; and for each run its term ids -> the sorted ids.

    The strings are fresh objects, side by side in memory, so the runs' own copies can be freed whole."""
    every: set[str] = set()
    for vocab in vocabs:
        every.update(vocab)
    merged = "\n".join(sorted(every)).split("\n") if every else []  # (terms never hold a newline)
    ids = dict(zip(merged, range(len(merged))))
    return merged, [np.fromiter(map(ids.__getitem__, vocab), np.int32, len(vocab)) for vocab in vocabs]


def merged_terms(terms: Sequence[np.ndarray], remaps: Sequence[np.ndarray], passages: Sequence[int],
                 lengths: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The runs' token streams (`terms[k]`, renumbered by `remaps[k]`) laid out in passage `order`.

    Run k has `passages[k]` passages; `lengths` are the tokens of every run's passages, the
    runs end to end, and `order` indexes them. Passages that stay side by side (an article's) are copied as one slice, a run at a
    time: a run renumbered is a few MB, where an index of every token would be 400 MB."""
    runs = len(terms)
    run_of = np.repeat(np.arange(runs, dtype=np.int64), np.asarray(passages, dtype=np.int64))
    starts = np.cumsum(lengths) - lengths  # of each passage, in the runs' streams end to end
    bases = np.cumsum([0] + [int(t.size) for t in terms])[:-1]  # where each run's stream starts in that
    out_lengths = lengths[order]
    dest = np.cumsum(out_lengths) - out_lengths
    owner = run_of[order]
    new_range = np.ones(order.size, dtype=bool)  # a slice starts where the next passage is not the next one
    new_range[1:] = (np.diff(order) != 1) | (np.diff(owner) != 0)
    first = np.flatnonzero(new_range)
    last = np.append(first[1:], order.size)[: first.size] - 1
    src = starts[order[first]] - bases[owner[first]]
    size = starts[order[last]] + lengths[order[last]] - starts[order[first]]
    out = np.empty(int(out_lengths.sum()), dtype=np.int32)
    by_run = np.argsort(owner[first], kind="stable")
    cuts = np.searchsorted(owner[first][by_run], np.arange(runs + 1))
    for run in range(runs):
        picked = by_run[cuts[run] : cuts[run + 1]]
        if not picked.size:
            continue
        renumbered = remaps[run][terms[run]]
        for lo, n, at in zip(src[picked].tolist(), size[picked].tolist(), dest[first[picked]].tolist()):
            out[at : at + n] = renumbered[lo : lo + n]
    return out
