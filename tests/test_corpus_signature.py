"""The corpus signature worked out in a child process at a start (`SignatureScan`) is exactly the
one this process would work out, and the start never depends on the child."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bot.common import signature as signing
from bot.common.signature import SignatureScan, corpus_signature


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    directory = tmp_path / "corpus"
    directory.mkdir()
    for name in ["a.md", "b.md", "people.yml", "notes.txt", ".md", "x.yaml", "zoë-ünïcode.md"]:
        (directory / name).write_text(f"text of {name}\n" * len(name))
    (directory / "sub.md").mkdir()  # a directory named like an article: as `corpus_signature` says
    try:
        (directory / os.fsdecode(b"bad-\xff-bytes.md")).write_text("x")  # a name that is not UTF-8
    except (OSError, UnicodeError):
        pass
    return directory


def test_the_child_works_out_exactly_what_this_process_would(corpus: Path) -> None:
    scan = SignatureScan(corpus)
    assert scan._child is not None  # (it really ran in a child)
    assert scan.result() == corpus_signature(corpus)
    assert {name for name, _, _ in corpus_signature(corpus)} >= {"a.md", "people.yml", "x.yaml", "zoë-ünïcode.md"}


def test_a_missing_directory_has_the_empty_signature_either_way(tmp_path: Path) -> None:
    assert SignatureScan(tmp_path / "nowhere").result() == () == corpus_signature(tmp_path / "nowhere")


@pytest.mark.parametrize("executable", ["/bin/false", "/nonexistent/python", "/bin/echo"])
def test_a_child_that_fails_or_says_nonsense_is_only_a_lost_head_start(
        corpus: Path, executable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", executable)
    assert SignatureScan(corpus).result() == corpus_signature(corpus)


def test_a_child_that_hangs_is_ended_and_the_signature_worked_out_here(
        corpus: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    hang = tmp_path / "hang"
    hang.write_text("#!/bin/sh\nexec sleep 60\n")
    hang.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(hang))
    monkeypatch.setattr(signing, "CHILD_TIMEOUT_S", 0.2)
    scan = SignatureScan(corpus)
    child = scan._child
    assert scan.result() == corpus_signature(corpus)
    assert child is not None and child.returncode is not None  # ended, not left behind


def test_closing_a_scan_never_asked_for_ends_its_child(corpus: Path) -> None:
    scan = SignatureScan(corpus)
    child = scan._child
    scan.close()
    assert child is not None and child.returncode is not None
    assert scan.result() == corpus_signature(corpus)  # (then worked out here)
