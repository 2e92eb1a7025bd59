"""The install flow's two pages with requests nobody tuned for, over real HTTP: a person who
cancels on Slack's consent screen, garbled, duplicated, huge or missing `state` and `code`, a
database that is gone or refuses the write, an org-wide install, a second install of one
workspace. Each gets a page a person can read (never a traceback), stores nothing it should
not, and no token, code or state reaches the log."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp
import pytest
import sqlalchemy as sa
from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import AsyncFailureArgs
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

from bot.common.clock import FakeClock
from bot.harness.browser import Browser
from bot.harness.fake_slack import CLIENT_ID, CLIENT_SECRET
from bot.harness.session import HarnessSession
from bot.slack.installations import StoredInstallations
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH, build_flow
from bot.store import open_database
from bot.store.installations import InstallationRecords, OAuthStates
from bot.store.schema import installations, watches
from tests.state_helpers import GoneSqliteFile

ALPHA = "TALPHA"
STATE_COOKIE = "slack-app-oauth-state"


@pytest.fixture
async def session(corpus_copy: Path, tmp_path: Path) -> AsyncIterator[HarnessSession]:
    clock = FakeClock(dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC))
    async with HarnessSession(corpus_copy, transport="http", db_path=tmp_path / "state" / "db.sqlite3", clock=clock,
                              slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET) as s:
        s.fake.add_workspace(ALPHA, "Alpha")
        yield s


def app_base(s: HarnessSession) -> str:
    assert s.service is not None and s.service.url
    return s.service.url.removesuffix("/slack/events")


def stored(s: HarnessSession) -> dict[str, str]:
    assert s.service is not None
    with s.service.database.begin() as db:
        return {row.team_id: row.data for row in db.execute(sa.select(installations))}


def assert_clean_log(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    """No traceback, and none of `secrets`, anywhere in what was logged (tracebacks included)."""
    text = caplog.text
    assert "Traceback" not in text and "Error handling request" not in text
    for secret in secrets:
        assert secret and secret not in text


async def test_cancelling_on_slacks_consent_screen_shows_a_friendly_page(
        session: HarnessSession, caplog: pytest.LogCaptureFixture) -> None:
    browser = Browser()
    await browser.start_install(app_base(session))
    state = browser.cookies[STATE_COOKIE]
    page = await browser.get(f"{app_base(session)}{REDIRECT_PATH}?error=access_denied&state={state}")
    assert page.status == 200
    assert "cancelled" in page.text and "not added" in page.text and f'href="{INSTALL_PATH}"' in page.text
    assert "Oops" not in page.text and "Something Went Wrong" not in page.text
    assert STATE_COOKIE not in browser.cookies  # the cookie of the abandoned install is cleared
    assert stored(session) == {}
    assert_clean_log(caplog, state)


@pytest.mark.parametrize("query", [
    "",
    "?code=",
    "?state=&code=",
    "?state={state}",  # no code: the state is used up, nothing installed
    "?state={state}&state=junk-state-value&code=junk-code-one&code=junk-code-two",
    "?state=" + "S" * 6000 + "&code=" + "C" * 2000,
    "?state=%00&code=%00",
    "?state=%ff%fe%00&code=%c3%28%e2%80%ae",
    "?state={state}%00&code=x",
    "?error=&state={state}",
    "?error=" + "%0a%1b[31m" * 50,
])
async def test_odd_redirects_get_an_error_page_and_store_nothing(
        session: HarnessSession, caplog: pytest.LogCaptureFixture, query: str) -> None:
    caplog.set_level(logging.DEBUG)  # bolt prints the redirect's query at DEBUG
    browser = Browser()
    await browser.start_install(app_base(session))
    state = browser.cookies[STATE_COOKIE]
    page = await browser.get(app_base(session) + REDIRECT_PATH + query.replace("{state}", state))
    assert page.status in (200, 400, 401) and "<html" in page.text.lower()
    assert f'href="{INSTALL_PATH}"' in page.text  # somewhere to start again
    assert stored(session) == {}
    assert all(call["error"] for call in session.fake.calls_to("oauth.v2.access"))  # a junk code: refused
    assert_clean_log(caplog, state, "junk-state-value", "junk-code-one", "junk-code-two", "S" * 100, "C" * 100)
    assert "\x1b" not in caplog.text and "\n[31m" not in caplog.text


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_other_methods_on_the_install_pages_are_refused(session: HarnessSession, method: str) -> None:
    async with aiohttp.ClientSession() as http:
        for path in (INSTALL_PATH, REDIRECT_PATH):
            async with http.request(method, app_base(session) + path, data=b"state=x&code=y") as response:
                assert response.status == 405
    assert stored(session) == {}


async def test_a_database_outage_gives_a_clear_page_and_the_install_works_once_it_is_back(
        session: HarnessSession, caplog: pytest.LogCaptureFixture) -> None:
    assert session.service is not None
    outage = GoneSqliteFile(session.service.database)
    outage.cut()
    browser = Browser()
    page = await browser.get(app_base(session) + INSTALL_PATH)
    assert page.status == 503 and "unavailable" in page.text and "Traceback" not in page.text
    outage.restore()

    redirect = await browser.approve(await browser.start_install(app_base(session)), ALPHA)
    outage.cut()  # gone between the consent screen and the redirect
    page = await browser.get(redirect)
    assert page.status == 503 and "unavailable" in page.text and f'href="{INSTALL_PATH}"' in page.text
    outage.restore()
    assert stored(session) == {}
    done = await Browser().install(app_base(session), ALPHA)
    assert done.status == 200 and ALPHA in stored(session)
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    assert_clean_log(caplog, code, browser.cookies.get(STATE_COOKIE) or code)


async def test_a_database_that_refuses_the_write_logs_no_token(
        session: HarnessSession, caplog: pytest.LogCaptureFixture) -> None:
    """Not an outage (an integrity error, a read-only standby): the driver's error, parameters
    and all, names the installation's JSON, its token included: none of it may be logged."""
    assert session.service is not None
    with session.service.database.begin() as db:
        db.exec_driver_sql("CREATE TRIGGER refuse_installs BEFORE INSERT ON installations "
                           "BEGIN SELECT RAISE(ABORT, 'installs refused'); END")
    page = await Browser().install(app_base(session), ALPHA)
    assert page.status == 500 and "could not be saved" in page.text and f'href="{INSTALL_PATH}"' in page.text
    token = session.fake.workspace(ALPHA).bot_token
    assert token and stored(session) == {}
    assert_clean_log(caplog, token, token.split("-")[-1])
    assert "install" in caplog.text  # the failure itself is logged, by its kind


async def test_installing_one_workspace_twice_keeps_one_installation_with_the_new_token(
        session: HarnessSession) -> None:
    assert (await Browser().install(app_base(session), ALPHA)).status == 200
    first = session.fake.workspace(ALPHA).bot_token
    assert (await Browser().install(app_base(session), ALPHA)).status == 200
    second = session.fake.workspace(ALPHA).bot_token
    rows = stored(session)
    assert list(rows) == [ALPHA] and second and second in rows[ALPHA]
    assert first == second or first not in rows[ALPHA]
    assert session.driver is not None
    answer = await (await session.driver.in_team(ALPHA).slash("watching")).answer()
    assert "watch" in str(answer["text"]).lower()


async def test_an_org_wide_install_is_refused_with_a_page_that_says_why(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        records = InstallationRecords(database)
        store = StoredInstallations(records)
        org = Installation(user_id="U1", enterprise_id="E0ORG", team_id=None, bot_token="xoxb-e-1",
                           is_enterprise_install=True)
        with pytest.raises(BoltError):
            await store.async_save(org)
        assert records.teams() == []
        flow = build_flow(AsyncWebClient(), CLIENT_ID, CLIENT_SECRET, records, OAuthStates(database), None)
        request = AsyncBoltRequest(body="", query=f"state={quote('s')}&code=c", headers={})
        response = await flow.failure_handler(AsyncFailureArgs(
            request=request, reason="storage_error", error=BoltError("org-wide installs are not supported"),
            suggested_status_code=500, settings=flow.settings, default=flow.default_callback_options))
        assert response.status == 400
        assert "organisation" in response.body and "workspace" in response.body and "Oops" not in response.body
    finally:
        database.close()


# Which workspace state is kept under -------------------------------------------------------

async def test_state_is_kept_under_the_workspace_bolt_authorized_not_a_team_id_the_body_claims(
        session: HarnessSession) -> None:
    """The signature is the app's, not a workspace's: a signed body can carry a `team_id` that
    disagrees with the installation it was delivered for (a Slack Connect channel's event names
    the other side's workspace; `authorizations` names ours). Bolt answers with the token of the
    installation it authorized; the watch list must be that workspace's too."""
    assert (await Browser().install(app_base(session), ALPHA)).status == 200
    assert session.driver is not None
    alpha = session.driver.in_team(ALPHA)
    state = session.fake.workspace(ALPHA).state
    user, channel = state.people[0], state.trade
    said = state.user_says(channel, user, f"<@{state.bot_user}> watch rare earths")
    body = alpha._event({"type": "app_mention", "user": user, "text": said["text"], "ts": said["ts"],  # noqa: SLF001
                         "channel": channel, "event_ts": said["ts"]})
    body["team_id"] = "T0ELSEWHERE"  # the other side of a shared channel: never installed here
    raw = json.dumps(body)
    status, _ = await alpha.post_raw(raw, alpha.sign(raw), "application/json")
    assert status == 200
    await eventually(lambda: watched(session) != set())
    assert watched(session) == {(ALPHA, "rare earths")}
    answer = await (await alpha.slash("watching")).answer()
    assert "rare earths" in json.dumps(answer)


def watched(s: HarnessSession) -> set[tuple[str, str]]:
    assert s.service is not None
    with s.service.database.begin() as db:
        return {(row.team_id, row.topic) for row in db.execute(sa.select(watches))}


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)
