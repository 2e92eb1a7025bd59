"""Today's (pre-issue-14) `merge_tokens` and `assemble_index`, copied verbatim from
bot/search/build.py at 39b1a58: the reference that the faster ones must equal exactly
(tests/test_assemble_equal.py). Not used by the bot."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import count

import numpy as np

from bot.corpus import Article
from bot.search.build import Background, Tokens
from bot.search.index import SearchIndex, _first_key, flat_ranges, letter_mask, sorted_unique

K1 = 1.2
B = 0.75
PAIR_CHUNK = 8_000_000  # tokens whose (term, passage) keys are sorted at once: 64 MB of keys
DENSE_SHARE = 16  # a term in at least 1/16 of passages gets a dense column (one byte per passage)


def merge_tokens(parts: Sequence[Tokens], positions: Sequence[np.ndarray], n_articles: int) -> Tokens:
    """Join runs into one: `positions[k][i]` is where article i of run k goes, or -1 to drop it.

    Passages come out grouped by their article's new position, as `assemble_index` needs."""
    vocab_ids: dict[str, int] = defaultdict(count().__next__)
    remaps = [np.fromiter((vocab_ids[t] for t in part.vocab), np.int32, len(part.vocab)) for part in parts]
    article = np.concatenate([np.zeros(0, np.int64), *(pos[p.article] for p, pos in zip(parts, positions))])
    lengths = np.concatenate([np.zeros(0, np.int64), *(p.lengths for p in parts)])
    flat = np.concatenate([np.zeros(0, np.int32), *(remap[p.terms] for p, remap in zip(parts, remaps))])
    starts = np.cumsum(lengths) - lengths
    kept = np.flatnonzero(article >= 0)
    order = kept[np.argsort(article[kept], kind="stable")]

    def column(name: str) -> np.ndarray:
        return np.concatenate([np.zeros(0, np.int32), *(getattr(p, name) for p in parts)])[order]

    titles = [""] * n_articles
    for part, pos in zip(parts, positions):
        for i, at in enumerate(pos.tolist()):
            if at >= 0:
                titles[at] = part.titles[i]
    return Tokens(list(vocab_ids), article[order].astype(np.int32), column("para"), column("start"), column("end"),
                  lengths[order], flat[flat_ranges(starts[order], lengths[order])], titles)


def assemble_index(articles: tuple[Article, ...], tokens: Tokens, background: Background | None = None) -> SearchIndex:
    """Lay postings out sorted by term, then passage, with BM25 impacts; dense columns for common terms.

    At 100k articles there are ~30M tokens, so every temporary the size of the token stream
    costs 120-240 MB: arrays are made in place where numpy allows it and freed as soon as
    they are used, which keeps the peak of this step near half of what plain expressions need.
    For the same reason it takes `tokens.terms` from `tokens` (left empty): do not reuse `tokens`."""
    n_passages = tokens.article.size
    n_terms = len(tokens.vocab)
    # Renumber terms so ids follow sorted vocabulary order (prefix ranges become id ranges).
    # Fresh string objects, side by side in memory: the runs' own copies can then be freed whole.
    vocab = "\n".join(sorted(tokens.vocab)).split("\n") if n_terms else []
    new_ids = {t: i for i, t in enumerate(vocab)}
    terms, tokens.terms = tokens.terms, np.zeros(0, np.int32)
    term_arr = np.fromiter((new_ids[t] for t in tokens.vocab), np.int32, n_terms)[terms]
    del terms
    offsets, post_passage, tf = _postings(term_arr, tokens.lengths, n_passages, n_terms)
    df = np.diff(offsets).astype(np.int32)
    post_term = np.repeat(np.arange(n_terms, dtype=np.int32), df)
    levels, term_scale = _impact_levels(tf, post_term, post_passage, tokens.lengths, offsets, df, n_passages,
                                        background, vocab)
    del tf
    dense_ids = np.flatnonzero(df >= max(2, n_passages // DENSE_SHARE))
    dense, dense_articles = _dense_columns(dense_ids, offsets, post_passage, levels, tokens.article, len(articles))
    is_dense = np.zeros(n_terms, dtype=bool)
    is_dense[dense_ids] = True
    sparse = ~is_dense[post_term]
    sparse_df = df.astype(np.int64)
    sparse_df[dense_ids] = 0
    offsets = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(sparse_df, out=offsets[1:])
    title_tokens, title_offsets = _title_ids(tokens.titles, new_ids)
    masks = letter_masks(vocab)
    buckets: dict[tuple[str, int], list[int]] = {}
    for term_id, term in enumerate(vocab):
        buckets.setdefault((_first_key(term), len(term)), []).append(term_id)
    return SearchIndex(
        articles=articles,
        passage_article=tokens.article,
        passage_para=tokens.para,
        passage_start=tokens.start,
        passage_end=tokens.end,
        vocab=vocab,
        df=df,
        offsets=offsets,
        post_passage=post_passage[sparse],
        post_level=levels[sparse],
        term_scale=term_scale,
        dense_row={int(t): row for row, t in enumerate(dense_ids)},
        dense=dense,
        dense_articles=dense_articles,
        tokens=term_arr,
        token_offsets=np.concatenate([[0], np.cumsum(tokens.lengths)]).astype(np.int64),
        title_tokens=title_tokens,
        title_offsets=title_offsets,
        article_published=np.asarray([a.published.toordinal() for a in articles], dtype=np.int32),
        buckets={k: (_words([vocab[i] for i in ids]), np.asarray(ids, dtype=np.int32), masks[ids])
                 for k, ids in buckets.items()},
    )


def _postings(term_arr: np.ndarray, lengths: np.ndarray, n_passages: int,
              n_terms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each term's postings: the passages holding it, ascending (with `offsets` per term, CSR),
    and how often it occurs in each.

    Sorting one int64 key `term * passages + passage` per token gives that order; the keys
    are made and sorted for one range of terms at a time (about PAIR_CHUNK tokens each), so the
    peak is a fraction of the token stream at 8 bytes a token."""
    width = max(n_passages, 1)
    passage_of = np.repeat(np.arange(n_passages, dtype=np.int32), lengths)  # the passage of each token
    cum = np.cumsum(np.bincount(term_arr, minlength=n_terms)) if term_arr.size else np.zeros(n_terms, np.int64)
    parts = max(1, -(-term_arr.size // PAIR_CHUNK))
    cuts = np.searchsorted(cum, np.arange(1, parts) * (term_arr.size / parts)) if n_terms else np.zeros(0, np.int64)
    bounds = np.unique(np.concatenate([[0], cuts, [n_terms]]).astype(np.int64)).tolist()
    offsets_parts, passage_parts, tf_parts = [np.zeros(1, np.int64)], [], []
    done = 0
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        if parts == 1:
            keys = term_arr.astype(np.int64)
            keys *= width
            keys += passage_of
        else:
            at = np.flatnonzero((term_arr >= lo) & (term_arr < hi))
            keys = term_arr[at].astype(np.int64)
            keys -= lo
            keys *= width
            keys += passage_of[at]
            del at
        keys.sort()  # by term, then passage (np.unique would sort too, several times slower)
        starts = np.empty(keys.size, dtype=bool)
        starts[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=starts[1:])
        first = np.flatnonzero(starts)
        del starts
        tf = np.empty(first.size, dtype=np.int32)  # run lengths
        np.subtract(first[1:], first[:-1], out=tf[:-1], casting="unsafe")
        tf[-1:] = keys.size - first[-1:]
        unique = keys[first]
        del keys, first
        # Each term's postings start where its keys do; no 64-bit division (slow) is needed.
        offsets = np.searchsorted(unique, np.arange(hi - lo + 1, dtype=np.int64) * width)
        unique -= np.repeat(np.arange(hi - lo, dtype=np.int64) * width, np.diff(offsets))  # now the passage
        passage_parts.append(unique.astype(np.int32))
        tf_parts.append(tf)
        offsets_parts.append(offsets[1:] + done)
        done += unique.size
        del unique
    del passage_of
    return (np.concatenate(offsets_parts), np.concatenate([np.zeros(0, np.int32), *passage_parts]),
            np.concatenate([np.zeros(0, np.int32), *tf_parts]))


def _impact_levels(tf: np.ndarray, post_term: np.ndarray, post_passage: np.ndarray, lengths: np.ndarray,
                   offsets: np.ndarray, df: np.ndarray, n_passages: int, background: Background | None = None,
                   vocab: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """BM25 impact of each posting as one byte: in 255 steps of the term's highest impact (1 at
    least). Ranking needs no more precision, and a byte widens to float32 far faster than a float16
    does. Also each term's step size. Worked out PAIR_CHUNK postings at a time: each temporary
    the size of all postings would cost 60 MB at 100k articles."""
    n_terms = df.size
    doc_len = lengths.astype(np.float32)
    avg_len = float(doc_len.mean()) if n_passages else 1.0
    collection, all_df = n_passages, df
    if background is not None:  # as if the passages were part of the larger index
        avg_len = (background.avg_len * background.passages + float(doc_len.sum())) / max(
            background.passages + n_passages, 1)
        collection, all_df = background.passages + n_passages, df + background.df(vocab or [])
    idf = np.log(1.0 + (collection - all_df + 0.5) / (all_df + 0.5)).astype(np.float32)
    norm = (K1 * (1.0 - B + B * doc_len / avg_len)).astype(np.float32)  # per passage
    impact = np.empty(tf.size, dtype=np.float32)
    for lo in range(0, tf.size, PAIR_CHUNK):
        part = impact[lo : lo + PAIR_CHUNK]
        part[:] = tf[lo : lo + PAIR_CHUNK]
        denominator = norm[post_passage[lo : lo + PAIR_CHUNK]]
        denominator += part
        part *= np.float32(K1 + 1.0)
        part /= denominator
        part *= idf[post_term[lo : lo + PAIR_CHUNK]]
    term_scale: np.ndarray = np.ones(n_terms, dtype=np.float32)
    if impact.size:
        highest = np.maximum.reduceat(impact, np.minimum(offsets[:-1], impact.size - 1))
        highest[df == 0] = 1.0  # (reduceat gives an empty range its neighbour's value; a term of a dropped duplicate)
        term_scale = np.maximum(highest, 1e-6).astype(np.float32) / 255
    levels = np.empty(tf.size, dtype=np.uint8)
    for lo in range(0, tf.size, PAIR_CHUNK):
        part = impact[lo : lo + PAIR_CHUNK]
        part /= term_scale[post_term[lo : lo + PAIR_CHUNK]]
        np.rint(part, out=part)
        np.clip(part, 1, 255, out=part)
        levels[lo : lo + PAIR_CHUNK] = part
    return levels, term_scale


def _title_ids(titles: list[str], term_ids: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Each article's distinct title terms that are in the vocabulary, as sorted ids (CSR)."""
    words = [title.split() for title in titles]
    ids = np.fromiter((term_ids.get(w, -1) for ws in words for w in ws), np.int64)
    owner = np.repeat(np.arange(len(titles), dtype=np.int64), [len(ws) for ws in words])
    pairs = sorted_unique(owner[ids >= 0] * max(len(term_ids), 1) + ids[ids >= 0])
    counts = np.bincount(pairs // max(len(term_ids), 1), minlength=len(titles))
    return (pairs % max(len(term_ids), 1)).astype(np.int32), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def letter_masks(terms: list[str]) -> np.ndarray:
    """`letter_mask` of every term; the ASCII ones (nearly all) in one numpy pass."""
    masks = np.zeros(len(terms), dtype=np.uint32)
    plain = [i for i, t in enumerate(terms) if t.isascii() and t]
    if plain:
        chars = np.frombuffer("".join(terms[i] for i in plain).encode("ascii"), dtype=np.uint8).astype(np.uint32)
        shift = np.where((chars >= 97) & (chars <= 122), chars - 97, np.where((chars >= 48) & (chars <= 57), 26,
                                                                                27 + chars % 5))
        starts = np.concatenate([[0], np.cumsum([len(terms[i]) for i in plain])[:-1]])
        masks[plain] = np.bitwise_or.reduceat(np.left_shift(np.uint32(1), shift.astype(np.uint32)), starts)
    for i, term in enumerate(terms):
        if not (term.isascii() and term):
            masks[i] = letter_mask(term)
    return masks


def _words(words: list[str]) -> np.ndarray:
    """An object array of strings: selecting many of them by index happens in C."""
    out = np.empty(len(words), dtype=object)
    out[:] = words
    return out


def _dense_columns(term_ids: np.ndarray, offsets: np.ndarray, passages: np.ndarray, levels: np.ndarray,
                   passage_article: np.ndarray, n_articles: int) -> tuple[np.ndarray, np.ndarray]:
    """Each term's level in every passage (0: absent); and one flag per article, so counting
    the articles a query matches needs no pass over passages."""
    dense = np.zeros((term_ids.size, passage_article.size), dtype=np.uint8)
    articles = np.zeros((term_ids.size, n_articles), dtype=bool)
    for row, term_id in enumerate(term_ids.tolist()):
        lo, hi = offsets[term_id], offsets[term_id + 1]
        dense[row, passages[lo:hi]] = levels[lo:hi]
        articles[row, passage_article[passages[lo:hi]]] = True
    return dense, articles
