"""The token stream's per-token facts that assembling an index needs (`bot.search.assemble`),
kept small: at 100k articles there are ~50M tokens, so an int32 a token is 200 MB."""

from __future__ import annotations

import numpy as np

STEP = 1 << 20  # tokens worked on at once, to keep temporaries at a few MB


def term_counts(terms: np.ndarray, n_terms: int, step: int = STEP) -> np.ndarray:
    """Tokens of each term. np.bincount copies its input to 64-bit integers: a slice at a time,
    that is 8 MB, not 400 MB, and faster (the copy's pages are not faulted in afresh)."""
    counts = np.zeros(n_terms, dtype=np.int64)
    for lo in range(0, terms.size, step):
        counts += np.bincount(terms[lo : lo + step], minlength=n_terms)
    return counts


def spread(counts: np.ndarray, total: int) -> np.ndarray:
    """np.repeat(np.arange(counts.size), counts) as int32 (`total`: counts.sum()) without holding
    the GIL, as np.repeat does (0.3 s for a token's passage, 50M tokens): a mark where each run
    starts, summed up. Then other threads can work meanwhile."""
    out = np.zeros(total, dtype=np.int32)
    starts = np.cumsum(counts[:-1])
    starts = starts[starts < total]
    if (counts[1:-1] > 0).all():  # (passages are never empty)
        out[starts] = 1
    else:  # empty runs start where the next one does
        np.add.at(out, starts, 1)
    return np.cumsum(out, out=out)


class TokenPassages:
    """Which passage each token is in, as the rank of its position in a bitmap of where
    passages start: 1 bit a token (6.6 MB at 100k articles) instead of an int32 (210 MB)."""

    def __init__(self, lengths: np.ndarray, n_tokens: int) -> None:
        self.lengths, self.n_tokens = lengths, n_tokens
        self.plain: np.ndarray | None = None
        if not (lengths > 0).all():  # empty passages start where the next one does: no bitmap for that
            self.plain = spread(lengths, n_tokens)
            return
        starts = np.cumsum(lengths) - lengths
        word = starts >> 6
        first = np.flatnonzero(np.diff(word, prepend=-1))  # the first start in each word
        bits = np.left_shift(np.uint64(1), (starts & 63).astype(np.uint64))
        self.words = np.zeros(n_tokens // 64 + 1, dtype=np.uint64)
        if starts.size:
            self.words[word[first]] = np.bitwise_or.reduceat(bits, first)
        ones = np.bitwise_count(self.words)
        self.before = np.cumsum(ones, dtype=np.int32) - ones  # passage starts in the words before each

    def every(self) -> np.ndarray:
        """The passage of every token (int32)."""
        return self.plain if self.plain is not None else spread(self.lengths, self.n_tokens)

    def of(self, at: np.ndarray) -> np.ndarray:
        """The passage (int32) of the tokens at these positions."""
        if self.plain is not None:
            return self.plain[at]
        out = np.empty(at.size, dtype=np.int32)
        for lo in range(0, at.size, STEP):
            part = at[lo : lo + STEP]
            word = part >> 6
            upto = np.right_shift(np.uint64(0xFFFF_FFFF_FFFF_FFFF), (63 - (part & 63)).astype(np.uint64))
            upto &= self.words[word]  # the starts up to and including this token's, in its word
            np.add(self.before[word], np.bitwise_count(upto), out=out[lo : lo + STEP], casting="unsafe")
        out -= 1
        return out
