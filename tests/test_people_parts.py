"""The people directory in pickled parts (#14): read back exactly, and the event loop runs between parts."""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.library import mapped, off_loop, parts, save_snapshot
from bot.library.saved import PEOPLE, PEOPLE_ENTRY, index_dir, saved_people
from bot.library.snapshot import Snapshot
from bot.people import PeopleDirectory

QUERIES = ["greer", "jamison grear", "bessent", "lutnik", "wang"]


def as_json(directory: PeopleDirectory) -> list[dict[str, object]]:
    return [p.to_json() for p in directory.people]


def answers(directory: PeopleDirectory) -> list[object]:
    return [([(m.person.name, m.score) for m in directory.lookup(q)], directory.suggest(q)) for q in QUERIES]


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parts, "PART_COST", 2)  # the seed corpus is small: many parts of a few people


def test_the_parts_make_the_same_directory(snapshot: Snapshot, small_parts: None) -> None:
    built = snapshot.people
    assert built is not None
    pieces = parts.directory_parts(built)
    assert len(pieces) > 5
    loaded = parts.directory_from_parts(pieces)
    assert as_json(loaded) == as_json(built) and loaded.people == built.people
    assert loaded.overrides_error == built.overrides_error
    assert answers(loaded) == answers(built) and loaded.get("Jamieson Greer") == built.get("Jamieson Greer")


async def test_the_event_loop_runs_between_parts(snapshot: Snapshot, small_parts: None) -> None:
    """Counted, not timed: a coroutine that only yields keeps counting while the parts are read in a
    thread, seen at (nearly) every part. Without the pause between parts, a thread unpickling parts
    this small keeps the interpreter for its 5 ms switch interval, many parts at a time."""
    assert snapshot.people is not None
    pieces = parts.directory_parts(snapshot.people)
    ticks = 0
    seen: list[int] = []
    done = False

    def fed() -> Iterator[bytes]:
        for piece in pieces:
            seen.append(ticks)
            yield piece

    async def tick() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    try:
        loaded = await off_loop(parts.directory_from_parts, fed())
    finally:
        done = True
        await ticker
    assert as_json(loaded) == as_json(snapshot.people)
    moved = sum(b > a for a, b in zip(seen[1:], seen[2:], strict=False))  # between part k and k+1, from the first run
    # Without the pause the loop moves between none of them; with it, between most (fewer when the
    # machine is busy and the OS is slow to run the loop's thread within the pause).
    assert moved >= 0.3 * (len(seen) - 2), (moved, len(seen))


@pytest.mark.parametrize("damage", ["flipped-byte", "part-lengths", "truncated", "not-parts"])
def test_a_damaged_people_file_is_ignored(snapshot: Snapshot, tmp_path: Path, small_parts: None, damage: str) -> None:
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
        entry["parts"][1:3] = [entry["parts"][1] - 3, entry["parts"][2] + 3]
        entry_path.write_text(json.dumps(entry))
    elif damage == "truncated":
        path.write_bytes(data[:-9])
    else:  # one pickle of the whole directory, vouched for as version 8 did
        path.write_bytes(pickle.dumps(snapshot.people))
        entry_path.write_text(json.dumps(mapped.file_entry(path)))
    assert saved_people(cache, snapshot.signature) is None
