"""Snapshot loading: staged build, the saved index, and what users see meanwhile."""

from __future__ import annotations

from pathlib import Path

from bot.answers.answerer import PEOPLE_PENDING, Answerer
from bot.answers.commands import Who
from bot.corpus import corpus_signature
from bot.library import Library, build_snapshot, load_saved, save_snapshot
from tests.helpers import write_article
from tests.state_helpers import answer_store


async def test_start_builds_search_first_then_people_and_saves(corpus_copy: Path, tmp_path: Path) -> None:
    library = Library(corpus_copy, tmp_path / "cache")
    task = await library.start()
    # Search is ready before the people directory: its task cannot have run yet, as this
    # coroutine has not given the event loop a chance since `start` returned.
    assert task is not None and library.current is not None and library.current.people is None
    assert library.current.search.search("tariffs").results
    message = Answerer(library, answer_store(tmp_path / "state")).answer(Who("greer"), user="U1", channel="C1")
    assert PEOPLE_PENDING in message.text
    await task
    assert library.current.people is not None and library.current.people.get("Jamieson Greer")
    [saved] = (tmp_path / "cache").glob("index-*")
    assert (saved / "people.pickle").exists()
    again = Library(corpus_copy, tmp_path / "cache")
    task = await again.start()  # search is ready from the saved index; its people directory follows
    assert again.current is not None and again.current.search.search("tariffs").results
    assert task is not None
    await task
    assert again.current.people is not None and again.current.people.get("Jamieson Greer")
    assert [saved] == list((tmp_path / "cache").glob("index-*"))  # verified in full, kept


def test_saved_index_is_ignored_when_the_corpus_changed_or_the_file_is_bad(corpus_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    snapshot = build_snapshot(corpus_copy)
    save_snapshot(cache, snapshot)
    assert load_saved(cache, snapshot.signature) is not None
    write_article(corpus_copy, "new", "New article", ["Fresh text."])
    assert load_saved(cache, corpus_signature(corpus_copy)) is None
    [saved] = cache.glob("index-*")
    (saved / "manifest.json").write_bytes(b"not a manifest")
    assert load_saved(cache, snapshot.signature) is None


async def test_missing_corpus_then_created_is_picked_up(tmp_path: Path) -> None:
    library = Library(tmp_path / "corpus")
    assert await library.start() is None and library.current is None and "not found" in library.error
    (tmp_path / "corpus").mkdir()
    write_article(tmp_path / "corpus", "a", "Tariff news", ["Tariffs rose."])
    assert await library.reload_if_changed()
    assert library.current is not None and library.current.search.search("tariffs").results


def test_while_loading_users_are_told_to_wait(corpus_copy: Path, tmp_path: Path) -> None:
    library = Library(corpus_copy)
    answerer = Answerer(library, answer_store(tmp_path / "state"))
    assert library.loading and library.current is None
    message = answerer.answer_text("tariffs", user="U1", channel="C1")
    assert "still reading the articles" in message.text
    library.load()
    assert not library.loading
    assert "tariffs" in answerer.answer_text("tariffs", user="U1", channel="C1").text.lower()


def test_a_snapshot_holds_no_reference_cycles(seed_corpus_dir: Path) -> None:
    """Frozen snapshots (bot.library.memory) are only freed if reference counting alone can free them."""
    import gc

    snapshot = build_snapshot(seed_corpus_dir)
    snapshot.search.search("tariffs china")
    snapshot.people.lookup("greer")  # type: ignore[union-attr]
    gc.collect()
    del snapshot
    assert gc.collect() == 0
