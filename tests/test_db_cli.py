"""`tradebot db upgrade` and `tradebot db check` on both engines: what they print, their exit codes,
and that no password is ever shown."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import main
from bot.store import Database
from bot.store.migrations import MIGRATIONS
from bot.store.schema import SCHEMA_VERSION, schema_version
from tests.databases import PG_ENV

Run = Callable[..., tuple[int, str, str]]
OK, FAILED, USAGE = 0, 1, 2
DEAD = "postgresql://postgres:s3cret-pw@127.0.0.1:1/test"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """`main(["db", ...])` in a fresh directory, with `TRADEBOT_DATABASE_URL` as given (None: unset)."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith(("SLACK_", "DIGEST_", "TRADEBOT_")) and n != PG_ENV]:
        monkeypatch.delenv(name)

    def run(url: str | None, *argv: str) -> tuple[int, str, str]:
        if url is None:
            monkeypatch.delenv("TRADEBOT_DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("TRADEBOT_DATABASE_URL", url)
        code = main(["db", *argv])
        out, err = capsys.readouterr()
        return int(code), out, err

    return run


def with_password(url: str) -> str:
    """PostgreSQL (trust auth ignores it): the same URL with a password that must never be printed."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    return parsed.set(password="s3cret-pw").render_as_string(hide_password=False)


def at_version_one(url: str) -> None:
    """The database as the first schema version left it (what an older replica still runs on)."""
    database = Database(url)
    try:
        with database.begin() as db:
            schema_version.create(db)
            MIGRATIONS[0].apply(db)
            db.execute(schema_version.insert().values(version=1, applied_at="2026-01-01", note=MIGRATIONS[0].note))
    finally:
        database.close()


def test_upgrade_prints_what_it_applied_then_up_to_date(cli: Run, database_url: str) -> None:
    url = with_password(database_url)
    code, out, err = cli(url, "upgrade")
    assert (code, err) == (OK, "")
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == [
        f"applied version {m.version}" for m in MIGRATIONS]
    assert out.splitlines()[-1].startswith(f"upgraded to schema version {SCHEMA_VERSION}: ")
    code, out, _ = cli(url, "upgrade")
    assert code == OK and out.startswith(f"up to date (schema version {SCHEMA_VERSION}): ")
    code, out, _ = cli(url, "upgrade", "--json")
    data = json.loads(out)
    assert code == OK and data["applied"] == [] and data["schema"] == SCHEMA_VERSION
    assert data["engine"] == sa.make_url(database_url).get_backend_name()
    assert "s3cret" not in out


def test_check_says_engine_url_reachable_and_schema(cli: Run, database_url: str) -> None:
    url = with_password(database_url)
    assert cli(url, "upgrade")[0] == OK
    code, out, err = cli(url, "check")
    engine = sa.make_url(database_url).get_backend_name()
    assert (code, err) == (OK, "")
    assert f"engine:    {engine}\n" in out and "reachable: yes\n" in out
    assert f"schema:    {SCHEMA_VERSION} (this tradebot: {SCHEMA_VERSION}) ok" in out
    assert "s3cret" not in out and ("***" in out) == (engine == "postgresql")
    code, out, _ = cli(url, "check", "--json")
    data = json.loads(out)
    assert code == OK and data["engine"] == engine and data["reachable"] is True and data["state"] == "ok"
    assert (data["schema_version"], data["code_version"]) == (SCHEMA_VERSION, SCHEMA_VERSION)
    assert data["url"] == sa.make_url(url).render_as_string(hide_password=True)


def test_check_fails_on_a_database_behind_the_code_until_it_is_upgraded(cli: Run, database_url: str) -> None:
    at_version_one(database_url)
    code, out, err = cli(database_url, "check")
    assert code == FAILED and f"schema:    1 (this tradebot: {SCHEMA_VERSION}) behind" in out
    assert err.startswith("error: the database is at schema version 1") and "tradebot db upgrade" in err
    code, out, _ = cli(database_url, "upgrade")
    assert code == OK and out.startswith("applied version 2: ") and out.count("applied") == SCHEMA_VERSION - 1
    assert cli(database_url, "check")[0] == OK


def test_check_and_upgrade_fail_on_a_database_ahead_of_the_code(cli: Run, database: Database,
                                                                database_url: str) -> None:
    with database.begin() as db:
        db.execute(schema_version.insert().values(version=SCHEMA_VERSION + 1, applied_at="2030-01-01", note="x"))
    code, out, err = cli(database_url, "check", "--json")
    assert code == FAILED and json.loads(out)["state"] == "ahead"
    assert err.startswith("error: ") and "newer than this tradebot's" in err and "upgrade tradebot" in err
    code, _, err = cli(database_url, "upgrade")
    assert code == FAILED and err.startswith(f"error: the database is at schema version {SCHEMA_VERSION + 1}") and err.count("\n") == 1


def test_an_unreachable_database_fails_both_without_showing_the_password(cli: Run) -> None:
    code, out, err = cli(DEAD, "check")
    assert code == FAILED and "engine:    postgresql" in out and "reachable: no (" in out
    assert "schema:    unknown" in out and "refused" in err.lower()
    assert "postgres:***@127.0.0.1:1/test" in out
    code, out, err2 = cli(DEAD, "check", "--json")
    data = json.loads(out)
    assert code == FAILED and data["reachable"] is False and data["state"] == "unreachable" and data["error"]
    code, out, err3 = cli(DEAD, "upgrade")
    assert code == FAILED and err3.startswith("error: cannot reach the database at postgresql+psycopg://postgres:***@")
    assert "s3cret" not in out + err + err2 + err3


def test_check_on_the_default_sqlite_file_does_not_create_it(cli: Run, tmp_path: Path) -> None:
    code, out, err = cli(None, "check")
    assert code == FAILED and "engine:    sqlite" in out and "url:       sqlite:///.tradebot/tradebot.sqlite3" in out
    assert err.startswith("error: no database file at .tradebot/tradebot.sqlite3 yet") and "db upgrade" in err
    assert not (tmp_path / ".tradebot").exists()
    assert cli(None, "upgrade")[0] == OK and (tmp_path / ".tradebot" / "tradebot.sqlite3").is_file()
    assert cli(None, "check")[0] == OK


@pytest.mark.parametrize("url", ["nonsense://x", "not a url", "sqlite+nodriver:///x.db", "mysql://u:s3cret@h/db",
                                 "postgresql://u:s3cret@h:notaport/db"])
def test_a_url_sqlalchemy_cannot_use_is_a_usage_error(cli: Run, url: str) -> None:
    for action in ("check", "upgrade"):
        code, out, err = cli(url, action)
        assert code == USAGE and err.startswith("error: ") and "TRADEBOT_DATABASE_URL" in err
        assert "s3cret" not in out + err
        assert err.count("\n") == 1 and "Traceback" not in out + err


def test_run_refuses_a_database_ahead_of_the_code_or_out_of_reach(cli: Run, database: Database, database_url: str,
                                                                  seed_corpus_dir: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`tradebot run` upgrades on start: a newer schema, or no database, stops it with one line."""
    with database.begin() as db:
        db.execute(schema_version.insert().values(version=SCHEMA_VERSION + 1, applied_at="2030-01-01", note="x"))
    for name, value in {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "TRADEBOT_MODE": "http",
                        "PORT": "0", "TRADEBOT_CORPUS": str(seed_corpus_dir)}.items():
        monkeypatch.setenv(name, value)
    for url, words in [(database_url, ["upgrade tradebot"]), (DEAD, ["cannot reach the database", "refused"])]:
        monkeypatch.setenv("TRADEBOT_DATABASE_URL", url)
        code = main(["run"])
        out, err = capsys.readouterr()
        assert code == FAILED and err.startswith("error: tradebot run stopped: ") and err.count("\n") == 1, err
        assert all(w in err for w in words) and "s3cret" not in out + err
