"""Both scoring strategies (probe and scan) pick what brute force over every passage picks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.synth import generate
from bot.corpus import load_corpus
from bot.search import SearchIndex, build_index, scoring
from bot.search.expand import Expansion, expand_term

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


def test_scan_keeps_the_best_keys(index: SearchIndex) -> None:
    for words in queries(index):
        groups = [expand_term(index, w) for w in words]
        key, matched = brute_force(index, groups)
        found = scoring.scan(index, groups, None, WANT)
        expected = np.sort(key[matched > 0])[::-1][:WANT]
        assert np.allclose(np.sort(found.key)[::-1], expected, rtol=1e-4), words
        articles = np.unique(index.passage_article[matched > 0]).size
        assert found.total == articles, words


def test_probe_agrees_with_brute_force_or_declines(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scoring, "_probe_cost", lambda *args: 0.0)  # probe whenever it can answer
    answered = 0
    for words in queries(index):
        groups = [expand_term(index, w) for w in words]
        key, matched = brute_force(index, groups)
        complete = matched == len(groups)
        articles = np.unique(index.passage_article[complete]).size
        found = scoring.probe(index, groups, None, 5, WANT)
        if found is None:
            assert articles < 5 or not all(groups), words
            continue
        answered += 1
        assert found.total == articles, words
        assert np.allclose(np.sort(found.key)[::-1], np.sort(key[complete])[::-1][:WANT], rtol=1e-4), words
    assert answered >= 5


def test_filters_narrow_both_strategies_alike(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    mask = np.zeros(index.article_count, dtype=bool)
    mask[::3] = True
    words = queries(index)[0]
    groups = [expand_term(index, w) for w in words]
    scanned = scoring.scan(index, groups, mask, WANT)
    assert mask[index.passage_article[scanned.passages]].all()
    monkeypatch.setattr(scoring, "_probe_cost", lambda *args: 0.0)
    probed = scoring.probe(index, groups, mask, 5, WANT)
    assert probed is not None and mask[index.passage_article[probed.passages]].all()
    best = scanned.key >= len(groups) * scoring.TIER
    assert np.allclose(np.sort(probed.key), np.sort(scanned.key[best]), rtol=1e-4)


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
