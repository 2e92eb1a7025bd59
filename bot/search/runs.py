"""Merging the token runs that worker processes made (`bot.search.build.merge_tokens`):
one sorted vocabulary for all of them, and the token stream copied article by article
into its new order, with no temporaries the size of the stream (~50M tokens at 100k)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from bot.search.index import flat_ranges

PREFIX = 16  # bytes of each term that numpy compares; terms longer than that and alike in them go to Python


def merged_vocab(vocabs: Sequence[list[str]]) -> tuple[list[str], list[np.ndarray]]:
    """Every run's terms once, sorted; and for each run its term ids -> the sorted ids.

    The strings are fresh objects, side by side in memory, so the runs' own copies can be freed whole."""
    merged, inverse = sorted_distinct(list(chain.from_iterable(vocabs)))
    ends = np.cumsum([len(vocab) for vocab in vocabs], dtype=np.int64).tolist()
    return merged, [inverse[end - len(vocab) : end].astype(np.int32) for vocab, end in zip(vocabs, ends)]


def sorted_distinct(words: list[str]) -> tuple[list[str], np.ndarray]:
    """`sorted(set(words))`, as fresh strings side by side in memory, and each word's index in it
    (int64), sorting bytes in numpy.

    UTF-8 (surrogates passed through) orders as code points do, so words sort as their first
    PREFIX bytes (zero-padded, as two big-endian integers) and then their length, which for
    words no longer than PREFIX is their order and identity. Longer words alike in those
    bytes share one length key; Python orders each such group. ~1.8M words (40 runs at 100k
    articles): 0.7 s, where a set, `sorted` and a dict of them take 1.8 s."""
    n = len(words)
    data_nl = np.frombuffer(("\n".join(words) + "\n").encode("utf-8", "surrogatepass"), dtype=np.uint8)
    data = data_nl[:-1]
    breaks = np.flatnonzero(data == 10)
    if not n or breaks.size != n - 1:  # none, or a word holds a newline
        ordered = sorted(set(words))
        ids = dict(zip(ordered, range(len(ordered))))
        return ordered, np.fromiter(map(ids.__getitem__, words), np.int64, n)
    starts = np.concatenate([[0], breaks + 1])
    lengths = np.append(breaks, data.size) - starts
    padded = np.zeros(data.size + PREFIX, dtype=np.uint8)
    padded[: data.size] = data
    prefix = sliding_window_view(padded, PREFIX)[starts]
    prefix[np.arange(PREFIX) >= lengths[:, None]] = 0
    halves = prefix.view(">u8").astype(np.uint64)
    size = np.minimum(lengths, PREFIX + 1)
    order = np.lexsort((size, halves[:, 1], halves[:, 0]))
    keys = (halves[order, 0], halves[order, 1], size[order])
    new = np.ones(n, dtype=bool)  # a sorted position whose key differs from the one before
    new[1:] = (keys[0][1:] != keys[0][:-1]) | (keys[1][1:] != keys[1][:-1]) | (keys[2][1:] != keys[2][:-1])
    firsts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    first_of = order[firsts]  # each group's first word: its bytes (and newline), decoded at once
    picked = data_nl[flat_ranges(starts[first_of], lengths[first_of] + 1)].tobytes()
    reps = picked.decode("utf-8", "surrogatepass").split("\n")[:-1]
    inverse = np.empty(n, dtype=np.int64)
    long_groups = np.flatnonzero(keys[2][firsts] > PREFIX).tolist()
    if not long_groups:
        inverse[order] = group
        return reps, inverse
    bounds = np.append(firsts, n).tolist()
    width = np.ones(firsts.size, dtype=np.int64)  # of each group, in distinct words
    settled: list[tuple[int, list[str], dict[str, int]]] = []
    for g in long_groups:
        alike = sorted({words[i] for i in order[bounds[g] : bounds[g + 1]].tolist()})
        settled.append((g, alike, dict(zip(alike, range(len(alike))))))
        width[g] = len(alike)
    base = np.cumsum(width) - width
    inverse[order] = base[group]
    distinct: list[str] = []
    done = 0
    for g, alike, ids in settled:
        distinct += reps[done:g] + alike
        done = g + 1
        at = order[bounds[g] : bounds[g + 1]]
        inverse[at] += np.fromiter((ids[words[i]] for i in at.tolist()), np.int64, at.size)
    return _fresh(distinct + reps[done:]), inverse


def _fresh(words: list[str]) -> list[str]:
    return "\n".join(words).split("\n") if words else []  # (the words hold no newline)


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
