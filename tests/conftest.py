"""Shared fixtures: the seed corpus, ingested once per session into a temp dir; state databases."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.corpus import Corpus, load_corpus
from bot.corpus.ingest import ingest_seeds
from bot.library import Snapshot, build_snapshot
from bot.store import Database, open_database
from tests.databases import fresh_postgres_schema, sqlite_url

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


# State databases: every state test runs on SQLite and on PostgreSQL (tests/databases.py) ---------

@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of the test's own: a SQLite file in `tmp_path`, or a fresh
    schema on `TRADEBOT_TEST_DATABASE_URL` (skipped, saying so, when that is not set)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "state.sqlite3")
        return
    with fresh_postgres_schema() as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The database at `database_url`, opened and upgraded to the current schema."""
    db = open_database(database_url)
    try:
        yield db
    finally:
        db.close()
