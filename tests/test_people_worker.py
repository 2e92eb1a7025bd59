"""The people directory built in its worker process: the same directory as one built here, a
reload reads only what changed, the previous directory answers meanwhile, and closing ends the
process (#14: the people directory never slows answers and follows incrementally)."""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.corpus import load_corpus
from bot.library import Library, workers
from bot.library import people as people_worker
from bot.people import build_directory
from tests.helpers import write_article


def as_json(directory: object) -> list[dict[str, object]]:
    return [p.to_json() for p in directory.people]  # type: ignore[attr-defined]


def new_article(corpus: Path, n: int) -> None:
    write_article(corpus, f"fresh-{n}", f"Quist speaks, round {n}",
                  [(f"Freedonia's trade minister, Wilma Quist, said on day {n} that US Trade Representative "
                    "Jamieson Greer would visit."), "Quist told reporters the talks were going well."],
                  published=dt.date(2026, 1, n))


async def complete(library: Library) -> None:
    task = await library.start()
    if task is not None:
        await task


@pytest.fixture
def in_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(people_worker, "MIN_ARTICLES_FOR_WORKER", 1)  # the seed corpus is small


async def test_the_worker_builds_the_directory_this_process_would(corpus_copy: Path, in_worker: None) -> None:
    before = set(multiprocessing.active_children())
    library = Library(corpus_copy, settle=0.0)
    try:
        await complete(library)
        assert library.current is not None and library.current.people is not None
        assert set(multiprocessing.active_children()) - before, "built in a worker process"
        assert as_json(library.current.people) == as_json(build_directory(load_corpus(corpus_copy),
                                                                          corpus_copy / "people.yml"))
    finally:
        library.close()
    deadline = time.monotonic() + 30
    while set(multiprocessing.active_children()) - before and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert set(multiprocessing.active_children()) - before == set(), "close ends the worker"


async def test_a_reload_reads_only_what_changed(corpus_copy: Path, in_worker: None) -> None:
    library = Library(corpus_copy, settle=0.0)
    try:
        await complete(library)
        total = len(library.current.corpus.articles)  # type: ignore[union-attr]
        assert library._people.read == 2 * total  # a first build reads every article twice
        new_article(corpus_copy, 1)
        assert await library.reload_if_changed()  # a delta: the people update follows in the background
        await library.people_settled()
        assert 2 <= library._people.read < total  # the new article (both passes), and any its new names may touch
        people = library.current.people  # type: ignore[union-attr]
        assert people is not None and people.get("Wilma Quist") is not None
        assert as_json(people) == as_json(build_directory(load_corpus(corpus_copy), corpus_copy / "people.yml"))
        assert await library.reload_if_changed() is False
    finally:
        library.close()


async def test_after_a_restart_the_first_change_reads_only_what_changed(corpus_copy: Path, tmp_path: Path,
                                                                        in_worker: None) -> None:
    """What the worker kept per article is saved beside the index and taken up by the next process's
    worker: the first change after a restart does not read every article again."""
    from bot.library.saved import worker_file

    cache = tmp_path / "cache"
    first = Library(corpus_copy, cache_dir=cache, settle=0.0)
    try:
        await complete(first)
        kept = worker_file(cache, first.current.signature)  # type: ignore[union-attr]
        deadline = time.monotonic() + 60
        while (kept is None or not kept.exists()) and time.monotonic() < deadline:  # written in the background
            await asyncio.sleep(0.05)
        assert kept is not None and kept.exists()
    finally:
        first.close()
    library = Library(corpus_copy, cache_dir=cache, settle=0.0)
    try:
        await complete(library)  # from the saved index
        total = len(library.current.corpus.articles)  # type: ignore[union-attr]
        assert library._people.read == 0  # nothing read: the directory came from the save
        new_article(corpus_copy, 4)
        assert await library.reload_if_changed()
        await library.people_settled()
        assert 2 <= library._people.read < total
        people = library.current.people  # type: ignore[union-attr]
        assert people is not None and people.get("Wilma Quist") is not None
        assert as_json(people) == as_json(build_directory(load_corpus(corpus_copy), corpus_copy / "people.yml"))
    finally:
        library.close()


async def test_a_damaged_kept_file_means_reading_afresh(corpus_copy: Path, tmp_path: Path, in_worker: None) -> None:
    from bot.library.saved import worker_file

    cache = tmp_path / "cache"
    first = Library(corpus_copy, cache_dir=cache, settle=0.0)
    try:
        await complete(first)
        kept = worker_file(cache, first.current.signature)  # type: ignore[union-attr]
        deadline = time.monotonic() + 60
        while (kept is None or not kept.exists()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        first.close()
    assert kept is not None
    kept.write_bytes(kept.read_bytes()[: kept.stat().st_size // 2])
    library = Library(corpus_copy, cache_dir=cache, settle=0.0)
    try:
        await complete(library)
        total = len(library.current.corpus.articles)  # type: ignore[union-attr]
        new_article(corpus_copy, 5)
        assert await library.reload_if_changed()
        await library.people_settled()
        assert library._people.read >= total  # every article read again, and the right directory
        assert as_json(library.current.people) == as_json(build_directory(load_corpus(corpus_copy),
                                                                          corpus_copy / "people.yml"))
    finally:
        library.close()


async def test_during_a_reload_the_previous_directory_answers(corpus_copy: Path) -> None:
    library = Library(corpus_copy, settle=0.0)
    await complete(library)
    previous = library.current.people  # type: ignore[union-attr]
    new_article(corpus_copy, 2)
    assert await library.reload_if_changed()
    current = library.current
    assert current is not None and current.corpus.get("fresh-2") is not None
    assert current.people is previous  # searchable with the new article, `who` still answering
    await library.people_settled()
    assert library.current.people is not previous and library.current.people.get("Wilma Quist")  # type: ignore[union-attr]


def test_helpers_read_what_an_update_then_needs(corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first build read by helper processes, then an article that makes a name of one an older
    article mentioned in passing: that older article is read again (its filter, made in a helper,
    says it may hold the name), so her mention there counts."""
    from bot.corpus import corpus_signature
    from bot.library.people import PeopleWorker

    monkeypatch.setattr(people_worker, "MIN_ARTICLES_FOR_WORKER", 1)
    monkeypatch.setattr(people_worker, "MIN_ARTICLES_FOR_HELPERS", 1)
    write_article(corpus_copy, "older", "Talks go on", ["Delegates met Wilma Quist in Geneva on Monday."],
                  published=dt.date(2025, 12, 1))
    worker = PeopleWorker(helpers=2)
    try:
        overrides = corpus_copy / "people.yml"
        first = worker.build(load_corpus(corpus_copy), corpus_signature(corpus_copy), overrides)
        assert first.get("Wilma Quist") is None  # named in passing only
        new_article(corpus_copy, 3)
        corpus = load_corpus(corpus_copy)
        updated = worker.build(corpus, corpus_signature(corpus_copy), overrides)
        quist = updated.get("Wilma Quist")
        assert quist is not None and "older" in {a.article_id for a in quist.articles}
        assert as_json(updated) == as_json(build_directory(corpus, overrides))
    finally:
        worker.close()


async def test_an_idle_worker_keeps_its_results_and_ends(corpus_copy: Path, tmp_path: Path, in_worker: None) -> None:
    """The worker holds what every article said (~600 MB at 100k): once it has had nothing to do for a
    while it writes that beside the saved index and ends, and the next change's worker takes it up,
    so that change still reads only what changed (#14: memory, and the directory follows incrementally)."""
    before = set(multiprocessing.active_children())
    library = Library(corpus_copy, cache_dir=tmp_path / "cache", settle=0.0)
    library._people.idle_seconds = 0.3
    try:
        await complete(library)
        total = len(library.current.corpus.articles)  # type: ignore[union-attr]
        deadline = time.monotonic() + 60
        while set(multiprocessing.active_children()) - before and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert set(multiprocessing.active_children()) - before == set(), "the idle worker ended"
        new_article(corpus_copy, 6)
        assert await library.reload_if_changed()
        await library.people_settled()
        assert 2 <= library._people.read < total  # a new worker, with what the last one kept
        people = library.current.people  # type: ignore[union-attr]
        assert people is not None and people.get("Wilma Quist") is not None
        assert as_json(people) == as_json(build_directory(load_corpus(corpus_copy), corpus_copy / "people.yml"))
        deadline = time.monotonic() + 60  # and again: what the update read is written before it ends
        while set(multiprocessing.active_children()) - before and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert set(multiprocessing.active_children()) - before == set()
        new_article(corpus_copy, 7)
        assert await library.reload_if_changed()
        await library.people_settled()
        assert 1 <= library._people.read < total  # (her name is known by now)
        assert as_json(library.current.people) == as_json(build_directory(load_corpus(corpus_copy),
                                                                          corpus_copy / "people.yml"))
    finally:
        library.close()


def test_a_worker_with_nowhere_to_keep_its_results_stays(corpus_copy: Path, in_worker: None) -> None:
    """Without a saved index there is no file to take up: ending would cost the next change every article."""
    from bot.corpus import corpus_signature
    from bot.library.people import PeopleWorker

    worker = PeopleWorker(idle_seconds=0.05)
    try:
        worker.build(load_corpus(corpus_copy), corpus_signature(corpus_copy), corpus_copy / "people.yml")
        time.sleep(0.5)
        assert worker._pool is not None
    finally:
        worker.close()


def test_helpers_read_the_files_and_the_bot_sends_what_changed(corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Helpers read articles from their files (the bot would otherwise pickle every article); a file
    rewritten since the corpus was loaded is not that version: the bot sends the article it loaded."""
    from bot.corpus import corpus_signature

    monkeypatch.setattr(people_worker, "MIN_ARTICLES_FOR_WORKER", 1)
    monkeypatch.setattr(people_worker, "MIN_ARTICLES_FOR_HELPERS", 1)
    write_article(corpus_copy, "quist-profile", "Quist speaks", [
        "Freedonia's trade minister, Wilma Quist, said the talks were going well."], published=dt.date(2026, 1, 2))
    corpus, signature = load_corpus(corpus_copy), corpus_signature(corpus_copy)
    write_article(corpus_copy, "quist-profile", "Quist speaks", [  # rewritten after the load: another version
        "Freedonia's finance minister, Otto Brenn, said the talks were going well."], published=dt.date(2026, 1, 2))
    asked = recorded_reads(monkeypatch)
    built = built_by_helpers(corpus, signature, corpus_copy)
    assert built.get("Wilma Quist") is not None and built.get("Otto Brenn") is None  # the loaded version
    sent = [item for _, run in asked for item in run if not isinstance(item, str)]
    assert [a.id for a in sent] == ["quist-profile"] * 2  # (both rounds): the only article pickled here


async def test_a_bot_asked_all_the_time_still_saves_its_search_index_and_gets_its_people(
        corpus_copy: Path, tmp_path: Path, in_worker: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a large build the search save waits for answers (the first questions come as search is
    ready), but within SAVE_PATIENCE_S in all: the people directory, put in after the save, is not
    held back by questions that never stop (a replica asked `who` every 0.2 s waited for minutes)."""
    from bot.library import following
    from bot.library.saved import PEOPLE_ENTRY, index_dir

    monkeypatch.setattr(following, "QUIET_SAVE_ARTICLES", 1)  # the seed corpus counts as large
    monkeypatch.setattr(following, "SAVE_GRACE_S", 0.2)
    monkeypatch.setattr(following, "SAVE_PATIENCE_S", 1.0)
    library = Library(corpus_copy, cache_dir=tmp_path / "cache", settle=0.0, busy=lambda: True)
    try:
        started = time.monotonic()
        task = await library.start()
        assert task is not None
        await asyncio.wait_for(task, 20)  # (the people build's own waits for answers: 2 s each)
        current = library.current
        assert current is not None and current.people is not None and time.monotonic() - started > 0.2
        assert isinstance(current.corpus.articles[0].body_utf8, memoryview)  # answering from the save
        assert (index_dir(tmp_path / "cache", current.signature) / PEOPLE_ENTRY).exists()
    finally:
        library.close()


def test_a_first_builds_helpers_end_before_the_worker_assembles_the_directory(
        corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Helpers keep what they read in the first round for the second; once that is done they end,
    before the worker assembles the directory (when it grows most), not after it."""
    from bot.corpus import corpus_signature

    monkeypatch.setattr(people_worker, "MIN_ARTICLES_FOR_WORKER", 1)
    monkeypatch.setattr(people_worker, "MIN_ARTICLES_FOR_HELPERS", 1)
    monkeypatch.setattr(people_worker, "PEOPLE_CHUNK", 2)  # runs for both helpers
    events: list[tuple[str, int]] = []
    recorded_submits(monkeypatch, lambda fn, pool, args: events.append((fn.__name__, id(pool))))
    stop = people_worker.stop_pool

    def stopped(pool: ProcessPoolExecutor) -> None:
        events.append(("stopped", id(pool)))
        stop(pool)

    monkeypatch.setattr(people_worker, "stop_pool", stopped)
    built_by_helpers(load_corpus(corpus_copy), corpus_signature(corpus_copy), corpus_copy)
    names = [name for name, _ in events]
    helpers = {pool for name, pool in events if name == "people_read"}
    assert len(helpers) == 2 and names.count("people_assemble") == 3  # two rounds of reading, then the directory
    last_read = max(i for i, (name, _) in enumerate(events) if name == "people_read")
    ends = [i for i, (name, pool) in enumerate(events) if name == "stopped" and pool in helpers]
    last_assemble = max(i for i, (name, _) in enumerate(events) if name == "people_assemble")
    assert len(ends) == 2 and all(last_read < i < last_assemble for i in ends)


def recorded_submits(monkeypatch: pytest.MonkeyPatch, record: Any) -> None:
    """Every task handed to a people process made from now on is told to `record(fn, pool, args)` first."""
    spawned = people_worker._spawned

    def recording(workers: int) -> ProcessPoolExecutor:
        pool = spawned(workers)
        submit = pool.submit

        def recorded(fn: Any, *args: Any, **kwargs: Any) -> Any:
            record(fn, pool, args)
            return submit(fn, *args, **kwargs)
        pool.submit = recorded  # type: ignore[method-assign]
        return pool

    monkeypatch.setattr(people_worker, "_spawned", recording)


def recorded_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, list[object]]]:
    """Each run handed to a people helper, with when (the helpers run in other processes)."""
    asked: list[tuple[float, list[object]]] = []

    def record(fn: Any, pool: ProcessPoolExecutor, args: tuple[Any, ...]) -> None:
        if fn is people_worker.people_read:
            asked.append((time.monotonic(), [item for item, _ in args[0]]))

    recorded_submits(monkeypatch, record)
    return asked


def built_by_helpers(corpus: Any, signature: Any, corpus_copy: Path) -> Any:
    """A first build shared by two helpers that read the files themselves: the directory built here."""
    from bot.library.people import PeopleWorker

    worker = PeopleWorker(helpers=2)
    try:
        built = worker.build(corpus, signature, corpus_copy / "people.yml", files=corpus_copy)
    finally:
        worker.close()
    assert as_json(built) == as_json(build_directory(corpus, corpus_copy / "people.yml"))
    return built


def test_a_first_build_reads_on_once_answers_are_done(corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While answers run, a first build hands its helpers no more articles (answers first), and a bot
    that answers all the time still gets its directory: each wait is bounded."""
    from bot.corpus import corpus_signature
    from bot.library.people import PeopleWorker

    monkeypatch.setattr(people_worker, "MIN_ARTICLES_FOR_WORKER", 1)
    monkeypatch.setattr(people_worker, "MIN_ARTICLES_FOR_HELPERS", 1)
    monkeypatch.setattr(people_worker, "PEOPLE_CHUNK", 2)  # several runs from the seed corpus
    asked = recorded_reads(monkeypatch)
    corpus, signature = load_corpus(corpus_copy), corpus_signature(corpus_copy)
    answering_until = time.monotonic() + 0.8
    worker = PeopleWorker(helpers=2, busy=lambda: time.monotonic() < answering_until)
    try:
        built = worker.build(corpus, signature, corpus_copy / "people.yml", files=corpus_copy)
    finally:
        worker.close()
    assert as_json(built) == as_json(build_directory(corpus, corpus_copy / "people.yml"))
    assert asked and min(at for at, _ in asked) >= answering_until

    monkeypatch.setattr(workers, "ANSWERS_FIRST_S", 0.05)
    asked.clear()
    worker = PeopleWorker(helpers=2, busy=lambda: True)
    try:
        started = time.monotonic()
        always_busy = worker.build(corpus, signature, corpus_copy / "people.yml", files=corpus_copy)
    finally:
        worker.close()
    assert as_json(always_busy) == as_json(built)
    gaps = [b - a for (a, _), (b, _) in zip(asked, asked[1:], strict=False)]
    assert asked[0][0] - started >= 0.05 and gaps and max(gaps) < 30


async def test_a_build_from_scratch_answers_from_its_saved_search_index_while_the_people_are_built(
        corpus_copy: Path, tmp_path: Path, in_worker: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The search index is saved as soon as it is built and answers from its memory-mapped copy
    while the people directory is still being built (at 100k articles the built copy, the index
    and every article body, is ~900 MB, and the people take most of a minute more); the people
    build then reads articles from the saved copy, and its directory is added to the save."""
    from bot.library.saved import PEOPLE_ENTRY, index_dir

    release, looked_in = threading.Event(), list[object]()
    build = people_worker.PeopleWorker._build

    def held(self: people_worker.PeopleWorker, texts: Any, *args: Any, **kwargs: Any) -> Any:
        assert release.wait(30)
        looked_in.append(texts.corpus)
        return build(self, texts, *args, **kwargs)

    monkeypatch.setattr(people_worker.PeopleWorker, "_build", held)
    library = Library(corpus_copy, cache_dir=tmp_path / "cache", settle=0.0)
    try:
        task = await library.start()
        assert task is not None
        deadline = time.monotonic() + 30
        while not isinstance(library.current.corpus.articles[0].body_utf8, memoryview):  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "still answering from the built copy"
            await asyncio.sleep(0.05)
        shown = library.current
        assert shown is not None and shown.people is None
        saved = index_dir(tmp_path / "cache", shown.signature)
        assert not (saved / PEOPLE_ENTRY).exists()
        assert shown.search.search("tariffs").results  # answering, from the mapped copy
        release.set()
        await task
        assert looked_in == [shown.corpus]  # the people build's articles: the saved copy's
        assert library.current is not None and library.current.search is shown.search
        assert (saved / PEOPLE_ENTRY).exists()
        assert as_json(library.current.people) == as_json(build_directory(load_corpus(corpus_copy),
                                                                          corpus_copy / "people.yml"))
    finally:
        release.set()
        library.close()


def test_a_helper_keeps_what_it_read_for_the_second_round_only(corpus_copy: Path) -> None:
    """A first build asks each helper for the same articles in both rounds: the second time from what
    it kept (no file read), once; another version of the file is read afresh."""
    from bot.corpus import corpus_signature
    from bot.library import people_tasks

    write_article(corpus_copy, "kept", "Kept", ["Freedonia's trade minister, Wilma Quist, spoke."])
    stamp = next((n, size, mtime) for n, size, mtime in corpus_signature(corpus_copy) if n == "kept.md")
    first = people_tasks._from_file(str(corpus_copy), "kept", stamp)
    (corpus_copy / "kept.md").unlink()
    try:
        assert first is not None and people_tasks._from_file(str(corpus_copy), "kept", stamp) is first
        assert people_tasks._from_file(str(corpus_copy), "kept", stamp) is None  # given once: gone, file gone
        write_article(corpus_copy, "kept", "Kept", ["Freedonia's trade minister, Wilma Quist, spoke at length."])
        assert people_tasks._from_file(str(corpus_copy), "kept", stamp) is None  # not that version
        newer = next((n, s, m) for n, s, m in corpus_signature(corpus_copy) if n == "kept.md")
        again = people_tasks._from_file(str(corpus_copy), "kept", newer)
        assert again is not None and again.paragraphs != first.paragraphs
    finally:
        people_tasks._FROM_FILES.clear()


async def test_the_people_build_starts_while_the_search_index_is_assembled_and_lets_go_after(
        corpus_copy: Path, in_worker: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The people build (its stamps, its worker) begins once the corpus is loaded, while its index
    is assembled, not once search is ready; what it started from is not kept after it (it holds
    the built corpus, replaced since)."""
    people_started = threading.Event()
    index_waited: list[bool] = []
    build, index = people_worker.PeopleWorker.build, workers.build_index

    def recorded_build(self: people_worker.PeopleWorker, *args: Any, **kwargs: Any) -> Any:
        people_started.set()
        return build(self, *args, **kwargs)

    def slow_index(*args: Any, **kwargs: Any) -> Any:
        index_waited.append(people_started.wait(10))
        return index(*args, **kwargs)

    monkeypatch.setattr(people_worker.PeopleWorker, "build", recorded_build)
    monkeypatch.setattr(workers, "build_index", slow_index)
    library = Library(corpus_copy, settle=0.0)
    try:
        task = await library.start()
        assert index_waited == [True]  # the people build had begun before the index was made
        assert task is not None
        await task
        assert library._people._texts is None and library._early is None  # nothing holds the built corpus
        assert as_json(library.current.people) == as_json(build_directory(load_corpus(corpus_copy),  # type: ignore[union-attr]
                                                                          corpus_copy / "people.yml"))
    finally:
        library.close()
