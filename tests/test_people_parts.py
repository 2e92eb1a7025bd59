"""The people directory in pickled parts (#14): read back exactly, each person only when asked for."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from bot.library import mapped, parts, save_snapshot
from bot.library.saved import PEOPLE, PEOPLE_ENTRY, index_dir, saved_people
from bot.library.snapshot import Snapshot
from bot.people import PeopleDirectory

QUERIES = ["greer", "jamison grear", "bessent", "lutnik", "wang"]


def as_json(directory: PeopleDirectory) -> list[dict[str, object]]:
    return [p.to_json() for p in directory.people]


def answers(directory: PeopleDirectory) -> list[object]:
    return [([(m.person.name, m.score) for m in directory.lookup(q)], directory.suggest(q)) for q in QUERIES]


def test_the_parts_make_the_same_directory(snapshot: Snapshot) -> None:
    built = snapshot.people
    assert built is not None
    pieces = parts.directory_parts(built)
    loaded = parts.directory_from_parts(pieces)
    assert as_json(loaded) == as_json(built) and loaded.people == built.people
    assert loaded.overrides_error == built.overrides_error
    assert answers(loaded) == answers(built) and loaded.get("Jamieson Greer") == built.get("Jamieson Greer")
    copy = pickle.loads(pickle.dumps(loaded))  # pickled as the plain directory it stands for
    assert type(copy.people) is list and copy.people == built.people and answers(copy) == answers(built)


def test_people_are_read_only_when_asked_for(snapshot: Snapshot) -> None:
    """Reading the directory unpickles its name index, not its people: a `who` answer reads the
    few people it shows (at 100k articles, reading them all held the interpreter for 1-2 s)."""
    assert snapshot.people is not None
    loaded = parts.directory_from_parts(parts.directory_parts(snapshot.people))
    people = loaded.people
    assert isinstance(people, parts.StoredPeople) and people.unpickled == 0
    assert len(people) == len(snapshot.people.people) > 5
    matches = loaded.lookup("greer")
    assert matches and matches[0].person.name == "Jamieson Greer"
    assert 0 < people.unpickled <= len(matches)
    assert people[-1] == snapshot.people.people[-1] and people[:3] == snapshot.people.people[:3]
    assert list(people) == list(snapshot.people.people)  # every one, without keeping them all
    assert people.unpickled <= len(matches) + 4
    with pytest.raises(IndexError):
        people[len(people)]
    before = people.unpickled
    again = parts.directory_parts(loaded)  # saving what was read: the same bytes, nobody unpickled
    assert again[1:] == parts.directory_parts(snapshot.people)[1:] and people.unpickled == before
    blob = again[2]
    assert isinstance(blob, memoryview) and blob.obj is people.packed()[1].obj  # not copied (~190 MB at 100k)


@pytest.mark.parametrize("cut", ["offsets-past-the-end", "offsets-short", "odd-offset-bytes", "two-parts"])
def test_parts_that_do_not_fit_are_refused(snapshot: Snapshot, cut: str) -> None:
    assert snapshot.people is not None
    shell, ends, blob = parts.directory_parts(snapshot.people)
    broken = {"offsets-past-the-end": [shell, ends, blob[:-1]], "offsets-short": [shell, ends[:-8], blob],
              "odd-offset-bytes": [shell, ends[:-3], blob], "two-parts": [shell, blob]}[cut]
    with pytest.raises(ValueError):
        parts.directory_from_parts(broken)


def test_an_empty_directory_round_trips() -> None:
    empty = PeopleDirectory(people=[])
    loaded = parts.directory_from_parts(parts.directory_parts(empty))
    assert len(loaded.people) == 0 and loaded.lookup("greer") == [] and loaded.people == []


@pytest.mark.parametrize("damage", ["flipped-byte", "part-lengths", "truncated", "not-parts"])
def test_a_damaged_people_file_is_ignored(snapshot: Snapshot, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    save_snapshot(cache, snapshot)
    directory = index_dir(cache, snapshot.signature)
    loaded = saved_people(cache, snapshot.signature)
    assert loaded is not None and snapshot.people is not None and as_json(loaded) == as_json(snapshot.people)
    path, entry_path = directory / PEOPLE, directory / PEOPLE_ENTRY
    entry = json.loads(entry_path.read_text())
    data = path.read_bytes()
    if damage == "flipped-byte":
        path.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    elif damage == "part-lengths":  # a sound file cut in the wrong places
        entry["parts"][1:3] = [entry["parts"][1] + 8, entry["parts"][2] - 8]
        entry_path.write_text(json.dumps(entry))
    elif damage == "truncated":
        path.write_bytes(data[:-9])
    else:  # one pickle of the whole directory, vouched for as version 8 did
        path.write_bytes(pickle.dumps(snapshot.people))
        entry_path.write_text(json.dumps(mapped.file_entry(path)))
    assert saved_people(cache, snapshot.signature) is None
