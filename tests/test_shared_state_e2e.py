"""Shared state end to end, through the fake Slack and the real service (HTTP mode):
a click after a restart, a click and a replay on another service on the same database,
and a real database outage (a cut PostgreSQL connection, a SQLite file gone) answered
"temporarily unavailable" for what needs the state, searches still answered, and
recovery with no restart. On SQLite and PostgreSQL (a fresh schema each)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from bot.answers import compose
from bot.digest.store import DigestStore
from bot.harness.driver import Driver, Interaction
from bot.harness.fake_slack import SIGNING_SECRET
from bot.harness.render import render_blocks
from bot.harness.session import HarnessSession
from bot.service import BotService
from bot.store import open_database
from tests.databases import fresh_postgres_schema, postgres_base_url
from tests.state_helpers import CuttableProxy, GoneSqliteFile, via

FORM = "application/x-www-form-urlencoded"


@asynccontextmanager
async def session_on(corpus: Path, url: str, tmp_path: Path) -> AsyncIterator[HarnessSession]:
    async with HarnessSession(corpus, db_path=tmp_path / "unused.sqlite3", database_url=url) as session:
        yield session


@asynccontextmanager
async def another_service(session: HarnessSession) -> AsyncIterator[tuple[BotService, Driver]]:
    """A second replica: the same settings (so the same database), its own port."""
    assert session.service is not None
    service = BotService(session.service.settings)
    await service.start()
    await service.library_ready()
    driver = Driver(session.fake, "http", service.url, SIGNING_SECRET)
    try:
        yield service, driver
    finally:
        await driver.close()
        await service.stop()


def drive(session: HarnessSession) -> Driver:
    assert session.driver is not None
    return session.driver


async def ask(session: HarnessSession, text: str, user: str = "U0ALICE") -> dict[str, Any]:
    """`/trade text`; the answer `user` now sees in C0TRADE."""
    await (await drive(session).slash(text, user=user)).answer()
    return dict(session.fake.ephemeral_for(user, "C0TRADE")[-1])


async def click(driver: Driver, message: dict[str, Any], label: str, user: str = "U0ALICE") -> str:
    """Press `label` on `message`; what the answer that comes back shows."""
    interaction: Interaction = await driver.click(message["blocks"], label, user=user)
    return render_blocks((await interaction.answer())["blocks"])


def labels(message: dict[str, Any]) -> set[str]:
    return {e["text"]["text"] for b in message["blocks"] for e in
            [*(b.get("elements") or []), *([b["accessory"]] if isinstance(b.get("accessory"), dict) else [])]
            if isinstance(e, dict) and e.get("type") == "button"}


async def test_a_click_after_a_restart_still_works(corpus_copy: Path, tmp_path: Path, database_url: str) -> None:
    async with session_on(corpus_copy, database_url, tmp_path) as session:
        answer = await ask(session, "who kat")
        assert session.service is not None and session.driver is not None
        await session.service.stop()  # the restart: a new service on the same database, no memory kept
        session.service = BotService(session.service.settings)
        await session.service.start()
        await session.service.library_ready()
        session.driver.app_url = session.service.url
        name = next(iter(sorted(labels(answer))))
        shown = await click(session.driver, answer, name)
        assert name in shown and "[Share in channel]" in shown


async def test_another_replica_answers_clicks_and_ignores_replays(corpus_copy: Path, tmp_path: Path,
                                                                  database_url: str) -> None:
    async with session_on(corpus_copy, database_url, tmp_path) as session, another_service(session) as (_, other):
        choice = await ask(session, "who kat")
        name = sorted(labels(choice))[0]
        assert name in await click(other, choice, name)  # answered by A, clicked on B
        body = urlencode({"command": "/trade", "text": "who greer", "user_id": "U0BOB", "channel_id": "C0TRADE",
                          "team_id": "T0HARNESS", "response_url": session.fake.new_response_url("C0TRADE", "U0BOB"),
                          "trigger_id": session.fake.new_trigger_id("U0BOB")})
        headers = drive(session).sign(body)
        assert (await drive(session).post_raw(body, headers, FORM))[0] == 200
        await session.fake.wait_for(lambda c: c["method"] == "response_url" and "Greer" in str(c["params"]))
        assert await other.post_raw(body, headers, FORM) == (200, "")  # the replay, to the other replica
        await ask(session, "help", user="U0BOB")  # later work is answered, so the replay had its chance
        answers = [c for c in session.fake.calls_to("response_url") if "Greer" in str(c["params"])]
        assert len(answers) == 1


# A real outage ----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def outage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, CuttableProxy | None]]:
    if request.param == "sqlite":
        (tmp_path / "state").mkdir()
        yield f"sqlite:///{tmp_path / 'state' / 'state.sqlite3'}", None
        return
    with fresh_postgres_schema() as url, CuttableProxy("127.0.0.1", sa.make_url(url).port or 5432) as p:
        yield via(url, p.port), p


def watched(url: str) -> list[str]:
    """What the database holds, read past any proxy."""
    database = open_database(url)
    try:
        return DigestStore(database).watching("", "C0TRADE")
    finally:
        database.close()


async def test_an_outage_is_temporarily_unavailable_and_recovers_by_itself(
        corpus_copy: Path, tmp_path: Path, outage_url: tuple[str, CuttableProxy | None],
        caplog: pytest.LogCaptureFixture) -> None:
    url, proxy = outage_url
    direct = url if proxy is None else via(url, sa.make_url(postgres_base_url() or "").port or 5432)
    async with session_on(corpus_copy, url, tmp_path) as session:
        outage: CuttableProxy | GoneSqliteFile = proxy or GoneSqliteFile(session.service.database)
        before = await ask(session, "who kat")
        older = await ask(session, "who kat", user="U0BOB")
        assert "Now watching *rare earths*" in render_blocks((await ask(session, "watch rare earths"))["blocks"])

        outage.cut()
        caplog.set_level(logging.WARNING)
        for command in ("watch tariffs", "unwatch rare earths", "watching", "digest on", "digest status"):
            shown = render_blocks((await ask(session, command))["blocks"])
            assert compose.STORE_UNAVAILABLE in shown, command
            assert "Now watching" not in shown and "no longer" not in shown
        search = await ask(session, "tariffs china")  # the corpus is files: searching still works
        shown = render_blocks(search["blocks"])
        assert "Search: *tariffs china*" in shown and compose.BUTTONS_UNAVAILABLE in shown
        assert labels(search) == {compose.READ}
        assert "Jamieson Greer" in render_blocks((await ask(session, "who greer"))["blocks"])
        assert compose.STORE_UNAVAILABLE in await click(drive(session), before, sorted(labels(before))[0])
        assert "database unavailable for de-duplication" in caplog.text

        outage.restore()  # no restart: the next requests find the database again
        assert "Now watching *tariffs*" in render_blocks((await ask(session, "watch tariffs"))["blocks"])
        assert watched(direct) == ["rare earths", "tariffs"]  # what was acknowledged is there; nothing else
        again = await ask(session, "tariffs china")
        assert compose.SHARE in labels(again)
        choice = sorted(labels(older))[0]
        assert choice in await click(drive(session), older, choice, user="U0BOB")  # a button from before it
