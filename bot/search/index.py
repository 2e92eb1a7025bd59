"""An in-memory inverted index of passages with precomputed BM25 impacts.

Postings are stored as CSR numpy arrays (term -> passage ids, impacts), so a
query touches only the postings of its (expanded) terms; nothing scans every
passage with a fuzzy scorer. The few terms found in a large share of passages
(`the`, `trade`, `china`) are stored instead as dense one-byte impact columns:
as small as their postings, and summed or probed with contiguous vector
operations instead of scattered ones. Vocabulary is bucketed by first letter
and length so typo expansion compares a query term with a small slice of it.
"""

from __future__ import annotations

import bisect
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

import numpy as np

from bot.corpus import Article, Corpus
from bot.text import TOKEN_RE, normalize_term, normalize_text, split_sentences, terms

K1 = 1.2
B = 0.75
MAX_PASSAGE_CHARS = 700
DENSE_SHARE = 16  # a term in at least 1/16 of passages gets a dense column (one byte per passage)


def passage_terms(text: str) -> list[str]:
    """The same terms as `bot.text.terms`, without spans: normalise the passage once,
    then fix up only the rare tokens that need it. The index build's hot path."""
    raw = TOKEN_RE.findall(normalize_text(text))
    out = [t if t.isalnum() else normalize_term(t) for t in raw]
    if "cent" in out:
        return terms(text)  # "per cent" joins two tokens; rare enough for the slow path
    return [t for t in out if t]


def split_passages(paragraph: str) -> list[tuple[int, int]]:
    """Character ranges of a paragraph's passages: long ones split at sentence ends."""
    if len(paragraph) <= MAX_PASSAGE_CHARS:
        return [(0, len(paragraph))]
    ranges: list[tuple[int, int]] = []
    start = 0
    cursor = 0
    for sentence in split_sentences(paragraph):
        at = paragraph.find(sentence, cursor)
        end = at + len(sentence)
        if end - start > MAX_PASSAGE_CHARS and at > start:
            ranges.append((start, at))
            start = at
        cursor = end
    ranges.append((start, len(paragraph)))
    return [(s, e) for s, e in ranges if paragraph[s:e].strip()]


@dataclass
class SearchIndex:
    articles: tuple[Article, ...]
    passage_article: np.ndarray  # int32 per passage
    passage_para: np.ndarray  # int32
    passage_start: np.ndarray  # int32
    passage_end: np.ndarray  # int32
    vocab: list[str]  # sorted
    term_ids: dict[str, int]
    df: np.ndarray  # int32 per term: passages containing it
    offsets: np.ndarray  # int64, len(vocab) + 1 (dense terms have no sparse postings)
    post_passage: np.ndarray  # int32
    post_impact: np.ndarray  # float16
    dense_row: dict[int, int]  # term id -> row of `dense`, for terms in many passages
    dense: np.ndarray  # uint8 (rows, passage_count): impact / dense_scale[row], 0 = absent
    dense_scale: np.ndarray  # float32 per row
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

    def postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Passages holding the term (ascending) and its impacts there."""
        row = self.dense_row.get(term_id)
        if row is not None:
            passages = np.flatnonzero(self.dense[row] > 0).astype(np.int32)
            return passages, self.dense[row][passages] * self.dense_scale[row]
        lo, hi = self.offsets[term_id], self.offsets[term_id + 1]
        return self.post_passage[lo:hi], self.post_impact[lo:hi]

    def impacts_at(self, term_id: int, passages: np.ndarray) -> np.ndarray:
        """The term's impact in each of the (ascending) passages; 0 where it is absent."""
        row = self.dense_row.get(term_id)
        if row is not None:
            return self.dense[row][passages] * self.dense_scale[row]
        lo, hi = self.offsets[term_id], self.offsets[term_id + 1]
        out = np.zeros(passages.size, dtype=np.float32)
        if hi > lo:
            at = lo + np.searchsorted(self.post_passage[lo:hi], passages)
            at = np.minimum(at, hi - 1)
            hit = self.post_passage[at] == passages
            out[hit] = self.post_impact[at[hit]]
        return out

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


def _words(words: list[str]) -> np.ndarray:
    """An object array of strings: selecting many of them by index happens in C."""
    out = np.empty(len(words), dtype=object)
    out[:] = words
    return out


def _first_key(term: str) -> str:
    return unicodedata.normalize("NFKD", term[:1])[:1]


def _dense_columns(term_ids: np.ndarray, offsets: np.ndarray, passages: np.ndarray, impacts: np.ndarray,
                   passage_article: np.ndarray, n_articles: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One byte per passage for each term: its impact in 255 steps of its own maximum (1 at least);
    and one flag per article, so counting the articles a query matches needs no pass over passages."""
    dense = np.zeros((term_ids.size, passage_article.size), dtype=np.uint8)
    scale = np.ones(term_ids.size, dtype=np.float32)
    articles = np.zeros((term_ids.size, n_articles), dtype=bool)
    for row, term_id in enumerate(term_ids.tolist()):
        lo, hi = offsets[term_id], offsets[term_id + 1]
        values = impacts[lo:hi]
        scale[row] = max(float(values.max()), 1e-6) / 255.0
        dense[row, passages[lo:hi]] = np.clip(np.rint(values / scale[row]), 1, 255)
        articles[row, passage_article[passages[lo:hi]]] = True
    return dense, scale, articles


def build_index(corpus: Corpus, progress: Callable[[int, int], None] | None = None) -> SearchIndex:
    """Tokenise every passage once and lay postings out sorted by term, then passage."""
    articles = corpus.articles
    p_article: list[int] = []
    p_para: list[int] = []
    p_start: list[int] = []
    p_end: list[int] = []
    lengths: list[int] = []
    term_ids: dict[str, int] = defaultdict(count().__next__)  # a new term gets the next id, in C
    pair_terms = array("i")  # every passage's term ids, in order; C ints, not Python objects
    title_terms: list[list[str]] = []
    for a_index, article in enumerate(articles):
        title_terms.append(terms(article.title))
        for para_index, paragraph in enumerate(article.paragraphs):
            for start, end in split_passages(paragraph):
                tokens = passage_terms(paragraph[start:end])
                if not tokens:
                    continue
                p_article.append(a_index)
                p_para.append(para_index)
                p_start.append(start)
                p_end.append(end)
                lengths.append(len(tokens))
                pair_terms.extend([term_ids[t] for t in tokens])
        if progress and (a_index + 1) % 1000 == 0:
            progress(a_index + 1, len(articles))
    n_passages = len(p_article)
    n_terms = len(term_ids)
    # Renumber terms so ids follow sorted vocabulary order (prefix ranges become id ranges).
    vocab = sorted(term_ids)
    old_to_new = np.empty(n_terms, dtype=np.int64)
    for new_id, term in enumerate(vocab):
        old_to_new[term_ids[term]] = new_id
    term_arr = old_to_new[np.frombuffer(pair_terms, dtype=np.int32)] if pair_terms else np.zeros(0, np.int64)
    del pair_terms
    pair_passages = np.repeat(np.arange(n_passages, dtype=np.int64), np.asarray(lengths, dtype=np.int64))
    keys = term_arr * max(n_passages, 1) + pair_passages
    del pair_passages
    unique_keys, tf = np.unique(keys, return_counts=True)
    post_term = unique_keys // max(n_passages, 1)
    post_passage = (unique_keys % max(n_passages, 1)).astype(np.int32)
    df = np.bincount(post_term, minlength=n_terms).astype(np.int32)
    offsets = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(df, out=offsets[1:])
    doc_len = np.asarray(lengths, dtype=np.float32)
    avg_len = float(doc_len.mean()) if n_passages else 1.0
    idf = np.log(1.0 + (n_passages - df + 0.5) / (df + 0.5)).astype(np.float32)
    tf_f = tf.astype(np.float32)
    norm = K1 * (1.0 - B + B * doc_len[post_passage] / avg_len)
    impact = idf[post_term] * tf_f * (K1 + 1.0) / (tf_f + norm)
    del tf_f, norm
    dense_ids = np.flatnonzero(df >= max(2, n_passages // DENSE_SHARE))
    passage_article = np.asarray(p_article, dtype=np.int32)
    dense, dense_scale, dense_articles = _dense_columns(dense_ids, offsets, post_passage, impact, passage_article,
                                                        len(articles))
    sparse = ~np.isin(post_term, dense_ids)
    sparse_df = df.astype(np.int64)
    sparse_df[dense_ids] = 0
    offsets = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(sparse_df, out=offsets[1:])
    post_passage = post_passage[sparse]
    # float16 halves the largest array; 3 significant digits are plenty to rank by.
    impact = impact[sparse].astype(np.float16)
    new_ids = {t: i for i, t in enumerate(vocab)}
    title_ids = [sorted({new_ids[t] for t in ts if t in new_ids}) for ts in title_terms]
    buckets: dict[tuple[str, int], list[int]] = {}
    for term_id, term in enumerate(vocab):
        buckets.setdefault((_first_key(term), len(term)), []).append(term_id)
    index = SearchIndex(
        articles=articles,
        passage_article=passage_article,
        passage_para=np.asarray(p_para, dtype=np.int32),
        passage_start=np.asarray(p_start, dtype=np.int32),
        passage_end=np.asarray(p_end, dtype=np.int32),
        vocab=vocab,
        term_ids=new_ids,
        df=df,
        offsets=offsets,
        post_passage=post_passage,
        post_impact=impact,
        dense_row={int(t): row for row, t in enumerate(dense_ids)},
        dense=dense,
        dense_scale=dense_scale,
        dense_articles=dense_articles,
        tokens=term_arr.astype(np.int32),
        token_offsets=np.concatenate([[0], np.cumsum(np.asarray(lengths, dtype=np.int64))]),
        title_tokens=np.asarray([t for ts in title_ids for t in ts], dtype=np.int32),
        title_offsets=np.concatenate([[0], np.cumsum([len(ts) for ts in title_ids], dtype=np.int64)]),
        article_published=np.asarray([a.published.toordinal() for a in articles], dtype=np.int32),
        buckets={k: (_words([vocab[i] for i in ids]), np.asarray(ids, dtype=np.int32),
                     np.asarray([letter_mask(vocab[i]) for i in ids], dtype=np.uint32))
                 for k, ids in buckets.items()},
    )
    if progress:
        progress(len(articles), len(articles))
    return index
