"""A directory of arrays on disk, opened by memory mapping: the saved index's storage.

One `.npy` file per array plus `manifest.json` (format, version, and each file's size,
dtype, shape and CRC-32). Opening maps the files read-only instead of reading them, so it
takes milliseconds whatever their size, and every process on the host that opens the
same directory shares one copy of it in the page cache.

Checks on opening are those that cost nothing: the manifest parses and has our format
and version, each file has exactly its recorded size, dtype and shape, and its first and
last 64 KiB match their recorded CRC (a truncated, partly written, swapped or foreign file
fails). `verify` reads everything and compares whole-file CRCs: the bot runs it in the
background after starting, so damage in the middle of a large array is found too.
A directory is written under a temporary name and renamed into place when complete.
"""

from __future__ import annotations

import io
import json
import mmap
import os
import shutil
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

FORMAT = "tradebot-saved-index"
MANIFEST = "manifest.json"
EDGE = 1 << 16  # bytes at each end of a file checked on opening
BLOCK = 1 << 24  # bytes read at a time by `verify`


class Damaged(Exception):
    """The directory is not a complete, matching save: rebuild instead."""


def _crc(path: Path, start: int = 0, length: int | None = None) -> int:
    with path.open("rb") as f:
        f.seek(start)
        return _crc_read(f, length)


def _crc_read(f: BinaryIO, length: int | None = None) -> int:
    crc = 0
    left = length
    while left is None or left > 0:
        block = f.read(BLOCK if left is None else min(BLOCK, left))
        if not block:
            break
        crc = zlib.crc32(block, crc)
        if left is not None:
            left -= len(block)
    return crc


def map_checked(path: Path, entry: dict[str, Any]) -> memoryview:
    """The whole file memory-mapped read-only, once its size and every byte's CRC match `entry`;
    raises Damaged. Checked by reading through the same descriptor, not the mapping: a page of
    the mapping then counts in this process's memory only once it is used."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size != entry["bytes"]:
                raise Damaged(f"{path.name}: {size} bytes, expected {entry['bytes']}")
            if _crc_read(f) != entry["crc32"]:
                raise Damaged(f"{path.name}: CRC mismatch")
            return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)) if size else memoryview(b"")
    except OSError as exc:
        raise Damaged(f"{path.name}: {exc.strerror or exc}") from None


def _edges(path: Path, size: int) -> list[int]:
    return [_crc(path, 0, min(EDGE, size)), _crc(path, max(0, size - EDGE), EDGE)]


def file_entry(path: Path) -> dict[str, Any]:
    """What the manifest records about one file."""
    size = path.stat().st_size
    return {"bytes": size, "crc32": _crc(path), "edges": _edges(path, size)}


def write_arrays(directory: Path, arrays: dict[str, np.ndarray],
                 pause: Callable[[], None] = lambda: None) -> dict[str, dict[str, Any]]:
    """Write each array as `<name>.npy` into `directory`, `pause` before each; returns their manifest entries."""
    entries: dict[str, dict[str, Any]] = {}
    for name, array in arrays.items():
        pause()
        path = directory / f"{name}.npy"
        np.save(path, np.ascontiguousarray(array), allow_pickle=False)
        entries[name] = {**file_entry(path), "dtype": array.dtype.str, "shape": list(array.shape)}
    return entries


def write_bytes(directory: Path, name: str, pieces: Sequence[bytes | memoryview]) -> dict[str, Any]:
    """`pieces` end to end as the one-dimensional uint8 array `<name>.npy`, written piece by piece
    (the article bodies at 100k articles are ~370 MB: joined first, they would be that much more
    memory for the moment of a save); its manifest entry, as `write_arrays` gives."""
    total = sum(map(len, pieces))
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (total,)})
    path = directory / f"{name}.npy"
    _write_pieces(path, [header.getvalue(), *pieces])
    return {**file_entry(path), "dtype": "|u1", "shape": [total]}


def _write_pieces(path: Path, pieces: Iterable[bytes | bytearray | memoryview]) -> None:
    """`pieces` end to end into `path`, one at a time (never joined first)."""
    with path.open("wb") as f:
        for piece in pieces:
            f.write(piece)


def check_file(path: Path, entry: dict[str, Any]) -> None:
    """Size and both ends as recorded; raises Damaged."""
    try:
        size = path.stat().st_size
        if size != entry["bytes"]:
            raise Damaged(f"{path.name}: {size} bytes, expected {entry['bytes']}")
        if _edges(path, size) != entry["edges"]:
            raise Damaged(f"{path.name}: contents differ from the manifest")
    except OSError as exc:
        raise Damaged(f"{path.name}: {exc.strerror or exc}") from None


def open_arrays(directory: Path, entries: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
    """Every array of the manifest, memory-mapped read-only (empty ones read: nothing to map)."""
    out: dict[str, np.ndarray] = {}
    for name, entry in entries.items():
        path = directory / f"{name}.npy"
        check_file(path, entry)
        shape = tuple(entry["shape"])
        try:
            array = np.load(path, mmap_mode="r" if np.prod(shape) else None, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise Damaged(f"{path.name}: {exc}") from None
        if array.dtype.str != entry["dtype"] or array.shape != shape:
            raise Damaged(f"{path.name}: {array.dtype.str}{array.shape}, expected {entry['dtype']}{shape}")
        out[name] = array.view(np.ndarray)  # a plain array on the mapping: no memmap subclass in results
    return out


def read_manifest(directory: Path, version: int) -> dict[str, Any]:
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Damaged(f"{MANIFEST}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != version:
        raise Damaged(f"not a saved index of version {version}")
    return manifest


def write_manifest(directory: Path, manifest: dict[str, Any], version: int) -> None:
    (directory / MANIFEST).write_text(json.dumps({**manifest, "format": FORMAT, "version": version}),
                                      encoding="utf-8")


def verify(directory: Path, entries: dict[str, dict[str, Any]], suffix: str = ".npy") -> None:
    """Every byte of every file against its recorded CRC; raises Damaged."""
    for name, entry in entries.items():
        path = directory / f"{name}{suffix}"
        try:
            if _crc(path) != entry["crc32"]:
                raise Damaged(f"{path.name}: CRC mismatch")
        except OSError as exc:
            raise Damaged(f"{path.name}: {exc.strerror or exc}") from None


def temporary_beside(final: Path) -> Path:
    """A fresh directory next to `final`, to be renamed onto it once complete."""
    tmp = final.with_name(f".tmp-{final.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    return tmp


def publish(tmp: Path, final: Path) -> bool:
    """Rename the complete `tmp` into place; False (and `tmp` removed) when `final` exists already."""
    try:
        tmp.rename(final)
        return True
    except OSError:
        if final.exists():  # another process saved the same state first
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        raise


def replace_file(path: Path, pieces: Sequence[bytes | bytearray | memoryview]) -> None:
    """Write `pieces` end to end to `path` atomically (temporary file, then rename), one at a time:
    not joined first (the people directory's parts at 100k articles are ~190 MB)."""
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    _write_pieces(tmp, pieces)
    tmp.replace(path)
