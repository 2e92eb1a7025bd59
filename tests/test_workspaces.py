"""Many workspaces: installed through the OAuth flow against the fake Slack, over real HTTP.

The app runs as `tradebot run` does (HTTP mode, `SLACK_CLIENT_ID` + `SLACK_CLIENT_SECRET`,
no `SLACK_BOT_TOKEN`); a browser opens `/slack/install`, approves on the fake's consent
screen and follows the redirect with the code. Each workspace is then answered with its
own token, keeps its own watch lists, digest channels and buttons, and an uninstall takes
only that workspace's tokens away.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from slack_bolt.error import BoltError
from slack_sdk.oauth.installation_store import Installation

from bot.common.clock import FakeClock
from bot.digest.records import DigestOutcome
from bot.harness.browser import Browser
from bot.harness.driver import Driver, Transport
from bot.harness.fake_slack import CLIENT_ID, CLIENT_SECRET, TEAM, Workspace
from bot.harness.session import HarnessSession
from bot.settings import SettingsError, isolated_settings
from bot.slack.installations import StoredInstallations
from bot.store import database_url, open_database
from bot.store.installations import InstallationRecords, OAuthStates
from bot.store.schema import installations, watches
from tests.helpers import add_articles

ALPHA, BETA = "TALPHA", "TBETA"
STATE_COOKIE = "slack-app-oauth-state"


@pytest.fixture
async def session(corpus_copy: Path, tmp_path: Path) -> AsyncIterator[HarnessSession]:
    add_articles(corpus_copy, 12)  # enough tariff articles for a "More results" button
    clock = FakeClock(dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC))
    async with HarnessSession(corpus_copy, transport="http", db_path=tmp_path / "db.sqlite3", clock=clock,
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


def watched(s: HarnessSession) -> set[tuple[str, str]]:
    assert s.service is not None
    with s.service.database.begin() as db:
        return {(row.team_id, row.topic) for row in db.execute(sa.select(watches))}


def people(s: HarnessSession, team: str) -> Driver:
    assert s.driver is not None
    return s.driver.in_team(team)


async def install(s: HarnessSession, team: str) -> Workspace:
    page = await Browser().install(app_base(s), team)
    assert page.status == 200, page.text
    return s.fake.workspace(team)


async def say(driver: Driver, text: str) -> str:
    return str((await (await driver.slash(text)).answer())["text"])


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Events are acked first and handled after: wait (bounded) for their effect."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_installing_into_two_workspaces_stores_each_ones_token(session: HarnessSession) -> None:
    alpha, beta = await install(session, ALPHA), await install(session, BETA)
    assert alpha.bot_token and beta.bot_token and alpha.bot_token != beta.bot_token
    rows = stored(session)
    assert set(rows) == {ALPHA, BETA}
    assert alpha.bot_token in rows[ALPHA] and beta.bot_token in rows[BETA]
    assert [c["team"] for c in session.fake.calls_to("oauth.v2.access") if c["ok"]] == [ALPHA, BETA]
    assert alpha.api.granted == session.fake.scopes  # asked for exactly the manifest's bot scopes


async def test_each_workspace_is_answered_with_its_own_token(session: HarnessSession) -> None:
    await install(session, ALPHA)
    await install(session, BETA)
    for team in (ALPHA, BETA):
        driver, workspace = people(session, team), session.fake.workspace(team)
        slash = await driver.slash("tariffs")
        answer = await slash.answer()
        assert "tariff" in answer["text"].lower()
        [reply] = [c for c in session.fake.calls_to("response_url") if c["params"]["response_id"] == slash.response_id]
        assert reply["team"] == team
        status, _ = await driver.mention("tariffs")
        assert status == 200
        post = await session.fake.wait_for(lambda c, w=workspace: c["method"] == "chat.postMessage"
                                           and c["params"].get("channel") == w.trade)
        assert post["ok"] and post["team"] == team  # posted with this workspace's token, in its channel
    assert {c["team"] for c in session.fake.calls_to("auth.test") if c["ok"]} == {ALPHA, BETA}
    assert session.fake.rejections() == []


async def test_watch_lists_are_kept_apart(session: HarnessSession) -> None:
    await install(session, ALPHA)
    await install(session, BETA)
    alpha, beta = people(session, ALPHA), people(session, BETA)
    assert "Now watching *rare earths*" in await say(alpha, "watch rare earths")
    assert "watches no topics" in await say(beta, "watching")
    assert "Now watching *steel*" in await say(beta, "watch steel")
    assert "rare earths" in await say(alpha, "watching") and "steel" not in await say(alpha, "watching")
    assert "steel" in await say(beta, "watching") and "rare earths" not in await say(beta, "watching")
    assert watched(session) == {(ALPHA, "rare earths"), (BETA, "steel")}


async def test_a_button_from_one_workspace_is_expired_in_another(session: HarnessSession) -> None:
    await install(session, ALPHA)
    await install(session, BETA)
    alpha, beta = people(session, ALPHA), people(session, BETA)
    answer = await (await alpha.slash("tariffs")).answer()
    elsewhere = await beta.click(answer["blocks"], "More results", forged=True)  # the same value, sent from Beta
    assert "That button has expired" in (await elsewhere.answer())["text"]
    here = await alpha.click(answer["blocks"], "More results")
    assert "That button has expired" not in (await here.answer())["text"]


async def test_each_workspace_digest_posts_with_its_own_token(session: HarnessSession) -> None:
    await install(session, ALPHA)
    await install(session, BETA)
    for team in (ALPHA, BETA):
        assert "now gets the daily digest" in await say(people(session, team), "digest on")
    assert session.service is not None and session.clock is not None
    assert isinstance(session.clock, FakeClock)
    session.clock.set(dt.datetime(2026, 11, 23, 8, 0, 5, tzinfo=dt.UTC))
    alpha, beta = session.fake.workspace(ALPHA), session.fake.workspace(BETA)
    assert await session.service.scheduler.tick() == {alpha.trade: DigestOutcome.POSTED,
                                                     beta.trade: DigestOutcome.POSTED}
    posts = [c for c in session.fake.calls_to("chat.postMessage") if c["ok"] and c["params"].get("metadata")]
    assert sorted((c["team"], c["params"]["channel"]) for c in posts) == [(ALPHA, alpha.trade), (BETA, beta.trade)]
    assert "TALPHA" not in str(session.fake.channel_messages(beta.trade))


async def test_uninstall_removes_only_that_workspaces_tokens(session: HarnessSession) -> None:
    alpha_ws = await install(session, ALPHA)
    await install(session, BETA)
    alpha, beta = people(session, ALPHA), people(session, BETA)
    await say(alpha, "watch rare earths")
    await say(alpha, "digest on")
    await say(beta, "watch steel")
    token = alpha_ws.bot_token
    assert await session.fake.uninstall(ALPHA) == [200, 200]  # tokens_revoked, app_uninstalled: signed, accepted
    await eventually(lambda: ALPHA not in stored(session))
    await eventually(lambda: watched(session) == {(BETA, "steel")})
    assert session.service is not None
    assert session.service.store.subscribed() == []
    assert token is not None and token not in str(stored(session))
    assert "not installed in this workspace" in await say(alpha, "watching")  # no token: not answered
    assert "steel" in await say(beta, "watching")
    status, _ = await beta.mention("tariffs")
    assert status == 200
    post = await session.fake.wait_for(lambda c: c["method"] == "chat.postMessage" and c.get("team") == BETA)
    assert post["ok"]


async def test_a_reinstall_after_an_uninstall_works_again(session: HarnessSession) -> None:
    await install(session, ALPHA)
    await session.fake.uninstall(ALPHA)
    await eventually(lambda: ALPHA not in stored(session))
    workspace = await install(session, ALPHA)
    assert workspace.bot_token and workspace.bot_token in stored(session)[ALPHA]
    assert "Now watching" in await say(people(session, ALPHA), "watch tariffs")


async def test_a_tampered_state_is_refused_and_nothing_is_stored(session: HarnessSession) -> None:
    browser = Browser()
    redirect = await browser.approve(await browser.start_install(app_base(session)), ALPHA)
    query = parse_qs(urlsplit(redirect).query)
    forged = redirect.split("?")[0] + "?" + urlencode({"code": query["code"][0], "state": "forged-state"})
    page = await browser.get(forged)
    assert page.status == 400 and "invalid_browser" in page.text and "/slack/install" in page.text
    other_browser = await Browser().get(redirect)  # the right URL, opened where the install did not start
    assert other_browser.status == 400 and "invalid_browser" in other_browser.text
    assert stored(session) == {} and session.fake.calls_to("oauth.v2.access") == []


async def test_a_used_code_or_state_is_refused_and_nothing_changes(session: HarnessSession) -> None:
    browser = Browser()
    redirect = await browser.approve(await browser.start_install(app_base(session)), ALPHA)
    state = parse_qs(urlsplit(redirect).query)["state"][0]
    assert (await browser.get(redirect)).status == 200
    before = stored(session)
    assert STATE_COOKIE not in browser.cookies  # the app cleared it
    browser.cookies[STATE_COOKIE] = state  # the same redirect again, cookie and all: the state is used up
    again = await browser.get(redirect)
    assert again.status == 401 and "invalid_state" in again.text
    # a fresh state with the old code: Slack refuses the code (one-time)
    await browser.start_install(app_base(session))
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    fresh = browser.cookies[STATE_COOKIE]
    reused = await browser.get(redirect.split("?")[0] + "?" + urlencode({"code": code, "state": fresh}))
    assert reused.status == 401 and "invalid_code" in reused.text
    assert [c["error"] for c in session.fake.calls_to("oauth.v2.access")] == [None, "invalid_code"]
    assert stored(session) == before


async def test_an_install_left_too_long_is_refused(session: HarnessSession) -> None:
    browser = Browser()
    redirect = await browser.approve(await browser.start_install(app_base(session)), ALPHA)
    assert isinstance(session.clock, FakeClock)
    session.clock.advance(minutes=11)  # the state lives 10 minutes
    page = await browser.get(redirect)
    assert page.status == 401 and "invalid_state" in page.text
    assert stored(session) == {}


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_the_single_workspace_keeps_working_and_ignores_uninstall_events(
        corpus_copy: Path, tmp_path: Path, transport: Transport, caplog: pytest.LogCaptureFixture) -> None:
    async with HarnessSession(corpus_copy, transport=transport, db_path=tmp_path / "db.sqlite3") as s:
        assert s.driver is not None and s.service is not None
        assert "Now watching" in await say(s.driver, "watch rare earths")
        if transport == "http":
            page = await Browser().get(app_base(s) + "/slack/install")
            assert page.status == 404  # no install flow without SLACK_CLIENT_ID
        assert await s.fake.uninstall(TEAM) == [200, 200]  # over HTTP signed, or as socket envelopes acked
        await eventually(lambda: "SLACK_BOT_TOKEN no longer works" in caplog.text)
        assert watched(s) == {("", "rare earths")}  # the operator's token: nothing stored to remove


def test_the_install_flow_needs_no_bot_token_but_http_mode() -> None:
    oauth = {"slack_client_id": CLIENT_ID, "slack_client_secret": CLIENT_SECRET}
    isolated_settings(**oauth, slack_signing_secret="s", mode="http").require_slack()
    with pytest.raises(SettingsError, match="needs HTTP mode"):
        isolated_settings(**oauth, slack_app_token="xapp-1").require_slack()
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        isolated_settings(**oauth, mode="http").require_slack()
    with pytest.raises(SettingsError, match="SLACK_CLIENT_SECRET is not set"):
        isolated_settings(slack_client_id=CLIENT_ID, slack_bot_token="xoxb-1", slack_signing_secret="s",
                          mode="http").require_slack()


# The stores behind the flow, on SQLite and on PostgreSQL ------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def install_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL of its own per test: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'installs.sqlite3'}"
        return
    url = os.environ.get("TRADEBOT_TEST_DATABASE_URL")
    if not url:
        pytest.skip("TRADEBOT_TEST_DATABASE_URL is not set: the PostgreSQL variant is skipped")
    base = sa.make_url(database_url(tmp_path, url))
    schema = f"oauth_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def installation(team: str, token: str) -> Installation:
    return Installation(app_id="A0TRADEBOT", team_id=team, team_name=team.title(), bot_token=token, bot_id="B1",
                        bot_user_id="U1BOT", bot_scopes="commands,chat:write", user_id="U1ALICE", token_type="bot")


async def test_installations_round_trip_and_a_reinstall_replaces(install_db: str) -> None:
    database = open_database(install_db)
    try:
        store = StoredInstallations(InstallationRecords(database))
        await store.async_save(installation("TONE", "xoxb-one-1"))
        await store.async_save(installation("TTWO", "xoxb-two-1"))
        await store.async_save(installation("TONE", "xoxb-one-2"))  # reinstalled
        found = await store.async_find_installation(enterprise_id=None, team_id="TONE")
        assert found is not None and found.bot_token == "xoxb-one-2" and found.bot_scopes == ["commands", "chat:write"]
        assert await store.async_find_installation(enterprise_id=None, team_id="TONE", user_id="U1OTHER") is None
        bot = await store.async_find_bot(enterprise_id=None, team_id="TTWO")
        assert bot is not None and bot.bot_token == "xoxb-two-1"
        await store.async_delete_installation(enterprise_id=None, team_id="TTWO", user_id="U1ALICE")  # no user token
        assert await store.async_find_bot(enterprise_id=None, team_id="TTWO") is not None
        await store.async_delete_all(enterprise_id=None, team_id="TTWO")
        assert await store.async_find_bot(enterprise_id=None, team_id="TTWO") is None
        assert InstallationRecords(database).teams() == ["TONE"]
        with pytest.raises(BoltError):
            await store.async_save(Installation(enterprise_id="E1", is_enterprise_install=True, user_id="U1"))
    finally:
        database.close()


def test_a_state_is_consumed_once_across_replicas_and_expires(install_db: str) -> None:
    clock = FakeClock(dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC))
    replicas = [open_database(install_db) for _ in range(2)]
    try:
        one, two = (OAuthStates(db, lifetime=600, clock=clock) for db in replicas)
        for _ in range(5):
            state = one.issue()
            with ThreadPoolExecutor(4) as pool:
                outcomes = list(pool.map(OAuthStates.consume, [one, two, one, two], [state] * 4))
            assert outcomes.count(True) == 1
        late = two.issue()
        clock.advance(seconds=601)
        assert one.consume(late) is False and one.consume("") is False and one.consume("never-issued") is False
    finally:
        for db in replicas:
            db.close()


async def test_no_token_code_or_secret_reaches_the_log(session: HarnessSession,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """Even at DEBUG, where slack-sdk prints `oauth.v2.access` answers and bolt a refused code."""
    caplog.set_level(logging.DEBUG)
    browser = Browser()
    redirect = await browser.approve(await browser.start_install(app_base(session)), ALPHA)
    assert (await browser.get(redirect)).status == 200
    await browser.start_install(app_base(session))
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    again = f"{redirect.split('?')[0]}?{urlencode({'code': code, 'state': browser.cookies[STATE_COOKIE]})}"
    assert (await browser.get(again)).status == 401  # a refused code: bolt logs a warning about it
    await say(people(session, ALPHA), "watching")
    token = session.fake.workspace(ALPHA).bot_token
    assert token and caplog.records
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "oauth.v2.access refused the install: invalid_code" in logged
    state = parse_qs(urlsplit(redirect).query)["state"][0]
    for secret in (token, code, state, CLIENT_SECRET, token.split("-")[-1]):
        assert secret not in logged
