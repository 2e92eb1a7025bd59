"""Databases for tests: a SQLite file, or a PostgreSQL schema of one's own.

The PostgreSQL server (`TRADEBOT_TEST_DATABASE_URL`) is shared by everyone running tests on
the machine, so each test gets a fresh schema `tb_<random>`: the URL it is given sets
`search_path` to that schema alone, so every table tradebot creates lands there (never in
`public`), and the schema is dropped with everything in it afterwards. The URL is a plain
string, so several processes (replicas, racing upgraders) can share one schema.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from bot.store.database import database_url

PG_ENV = "TRADEBOT_TEST_DATABASE_URL"
PG_SKIP_REASON = ("PostgreSQL tests skipped: set TRADEBOT_TEST_DATABASE_URL "
                  "(e.g. postgresql://postgres@127.0.0.1:5432/test)")


def postgres_base_url() -> str | None:
    """The test server's URL (with the psycopg 3 driver), or None when it is not configured."""
    url = os.environ.get(PG_ENV, "").strip()
    return database_url(Path(), url) if url else None


def sqlite_url(path: Path) -> str:
    return database_url(path)


def schema_url(base_url: str, schema: str) -> str:
    """`base_url` confined to `schema`: its connections see that schema alone and are named after
    it (`application_name`), so leftovers can be found and ended when the schema is dropped."""
    url = sa.make_url(database_url(Path(), base_url)).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema})
    return url.render_as_string(hide_password=False)


@contextmanager
def fresh_postgres_schema(base_url: str | None = None) -> Iterator[str]:
    """A new, empty schema on the test server; yields a URL confined to it, drops it afterwards.

    Skips the calling test (with `PG_SKIP_REASON`) when no server is configured.
    """
    base = base_url or postgres_base_url()
    if base is None:
        pytest.skip(PG_SKIP_REASON)
    schema = f"tb_{secrets.token_hex(6)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                             connect_args={"connect_timeout": 5})
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield schema_url(base, schema)
    finally:
        with admin.connect() as connection:
            # Connections a test leaked (or a killed process left half-open) would hold the drop up.
            connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                               {"name": schema})
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()
