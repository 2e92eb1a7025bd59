"""A `SearchIndex` as flat arrays and back, for a saved index opened by memory mapping.

Every large part of the index is already a numpy array; the rest (the vocabulary, the
dense-row map, the typo buckets) is laid out as arrays too, so that opening a saved
index maps files instead of unpickling objects. Only the vocabulary becomes Python
strings again (one split of one buffer): term lookup bisects a list of them.
`bot.library.saved` decides where the arrays live and checks them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bot.corpus import Article
from bot.search.index import SearchIndex

# The SearchIndex fields that are numpy arrays already, saved as they are.
ARRAY_FIELDS = ("passage_article", "passage_para", "passage_start", "passage_end", "df", "offsets", "post_passage",
                "post_level", "term_scale", "dense", "dense_articles", "tokens", "token_offsets", "title_tokens",
                "title_offsets", "article_published")


def index_parts(index: SearchIndex) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The index as named arrays, and the few small values that are not arrays (JSON-safe)."""
    arrays = {name: getattr(index, name) for name in ARRAY_FIELDS}
    arrays["vocab_utf8"] = np.frombuffer("\n".join(index.vocab).encode("utf-8"), dtype=np.uint8)  # no term has \n
    arrays["dense_ids"] = np.fromiter(index.dense_row, dtype=np.int32, count=len(index.dense_row))
    keys = list(index.buckets)
    arrays["bucket_ids"] = np.concatenate([np.zeros(0, np.int32), *(index.buckets[k][1] for k in keys)])
    arrays["bucket_masks"] = np.concatenate([np.zeros(0, np.uint32), *(index.buckets[k][2] for k in keys)])
    sizes = [len(index.buckets[k][1]) for k in keys]
    meta = {"vocab": len(index.vocab), "bucket_keys": [[first, length] for first, length in keys],
            "bucket_sizes": sizes}
    return arrays, meta


def index_from_parts(articles: tuple[Article, ...], arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> SearchIndex:
    """The index again, its arrays used in place (memory-mapped ones stay mapped, read-only).

    Raises ValueError when the parts do not fit together (a damaged or foreign save)."""
    vocab = bytes(arrays["vocab_utf8"]).decode("utf-8").split("\n") if meta["vocab"] else []
    if len(vocab) != meta["vocab"]:
        raise ValueError(f"vocabulary has {len(vocab)} terms, expected {meta['vocab']}")
    n_terms, n_passages = len(vocab), arrays["passage_article"].size
    offsets, dense = arrays["offsets"], arrays["dense"]
    checks = {
        "df": arrays["df"].size == n_terms and arrays["term_scale"].size == n_terms,
        "offsets": offsets.size == n_terms + 1 and int(offsets[-1]) == arrays["post_passage"].size
        == arrays["post_level"].size,
        "dense": dense.ndim == 2 and dense.shape[0] == arrays["dense_ids"].size
        and (dense.shape[0] == 0 or dense.shape[1] == n_passages),
        "passages": all(arrays[n].size == n_passages for n in ("passage_para", "passage_start", "passage_end")),
        "tokens": arrays["token_offsets"].size == n_passages + 1
        and int(arrays["token_offsets"][-1]) == arrays["tokens"].size,
        "articles": arrays["title_offsets"].size == len(articles) + 1 and arrays["article_published"].size == len(
            articles),
        "buckets": sum(meta["bucket_sizes"]) == arrays["bucket_ids"].size == arrays["bucket_masks"].size == n_terms,
    }
    bad = [name for name, ok in checks.items() if not ok]
    if bad:
        raise ValueError(f"saved index parts do not fit together: {', '.join(bad)}")
    words = np.empty(n_terms, dtype=object)
    words[:] = vocab
    buckets: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    start = 0
    for (first, length), size in zip(meta["bucket_keys"], meta["bucket_sizes"]):
        ids = arrays["bucket_ids"][start : start + size]
        buckets[(first, int(length))] = (words[ids], ids, arrays["bucket_masks"][start : start + size])
        start += size
    fields = {name: arrays[name] for name in ARRAY_FIELDS}
    return SearchIndex(articles=articles, vocab=vocab, buckets=buckets,
                       dense_row={int(t): row for row, t in enumerate(arrays["dense_ids"].tolist())}, **fields)
