"""Index building: the fast tokeniser agrees with the reference one, and worker processes
build exactly the index one process builds."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.synth import generate
from bot.corpus import load_corpus
from bot.corpus.text import terms
from bot.library import workers as parallel_load
from bot.search.build import passage_terms
from tests.helpers import write_article

ROOT = Path(__file__).resolve().parent.parent
TRICKY = [
    "Bessent’s 145% tariff, $3.5bn and €2,5 for ¥100 or £9",
    "per cent 10 per cent, per per cent; cent per cent super cent",
    "rock’n’roll O'Neil's don't it’s 1990's 'quoted' bessent's'x",
    "ＦＵＬＬ width, café ŠKODA naïve façade Straße",
    "中国 关税 émoji 🎉 U.S. F16 2.25 1,000,000 v2.0",
    "\u202eevil\u202c text",
    # Invisible characters inside words must not split them, in either tokeniser (items 13, 16).
    "tar\u200biffs tar\u2060iffs tar\u00adiffs tar\u200diffs tar\u200ciffs nul\x00led bell\x07ed \ufeffbom",
    "family 👨\u200d👩\u200d👧 می\u200cخواهم क्\u200dष \u2066isolated\u2069 \u200e\u200fmarks \ud800lone",
]


def test_passage_terms_match_the_reference_tokeniser(seed_corpus_dir: Path) -> None:
    texts = TRICKY + [p for a in load_corpus(seed_corpus_dir).articles for p in a.paragraphs]
    for text in texts:
        assert passage_terms(text) == terms(text), text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab Z1%'’-.,") + ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad",
                                                             "\u202e", "\x00", "\x1f", "é", "ß", "中", "👩", "\ufeff"]),
               max_size=40))
def test_passage_terms_match_terms_on_any_text(text: str) -> None:
    assert passage_terms(text) == terms(text)


def index_arrays(index: object) -> dict[str, object]:
    return {k: v for k, v in vars(index).items() if k not in ("articles", "buckets")}


def test_workers_build_the_same_corpus_and_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    corpus_dir = generate(ROOT / "corpus", tmp_path / "synth", 120)
    first = load_corpus(corpus_dir).articles[0]
    write_article(corpus_dir, "zz-copy-of-first", first.title, list(first.paragraphs))  # same text: skipped
    (corpus_dir / "broken.md").write_text("no front matter", encoding="utf-8")
    monkeypatch.setattr(parallel_load, "MIN_FILES_FOR_WORKERS", 10)
    monkeypatch.setattr(parallel_load, "CHUNK_FILES", 25)  # several chunks, merged out of order
    one_corpus, one = parallel_load.load_and_index(corpus_dir, workers=1)
    with caplog.at_level(logging.INFO, logger="bot.library.workers"):
        two_corpus, two = parallel_load.load_and_index(corpus_dir, workers=2)
    assert "by 2 processes" in caplog.text  # really in workers, not the in-process fallback
    assert [a.id for a in two_corpus.articles] == [a.id for a in one_corpus.articles]
    assert two_corpus.skipped == one_corpus.skipped and len(two_corpus.skipped) == 2
    a, b = index_arrays(one), index_arrays(two)
    assert a.keys() == b.keys()
    for name, value in a.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, b[name]), name
        else:
            assert value == b[name], name


def test_a_broken_worker_pool_falls_back_to_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    from concurrent.futures.process import BrokenProcessPool

    corpus_dir = generate(ROOT / "corpus", tmp_path / "synth", 30)

    def broken(*args: object) -> None:
        raise BrokenProcessPool("a worker was killed")

    monkeypatch.setattr(parallel_load, "MIN_FILES_FOR_WORKERS", 10)
    monkeypatch.setattr(parallel_load, "_in_workers", broken)
    corpus, index = parallel_load.load_and_index(corpus_dir, workers=2)
    assert len(corpus.articles) == 30 and index.passage_count > 0
    assert "building in this one" in caplog.text


def test_letter_masks_match_one_at_a_time() -> None:
    from bot.search.build import letter_masks
    from bot.search.index import letter_mask

    terms = ["tariff", "bessent", "145", "2.25", "rock'n'roll", "café", "中国", "a", "usd", "zz9x"]
    assert letter_masks(terms).tolist() == [letter_mask(t) for t in terms]


def test_postings_agree_with_the_token_stream(tmp_path: Path) -> None:
    from bot.search import build_index

    index = build_index(load_corpus(generate(ROOT / "corpus", tmp_path / "synth", 120)))
    from_tokens = [set(index.tokens[index.token_offsets[p] : index.token_offsets[p + 1]].tolist())
                   for p in range(index.passage_count)]
    from_postings: list[set[int]] = [set() for _ in range(index.passage_count)]
    for term_id in range(len(index.vocab)):
        passages, levels = index.levels(term_id)
        assert passages.size == index.df[term_id] and (levels > 0).all()
        assert np.all(np.diff(passages) > 0)
        for p in passages.tolist():
            from_postings[p].add(term_id)
    assert from_postings == from_tokens
    assert len(index.dense_row) > 0 and index.vocab == sorted(index.vocab)


def test_tokens_survive_the_trip_from_a_worker() -> None:
    import pickle

    from bot.corpus import Article
    from bot.search.build import tokenize_articles

    untitled = Article(id="dash", title="—", publisher="Wire", published="2025-07-01", paragraphs=("Tariffs rose.",))
    for articles in ([], [untitled], [untitled, untitled]):
        tokens = tokenize_articles(articles)
        back = pickle.loads(pickle.dumps(tokens))
        assert (back.vocab, back.titles) == (tokens.vocab, tokens.titles) and back.titles == [""] * len(articles)
        assert np.array_equal(back.terms, tokens.terms)


def test_building_in_small_runs_of_terms_gives_the_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Postings and impacts are worked out PAIR_CHUNK tokens at a time (to bound memory at 100k)."""
    from bot.search import build, build_index

    corpus = load_corpus(generate(ROOT / "corpus", tmp_path / "synth", 120))
    whole = index_arrays(build_index(corpus))
    monkeypatch.setattr(build, "PAIR_CHUNK", 500)
    parts = index_arrays(build_index(corpus))
    assert whole.keys() == parts.keys()
    for name, value in whole.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, parts[name]), name
        else:
            assert value == parts[name], name
