"""`tradebot db upgrade` and `tradebot db check`: the state database (`TRADEBOT_DATABASE_URL`,
else the SQLite file `TRADEBOT_DB`) from the command line.

`upgrade` applies the migrations `tradebot run` would apply on start (run it before a rolling
deploy, so old and new replicas never race to do it); `check` says whether the database can
be reached and is at this tradebot's schema, and exits 1 when it is not (for deploy scripts).
Neither prints a password.
"""

from __future__ import annotations

import argparse

import sqlalchemy as sa

from bot.cli.errors import CliError, Exit
from bot.cli.output import print_json
from bot.cli.registry import Command, Subparsers
from bot.settings import Settings
from bot.store import Database, StoreUnavailable
from bot.store.migrations import MIGRATIONS, SchemaTooNew, upgrade, version
from bot.store.status import DatabaseStatus, database_status, missing_sqlite_file


def _open(url: str) -> Database:
    _parse(url)
    return Database(url)


def _parse(url: str) -> sa.URL:
    """The URL, or one line naming the setting when SQLAlchemy cannot use it."""
    try:
        parsed = sa.make_url(url)
        parsed.get_dialect()
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        # not `exc`: SQLAlchemy's message repeats the URL, password included
        raise CliError(f"TRADEBOT_DATABASE_URL is not a database URL tradebot can use ({type(exc).__name__})") from None
    return parsed


def _upgrade(url: str, as_json: bool) -> int:
    database = _open(url)
    try:
        try:
            applied = upgrade(database)
            now = version(database)
        except StoreUnavailable as exc:
            raise CliError(f"cannot reach the database at {database.safe_url}: {exc}", Exit.FAILED) from None
        except SchemaTooNew as exc:
            raise CliError(str(exc), Exit.FAILED) from None
        if as_json:
            print_json({"engine": database.dialect, "url": database.safe_url, "applied": applied, "schema": now})
            return Exit.OK
        notes = {m.version: m.note for m in MIGRATIONS}
        for number in applied:
            print(f"applied version {number}: {notes[number]}")
        state = f"upgraded to schema version {now}" if applied else f"up to date (schema version {now})"
        print(f"{state}: {database.dialect} {database.safe_url}")
        return Exit.OK
    finally:
        database.close()


def _status(url: str) -> tuple[DatabaseStatus, str | None]:
    """The status, and what is wrong in words (None: all is well)."""
    missing = missing_sqlite_file(_parse(url))
    if missing is not None:  # checking must not create the file (nor its directory)
        status = DatabaseStatus(engine="sqlite", url=url, reachable=True, schema_version=0)
        return status, f"no database file at {missing} yet: `tradebot db upgrade` (or `tradebot run`) creates it"
    database = Database(url)
    try:
        status = database_status(database)
    finally:
        database.close()
    return status, _problem(status)


def _problem(status: DatabaseStatus) -> str | None:
    state = status.state
    if state == "unreachable":
        return f"cannot reach the database: {status.error}"
    if state == "behind":
        return (f"the database is at schema version {status.schema_version}, this tradebot needs "
                f"{status.code_version}: run `tradebot db upgrade` (`tradebot run` also upgrades on start)")
    if state == "ahead":
        return (f"the database is at schema version {status.schema_version}, newer than this tradebot's "
                f"{status.code_version}: upgrade tradebot")
    return None


def _check(url: str, as_json: bool) -> int:
    status, problem = _status(url)
    if as_json:
        print_json({**status.model_dump(), "state": status.state})
    else:
        reach = "yes" if status.reachable else f"no ({status.error})"
        known = "unknown" if status.schema_version is None else str(status.schema_version)
        print(f"engine:    {status.engine}\nurl:       {status.url}\nreachable: {reach}\n"
              f"schema:    {known} (this tradebot: {status.code_version}) {status.state}")
    if problem:
        raise CliError(problem, Exit.FAILED)
    return Exit.OK


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.resolved_database_url
    if args.db_command == "upgrade":
        return _upgrade(url, args.json)
    return _check(url, args.json)


def register(sub: Subparsers) -> dict[str, Command]:
    p = sub.add_parser("db", help="the state database: upgrade its schema, or check it")
    db_sub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    q = db_sub.add_parser("upgrade", help="apply the schema migrations (as `tradebot run` does on start)")
    q.add_argument("--json", action="store_true")
    q = db_sub.add_parser("check", help="engine, URL, reachable, schema version; exits 1 unless all is well")
    q.add_argument("--json", action="store_true")
    return {"db": Command(cmd_db)}
