"""Shared fixtures: the seed corpus, ingested once per session into a temp dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.corpus import Corpus, load_corpus
from bot.corpus.ingest import ingest_seeds
from bot.library import Snapshot, build_snapshot

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seed_corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus_dir = tmp_path_factory.mktemp("corpus")
    reports = ingest_seeds(SEEDS, corpus_dir)
    assert all(r.error is None for r in reports)
    return corpus_dir


@pytest.fixture(scope="session")
def seed_corpus(seed_corpus_dir: Path) -> Corpus:
    return load_corpus(seed_corpus_dir)


@pytest.fixture(scope="session")
def snapshot(seed_corpus_dir: Path) -> Snapshot:
    return build_snapshot(seed_corpus_dir)


@pytest.fixture
def corpus_copy(seed_corpus_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the seed corpus for tests that change files."""
    target = tmp_path / "corpus"
    shutil.copytree(seed_corpus_dir, target)
    return target
