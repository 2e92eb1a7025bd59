"""Fresh articles without a rebuild (#14): a small change becomes a delta index, the same corpus a full load gives."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.common.urls import canonical_url
from bot.corpus import load_corpus
from bot.library import Library, fresh
from bot.library.snapshot import Snapshot
from tests.helpers import add_articles, write_article


def _same_as_a_full_load(snapshot: Snapshot, corpus_dir: Path) -> None:
    full = load_corpus(corpus_dir)
    assert snapshot.corpus.articles == full.articles
    assert snapshot.corpus.skipped == full.skipped
    assert snapshot.corpus.files == full.files and snapshot.corpus.pending == full.pending


def _ids(snapshot: Snapshot, query: str) -> list[str]:
    return [h.article_id for h in snapshot.search.search(query, limit=20).results]


async def _started(corpus_dir: Path, cache: Path) -> Library:
    library = Library(corpus_dir, cache, settle=0.0)
    task = await library.start()
    if task is not None:
        await task
    assert library.current is not None and library.current.people is not None
    return library


async def test_added_changed_and_removed_articles_are_searchable_at_once(corpus_copy: Path, tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    library = await _started(corpus_copy, tmp_path / "cache")
    main = library.current.search.index  # type: ignore[union-attr]
    victim, edited = library.current.corpus.articles[2], library.current.corpus.articles[4]  # type: ignore[union-attr]
    write_article(corpus_copy, "zanzibar", "Zanzibar clove tariffs", ["Zanzibar raised clove tariffs sharply."])
    with caplog.at_level(logging.INFO, logger="bot.library"):
        assert await library.reload_if_changed()
    snapshot = library.current
    assert snapshot is not None and snapshot.search.index is main and snapshot.search.delta is not None
    assert "delta index of 1 articles" in caplog.text
    assert _ids(snapshot, "zanzibar cloves") == ["zanzibar"]
    _same_as_a_full_load(snapshot, corpus_copy)
    # Removing one file and rewriting another: neither old version shows up any more.
    (corpus_copy / next(n for n, i in snapshot.corpus.files.items() if i == victim.id)).unlink()
    edited_file = next(n for n, i in snapshot.corpus.files.items() if i == edited.id)
    write_article(corpus_copy, edited_file.removesuffix(".md"), edited.title, ["Quokka tariffs replaced this text."],
                  url=edited.url, published=edited.published, publisher=edited.publisher)
    assert await library.reload_if_changed()
    snapshot = library.current
    assert snapshot is not None and snapshot.search.index is main  # still no rebuild
    _same_as_a_full_load(snapshot, corpus_copy)
    assert _ids(snapshot, "zanzibar cloves") == ["zanzibar"]  # the earlier delta is kept
    assert _ids(snapshot, "quokka") == [edited_file.removesuffix(".md")]
    old_words = " ".join(edited.paragraphs[0].split()[:6])
    for query in [victim.title, old_words, "tariffs china", "greer"]:
        for hit in snapshot.search.search(query, limit=50).results:
            article = snapshot.corpus.get(hit.article_id)
            assert article is not None and hit.passage in article.body  # never a removed or stale passage


async def test_a_duplicate_or_a_large_change_is_rebuilt_in_full(corpus_copy: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    library = await _started(corpus_copy, tmp_path / "cache")
    main = library.current.search.index  # type: ignore[union-attr]
    first = sorted(corpus_copy.glob("*.md"))[0]
    (corpus_copy / "0-copy.md").write_text(first.read_text(encoding="utf-8").replace("id: ", "id: copy-", 1),
                                           encoding="utf-8")  # the same text, and its name sorts first: it wins
    assert await library.reload_if_changed()
    snapshot = library.current
    assert snapshot is not None and snapshot.search.index is not main and snapshot.search.delta is None
    _same_as_a_full_load(snapshot, corpus_copy)
    assert any("duplicate" in s.reason for s in snapshot.corpus.skipped)
    monkeypatch.setattr(fresh, "MAX_CHANGED_FILES", 3)
    main = library.current.search.index  # type: ignore[union-attr]
    add_articles(corpus_copy, 5)
    (corpus_copy / "broken.md").write_text("no front matter", encoding="utf-8")
    assert await library.reload_if_changed()
    assert library.current is not None and library.current.search.index is not main
    _same_as_a_full_load(library.current, corpus_copy)


async def test_a_grown_delta_is_merged_and_saved(corpus_copy: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    library = await _started(corpus_copy, tmp_path / "cache")
    add_articles(corpus_copy, 3)
    (corpus_copy / "broken.md").write_text("no front matter", encoding="utf-8")
    assert await library.reload_if_changed()
    assert library.current is not None and library.current.search.delta is not None
    _same_as_a_full_load(library.current, corpus_copy)  # a bad new file is skipped as a full load skips it
    assert not await library.reload_if_changed()  # nothing changed, and the delta is small and young
    monkeypatch.setattr(fresh, "MERGE_ARTICLES", 2)
    assert await library.reload_if_changed()  # merged: a full rebuild, with people, saved
    snapshot = library.current
    assert snapshot is not None and snapshot.search.delta is None and snapshot.people is not None
    _same_as_a_full_load(snapshot, corpus_copy)
    assert _ids(snapshot, "soybean tariffs round") and "extra-001" in _ids(snapshot, "soybean tariffs round")
    again = await _started(corpus_copy, tmp_path / "cache")
    assert again.current is not None and again.current.signature == snapshot.signature  # from the save


async def test_a_restart_after_a_small_change_opens_the_save_and_applies_the_change(
        corpus_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    await _started(corpus_copy, tmp_path / "cache")
    write_article(corpus_copy, "zanzibar", "Zanzibar clove tariffs", ["Zanzibar raised clove tariffs sharply."])
    again = Library(corpus_copy, tmp_path / "cache", settle=0.0)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.library"):
        task = await again.start()
    assert "brought up to date" in caplog.text and "indexed for search" not in caplog.text  # no rebuild
    snapshot = again.current
    assert snapshot is not None and snapshot.search.delta is not None
    assert _ids(snapshot, "zanzibar cloves") == ["zanzibar"]
    _same_as_a_full_load(snapshot, corpus_copy)
    assert task is not None
    await task
    assert again.current is not None and again.current.people is not None  # the saved people, until a merge
    assert again.current.search.delta is not None and len(list((tmp_path / "cache").glob("index-*"))) == 1


async def test_the_watcher_sees_a_file_moved_into_place_long_before_its_full_check(corpus_copy: Path,
                                                                                    tmp_path: Path) -> None:
    import asyncio
    import time

    library = await _started(corpus_copy, tmp_path / "cache")
    watcher = asyncio.create_task(library.watch(60.0))  # a full check only every minute
    try:
        staging = tmp_path / "staging"
        staging.mkdir()
        write_article(staging, "zanzibar", "Zanzibar clove tariffs", ["Zanzibar raised clove tariffs sharply."])
        started = time.monotonic()
        (staging / "zanzibar.md").rename(corpus_copy / "zanzibar.md")  # as the feeds write
        while time.monotonic() - started < 10 and _ids(library.current, "zanzibar") != ["zanzibar"]:  # type: ignore[arg-type]
            await asyncio.sleep(0.05)
        assert _ids(library.current, "zanzibar") == ["zanzibar"]  # type: ignore[arg-type]
        assert time.monotonic() - started < 5
    finally:
        watcher.cancel()


async def test_removing_the_file_that_hid_a_duplicate_is_rebuilt_in_full(corpus_copy: Path, tmp_path: Path) -> None:
    first = sorted(corpus_copy.glob("*.md"))[0]
    (corpus_copy / "zz-copy.md").write_text(first.read_text(encoding="utf-8").replace("id: ", "id: copy-", 1),
                                            encoding="utf-8")  # skipped: the same text as `first`
    library = await _started(corpus_copy, tmp_path / "cache")
    assert any(s.path == "zz-copy.md" for s in library.current.corpus.skipped)  # type: ignore[union-attr]
    first.unlink()  # now the copy is no duplicate: a full load admits it
    assert await library.reload_if_changed()
    assert library.current is not None and library.current.search.delta is None
    _same_as_a_full_load(library.current, corpus_copy)
    assert library.current.corpus.from_file("zz-copy.md") is not None


async def test_a_delta_while_the_people_directory_builds_gets_it_when_done(corpus_copy: Path, tmp_path: Path) -> None:
    library = Library(corpus_copy, tmp_path / "cache", settle=0.0)
    task = await library.start()  # built from scratch: people follow in `task`
    assert task is not None and library.current is not None and library.current.people is None
    write_article(corpus_copy, "zanzibar", "Zanzibar clove tariffs", ["Zanzibar raised clove tariffs sharply."])
    assert await library.reload_if_changed()
    assert library.current.search.delta is not None and _ids(library.current, "zanzibar") == ["zanzibar"]
    await task
    assert library.current.people is not None and library.current.search.delta is not None
    assert [p.name for p in (tmp_path / "cache").glob("index-*/people.pickle")]  # the main state was saved
    postings = library.current.search.index.post_passage  # and is served from the save, memory-mapped
    assert not postings.flags.writeable and _ids(library.current, "zanzibar") == ["zanzibar"]
    _same_as_a_full_load(library.current, corpus_copy)


async def test_the_people_directory_follows_a_delta_without_a_rebuild(corpus_copy: Path, tmp_path: Path) -> None:
    library = await _started(corpus_copy, tmp_path / "cache")
    try:
        main = library.current.search.index  # type: ignore[union-attr]
        write_article(corpus_copy, "quillfeather", "New trade envoy named",
                      ["Trade Representative Zora Quillfeather said on Monday that talks with Beijing would resume.",
                       "Quillfeather said the tariffs on rare earth magnets would stay for now."])
        assert await library.reload_if_changed()
        for _ in range(200):  # the update runs in the people worker, in the background
            snapshot = library.current
            assert snapshot is not None and snapshot.search.index is main  # a delta, not a rebuild
            if snapshot.people is not None and snapshot.people.lookup("quillfeather"):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the new person never reached the people directory")
        [match, *_] = snapshot.people.lookup("quillfeather")
        assert match.person.name == "Zora Quillfeather"
        assert _ids(snapshot, "quillfeather") == ["quillfeather"]
    finally:
        library.close()


def test_full_checks_of_a_large_corpus_are_spaced_by_what_they_cost(corpus_copy: Path) -> None:
    """A stat of every file every 5 s cost a 100k-article bot ~10% of its interpreter (py-spy): the
    full check (for files rewritten in place) waits at least SCAN_SHARE times as long as it took."""
    from bot.library.watcher import SCAN_SHARE

    library = Library(corpus_copy)
    assert library.changed() and library._full_check_every(5.0) == 5.0  # a few files: as configured
    library._scan_seconds = 0.4  # as at 100k files
    assert library._full_check_every(5.0) == 0.4 * SCAN_SHARE == 20.0
    library._scan_seconds = 0.0001
    assert library._full_check_every(5.0) == 5.0


async def test_the_watcher_checks_once_running_answers_are_done(corpus_copy: Path, tmp_path: Path) -> None:
    """A check reads every file's state (0.3-1 s of the interpreter at 100k): it waits while answers
    run, for a bounded time, so a change is still picked up while the bot answers all the time."""
    import asyncio
    import time

    from bot.library.watcher import ANSWERS_FIRST_S


    answering = [True]
    library = Library(corpus_copy, cache_dir=tmp_path / "cache", settle=0.0, busy=lambda: answering[0])
    task = await library.start()
    if task is not None:
        await task
    write_article(corpus_copy, "zanzibar", "Zanzibar clove tariffs", ["Zanzibar raised clove tariffs sharply."])
    watcher = asyncio.create_task(library.watch(0.1))
    try:
        await asyncio.sleep(ANSWERS_FIRST_S / 2)
        assert _ids(library.current, "zanzibar") == []  # type: ignore[arg-type]  # answers first
        started = time.monotonic()
        while time.monotonic() - started < 10 and _ids(library.current, "zanzibar") != ["zanzibar"]:  # type: ignore[arg-type]
            await asyncio.sleep(0.05)
        assert _ids(library.current, "zanzibar") == ["zanzibar"]  # type: ignore[arg-type]  # still busy: then anyway
        answering[0] = False
        write_article(corpus_copy, "pemba", "Pemba clove tariffs", ["Pemba raised clove tariffs sharply."])
        started = time.monotonic()
        while time.monotonic() - started < 10 and _ids(library.current, "pemba") != ["pemba"]:  # type: ignore[arg-type]
            await asyncio.sleep(0.05)
        assert time.monotonic() - started < 5
    finally:
        watcher.cancel()
        library.close()


async def test_the_main_index_urls_a_delta_needs_are_worked_out_after_a_start_between_answers(
        corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await _started(corpus_copy, tmp_path / "cache")  # a build from scratch: worked out for its saved index
    pauses: list[int] = []
    monkeypatch.setattr(fresh, "URL_SLICE", 3)
    again = Library(corpus_copy, tmp_path / "cache", settle=0.0, busy=lambda: bool(pauses.append(1)))
    task = await again.start()  # from the save
    assert task is not None and again.current is not None
    main = again.current.search.index
    assert again._delta.urls_main is not main
    await task
    assert again._delta.urls_main is main and again._delta.main is None  # (no delta yet: its clock not started)
    assert again._delta.urls == {canonical_url(a.url): a.id for a in main.articles if a.url}
    assert len(pauses) >= len(main.articles) // 3  # it looked at the answers between slices
    write_article(corpus_copy, "zanzibar", "Zanzibar clove tariffs", ["Zanzibar raised clove tariffs sharply."])
    assert await again.reload_if_changed() and _ids(again.current, "zanzibar cloves") == ["zanzibar"]
    assert again._delta.main is main
