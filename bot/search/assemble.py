"""Postings and BM25 impact levels from a token stream, a range of terms at a time, in threads.

Tokens come in passage order, so a *stable* sort by term alone gives (term, passage) order.
A range of at most 65,536 terms fits 16 bits, which numpy sorts stably by radix (linear
time): at 100k articles (~50M tokens) that is about twice as fast as sorting 64-bit
(term, passage) keys. Each range is finished on its own, its impacts and levels included
(a term's postings all fall in its range), and numpy releases the GIL in nearly all of it,
so ranges run in `THREADS` threads; the largest temporaries are those of the ranges in flight.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from bot.search.stream import TokenPassages, shared, term_counts

if TYPE_CHECKING:
    from bot.search.build import Background

K1 = 1.2
B = 0.75
CHUNK_TERMS = 65536  # terms in one range at most: their ids, less the first, fit the 16 bits radix-sorted
THREADS = min(2, os.cpu_count() or 1)


@dataclass
class Laid:
    """The postings part of a `SearchIndex`."""

    df: np.ndarray
    offsets: np.ndarray
    post_passage: np.ndarray
    post_level: np.ndarray
    term_scale: np.ndarray
    dense_row: dict[int, int]
    dense: np.ndarray
    dense_articles: np.ndarray


@dataclass
class _Range:
    """One range of terms, finished: what `Laid` needs of it."""

    df: np.ndarray  # int32 per term
    scale: np.ndarray  # float32 per term
    passages: np.ndarray  # int32: the postings of its sparse terms
    levels: np.ndarray  # uint8
    dense: list[tuple[int, np.ndarray, np.ndarray]]  # (term, passages, levels) of its dense terms


@dataclass
class _Stream:
    """What every range reads."""

    terms: np.ndarray  # int32 per token
    passages: TokenPassages  # which passage each token is in
    range_of: np.ndarray | None  # per token, which range its term is in (None: one range)
    norm: np.ndarray  # float32 per passage: BM25 length normalisation
    collection: int  # passages, for idf
    extra_df: np.ndarray | None  # per term: the background index's document frequency
    dense_at: int  # a term in at least this many passages is dense
    odd_term: int  # see `_highest`; -1 for none
    counts: np.ndarray  # int64 per term: its tokens


def term_ranges(counts: np.ndarray, chunk: int) -> list[tuple[int, int]]:
    """Consecutive ranges of term ids with at most `chunk` tokens (or one term) and CHUNK_TERMS terms each."""
    cum = np.cumsum(counts)
    bounds = [0]
    while bounds[-1] < counts.size:
        lo = bounds[-1]
        hi = int(np.searchsorted(cum, (cum[lo - 1] if lo else 0) + chunk, side="right"))
        bounds.append(min(max(hi, lo + 1), lo + CHUNK_TERMS, counts.size))
    return list(zip(bounds[:-1], bounds[1:]))


def lay_out(terms: np.ndarray, lengths: np.ndarray, n_terms: int, passage_article: np.ndarray, n_articles: int, *,
            background: Background | None, vocab: list[str], dense_at: int, chunk: int,
            threads: int = THREADS) -> Laid:
    """Postings sorted by term, then passage; one-byte BM25 levels in 255 steps of each term's
    highest impact; dense columns for terms in at least `dense_at` passages."""
    n_passages = lengths.size
    doc_len = lengths.astype(np.float32)
    avg_len = float(doc_len.mean()) if n_passages else 1.0
    collection, extra_df = n_passages, None
    if background is not None:  # as if the passages were part of the larger index
        avg_len = (background.avg_len * background.passages + float(doc_len.sum())) / max(
            background.passages + n_passages, 1)
        collection, extra_df = background.passages + n_passages, np.asarray(background.df(vocab or []))
    avg_len = avg_len or 1.0  # every passage empty: no term to weigh, and no 0/0 below
    norm = (K1 * (1.0 - B + B * doc_len / avg_len)).astype(np.float32)  # per passage
    shares = np.linspace(0, terms.size, max(1, threads) + 1).astype(np.int64).tolist()  # of the tokens
    parts = list(zip(shares[:-1], shares[1:]))
    # (np.bincount and np.take release the GIL: each thread does its share of the tokens)
    counts = sum(shared(lambda p: term_counts(terms[p[0] : p[1]], n_terms), parts, threads),
                 np.zeros(n_terms, np.int64))
    ranges = term_ranges(counts, chunk)
    filled = np.flatnonzero(counts)
    # The term of the last postings, if terms without any follow it (see `_highest`).
    odd_term = int(filled[-1]) if filled.size and filled[-1] < n_terms - 1 else -1
    range_of = None
    if len(ranges) > 1:
        table = np.repeat(np.arange(len(ranges), dtype=np.min_scalar_type(len(ranges) - 1)),
                          [hi - lo for lo, hi in ranges])
        range_of = np.empty(terms.size, dtype=table.dtype)
        shared(partial(_take, table, terms, range_of), parts, threads)
    stream = _Stream(terms, TokenPassages(lengths, int(terms.size)), range_of, norm, collection, extra_df,
                     dense_at, odd_term, counts)
    done = shared(partial(_finish, stream), [(r, lo, hi) for r, (lo, hi) in enumerate(ranges)], threads)
    del stream, range_of  # gone before the postings are joined
    return _laid(done, n_terms, passage_article, n_articles)


def _take(table: np.ndarray, terms: np.ndarray, out: np.ndarray, part: tuple[int, int]) -> None:
    np.take(table, terms[part[0] : part[1]], out=out[part[0] : part[1]], mode="clip")  # (clip: no copy)


def _finish(s: _Stream, job: tuple[int, int, int]) -> _Range:
    """One range's postings, counts, impacts and levels."""
    r, lo, hi = job
    if s.range_of is None:
        local, passage_of = s.terms.astype(np.uint16), s.passages.every()
    else:
        at = np.flatnonzero(s.range_of == r)
        picked = s.terms[at]
        picked -= lo
        local, passage_of = picked.astype(np.uint16), s.passages.of(at)
        del at, picked
    by_term = np.argsort(local, kind="stable")  # radix sort; passages stay ascending within a term
    del local
    passage_sorted = passage_of[by_term]
    del by_term, passage_of
    counts = s.counts[lo:hi]
    token_offsets = np.zeros(hi - lo + 1, dtype=np.int64)
    np.cumsum(counts, out=token_offsets[1:])
    starts = np.empty(passage_sorted.size, dtype=bool)  # a posting starts at a new passage or term
    starts[:1] = True
    np.not_equal(passage_sorted[1:], passage_sorted[:-1], out=starts[1:])
    starts[token_offsets[:-1][counts > 0]] = True
    first = np.flatnonzero(starts)
    del starts
    passages = passage_sorted[first]
    del passage_sorted
    impact = np.empty(first.size, dtype=np.float32)  # tf, to start with (run lengths)
    np.subtract(first[1:], first[:-1], out=impact[:-1], casting="unsafe")
    impact[-1:] = token_offsets[-1] - first[-1:]
    offsets = np.searchsorted(first, token_offsets)  # each term's postings, in this range
    del first
    df = np.diff(offsets).astype(np.int32)
    all_df = df if s.extra_df is None else df + s.extra_df[lo:hi]
    idf = np.log(1.0 + (s.collection - all_df + 0.5) / (all_df + 0.5)).astype(np.float32)
    denominator = s.norm[passages]
    denominator += impact
    impact *= np.float32(K1 + 1.0)
    impact /= denominator
    del denominator
    impact *= np.repeat(idf, df)
    scale = np.maximum(_highest(impact, offsets, df, s.odd_term - lo), 1e-6).astype(np.float32) / 255
    impact /= np.repeat(scale, df)
    np.rint(impact, out=impact)
    np.clip(impact, 1, 255, out=impact)
    levels = impact.astype(np.uint8)
    del impact
    dense = df >= s.dense_at
    if not dense.any():
        return _Range(df, scale, passages, levels, [])
    parts = [(lo + t, passages[offsets[t] : offsets[t + 1]].copy(), levels[offsets[t] : offsets[t + 1]].copy())
             for t in np.flatnonzero(dense).tolist()]
    sparse = ~np.repeat(dense, df)
    return _Range(df, scale, passages[sparse], levels[sparse], parts)


def _highest(impact: np.ndarray, offsets: np.ndarray, df: np.ndarray, odd: int) -> np.ndarray:
    """Each term's highest impact (1 for a term without postings).

    As the index has always had it: when terms without postings (of dropped articles) end the
    vocabulary, the last term with postings leaves its last one out (that one's level is then
    capped at 255). The old single pass over all postings clamped its range ends to the last."""
    highest = np.ones(df.size, dtype=np.float32)
    has = df > 0
    if impact.size:
        highest[has] = np.maximum.reduceat(impact, offsets[:-1][has])
    if 0 <= odd < df.size and df[odd] >= 2:
        highest[odd] = impact[offsets[odd] : offsets[odd + 1] - 1].max()
    return highest


def _laid(done: list[_Range], n_terms: int, passage_article: np.ndarray, n_articles: int) -> Laid:
    """The ranges joined, in term order."""
    df = np.concatenate([np.zeros(0, np.int32), *(r.df for r in done)])
    term_scale = np.concatenate([np.zeros(0, np.float32), *(r.scale for r in done)])
    if not df.any():  # no postings at all
        term_scale = np.ones(n_terms, dtype=np.float32)
    dense_parts = [part for r in done for part in r.dense]
    dense = np.zeros((len(dense_parts), passage_article.size), dtype=np.uint8)
    dense_articles = np.zeros((len(dense_parts), n_articles), dtype=bool)
    for row, (_, at, level) in enumerate(dense_parts):
        dense[row, at] = level
        dense_articles[row, passage_article[at]] = True
    sparse_df = df.astype(np.int64)
    sparse_df[np.asarray([t for t, _, _ in dense_parts], dtype=np.int64)] = 0
    offsets = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(sparse_df, out=offsets[1:])
    passages, levels = [r.passages for r in done], [r.levels for r in done]
    done.clear()  # (the parts are freed as they are joined)
    return Laid(df, offsets, _joined(passages, np.int32), _joined(levels, np.uint8), term_scale,
                {t: row for row, (t, _, _) in enumerate(dense_parts)}, dense, dense_articles)


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    """np.concatenate, freeing each part once copied: the pages of `out` are only taken as they
    are written, so the peak is the result and one part, not twice the result."""
    out: np.ndarray = np.empty(sum(p.size for p in parts), dtype=dtype)
    at = 0
    for i in range(len(parts)):
        part = parts[i]
        out[at : at + part.size] = part
        at += part.size
        parts[i] = part = np.zeros(0, dtype)
    return out
