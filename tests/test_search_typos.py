"""Typo correction weighs how common a word is: corpora built here hold rare misspellings
beside the common words they misspell, as real news text does."""

from __future__ import annotations

import pytest

from bot.corpus import load_corpus
from bot.search import SearchEngine, build_index
from bot.search.expand import expand_term, skeleton
from tests.helpers import write_article

# (word, passages holding it): common words, and rare misspellings one edit from another reading.
COUNTS = {
    "tariffs": 120, "tarrips": 2,  # `tarrifs` is one edit from `tarrips`, two (doubled letters) from `tariffs`
    "tariff": 90, "tarrit": 2,  # `tarrif` likewise
    "reciprocal": 40, "trump": 60, "threat": 30,
    "hassett": 100, "hasset": 1,  # a misspelling that exists once
    "nvidia": 50, "currency": 80, "curency": 1, "policy": 60,
    "geneva": 50, "geneve": 1, "talks": 70,
    "rare": 90, "earths": 90, "magnet": 40,
    "want": 20, "wang": 2,  # a rare name beside a word only ten times as common: both are meant
    "zanzibar": 1,  # a rare word with no common neighbour
}
# What people meant, each written together in a few passages.
MEANT = ["reciprocal tariffs", "trump tariff threat", "hassett nvidia", "currency policy", "geneva talks",
         "rare earths magnet"]
MISSPELT = {"tarrips", "tarrit", "hasset", "curency", "geneve"}
FILLER = ["officials", "said", "on", "monday", "that", "negotiators", "met", "again", "in", "the", "capital"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    corpus_dir = tmp_path_factory.mktemp("typos")
    words_of: list[list[str]] = [[] for _ in range(150)]
    for word, n in COUNTS.items():
        for k in range(n):
            words_of[(k * 7 + len(word)) % len(words_of)].append(word)
    for i, words in enumerate(words_of):
        # One word per paragraph, so that a word's passage count is the number written above.
        body = [f"{' '.join(FILLER[: 3 + i % 7])} {w} {FILLER[(i + j) % len(FILLER)]} {i}." for j, w in enumerate(words)]
        if i % 10 == 0:
            body.append(f"Officials said {MEANT[(i // 10) % len(MEANT)]} mattered most.")
        write_article(corpus_dir, f"a-{i:03d}", f"Report {i}", body or ["Nothing to report."], url=f"https://x.example/{i}")
    return SearchEngine(build_index(load_corpus(corpus_dir)))


@pytest.mark.parametrize("query, meant", [
    ("reciprocal tarrifs", "reciprocal tariffs"),
    ("trump tarrif threat", "trump tariff threat"),
    ("hasset nvida", "hassett nvidia"),
    ("curency policy", "currency policy"),
    ("geneve talks", "geneva talks"),
    ("rare erths magnet", "rare earths magnet"),
])
def test_correction_shows_the_word_a_person_meant(engine: SearchEngine, query: str, meant: str) -> None:
    response = engine.search(query)
    assert response.corrected == meant
    assert all(word in response.results[0].passage.lower() for word in meant.split())
    shown = " ".join(r.passage.lower() for r in response.results)
    assert not [w for w in MISSPELT if f" {w} " in shown]


def test_corrected_word_ranks_above_the_rare_misspelling(engine: SearchEngine) -> None:
    results = engine.search("hasset", limit=10).results
    assert "hassett" in results[0].passage.lower()
    # The misspelt passage is still found, below the corrected ones.
    passages = [r.passage.lower() for page in (0, 50, 100) for r in engine.search("hasset", 50, page).results]
    assert len(passages) > 100 and any("hasset " in p for p in passages)


@pytest.mark.parametrize("query", ["zanzibar", "wang", "want", "tariff", "tarrips"])
def test_words_that_are_meant_stay(engine: SearchEngine, query: str) -> None:
    response = engine.search(query)
    assert response.corrected is None
    assert response.results and query in response.results[0].passage.lower()


def test_rare_word_with_only_rare_neighbours_is_exact_first(engine: SearchEngine) -> None:
    expansions = expand_term(engine.index, "zanzibar")
    assert [(e.term, e.kind) for e in expansions] == [("zanzibar", "exact")]


def test_no_results_suggest_likely_words(engine: SearchEngine) -> None:
    response = engine.search("qqqqqq")
    assert response.results == [] and response.suggestions == []


def test_skeleton_collapses_doubled_letters() -> None:
    assert skeleton("tarrif") == skeleton("tariff") == "tarif"
    assert skeleton("curency") == skeleton("currency")
    assert skeleton("geneva") != skeleton("geneve")


def test_unreachable_words_are_not_corrected(engine: SearchEngine) -> None:
    response = engine.search("xylophone")
    assert response.results == [] and response.corrected is None
