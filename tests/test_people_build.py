"""The people directory built from per-article results: the same directory however the articles
arrive, and a changed corpus reads only what changed (#14: the directory follows incrementally)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from bot.corpus import Article, Corpus, load_corpus
from bot.people import PeopleCache, PeopleDirectory, build_directory, directory_from
from bot.people.scan import phrases_in


def as_json(directory: PeopleDirectory) -> list[dict[str, object]]:
    return [p.to_json() for p in directory.people]


def order_of(corpus: Corpus, stamp: int = 0) -> list[tuple[str, int]]:
    return [(a.id, stamp) for a in corpus.articles]


def corpus_of(articles: list[Article]) -> Corpus:
    return Corpus(articles=tuple(sorted(articles, key=lambda a: (a.published, a.id), reverse=True)))


class CountingCache(PeopleCache):
    """Counts the articles read, to show an update reads only what it must."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[str] = []

    def add(self, articles):  # type: ignore[no-untyped-def]
        articles = list(articles)
        self.read += [a.id for a, _ in articles]
        super().add(articles)


def article(article_id: str, day: int, *paragraphs: str) -> Article:
    return Article(id=article_id, title=f"Title {article_id}", publisher="Wire", url=None,
                   published=dt.date(2025, 7, day), paragraphs=list(paragraphs))


def test_a_directory_built_in_parts_is_the_one_built_at_once(seed_corpus: Corpus) -> None:
    whole = build_directory(seed_corpus)
    cache = PeopleCache()
    articles = list(seed_corpus.articles)
    half = corpus_of(articles[: len(articles) // 2])
    directory_from(cache, order_of(half), None, half)  # the first half first, then all
    assert as_json(directory_from(cache, order_of(seed_corpus), None, seed_corpus)) == as_json(whole)
    assert whole.get("Jamieson Greer") is not None


def test_an_unchanged_corpus_reads_nothing_again(seed_corpus: Corpus) -> None:
    cache = CountingCache()
    first = directory_from(cache, order_of(seed_corpus), None, seed_corpus)
    assert len(cache.read) == 2 * len(seed_corpus.articles)  # both passes of a first build
    cache.read.clear()
    again = directory_from(cache, order_of(seed_corpus), None, seed_corpus)
    assert cache.read == [] and as_json(again) == as_json(first)


def test_an_added_article_is_read_with_those_it_may_change(seed_corpus: Corpus) -> None:
    cache = CountingCache()
    directory_from(cache, order_of(seed_corpus), None, seed_corpus)
    new = article("new-one", 30, "US Trade Representative Jamieson Greer said talks with Wilma Quist, "
                  "trade minister of Freedonia, would resume.", "Quist told reporters she was hopeful.")
    grown = corpus_of([*seed_corpus.articles, new])
    cache.read.clear()
    updated = directory_from(cache, order_of(grown), None, grown)
    assert as_json(updated) == as_json(build_directory(grown))
    assert "new-one" in cache.read and len(set(cache.read)) < len(grown.articles) // 2
    quist = updated.get("Wilma Quist")
    assert quist is not None and quist.role == "trade minister of Freedonia"
    greer = updated.get("Jamieson Greer")
    assert greer is not None and greer.articles[0].article_id == "new-one"  # the newest article first


def test_a_changed_and_a_removed_article_follow(seed_corpus: Corpus) -> None:
    cache = PeopleCache()
    directory_from(cache, order_of(seed_corpus), None, seed_corpus)
    first, second, *rest = seed_corpus.articles
    changed = dataclasses.replace(first, paragraphs=["Commerce Secretary Howard Lutnick said nothing new."])
    edited = corpus_of([changed, *rest])  # `second` removed
    order = [(a.id, 1 if a.id == changed.id else 0) for a in edited.articles]
    assert as_json(directory_from(cache, order, None, edited)) == as_json(build_directory(edited))
    assert second.id not in {a.article_id for p in build_directory(edited).people for a in p.articles}


def test_people_yml_changes_follow_without_new_articles(seed_corpus: Corpus, tmp_path: Path) -> None:
    cache = PeopleCache()
    directory_from(cache, order_of(seed_corpus), None, seed_corpus)
    overrides = tmp_path / "people.yml"
    overrides.write_text("people:\n  - name: Jamieson Greer\n    aliases: [JG]\n    role: Trade chief\n"
                         "  - name: Kevin Hassett\n    hide: true\n", encoding="utf-8")
    updated = directory_from(cache, order_of(seed_corpus), overrides, seed_corpus)
    assert as_json(updated) == as_json(build_directory(seed_corpus, overrides))
    assert updated.get("Kevin Hassett") is None and updated.get("Jamieson Greer").role == "Trade chief"  # type: ignore[union-attr]


def test_a_longer_new_name_displaces_a_shorter_one_where_it_stands() -> None:
    """Longest match wins, so a new phrase can change an article that held only an old one."""
    text = "Analysts said Lee Quist Baran met Quist officials."
    assert [p for _, p in phrases_in(text, {"Quist": "A"}, {"Quist"})] == ["Quist", "Quist"]
    phrases = {"Quist": "A", "Lee Quist Baran": "B"}
    assert [p for _, p in phrases_in(text, phrases, {"Quist", "Lee"})] == ["Lee Quist Baran", "Quist", "Quist"]


@pytest.mark.parametrize("size", [40])
def test_incremental_updates_match_a_fresh_build_on_a_generated_corpus(tmp_path: Path, size: int) -> None:
    from benchmarks.synth import generate

    root = Path(__file__).resolve().parent.parent
    corpus = load_corpus(generate(root / "corpus", tmp_path / "synth", size))
    articles = list(corpus.articles)
    cache = PeopleCache()
    for n in (size // 4, size // 2, size):  # the corpus grows, newest articles arriving in a jumble
        part = corpus_of(articles[::-1][:n])
        assert as_json(directory_from(cache, order_of(part), None, part)) == as_json(build_directory(part))


def test_the_capitals_filter_is_the_same_in_every_process() -> None:
    """Filters are made in helper processes and tested in the worker: `hash` would differ there."""
    import subprocess
    import sys

    from bot.people.scan import bloom

    code = "from bot.people.scan import bloom; print(bloom(['Greer', 'Quist', 'USTR']).hex())"
    root = Path(__file__).resolve().parent.parent
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True,
                              env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout.strip() for seed in (1, 2)}
    assert outputs == {bloom(["Greer", "Quist", "USTR"]).hex()}
