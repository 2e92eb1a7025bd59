"""The saved index opened by memory mapping (#14): the same answers, and never trusted when damaged."""

from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.library import Library, build_snapshot, load_saved, mapped, save_snapshot
from bot.library.saved import SIGNATURE, index_dir, load_latest, saved_people, verify_saved
from bot.library.snapshot import Snapshot

QUERIES = ["tariffs china", "rare erths", "tarrifs", '"trade deal" -china', "greer since:2025-01-01", "semiconductors"]


def _answers(snapshot: Snapshot) -> list[object]:
    out: list[object] = []
    for query in QUERIES:
        response = snapshot.search.search(query, limit=10)
        out.append((response.total, response.corrected, response.suggestions,
                    [(h.article_id, h.score, h.snippet, h.highlights) for h in response.results]))
    return out


@pytest.fixture
def saved(corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Snapshot, Path]:
    monkeypatch.setattr(mapped, "EDGE", 64)  # (the seed corpus is small: its arrays would be all edges)
    snapshot = build_snapshot(corpus_copy)
    cache = tmp_path / "cache"
    save_snapshot(cache, snapshot)
    return snapshot, cache


def test_the_saved_index_answers_as_the_built_one_from_mapped_read_only_arrays(saved: tuple[Snapshot, Path]) -> None:
    built, cache = saved
    loaded = load_saved(cache, built.signature)
    assert loaded is not None and loaded.people is not None
    assert loaded.corpus.articles == built.corpus.articles
    assert loaded.corpus.files == built.corpus.files and loaded.corpus.get(built.corpus.articles[3].id)
    assert _answers(loaded) == _answers(built)
    assert [p.name for p in loaded.people.people] == [p.name for p in built.people.people]  # type: ignore[union-attr]
    postings = loaded.search.index.post_passage
    assert isinstance(postings.base, np.memmap) or isinstance(getattr(postings.base, "base", None), np.memmap)
    assert not postings.flags.writeable  # shared by every process that maps it: nobody may write


def test_a_save_pauses_between_its_files(corpus_copy: Path, tmp_path: Path) -> None:
    """The bot saves right after search is said ready, as the first questions come: it waits while
    answers run before each file (`pause`), rather than writing ~900 MB at 100k articles at once."""
    snapshot, paused = build_snapshot(corpus_copy, with_people=False), list[int]()
    save_snapshot(tmp_path / "cache", snapshot, pause=lambda: paused.append(1))
    files = {p.name for p in index_dir(tmp_path / "cache", snapshot.signature).glob("*.npy")}
    assert "bodies.npy" in files and len(paused) > len(files)  # (and between the articles' columns)
    loaded = load_saved(tmp_path / "cache", snapshot.signature)
    assert loaded is not None and _answers(loaded) == _answers(snapshot)


def test_search_is_ready_without_the_people_who_are_read_only_when_asked_for(saved: tuple[Snapshot, Path]) -> None:
    built, cache = saved
    search_only = load_saved(cache, built.signature, with_people=False)
    assert search_only is not None and search_only.people is None
    people = saved_people(cache, built.signature)
    assert people is not None and people.get("Jamieson Greer")
    # The people's bytes are the mapped file (page cache, shared), not a copy in this process:
    assert isinstance(people.people._blob.obj, mmap.mmap)  # type: ignore[attr-defined]


def test_people_whose_file_changed_after_its_entry_are_not_read(saved: tuple[Snapshot, Path]) -> None:
    built, cache = saved
    path = index_dir(cache, built.signature) / "people.pickle"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte in a person's pickle, where opening would not look
    path.write_bytes(bytes(data))
    assert saved_people(cache, built.signature) is None


@pytest.mark.parametrize("damage", ["truncate-array", "missing-array", "foreign-manifest", "other-version",
                                    "other-state", "corpus-json", "swapped-array"])
def test_a_damaged_or_foreign_save_is_ignored_not_fatal(saved: tuple[Snapshot, Path], damage: str) -> None:
    built, cache = saved
    directory = index_dir(cache, built.signature)
    manifest = json.loads((directory / "manifest.json").read_text())
    if damage == "truncate-array":
        path = directory / "search.post_passage.npy"
        path.write_bytes(path.read_bytes()[:-7])
    elif damage == "missing-array":
        (directory / "search.tokens.npy").unlink()
    elif damage == "foreign-manifest":
        (directory / "manifest.json").write_text(json.dumps({"format": "something else", "version": 8}))
    elif damage == "other-version":
        (directory / "manifest.json").write_text(json.dumps({**manifest, "version": manifest["version"] - 1}))
    elif damage == "other-state":
        (directory / "manifest.json").write_text(json.dumps({**manifest, "state": "0" * 20}))
    elif damage == "corpus-json":
        path = directory / "corpus.json"
        data = path.read_bytes()
        middle = data.index(b"a", len(data) // 2)
        path.write_bytes(data[:middle] + b"e" + data[middle + 1:])  # still valid JSON, another article text
    else:  # same size, other contents: two arrays of one dtype swapped
        a, b = directory / "search.passage_start.npy", directory / "search.passage_end.npy"
        data_a, data_b = a.read_bytes(), b.read_bytes()
        a.write_bytes(data_b)
        b.write_bytes(data_a)
    assert load_saved(cache, built.signature) is None


@pytest.mark.parametrize("damage", ["missing", "edited", "not-json", "not-columns", "short-column", "not-text",
                                    "not-numbers", "huge"])
def test_the_latest_save_is_not_taken_up_for_a_changed_corpus_when_its_signature_file_is_damaged(
        saved: tuple[Snapshot, Path], damage: str) -> None:
    built, cache = saved
    path = index_dir(cache, built.signature) / SIGNATURE
    latest = load_latest(cache)
    assert latest is not None and latest.signature == built.signature
    columns = json.loads(path.read_text())
    if damage == "missing":
        path.unlink()
    elif damage == "not-json":
        path.write_text("{[")
    elif damage == "not-columns":
        path.write_text(json.dumps([["a.md", 1, 2]]))
    else:
        if damage == "edited":  # a file's size changed: no longer the state the directory is named after
            columns["sizes"][0] += 1
        elif damage == "short-column":
            columns["mtimes"].pop()
        elif damage == "not-text":
            columns["names"] = 7
        else:
            columns["mtimes"][0] = "1" if damage == "not-numbers" else 10**30
        path.write_text(json.dumps(columns))
    assert load_latest(cache) is None


def test_people_saved_with_a_bad_pickle_are_ignored(saved: tuple[Snapshot, Path]) -> None:
    built, cache = saved
    path = index_dir(cache, built.signature) / "people.pickle"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert saved_people(cache, built.signature) is None
    loaded = load_saved(cache, built.signature)
    assert loaded is not None and loaded.people is None  # search still from the save; people are rebuilt


async def test_damage_inside_an_array_is_found_after_start_and_the_index_rebuilt(
        saved: tuple[Snapshot, Path], corpus_copy: Path) -> None:
    built, cache = saved
    directory = index_dir(cache, built.signature)
    path = directory / "search.tokens.npy"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # the middle of a large array: opening does not read it
    path.write_bytes(bytes(data))
    library = Library(corpus_copy, cache)
    task = await library.start()
    assert library.current is not None and task is not None  # opened quickly, checked in the background
    await task
    assert verify_saved(cache, built.signature)  # rebuilt and saved again
    assert library.current.people is not None and _answers(library.current) == _answers(built)


def test_saving_is_atomic_and_keeps_only_the_newest(saved: tuple[Snapshot, Path], corpus_copy: Path) -> None:
    built, cache = saved
    leftover = cache / f".tmp-index-abandoned-{os.getpid()}"
    leftover.mkdir()  # a save that died halfway is never read (it has a temporary name)
    os.utime(leftover, (0, 0))
    (corpus_copy / "new.md").write_text((corpus_copy / sorted(os.listdir(corpus_copy))[0]).read_text()
                                        .replace("id: ", "id: new-", 1), encoding="utf-8")
    changed = build_snapshot(corpus_copy, with_people=False)
    save_snapshot(cache, changed)
    assert [p.name for p in cache.iterdir()] == [index_dir(cache, changed.signature).name]
    assert load_saved(cache, built.signature) is None and load_saved(cache, changed.signature) is not None


def test_another_process_opens_the_same_save(corpus_copy: Path, tmp_path: Path) -> None:
    """Several processes share one saved index (each maps the same files)."""
    built, cache = build_snapshot(corpus_copy, with_people=False), tmp_path / "cache"
    save_snapshot(cache, built)
    code = ("import sys; from pathlib import Path; from bot.library import load_saved; "
            "from bot.corpus import corpus_signature; "
            "s = load_saved(Path(sys.argv[1]), corpus_signature(Path(sys.argv[2])), with_people=False); "
            "print([h.article_id for h in s.search.search('tariffs china').results])")
    out = subprocess.run([sys.executable, "-c", code, str(cache), str(corpus_copy)], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    assert out == str([h.article_id for h in built.search.search("tariffs china").results])
