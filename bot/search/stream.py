"""What assembling an index (`bot.search.assemble`) needs besides postings: per-token facts,
kept small (at 100k articles there are ~50M tokens, so an int32 a token is 200 MB), and
work shared between threads.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import TypeVar, cast

import numpy as np

T = TypeVar("T")
R = TypeVar("R")

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


def release_freed() -> None:
    """Hand the C heap's free pages back to the system. glibc keeps much of what threads free
    in their own arenas: up to 250 MB after a build at 100k articles."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):  # not glibc
        pass


def shared(work: Callable[[T], R], items: list[T], threads: int) -> list[R]:
    """[work(item) for item in items], by this thread and `threads` - 1 others, each taking the
    next item when done with one. (This thread works too: every thread's C heap arena keeps
    some of what it freed, so fewer threads leave less behind.)"""
    results: list[R | None] = [None] * len(items)
    queue = iter(range(len(items)))
    lock = threading.Lock()
    failed = threading.Event()

    def loop() -> None:
        while not failed.is_set():
            with lock:
                at = next(queue, None)
            if at is None:
                return
            try:
                results[at] = work(items[at])
            except BaseException:
                failed.set()
                raise

    helpers = min(threads, len(items)) - 1
    with ThreadPoolExecutor(helpers) if helpers > 0 else nullcontext() as pool:
        futures = [pool.submit(loop) for _ in range(helpers)] if pool else []
        loop()
        for future in futures:
            future.result()
    return cast(list[R], results)
