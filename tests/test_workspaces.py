"""Many workspaces: installed through the OAuth flow against the fake Slack, over real HTTP.

The app runs as `tradebot run` does (HTTP mode, `SLACK_CLIENT_ID` + `SLACK_CLIENT_SECRET`,
no `SLACK_BOT_TOKEN`); a browser opens `/slack/install`, approves on the fake's consent
screen and follows the redirect with the code. Each workspace is then answered with its
own token, keeps its own watch lists, digest channels and buttons, and an uninstall takes
only that workspace's tokens away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.common.clock import FakeClock
from bot.harness.browser import Browser
from bot.harness.fake_slack import CLIENT_ID, CLIENT_SECRET, Workspace
from bot.harness.session import HarnessSession
from bot.store.schema import installations

ALPHA, BETA = "TALPHA", "TBETA"


@pytest.fixture
async def session(seed_corpus_dir: Path, tmp_path: Path) -> AsyncIterator[HarnessSession]:
    clock = FakeClock(dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC))
    async with HarnessSession(seed_corpus_dir, transport="http", db_path=tmp_path / "db.sqlite3", clock=clock,
                              slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET) as s:
        s.fake.add_workspace(ALPHA, "Alpha")
        s.fake.add_workspace(BETA, "Beta")
        yield s


def app_base(s: HarnessSession) -> str:
    assert s.service is not None and s.service.url
    return s.service.url.removesuffix("/slack/events")


def stored(s: HarnessSession) -> dict[str, str]:
    """team id -> the stored installation's JSON, straight from the database."""
    assert s.service is not None
    with s.service.database.begin() as db:
        return {row.team_id: row.data for row in db.execute(sa.select(installations))}


async def install(s: HarnessSession, team: str) -> Workspace:
    page = await Browser().install(app_base(s), team)
    assert page.status == 200, page.text
    return s.fake.workspace(team)


async def test_installing_into_two_workspaces_stores_each_ones_token(session: HarnessSession) -> None:
    alpha, beta = await install(session, ALPHA), await install(session, BETA)
    assert alpha.bot_token and beta.bot_token and alpha.bot_token != beta.bot_token
    rows = stored(session)
    assert set(rows) == {ALPHA, BETA}
    assert alpha.bot_token in rows[ALPHA] and beta.bot_token in rows[BETA]
    [access_a, access_b] = session.fake.calls_to("oauth.v2.access")
    assert access_a["ok"] and access_a["team"] == ALPHA and access_b["team"] == BETA
    # the install asked for exactly the manifest's bot scopes, and got them
    assert alpha.api.granted == session.fake.scopes


async def test_each_workspace_is_answered_with_its_own_token(session: HarnessSession) -> None:
    await install(session, ALPHA)
    await install(session, BETA)
    assert session.driver is not None
    for team in (ALPHA, BETA):
        driver = session.driver.in_team(team)
        answer = await (await driver.slash("tariffs")).answer()
        assert "tariff" in answer["text"].lower()
        status, _ = await driver.mention("tariffs")
        assert status == 200
        workspace = session.fake.workspace(team)
        post = await session.fake.wait_for(lambda c, w=workspace: c["method"] == "chat.postMessage"
                                           and c["params"].get("channel") == w.trade)
        assert post["ok"] and post["team"] == team
    authorized = {c["team"] for c in session.fake.calls_to("auth.test") if c["ok"]}
    assert {ALPHA, BETA} <= authorized
