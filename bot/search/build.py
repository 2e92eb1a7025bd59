"""Building a `SearchIndex`: tokenise passages, then lay out postings and BM25 impacts.

Tokenising is the slow, per-article part, so it produces `Tokens` that can be made
for separate runs of articles (in worker processes) and merged; assembling the
postings from merged tokens is numpy work done once.
"""

from __future__ import annotations

import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count, repeat
from typing import Any

import numpy as np

from bot.common.progress import Progress
from bot.corpus import Article, Corpus
from bot.corpus.text import SYMBOL_TERMS, TOKEN_RE, normalize_text, split_sentences
from bot.search.assemble import THREADS, lay_out
from bot.search.index import SearchIndex
from bot.search.runs import merged_terms, merged_vocab
from bot.search.stream import release_freed
from bot.search.tokenize import RUN_CHARS, TermTable, tokenize_run
from bot.search.vocab import Lookup, letter_masks, title_ids, vocab_buckets

MAX_PASSAGE_CHARS = 700
PAIR_CHUNK = 8_000_000  # tokens of one range of terms (`bot.search.assemble`), sorted at once
DENSE_SHARE = 16  # a term in at least 1/16 of passages gets a dense column (one byte per passage)

# TOKEN_RE for text that is all ASCII, where its Unicode classes reduce to these (faster) ones.
_ASCII_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[a-zA-Z]+(?:'[a-zA-Z]+)*|[%$]")
# What `normalize_term` does to single tokens, done to a whole passage at once:
# (Each pattern starts with its literal apostrophe, which lets `re` skip ahead to it.)
_POSSESSIVE_RE = re.compile(r"'(?<=[^\W\d_]')s(?![^\W\d_]|'[^\W\d_])")  # a token's final 's goes
_INNER_APOSTROPHE_RE = re.compile(r"'(?<=[^\W\d_]')(?=[^\W\d_])")  # then its other apostrophes
_SYMBOL_WORDS = tuple((symbol, f" {word} ") for symbol, word in SYMBOL_TERMS.items())  # % -> percent


def passage_terms(text: str) -> list[str]:
    """The same terms as `bot.corpus.text.terms` (a test holds them equal), without spans and
    faster: the passage is normalised as one string, then split. The build's hot path.
    "per cent" is joined here too, so `terms` is not needed for it."""
    normal = normalize_text(text)
    if "'" in normal:
        normal = _INNER_APOSTROPHE_RE.sub("", _POSSESSIVE_RE.sub("", normal))
    for symbol, word in _SYMBOL_WORDS:
        if symbol in normal:
            normal = normal.replace(symbol, word)
    out: list[str] = (_ASCII_TOKEN_RE if normal.isascii() else TOKEN_RE).findall(normal)
    if "cent" not in out:
        return out
    joined: list[str] = []  # "per cent" is one term, as `%` is
    for term in out:
        if term == "cent" and joined and joined[-1] == "per":
            joined[-1] = "percent"
        else:
            joined.append(term)
    return joined


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
class Tokens:
    """The passages of a run of articles as term ids over a vocabulary of their own."""

    vocab: list[str]  # term id -> term, in no particular order (`assemble_index` sorts it)
    article: np.ndarray  # int32 per passage: its article's position in the run
    para: np.ndarray  # int32 per passage
    start: np.ndarray  # int32 per passage: character range in the paragraph
    end: np.ndarray  # int32
    lengths: np.ndarray  # int64 per passage: how many tokens it has
    terms: np.ndarray  # int32: every passage's term ids, in order
    titles: list[str]  # per article: its title's terms, space-separated (one object, not a list of them)

    def __getstate__(self) -> dict[str, object]:
        """Sent from a worker process: tens of thousands of short strings pickle (and unpickle)
        far faster as one joined string. Terms and titles never hold a newline."""
        return {**self.__dict__, "vocab": (len(self.vocab), "\n".join(self.vocab)),
                "titles": (len(self.titles), "\n".join(self.titles))}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in ("vocab", "titles"):
            count, joined = state[name]
            state[name] = joined.split("\n") if count else []  # ("" is one empty title)
        self.__dict__.update(state)


def tokenize_articles(articles: Sequence[Article], progress: Progress | None = None) -> Tokens:
    """Tokenise every passage once; `progress(done, total)` hears every 1,000 articles."""
    runs = _Runs()
    for a_index, article in enumerate(articles):
        paragraphs = article.paragraphs
        chars = list(map(len, paragraphs))
        if max(chars) <= MAX_PASSAGE_CHARS and sum(chars) < RUN_CHARS:  # as nearly always
            runs.add_paragraphs(a_index, paragraphs, chars)
        else:
            for para_index, paragraph in enumerate(paragraphs):
                for start, end in split_passages(paragraph):
                    runs.add(a_index, para_index, start, end, paragraph[start:end])
        runs.titles.append(article.title)
        if runs.size >= RUN_CHARS:
            runs.flush()
        if progress and (a_index + 1) % 1000 == 0:
            progress(a_index + 1, len(articles))
    runs.flush()
    if progress:
        progress(len(articles), len(articles))
    return runs.tokens()


class _Runs:
    """Passages (and titles) gathered into runs of about RUN_CHARS characters, each tokenised
    at once (`bot.search.tokenize`); titles in a vocabulary of their own (they add no terms)."""

    def __init__(self) -> None:
        self.places = [array("i") for _ in range(4)]  # every passage's article, paragraph, start, end
        self.term_ids: dict[str, int] = defaultdict(count().__next__)  # a new term gets the next id, in C
        self.table, self.title_table = TermTable(self.term_ids), TermTable(defaultdict(count().__next__))
        self.lengths: list[np.ndarray] = []
        self.flat: list[np.ndarray] = []
        self.texts: list[str] = []
        self.size = 0
        self.titles: list[str] = []  # as they come, then (once flushed) their terms
        self.titles_done = 0

    def add_paragraphs(self, a_index: int, paragraphs: Sequence[str], chars: list[int]) -> None:
        """Each paragraph as one passage."""
        article, para, start, end = self.places
        article.extend(repeat(a_index, len(chars)))
        para.extend(range(len(chars)))
        start.frombytes(bytes(4 * len(chars)))
        end.extend(chars)
        self.texts.extend(paragraphs)
        self.size += sum(chars)

    def add(self, a_index: int, para_index: int, start: int, end: int, text: str) -> None:
        for column, value in zip(self.places, (a_index, para_index, start, end)):
            column.append(value)
        self.texts.append(text)
        self.size += len(text)
        if self.size >= RUN_CHARS:  # (a long article need not be tokenised in one run)
            self.flush()

    def flush(self) -> None:
        counts, ids = tokenize_run(self.texts, self.table, passage_terms)
        self.lengths.append(counts)
        self.flat.append(ids)
        self.texts, self.size = [], 0
        counts, ids = tokenize_run(self.titles[self.titles_done :], self.title_table, passage_terms)
        vocab = list(self.title_table.term_ids)
        words = [vocab[i] for i in ids.tolist()]
        ends = np.cumsum(counts).tolist()
        self.titles[self.titles_done :] = [" ".join(words[a:b]) for a, b in zip([0, *ends], ends)]
        self.titles_done = len(self.titles)

    def tokens(self) -> Tokens:
        lengths = np.concatenate([np.zeros(0, np.int64), *self.lengths])
        kept = np.flatnonzero(lengths)  # a passage without terms is not indexed
        article, para, start, end = (np.frombuffer(c, dtype=np.int32)[kept] if c else np.zeros(0, np.int32)
                                     for c in self.places)
        return Tokens(list(self.term_ids), article, para, start, end, lengths[kept],
                      np.concatenate([np.zeros(0, np.int32), *self.flat]), self.titles)


def merge_tokens(parts: Sequence[Tokens], positions: Sequence[np.ndarray], n_articles: int) -> Tokens:
    """Join runs into one: `positions[k][i]` is where article i of run k goes, or -1 to drop it.

    Passages come out grouped by their article's new position, as `assemble_index` needs, and
    the vocabulary sorted (every run's terms, dropped articles' too), so it need not renumber."""
    vocab, remaps = merged_vocab([part.vocab for part in parts])
    article = np.concatenate([np.zeros(0, np.int64), *(pos[p.article] for p, pos in zip(parts, positions))])
    lengths = np.concatenate([np.zeros(0, np.int64), *(p.lengths for p in parts)])
    kept = np.flatnonzero(article >= 0)
    order = kept[np.argsort(article[kept], kind="stable")]

    def column(name: str) -> np.ndarray:
        return np.concatenate([np.zeros(0, np.int32), *(getattr(p, name) for p in parts)])[order]

    titles = [""] * n_articles
    for part, pos in zip(parts, positions):
        for i, at in enumerate(pos.tolist()):
            if at >= 0:
                titles[at] = part.titles[i]
    terms = merged_terms([p.terms for p in parts], remaps, [p.article.size for p in parts], lengths, order)
    return Tokens(vocab, article[order].astype(np.int32), column("para"), column("start"), column("end"),
                  lengths[order], terms, titles)


def build_index(corpus: Corpus, progress: Progress | None = None) -> SearchIndex:
    """Tokenise and assemble in this process (see `bot.library.workers` for large corpora)."""
    return assemble_index(corpus.articles, tokenize_articles(corpus.articles, progress))


@dataclass(frozen=True)
class Background:
    """Collection statistics from a larger index that a small (delta) index is searched beside:
    BM25 weighs the delta's terms as the combined collection would, so scores of the two compare."""

    passages: int  # in the larger index
    avg_len: float  # its mean passage length in tokens
    df: Callable[[list[str]], np.ndarray]  # its document frequency of each of these terms (0: absent)


def assemble_index(articles: tuple[Article, ...], tokens: Tokens, background: Background | None = None,
                   threads: int | None = None) -> SearchIndex:
    """Lay postings out sorted by term, then passage, with BM25 impacts; dense columns for common terms.

    At 100k articles there are ~50M tokens, so every temporary the size of the token stream
    costs 200-400 MB: `bot.search.assemble` works a range of terms at a time, in `threads`
    threads (default `bot.search.assemble.THREADS`). It takes `tokens.terms` from `tokens`
    (left empty): do not reuse `tokens`."""
    n_passages = tokens.article.size
    n_terms = len(tokens.vocab)
    terms, tokens.terms = tokens.terms, np.zeros(0, np.int32)
    ordered = sorted(tokens.vocab)  # (linear when already sorted, as `merge_tokens` leaves it)
    if ordered == tokens.vocab:
        vocab, term_arr = tokens.vocab, np.asarray(terms, dtype=np.int32)
    else:  # renumber terms so ids follow sorted vocabulary order (prefix ranges become id ranges)
        vocab, renumbered = merged_vocab([tokens.vocab])  # fresh strings, side by side in memory
        term_arr = renumbered[0][terms]
    del terms, ordered
    laid = lay_out(term_arr, tokens.lengths, n_terms, tokens.article, len(articles), background=background,
                   vocab=vocab, dense_at=max(2, n_passages // DENSE_SHARE), chunk=PAIR_CHUNK,
                   threads=THREADS if threads is None else threads)
    title_tokens, title_offsets = title_ids(tokens.titles, Lookup(vocab))
    index = SearchIndex(
        articles=articles,
        passage_article=tokens.article,
        passage_para=tokens.para,
        passage_start=tokens.start,
        passage_end=tokens.end,
        vocab=vocab,
        df=laid.df,
        offsets=laid.offsets,
        post_passage=laid.post_passage,
        post_level=laid.post_level,
        term_scale=laid.term_scale,
        dense_row=laid.dense_row,
        dense=laid.dense,
        dense_articles=laid.dense_articles,
        tokens=term_arr,
        token_offsets=np.concatenate([[0], np.cumsum(tokens.lengths)]).astype(np.int64),
        title_tokens=title_tokens,
        title_offsets=title_offsets,
        article_published=np.asarray([a.published.toordinal() for a in articles], dtype=np.int32),
        buckets=vocab_buckets(vocab, letter_masks(vocab)),
    )
    release_freed()  # what the build's threads freed, most of all
    return index
