"""Candidate search picks what brute force over every passage picks, whichever way it finds them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.synth import generate
from bot.corpus import load_corpus
from bot.search import SearchIndex, bounded, build_index, scoring
from bot.search.expand import Expansion, expand_term
from tests import search_reference

ROOT = Path(__file__).resolve().parent.parent
WANT = 40


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    return build_index(load_corpus(generate(ROOT / "corpus", tmp_path_factory.mktemp("synth"), 300)))


def brute_force(idx: SearchIndex, groups: list[list[Expansion]]) -> tuple[np.ndarray, np.ndarray]:
    """Every passage's key and number of terms matched, from the postings alone."""
    scores = np.zeros(idx.passage_count, dtype=np.float64)
    matched = np.zeros(idx.passage_count, dtype=np.int64)
    for options in groups:
        has_term = np.zeros(idx.passage_count, dtype=bool)
        for option in options:
            passages, impacts = idx.postings(option.term_id)
            scores[passages] += impacts.astype(np.float64) * option.weight
            has_term[passages] = True
        matched += has_term
    return matched * scoring.TIER + scores, matched


def queries(idx: SearchIndex) -> list[list[str]]:
    by_df = np.argsort(-idx.df)
    common = [idx.vocab[i] for i in by_df[:200] if idx.vocab[i].isalpha() and len(idx.vocab[i]) > 4][:4]
    middling = [idx.vocab[i] for i in by_df[400:2000:300] if idx.vocab[i].isalpha()][:4]
    rare = [idx.vocab[i] for i in by_df[-50:] if idx.vocab[i].isalpha()][:2]
    typo = [common[0][:2] + common[0][3:], middling[0] + "x"]
    return [[a, b] for a in common for b in middling] + [[a, b] for a in common[:2] for b in common[2:]] + \
        [[common[0], rare[0]], [rare[0], rare[1]], [*typo], [common[1], middling[1], middling[2]]]


def test_the_corpus_has_dense_and_sparse_terms(index: SearchIndex) -> None:
    assert 0 < len(index.dense_row) < len(index.vocab) // 10


@pytest.fixture(params=["whole tiers", "sampled thresholds"])
def sampling(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """`bounded` scores a small tier whole; made to sample here, as it does at 100k articles."""
    if request.param == "sampled thresholds":
        monkeypatch.setattr(bounded, "WHOLE_TIER", 0)
        monkeypatch.setattr(bounded, "STEP", 2)
        monkeypatch.setattr(bounded, "WIDTH", 4)
        monkeypatch.setattr(bounded, "RANKS", ((1, 0), (2, 1), (16, 64)))  # thresholds close to the cut
    return str(request.param)


def test_candidates_keep_the_best_keys(index: SearchIndex, sampling: str) -> None:
    for words in queries(index):
        groups = [expand_term(index, w) for w in words]
        key, matched = brute_force(index, groups)
        found = scoring.candidates(index, groups, None, 5, WANT)
        complete = matched == len(groups)
        articles = np.unique(index.passage_article[complete]).size
        if scoring._counts_every_term(index, groups) and articles >= 5:  # as the probe counted
            assert found.total == articles, words
        else:
            assert found.total == np.unique(index.passage_article[matched > 0]).size, words
        best = np.sort(found.key)[::-1]
        expected = np.sort(key[matched > 0])[::-1][:WANT]
        if best.size < expected.size:  # only the passages holding every term: enough articles for the page
            assert articles >= 5 and best.size == np.count_nonzero(complete), words
            expected = expected[: best.size]
        assert np.allclose(best, expected, rtol=1e-4), words


def test_best_keys_are_the_scans_bit_for_bit(index: SearchIndex, sampling: str) -> None:
    for words in queries(index):
        groups = [g for g in (expand_term(index, w) for w in words) if g]
        for mask in (None, np.arange(index.article_count) % 3 != 0):
            passages, key = bounded.best_keys(index, groups, mask, WANT)
            key, at = scoring.top_keys(key, WANT)
            old = search_reference.scan(index, groups, mask, WANT)
            assert np.array_equal(np.sort(passages[at]), np.sort(old.passages)), words
            assert np.array_equal(key[np.argsort(passages[at])], old.key[np.argsort(old.passages)]), words


def test_every_term_finds_what_the_probe_found(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scoring, "_probe_cost", lambda *args: 0.0)  # probe whenever it can answer
    answered = 0
    for words in queries(index):
        groups = [expand_term(index, w) for w in words]
        old = search_reference.probe(index, groups, None, 5, WANT)
        if old is None or rarest_is_dense(index, groups):  # (the cost model never probed those: see below)
            continue
        found = scoring.candidates(index, groups, None, 5, WANT)
        answered += 1
        assert found.total == old.total, words
        assert np.array_equal(np.sort(found.passages), np.sort(old.passages)), words
        assert np.array_equal(found.key[np.argsort(found.passages)], old.key[np.argsort(old.passages)]), words
    assert answered >= 5


def rarest_is_dense(idx: SearchIndex, groups: list[list[Expansion]]) -> bool:
    rarest = min(groups, key=lambda g: sum(int(idx.df[o.term_id]) for o in g))
    return any(o.term_id in idx.dense_row for o in rarest)


def test_the_probe_never_ran_from_a_dense_term(index: SearchIndex) -> None:
    """A dense rarest term is in n/16 passages or more: listing and probing them cost more than
    a scan, so the cost model never chose it, and `every_term` need not list dense columns."""
    rng = np.random.default_rng(3)
    dense = list(index.dense_row)
    sparse = np.flatnonzero(index.df < index.passage_count // 16)
    for _ in range(300):
        groups = [[Expansion(int(t), "", 1.0, "exact") for t in rng.choice(dense, rng.integers(1, 3))]
                  for _ in range(rng.integers(2, 4))]
        groups += [[Expansion(int(t), "", 0.5, "prefix") for t in rng.choice(sparse, rng.integers(1, 4))]
                   for _ in range(rng.integers(0, 3))]
        if rarest_is_dense(index, groups):
            assert not scoring._counts_every_term(index, groups)


def test_filters_narrow_candidates(index: SearchIndex, sampling: str) -> None:
    mask = np.zeros(index.article_count, dtype=bool)
    mask[::3] = True
    for words in queries(index)[:6]:
        groups = [expand_term(index, w) for w in words]
        found = scoring.candidates(index, groups, mask, 5, WANT)
        assert found.passages.size and mask[index.passage_article[found.passages]].all()
        old = search_reference.scan(index, groups, mask, WANT)
        assert found.total == old.total or scoring._counts_every_term(index, groups)


@pytest.mark.parametrize("share", [0.0005, 0.01, 0.3, 1.0])
def test_top_keys_is_exact_whichever_way_it_selects(share: float) -> None:
    rng = np.random.default_rng(7)
    key = np.zeros(300_000, dtype=np.float32)
    hit = rng.random(key.size) < share
    key[hit] = rng.integers(1, 4, hit.sum()) * scoring.TIER + rng.random(hit.sum()).astype(np.float32)
    key[hit & (rng.random(key.size) < 0.2)] = 2 * scoring.TIER + 0.5  # many ties
    found_key, found = scoring.top_keys(key, 120)
    expected = np.sort(key[key > 0])[::-1][:120]
    assert np.array_equal(np.sort(found_key)[::-1], expected)
    assert np.array_equal(key[found], found_key) and np.unique(found).size == found.size


def test_top_keys_recovers_when_the_sampled_threshold_is_too_high() -> None:
    key = np.zeros(300_000, dtype=np.float32)
    key[::64][:500] = np.arange(1, 501, dtype=np.float32)  # every positive key falls in the sample
    found_key, _ = scoring.top_keys(key, 120)
    assert np.array_equal(np.sort(found_key)[::-1], np.arange(500, 380, -1, dtype=np.float32))
