"""The vocabulary side of building an index: letter masks, typo buckets and title term ids,
with numpy where a loop over ~500k terms (100k articles) would take most of a second each."""

from __future__ import annotations

import bisect
import re
from itertools import chain, repeat
from operator import eq

import numpy as np

from bot.search.index import _first_key, letter_mask, sorted_unique


def letter_masks(terms: list[str]) -> np.ndarray:
    """`letter_mask` of every term: all characters in one numpy pass over their code points,
    then the terms with a non-ASCII character (whose digits only `str.isdigit` knows) one by one."""
    masks = np.zeros(len(terms), dtype=np.uint32)
    joined = "".join(terms)
    if not joined:
        return masks
    if joined.isascii():
        chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).astype(np.uint32)
    else:
        chars = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    shift = np.where((chars >= 97) & (chars <= 122), chars - 97,
                     np.where((chars >= 48) & (chars <= 57), 26, 27 + chars % 5)).astype(np.uint32)
    lengths = np.fromiter(map(len, terms), np.int64, len(terms))
    filled = lengths > 0
    starts = (np.cumsum(lengths) - lengths)[filled]
    masks[filled] = np.bitwise_or.reduceat(np.left_shift(np.uint32(1), shift), starts)
    if not joined.isascii():
        for i, term in enumerate(terms):
            if not term.isascii():
                masks[i] = letter_mask(term)
    return masks


def words_array(words: list[str]) -> np.ndarray:
    """An object array of strings: selecting many of them by index happens in C."""
    out = np.empty(len(words), dtype=object)
    out[:] = words
    return out


def vocab_buckets(vocab: list[str], masks: np.ndarray) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The sorted vocabulary grouped by (first letter without accents, length), for typo
    expansion: each group's terms, their ids (ascending) and letter masks. Groups come in the
    order of their first term, as a loop over the vocabulary would add them."""
    n = len(vocab)
    keys: list[str] = []  # the distinct first-letter keys
    codes = np.zeros(n, dtype=np.int64)  # each term's key, as an index into `keys`
    known: dict[str, int] = {}
    at = 0
    while at < n:  # terms that start with the same character are side by side
        first = vocab[at][:1]
        end = at + 1 if not first else (bisect.bisect_left(vocab, chr(ord(first) + 1), at) if ord(first) < 0x10FFFF
                                         else n)
        codes[at:end] = known.setdefault(_first_key(first), len(known))
        at = end
    keys = list(known)
    lengths = np.fromiter(map(len, vocab), np.int64, n)
    group = codes * (int(lengths.max(initial=0)) + 1) + lengths
    order = np.argsort(group, kind="stable")  # by group, then id
    bounds = np.flatnonzero(np.diff(group[order], prepend=-1)) if n else np.zeros(0, np.int64)
    ends = np.append(bounds[1:], n)
    words = words_array(vocab)
    out = {}
    for lo, hi in sorted(zip(bounds.tolist(), ends.tolist()), key=lambda b: int(order[b[0]])):
        ids = order[lo:hi].astype(np.int32)
        first_id = int(ids[0])
        out[(keys[int(codes[first_id])], int(lengths[first_id]))] = (words[ids], ids, masks[ids])
    return out


class Lookup:
    """Term ids of many words at once, by their (cached) string hashes in numpy: a dict of
    ~500k terms costs 0.25 s to build and ~1 us a lookup, its entries scattered in memory."""

    def __init__(self, vocab: list[str]) -> None:
        self.vocab = vocab
        hashes = np.fromiter(map(hash, vocab), np.int64, len(vocab))
        self.order = np.argsort(hashes)
        self.hashes = hashes[self.order]
        shared = bool((self.hashes[1:] == self.hashes[:-1]).any())  # two terms, one hash: use a dict
        self.table = dict(zip(vocab, range(len(vocab)))) if shared else None

    def ids(self, words: list[str]) -> np.ndarray:
        """Each word's id (int64), -1 where it is not a term."""
        if self.table is not None:
            return np.fromiter(map(self.table.get, words, repeat(-1)), np.int64, len(words))
        if not self.vocab:
            return np.full(len(words), -1, dtype=np.int64)
        hashes = np.fromiter(map(hash, words), np.int64, len(words))
        at = np.minimum(np.searchsorted(self.hashes, hashes), len(self.vocab) - 1)
        found = self.hashes[at] == hashes
        ids = np.where(found, self.order[at], -1)
        if found.any():  # a word that is no term may share a term's hash
            hit = np.flatnonzero(found)
            typed, term = [words[i] for i in hit.tolist()], [self.vocab[i] for i in ids[hit].tolist()]
            same = np.fromiter(map(eq, typed, term), bool, hit.size)
            ids[hit[~same]] = -1
        return ids


def title_ids(titles: list[str], lookup: Lookup) -> tuple[np.ndarray, np.ndarray]:
    """Each article's distinct title terms that are in the vocabulary, as sorted ids (CSR)."""
    words, counts = title_words(titles)
    ids = lookup.ids(words)
    owner = np.repeat(np.arange(len(titles), dtype=np.int64), counts)
    width = max(len(lookup.vocab), 1)
    pairs = sorted_unique(owner[ids >= 0] * width + ids[ids >= 0])
    counts = np.bincount(pairs // width, minlength=len(titles))
    return (pairs % width).astype(np.int32), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


_IRREGULAR = re.compile(r"[^\S \n]|  | \n|\n |\A | \Z")  # any whitespace but one space between words


def title_words(titles: list[str]) -> tuple[list[str], np.ndarray]:
    """Every title's `str.split()`, end to end, and how many words each has: split at once (the
    titles are terms joined by single spaces) instead of 100k calls that take 0.4 s."""
    joined = "\n".join(titles)
    if joined.count("\n") == max(len(titles) - 1, 0) and not _IRREGULAR.search(joined):
        words = joined.split()
        counts = np.fromiter(map(str.count, titles, repeat(" ")), np.int64, len(titles))
        counts += np.fromiter(map(bool, titles), bool, len(titles))
        if int(counts.sum()) == len(words):
            return words, counts
    split = [title.split() for title in titles]
    return list(chain.from_iterable(split)), np.fromiter(map(len, split), np.int64, len(split))
