"""The people directory's first pass can run over runs of articles apart and be merged."""

from __future__ import annotations

from bot.corpus import Corpus
from bot.people import build_directory, collect_evidence


def test_evidence_collected_in_parts_gives_the_same_directory(seed_corpus: Corpus) -> None:
    articles = seed_corpus.articles
    whole = build_directory(seed_corpus)
    evidence = collect_evidence(articles[: len(articles) // 2])
    evidence.merge(collect_evidence(articles[len(articles) // 2:]))
    merged = build_directory(seed_corpus, evidence=evidence)
    assert [p.to_json() for p in merged.people] == [p.to_json() for p in whole.people]
    assert whole.get("Jamieson Greer") is not None


def test_only_part_of_the_evidence_finds_fewer_people(seed_corpus: Corpus) -> None:
    articles = seed_corpus.articles
    part = build_directory(seed_corpus, evidence=collect_evidence(articles[:1]))
    assert 0 < len(part.people) < len(build_directory(seed_corpus).people)
