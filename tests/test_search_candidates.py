"""Search answers exactly as it did before candidates were found from postings (#14 latency).

`tests.search_reference.ReferenceEngine` finds candidates the former way (probe or full
scan); every response, ranked results, scores, snippets, totals and corrections, must be
the same on varied queries: common, rare and misspelt words, phrases, exclusions, filters,
paging, odd Unicode, empty and huge input. `bot.search.bounded` scores small tiers whole
on a corpus this size, so it is also made to sample, as it does at 100k articles.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.synth import generate
from bot.corpus import load_corpus
from bot.search import SearchEngine, SearchIndex, bounded, build_index
from tests.search_reference import ReferenceEngine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return build_index(load_corpus(generate(ROOT / "corpus", tmp_path_factory.mktemp("synth"), 400,
                                            misspell_rate=1 / 500)))


@pytest.fixture(scope="module")
def words(index: SearchIndex) -> list[str]:
    """Words from the most common to the rarest, and misspellings of some."""
    by_df = np.argsort(-index.df, kind="stable")
    alpha = [index.vocab[i] for i in by_df if index.vocab[i].isalpha() and len(index.vocab[i]) > 3]
    picked = alpha[:40] + alpha[40:4000:90] + alpha[-30:]
    return picked + [w[:2] + w[3:] for w in picked[::4]] + [w[:3] + w[2:] for w in picked[1::5]] + ["tarrifs", "zzqx"]


@pytest.fixture(params=["whole tiers", "sampled thresholds"])
def sampling(request: pytest.FixtureRequest) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "sampled thresholds":
            patch.setattr(bounded, "WHOLE_TIER", 0)
            patch.setattr(bounded, "STEP", 2)
            patch.setattr(bounded, "WIDTH", 4)
            patch.setattr(bounded, "RANKS", ((1, 0), (2, 1), (16, 64)))  # thresholds close to the cut
        yield


def same(index: SearchIndex, query: str, limit: int = 5, offset: int = 0) -> None:
    new = SearchEngine(index).search(query, limit=limit, offset=offset).model_dump(exclude={"took_ms"})
    old = ReferenceEngine(index).search(query, limit=limit, offset=offset).model_dump(exclude={"took_ms"})
    assert new == old, query


def query_of(words: list[str]) -> st.SearchStrategy[str]:
    word = st.sampled_from(words)
    part = st.one_of(
        word, word, word,
        st.builds(lambda a, b: f'"{a} {b}"', word, word),
        st.builds(lambda a: f"-{a}", word),
        st.sampled_from(["source:reuters", "source:Bloomberg", "since:2024-06-01", "until:2025-01-31", "the", "of"]),
        st.text(max_size=8),
    )
    return st.lists(part, min_size=0, max_size=6).map(" ".join)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_responses_are_the_former_ones(index: SearchIndex, words: list[str], sampling: None, data: st.DataObject
                                       ) -> None:
    query = data.draw(query_of(words))
    limit = data.draw(st.sampled_from([1, 5, 10, 50]))
    offset = data.draw(st.sampled_from([0, 0, 5, 40]))
    same(index, query, limit, offset)


@pytest.mark.parametrize("query", ["", " ", "\u0000\u200b", "ｔａｒｉｆｆｓ", "Zölle über", "🙂 tariffs", "\"\"", "-tariffs",
                                   "tariffs " * 400, " ".join(f"w{i}" for i in range(200)), "a" * 5000])
def test_odd_empty_and_huge_queries_are_the_former_ones(index: SearchIndex, sampling: None, query: str) -> None:
    same(index, query)


def test_every_pair_of_common_and_rare_words_is_the_former(index: SearchIndex, words: list[str], sampling: None
                                                          ) -> None:
    for first in words[:12]:
        for second in words[::7]:
            same(index, f"{first} {second}")
            same(index, f"{first} {second} {words[-1]}")


def common_bigrams(index: SearchIndex, n: int) -> list[tuple[str, str]]:
    """The most frequent adjacent pairs of longer words: phrases that many passages hold."""
    tokens = index.tokens.astype(np.int64)
    pairs = tokens[:-1] * len(index.vocab) + tokens[1:]
    values, counts = np.unique(pairs, return_counts=True)
    out: list[tuple[str, str]] = []
    for pair in values[np.argsort(-counts, kind="stable")]:
        a, b = index.vocab[int(pair) // len(index.vocab)], index.vocab[int(pair) % len(index.vocab)]
        if len(a) > 3 and len(b) > 3 and a.isalpha() and b.isalpha():
            out.append((a, b))
        if len(out) == n:
            break
    return out


def test_phrases_with_another_word_rank_as_before(index: SearchIndex, words: list[str], sampling: None) -> None:
    """A phrase filters the candidates: passages holding the phrase but not the other word
    can reach a long page, so the passages holding every word must fill the re-rank first."""
    for a, b in common_bigrams(index, 4):
        for other in words[5:40:3]:
            for limit in (5, 50):
                same(index, f'"{a} {b}" {other}', limit=limit)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_best_keys_are_the_scans_on_any_terms_and_weights(index: SearchIndex, data: st.DataObject) -> None:
    """Random terms and weights, cut anywhere: the sampled threshold never loses a key."""
    from bot.search.expand import Expansion
    from tests.search_reference import scan

    terms = st.integers(0, len(index.vocab) - 1).map(int)
    weight = st.sampled_from([1.0, 0.9, 0.7, 0.55, 0.35, 0.3, 0.01])
    option = st.builds(lambda t, w: Expansion(t, index.vocab[t], w, "exact"), terms, weight)
    common = st.sampled_from(sorted(index.dense_row)).map(lambda t: Expansion(t, index.vocab[t], 1.0, "exact"))
    groups = data.draw(st.lists(st.lists(st.one_of(option, common), min_size=1, max_size=3), min_size=1, max_size=4))
    want = data.draw(st.integers(1, 400))
    mask = data.draw(st.sampled_from([None, np.arange(index.article_count) % 4 != 1]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bounded, "WHOLE_TIER", 0)
        patch.setattr(bounded, "STEP", data.draw(st.sampled_from([1, 2, 4, 8])))
        patch.setattr(bounded, "WIDTH", data.draw(st.sampled_from([1, 4, 64])))
        patch.setattr(bounded, "RANKS", data.draw(st.sampled_from([((1, 0), (3, 2)), ((16, 64), (128, 512))])))
        passages, key = bounded.best_keys(index, groups, mask, want)
    from bot.search.scoring import top_keys

    key, at = top_keys(key, want)
    old = scan(index, groups, mask, want)
    assert np.array_equal(np.sort(passages[at]), np.sort(old.passages))
    assert np.array_equal(key[np.argsort(passages[at])], old.key[np.argsort(old.passages)])


def test_kept_expansions_are_the_ones_found(index: SearchIndex, words: list[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Expansions are kept per term; asking again, or after the store is emptied, gives the same."""
    from bot.search import engine as engine_module

    monkeypatch.setattr(engine_module, "EXPANSIONS_KEPT", 7)
    engine = SearchEngine(index)
    queries = [f"{a} {b}" for a, b in zip(words[::3], words[1::3])]
    first = [engine.search(q).model_dump(exclude={"took_ms"}) for q in queries]
    assert len(engine._expanded) <= 7
    again = [engine.search(q).model_dump(exclude={"took_ms"}) for q in queries]
    fresh = [SearchEngine(index).search(q).model_dump(exclude={"took_ms"}) for q in queries]
    assert first == again == fresh
    engine._expand(words[0]).clear()  # a caller changing its list changes nothing kept
    assert engine._expand(words[0]) == SearchEngine(index)._expand(words[0])
