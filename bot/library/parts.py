"""The people directory as bytes that are read back lazily: each person is unpickled when asked for.

`pickle.loads` is one C call that holds the interpreter lock from start to end, and a
directory of 60,000 people (at 100k articles) takes 1-2 s to unpickle in one piece or in
parts: time the event loop's thread, and every ack and answer with it, would share. So
the directory travels (from the people worker, and to and from the saved index) as three
parts: the directory without its people, with its name index (what `who` looks names up
in); the end offset of each person in the third part; and every person pickled on their
own, one after the other. Reading it unpickles only the first part; `StoredPeople` then
unpickles a person the first time they are asked for (a `who` answer asks for five at most),
and keeps the bytes, a third of what the objects would take in memory.

Only for our own bytes (the people worker's, or a saved file whose checksum was checked):
this is unpickling.
"""

from __future__ import annotations

import gc
import pickle
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

import numpy as np

from bot.people import PeopleDirectory, Person


def _dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


class StoredPeople(Sequence[Person]):
    """A read-only list of people kept pickled, each unpickled (once) when first read."""

    __slots__ = ("_blob", "_ends", "_made")

    def __init__(self, blob: bytes | bytearray | memoryview, ends: np.ndarray) -> None:
        if ends.ndim != 1 or (int(ends[-1]) if ends.size else 0) != len(blob) or (
                ends.size and (int(ends[0]) <= 0 or bool(np.any(np.diff(ends) <= 0)))):
            raise ValueError("the people's offsets do not fit their bytes")
        self._blob = memoryview(blob)
        self._ends = [0, *ends.tolist()]
        self._made: dict[int, Person] = {}

    def __len__(self) -> int:
        return len(self._ends) - 1

    @overload
    def __getitem__(self, index: int) -> Person: ...

    @overload
    def __getitem__(self, index: slice) -> list[Person]: ...

    def __getitem__(self, index: int | slice) -> Person | list[Person]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self)
        if not -n <= index < n:
            raise IndexError("person index out of range")
        index %= n
        person = self._made.get(index)
        if person is None:
            person = self._made[index] = self._load(index)
        return person

    def _load(self, index: int) -> Person:
        person = pickle.loads(self._blob[self._ends[index] : self._ends[index + 1]])  # noqa: S301 - our own bytes
        if not isinstance(person, Person):
            raise TypeError(f"not a person: {type(person).__name__}")
        return person

    def __iter__(self) -> Iterator[Person]:
        """Every person, without keeping those not read before (a digest looks at everyone once)."""
        for index in range(len(self)):
            yield self._made.get(index) or self._load(index)

    def packed(self) -> tuple[np.ndarray, memoryview]:
        """The end offsets and the bytes these people were read from (to save them as they are)."""
        return np.asarray(self._ends[1:], dtype=np.int64), self._blob

    @property
    def unpickled(self) -> int:
        """How many people have been read (kept) so far."""
        return len(self._made)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # (a list is not hashable either)

    def __reduce__(self) -> tuple[type[list[Person]], tuple[list[Person]]]:
        return list, (list(self),)  # pickled (or copied) as the plain list it stands for

    def __repr__(self) -> str:
        return f"StoredPeople({len(self)} people, {self.unpickled} read)"


Part = bytes | bytearray | memoryview


def directory_parts(directory: PeopleDirectory) -> list[Part]:
    """The directory without its people (with its name index), the people's end offsets, the people.
    The people are pickled one after the other into one buffer (at 100k articles ~190 MB: pickled
    apart and then joined, they were twice that for a moment); people read from parts are given as
    the bytes they were read from, not copied."""
    shell = directory.model_copy(update={"people": []})
    shell._by_name = None  # rebuilt on first use: pickled, it would hold every person again
    if isinstance(directory.people, StoredPeople):  # read from parts (the bot saving what the worker sent)
        ends, blob = directory.people.packed()
        return [_dumps(shell), ends.tobytes(), blob]
    pickled, ends = bytearray(), np.empty(len(directory.people), dtype=np.int64)
    for i, person in enumerate(directory.people):
        pickled += _dumps(person)
        ends[i] = len(pickled)
    return [_dumps(shell), ends.tobytes(), pickled]


def directory_from_parts(parts: Iterable[Part]) -> PeopleDirectory:
    """The directory `directory_parts` was given, equal to it, its people read when asked for."""
    pieces = list(parts)
    if len(pieces) != 3:
        raise ValueError(f"a people directory has 3 parts, not {len(pieces)}")
    shell_bytes, ends_bytes, blob = pieces
    shell = pickle.loads(shell_bytes)  # noqa: S301 - our own bytes
    gc.freeze()  # the name index's objects: out of the cyclic collector's way (it holds no cycles)
    if not isinstance(shell, PeopleDirectory):
        raise TypeError(f"not a people directory: {type(shell).__name__}")
    if len(ends_bytes) % 8:
        raise ValueError("the people's offsets are cut short")
    people = StoredPeople(blob, np.frombuffer(ends_bytes, dtype=np.int64))
    directory: PeopleDirectory = shell.model_copy(update={"people": people})
    return directory
