"""A delta index: new and changed articles, searchable in moments, beside the main index.

Rebuilding the main index takes tens of seconds at 100k articles; a delta of a few hundred
articles takes a fraction of a second. It is built with the main index's collection
statistics (`Background`), so its BM25 impacts are those a full rebuild would give, and
it is searched with the main index's reading of the query: the same corrections and
weights, mapped onto its own term ids, plus the typed words that only it holds (a name
first seen in today's news). Articles it replaces are hidden in the main index.
`bot.library.reload` builds one on a small change and merges it (a full rebuild) later.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.corpus import Article
from bot.search.build import Background, assemble_index, tokenize_articles
from bot.search.expand import Expansion
from bot.search.index import SearchIndex


def background_of(main: SearchIndex) -> Background:
    def df(terms: list[str]) -> np.ndarray:
        ids = [main.term_id(t) for t in terms]
        return np.asarray([0 if i is None else int(main.df[i]) for i in ids], dtype=np.int32)

    tokens = int(main.token_offsets[-1]) if main.token_offsets.size else 0
    return Background(main.passage_count, tokens / max(main.passage_count, 1), df)


def build_delta(main: SearchIndex, articles: Sequence[Article]) -> SearchIndex:
    """The articles (newest first) as an index weighed like `main`."""
    articles = tuple(articles)
    return assemble_index(articles, tokenize_articles(articles), background_of(main))


def delta_expansions(delta: SearchIndex, expansions: dict[str, list[Expansion]]) -> dict[str, list[Expansion]]:
    """The main index's expansions of each query term, as term ids of the delta; a typed term
    that only the delta holds matches exactly there."""
    out: dict[str, list[Expansion]] = {}
    for typed, options in expansions.items():
        mapped: list[Expansion] = []
        for option in options:
            term_id = delta.term_id(option.term)
            if term_id is not None:
                mapped.append(Expansion(term_id, option.term, option.weight, option.kind, option.distance))
        own = delta.term_id(typed)
        if own is not None and all(o.term != typed for o in options):
            mapped.insert(0, Expansion(own, typed, 1.0, "exact"))
        out[typed] = mapped
    return out
