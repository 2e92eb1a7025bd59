"""The people directory as independently pickled parts, read back one part at a time.

`pickle.loads` is one C call that holds the interpreter lock from start to end: unpickling a
directory of 40,000 people in one piece (1-2 s at 100k articles) would stall the event loop's
thread, and every ack and answer with it. In parts (the directory with its name index but
without its people, ~5 ms; then runs of people, ~10 ms each) with a pause between them, the
event loop gets the interpreter at every part. The people worker sends its directories this
way, and the saved index stores them this way (`bot.library.saved`).

Each part's objects are frozen out of the cyclic garbage collector as they arrive, as
`bot.library.memory.settle_memory` freezes a loaded snapshot: left in it, the directory's
hundreds of thousands of new objects would be scanned by a full collection in one go
partway through, holding the interpreter for 100-300 ms. (The directory holds no cycles.)
"""

from __future__ import annotations

import gc
import pickle
import time
from collections.abc import Iterable, Iterator

from bot.people import PeopleDirectory, Person

PART_COST = 2000  # per part, a person counting 1 + their articles: ~7 us each to unpickle, ~15 ms a part
PAUSE_S = 0.001  # between parts: the event loop's thread takes the interpreter meanwhile


def _dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _runs(people: list[Person]) -> Iterator[list[Person]]:
    """Consecutive runs costing about PART_COST each (the most mentioned people have the most articles)."""
    start, cost = 0, 0
    for i, person in enumerate(people):
        cost += 1 + len(person.articles)
        if cost >= PART_COST:
            yield people[start : i + 1]
            start, cost = i + 1, 0
    if start < len(people):
        yield people[start:]


def directory_parts(directory: PeopleDirectory) -> list[bytes]:
    """The directory without its people (with its name index), then its people in runs."""
    shell = directory.model_copy(update={"people": []})
    shell._by_name = None  # rebuilt on first use: pickled, it would hold every person again
    return [_dumps(shell), *(_dumps(run) for run in _runs(directory.people))]


def directory_from_parts(parts: Iterable[bytes | memoryview]) -> PeopleDirectory:
    """The directory `directory_parts` was given, equal to it; with a pause before each part after
    the first. Only for our own bytes (the people worker's, or a saved file whose checksum was
    checked): this is unpickling."""
    pieces = iter(parts)
    shell = pickle.loads(next(pieces))  # noqa: S301 - our own bytes
    gc.freeze()
    if not isinstance(shell, PeopleDirectory):
        raise TypeError(f"not a people directory: {type(shell).__name__}")
    people: list[Person] = []
    for part in pieces:
        time.sleep(PAUSE_S)
        run = pickle.loads(part)  # noqa: S301
        if not isinstance(run, list):
            raise TypeError(f"not a run of people: {type(run).__name__}")
        people += run
        gc.freeze()  # O(1): what is tracked now is skipped by every later collection
    directory: PeopleDirectory = shell.model_copy(update={"people": people})
    return directory
