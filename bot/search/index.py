"""An in-memory inverted index of passages with precomputed BM25 impacts.

Postings are stored as CSR numpy arrays (term -> passage ids, impacts), so a
query touches only the postings of its (expanded) terms; nothing scans every
passage with a fuzzy scorer. The few terms found in a large share of passages
(`the`, `trade`, `china`) are stored instead as dense one-byte impact columns:
as small as their postings, and summed or probed with contiguous vector
operations instead of scattered ones. Vocabulary is bucketed by first letter
and length so typo expansion compares a query term with a small slice of it.
`bot.search.build` makes one.
"""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from bot.corpus import Article


@dataclass
class SearchIndex:
    articles: tuple[Article, ...]
    passage_article: np.ndarray  # int32 per passage
    passage_para: np.ndarray  # int32
    passage_start: np.ndarray  # int32
    passage_end: np.ndarray  # int32
    vocab: list[str]  # sorted, so a term's id is found by bisection (a dict would cost 26 MB at 100k)
    df: np.ndarray  # int32 per term: passages containing it
    offsets: np.ndarray  # int64, len(vocab) + 1 (dense terms have no sparse postings)
    post_passage: np.ndarray  # int32
    post_level: np.ndarray  # uint8: impact / term_scale[term], in 255 steps of the term's highest impact
    term_scale: np.ndarray  # float32 per term
    dense_row: dict[int, int]  # term id -> row of `dense`, for terms in many passages
    dense: np.ndarray  # uint8 (rows, passage_count): the term's level in each passage, 0 = absent
    dense_articles: np.ndarray  # bool (rows, article count): which articles hold the term
    tokens: np.ndarray  # int32: every passage's term ids in order (positions, for phrases and proximity)
    token_offsets: np.ndarray  # int64, passage_count + 1
    title_tokens: np.ndarray  # int32: each article's title term ids (those in the vocabulary)
    title_offsets: np.ndarray  # int64, len(articles) + 1
    article_published: np.ndarray  # int32 ordinal per article
    # (first letter, length) -> (terms as an object array, their ids, their letter masks)
    buckets: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def passage_count(self) -> int:
        return len(self.passage_article)

    def passage_text(self, passage: int) -> str:
        article = self.articles[self.passage_article[passage]]
        paragraph = article.paragraphs[self.passage_para[passage]]
        return paragraph[self.passage_start[passage] : self.passage_end[passage]]

    @property
    def article_count(self) -> int:
        return len(self.articles)

    def levels(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Passages holding the term (ascending) and its one-byte impact levels there."""
        row = self.dense_row.get(term_id)
        if row is not None:
            passages = np.flatnonzero(self.dense[row] > 0).astype(np.int32)
            return passages, self.dense[row][passages]
        lo, hi = self.offsets[term_id], self.offsets[term_id + 1]
        return self.post_passage[lo:hi], self.post_level[lo:hi]

    def postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Passages holding the term (ascending) and its BM25 impacts there."""
        passages, levels = self.levels(term_id)
        return passages, levels * self.term_scale[term_id]

    def term_id(self, term: str) -> int | None:
        at = bisect.bisect_left(self.vocab, term)
        return at if at < len(self.vocab) and self.vocab[at] == term else None

    def prefix_range(self, prefix: str) -> tuple[int, int]:
        lo = bisect.bisect_left(self.vocab, prefix)
        hi = bisect.bisect_left(self.vocab, prefix + "\U0010ffff", lo)
        return lo, hi

    def title_ids(self, article: int) -> set[int]:
        return set(self.title_tokens[self.title_offsets[article] : self.title_offsets[article + 1]].tolist())

    def bucket(self, first: str, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.buckets.get((first, length), (_EMPTY_WORDS, _EMPTY, _EMPTY_MASKS))


_EMPTY = np.zeros(0, dtype=np.int32)
_EMPTY_MASKS = np.zeros(0, dtype=np.uint32)
_EMPTY_WORDS = np.zeros(0, dtype=object)


def flat_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices of several ranges laid end to end: ranges (10, 2), (4, 3) -> 10 11 4 5 6."""
    ends = np.cumsum(lengths)
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(int(ends[-1]) if ends.size else 0)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique for integers, by sorting: several times faster than its hashing on large arrays."""
    values = np.sort(values)
    return values[np.diff(values, prepend=values[:1] - 1) != 0] if values.size else values


def letter_mask(term: str) -> int:
    """Which letters a term holds, as bits. One edit changes at most two bits, so terms whose
    masks differ in more than 2k bits are more than k edits apart: a cheap filter before rapidfuzz."""
    mask = 0
    for c in term:
        if "a" <= c <= "z":
            mask |= 1 << (ord(c) - 97)
        elif c.isdigit():
            mask |= 1 << 26
        else:
            mask |= 1 << (27 + ord(c) % 5)
    return mask


def _first_key(term: str) -> str:
    return unicodedata.normalize("NFKD", term[:1])[:1]
