"""Tokenising a run of passages at once, with numpy: the index build's hot path.

Exactly `bot.search.build.passage_terms` of each passage (tests hold them equal), without
one `re` match and one string per token. The passages are joined by "\\n" and what
`passage_terms` does to one passage (controls out, lower case, apostrophes, `%` and `$` as
words) is done to the run once: no step looks past a newline. Tokens are runs of letters or
of digits (with a "." or "," between digits, as `\\d+(?:[.,]\\d+)*` says), found by classing
bytes; a token's own bytes (up to 16) are its key in `TermTable`, so there are no hash
collisions to guard against. A passage with a character the bytes cannot stand for
(non-ASCII other than common punctuation, or a newline) goes through `passage_terms`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from bot.corpus.text import SYMBOL_TERMS

RUN_CHARS = 1_000_000  # text tokenised at once: ~25 MB of temporaries; larger runs are no faster
LONG = 16  # tokens longer than this (rare) are keyed by their string instead
TAG = np.uint64(1 << 63)  # set in the first key of a token over 8 bytes (ASCII leaves that bit 0)

# Non-ASCII punctuation that `normalize_text` leaves as one ASCII character (quotes) or as
# a non-letter (dashes, bullet): it is taken as that character, or as a space. Any other
# non-ASCII character sends its passage to the Python path.
PUNCTUATION = {**dict.fromkeys("\u00a0\u2010\u2011\u2012\u2013\u2014\u2015\u2022", " "),
               **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"), **dict.fromkeys("\u201c\u201d\u201e", '"')}
_WIDE = np.full(1 << 16, 0xFF, np.uint8)  # UTF-16 code unit -> its byte here (0xFF: none)
for _char, _ascii in PUNCTUATION.items():
    _WIDE[ord(_char)] = ord(_ascii)
_TABLE = bytes(range(256)).lower()
_KINDS = bytes(1 if 97 <= b <= 122 else 2 if 48 <= b <= 57 else 3 if b in b".," else 0 for b in range(256))
_CONTROLS = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])  # as `strip_controls` removes
# `passage_terms`'s apostrophe rules for lower-case ASCII, where a letter is [a-z].
_POSSESSIVE = re.compile(rb"'(?<=[a-z]')s(?![a-z]|'[a-z])")
_INNER_APOSTROPHE = re.compile(rb"'(?<=[a-z]')(?=[a-z])")
_SYMBOLS = tuple((s.encode(), f" {w} ".encode()) for s, w in SYMBOL_TERMS.items() if s.isascii())
_PER, _CENT, _PERCENT = (int.from_bytes(w, "little") for w in (b"per", b"cent", b"percent"))


class TermTable:
    """Term ids of token keys (a token's bytes as two integers): an open-addressing hash table
    that many keys are looked up in, and added to, at once. A new key gets its id from
    `term_ids` (a defaultdict handing out the next id), which the Python path uses too."""

    GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the product's top bits
    OTHER = np.uint64(0xC2B2AE3D27D4EB4F)

    def __init__(self, term_ids: dict[str, int], bits: int = 12) -> None:
        self.term_ids = term_ids
        self.used = 0
        self._empty(bits)

    def _empty(self, bits: int) -> None:  # a table of 2**bits free slots
        self.bits = bits
        self.first = np.zeros(1 << bits, np.uint64)  # 0: a free slot (a token's first byte is never 0)
        self.second = np.zeros(1 << bits, np.uint64)
        self.id = np.zeros(1 << bits, np.int32)

    def ids(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """The term id of each key, adding new ones. Keys are looked up all at once, slot
        after slot (most are common words, found in their first); those that meet a free
        slot are not in the table and are added."""
        shift = np.uint64(64 - self.bits)
        slot = (first * self.GOLDEN) >> shift  # as `_home` gives, for keys without a second part
        longer = np.flatnonzero(first >= TAG)
        slot[longer] ^= (second[longer] * self.OTHER) >> shift
        slot = slot.view(np.int64)
        out = self.id[slot]
        absent = [np.zeros(0, np.int64)]
        at: np.ndarray | None = None  # positions of the keys still looked for (None: all)
        keys, also = first, second
        while True:
            there = self.first[slot]
            found = there == keys
            found[longer] &= self.second[slot[longer]] == also[longer]
            miss = np.flatnonzero(~found)
            free = there[miss] == 0
            on = miss[~free]
            absent.append(miss[free] if at is None else at[miss[free]])
            if not on.size:
                break
            at = on if at is None else at[on]
            slot, keys, also = (slot[on] + 1) & ((1 << self.bits) - 1), keys[on], also[on]
            longer = np.flatnonzero(keys >= TAG)
            out[at] = self.id[slot]
        missing = np.concatenate(absent)
        if missing.size:
            out[missing] = self._add(first[missing], second[missing])
        return out

    def _add(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """The ids of keys not in the table (some maybe more than once), added in parts small
        enough to keep it at most half full."""
        out = np.empty(first.size, np.int32)
        done = 0
        while done < first.size:
            room = (1 << self.bits) // 2 - self.used  # at most this many keys are new
            if room < (1 << self.bits) // 8:
                self._grow()
                continue
            part = slice(done, done + room)
            slots, filled, by = self._place(first[part], second[part])
            names = self.names(first[part][by], second[part][by])
            self.id[filled] = np.fromiter(map(self.term_ids.__getitem__, names), np.int32, len(names))
            self.used += filled.size
            out[part] = self.id[slots]
            done += room
        return out

    @staticmethod
    def names(first: np.ndarray, second: np.ndarray) -> list[str]:
        """The tokens that keys stand for: their bytes, less the zero padding."""
        rows = np.zeros((first.size, 17), np.uint8)  # a zero after every token, at least
        rows[:, :8] = (first & ~TAG).astype("<u8").view(np.uint8).reshape(-1, 8)
        rows[:, 8:16] = second.astype("<u8").view(np.uint8).reshape(-1, 8)
        rows[rows == 0] = 32  # (a token holds no space: the rows split apart at their padding)
        return rows.tobytes().decode("ascii").split()

    def _home(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        shift = np.uint64(64 - self.bits)
        return (((first * self.GOLDEN) >> shift) ^ ((second * self.OTHER) >> shift)).view(np.int64)

    def _grow(self) -> None:
        occupied = np.flatnonzero(self.first)
        first, second, ids = self.first[occupied], self.second[occupied], self.id[occupied]
        self._empty(self.bits + 1)
        slots, _, _ = self._place(first, second)
        self.id[slots] = ids

    def _place(self, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each key's slot, new keys put in free ones; also the slots filled and which key filled
        each. Keys probe slot after slot until they meet themselves or a free slot; of keys
        meeting one free slot, one takes it (the others look again: the same key is found)."""
        mask = (1 << self.bits) - 1
        slot = self._home(first, second)
        where = np.empty(first.size, np.int64)
        todo = np.arange(first.size)
        filled, by = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        while todo.size:
            there = self.first[slot]
            done = (there == first[todo]) & (self.second[slot] == second[todo])
            free = there == 0
            if free.any():
                keys, at = todo[free], slot[free]
                self.id[at] = keys  # scratch: which of the keys meeting a free slot takes it
                took = self.id[at] == keys
                keys, at = keys[took], at[took]
                self.first[at], self.second[at] = first[keys], second[keys]
                filled.append(at)
                by.append(keys)
                done[np.flatnonzero(free)[took]] = True
            where[todo[done]] = slot[done]
            moving = ~done & ~free
            slot[moving] = (slot[moving] + 1) & mask
            todo, slot = todo[~done], slot[~done]
        return where, np.concatenate(filled), np.concatenate(by)


def normal_bytes(joined: str) -> bytes:
    """The run's text as `passage_terms` normalises each passage, as ASCII bytes where it can:
    one byte a character (UTF-16 code unit), 0xFF for a character taken as none."""
    if joined.isascii():
        data = joined.encode("ascii")
    else:
        units = np.frombuffer(joined.encode("utf-16-le", "surrogatepass"), np.uint16)
        chars = units.astype(np.uint8)
        wide = np.flatnonzero(units >= 0x80)
        chars[wide] = _WIDE[units[wide]]
        data = chars.tobytes()
    data = data.translate(_TABLE, _CONTROLS)
    if b"'" in data:
        data = _INNER_APOSTROPHE.sub(b"", _POSSESSIVE.sub(b"", data))
    for symbol, word in _SYMBOLS:
        if symbol in data:
            data = data.replace(symbol, word)
    return data


def token_bounds(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Where each token starts and ends: maximal runs of letters, or of digits and inner [.,]."""
    kind = np.zeros(len(data) + 2, np.uint8)  # 0 other, 1 letter, 2 number, 3 [.,]; a 0 either side
    kind[1:-1] = np.frombuffer(data.translate(_KINDS), np.uint8)
    marks = np.flatnonzero(kind == 3)
    kind[marks] = ((kind[marks - 1] == 2) & (kind[marks + 1] == 2)).view(np.uint8) << 1
    here = kind[1:-1]
    starts = np.flatnonzero((here != kind[:-2]) & (here != 0))
    return starts, np.flatnonzero((here != kind[2:]) & (here != 0)) + 1


def token_keys(text: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each token's first 8 bytes and next 8 (zero-padded) as little-endian integers, TAG
    set in the first for tokens over 8 bytes; `text` must have 16 zero bytes after its end."""
    words = np.ndarray((text.size - 7,), dtype="<u8", buffer=text, strides=(1,))  # 8 bytes from each byte
    masks = np.array([(1 << 8 * i) - 1 for i in range(9)], dtype=np.uint64)
    first = words[starts] & masks[np.minimum(lengths, 8)]
    second = np.zeros(starts.size, np.uint64)
    longer = np.flatnonzero(lengths > 8)
    first[longer] |= TAG
    second[longer] = words[starts[longer] + 8] & masks[np.minimum(lengths[longer] - 8, 8)]
    return first, second


def tokenize_run(texts: list[str], table: TermTable,
                 slow_terms: Callable[[str], list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Each passage's token count (int64) and all their term ids in order (int32)."""
    if not texts:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    joined = "\n".join(texts)
    slow = np.zeros(len(texts), dtype=bool)
    if joined.count("\n") != len(texts) - 1:  # a passage holding a newline: its own way
        slow[[i for i, t in enumerate(texts) if "\n" in t]] = True
        joined = "\n".join("" if s else t for s, t in zip(slow.tolist(), texts))
    data = normal_bytes(joined)
    text = np.frombuffer(data + bytes(LONG), np.uint8)
    body = text[: len(data)]
    breaks = np.flatnonzero(body == 10)
    slow[np.searchsorted(breaks, np.flatnonzero(body >= 0x80))] = True
    starts, ends = token_bounds(data)
    lengths = ends - starts
    counts = np.diff(np.searchsorted(starts, breaks), prepend=0, append=starts.size)
    passage = np.repeat(np.arange(len(texts)), counts)
    first, second = token_keys(text, starts, lengths)
    keep = ~slow[passage]
    # "per cent" is one term, as `%` is (keys of tokens up to 8 bytes have no second part).
    cent = np.flatnonzero(first[1:] == _CENT) + 1
    cent = cent[(first[cent - 1] == _PER) & (passage[cent - 1] == passage[cent]) & keep[cent]]
    first[cent - 1] = _PERCENT
    keep[cent] = False
    counts[slow] = 0
    counts -= np.bincount(passage[cent], minlength=len(texts))
    kept = np.flatnonzero(keep)
    is_long = lengths[kept] > LONG
    ids = np.empty(kept.size, np.int32)
    short = kept[~is_long]
    ids[~is_long] = table.ids(first[short], second[short])
    long = kept[is_long]
    ids[is_long] = [table.term_ids[data[s:e].decode()] for s, e in zip(starts[long].tolist(), ends[long].tolist())]
    pieces, done, ends_at = [], 0, np.cumsum(counts).tolist()
    for i in np.flatnonzero(slow).tolist():  # passages the bytes cannot stand for, in their places
        pieces.append(ids[done : ends_at[i]])
        done = ends_at[i]
        terms = slow_terms(texts[i])
        pieces.append(np.fromiter(map(table.term_ids.__getitem__, terms), np.int32, len(terms)))
        counts[i] = len(terms)
    pieces.append(ids[done:])
    return counts, np.concatenate(pieces)
