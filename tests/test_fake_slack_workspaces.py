"""The fake Slack's workspaces and install flow are as strict as Slack's: a token acts only in
its own workspace, codes work once, and the app must name itself correctly."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError

from bot.common.clock import FakeClock
from bot.harness.fake_slack import BOT_TOKEN, CLIENT_ID, CLIENT_SECRET, FakeSlack
from bot.slack.client import make_client

REDIRECT = "https://tradebot.example/slack/oauth_redirect"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(clock=FakeClock(dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)))
    slack.app.redirect_urls = [REDIRECT]
    slack.add_workspace("TACME", "Acme")
    await slack.start()
    yield slack
    await slack.stop()


async def consent(fake: FakeSlack, team: str = "TACME", **query: str) -> tuple[int, str]:
    """The consent screen's answer: (status, the redirect's Location or the error page)."""
    params = {"client_id": CLIENT_ID, "scope": "commands,chat:write", "state": "s1", "team": team, **query}
    async with aiohttp.ClientSession() as session, session.get(
            f"{fake.url}/oauth/v2/authorize?{urlencode(params)}", allow_redirects=False) as response:
        return response.status, response.headers.get("Location") or await response.text()


async def code_for(fake: FakeSlack, **query: str) -> str:
    status, location = await consent(fake, **query)
    assert status == 302, location
    return parse_qs(urlsplit(location).query)["code"][0]


async def access(fake: FakeSlack, code: str, **kwargs: Any) -> dict[str, Any]:
    client = make_client(None, fake.api_url)
    args = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code, **kwargs}
    try:
        return dict((await client.oauth_v2_access(**args)).data)  # type: ignore[arg-type]
    except SlackApiError as exc:
        return dict(exc.response.data)  # type: ignore[arg-type]


async def test_the_consent_screen_redirects_with_a_code_and_the_state(fake: FakeSlack) -> None:
    status, location = await consent(fake)
    assert status == 302 and location.startswith(REDIRECT + "?")
    assert parse_qs(urlsplit(location).query)["state"] == ["s1"]


@pytest.mark.parametrize("query, error", [({"client_id": "999.999"}, "invalid_client_id"),
                                          ({"scope": ""}, "invalid_scope"),
                                          ({"redirect_uri": "https://evil.example/cb"}, "bad_redirect_uri"),
                                          ({"team": "TNOWHERE"}, "invalid_team")])
async def test_the_consent_screen_refuses_what_slack_refuses(fake: FakeSlack, query: dict[str, str],
                                                              error: str) -> None:
    status, page = await consent(fake, **query)
    assert status == 400 and error in page


async def test_oauth_v2_access_answers_in_slacks_shape_once(fake: FakeSlack) -> None:
    code = await code_for(fake)
    answer = await access(fake, code)
    token = answer.pop("access_token")
    assert token.startswith("xoxb-") and answer == {
        "ok": True, "app_id": "A0TRADEBOT", "authed_user": {"id": "UACMEALICE"}, "scope": "chat:write,commands",
        "token_type": "bot", "bot_user_id": "UACMETRADEBOT", "team": {"id": "TACME", "name": "Acme"},
        "enterprise": None, "is_enterprise_install": False}
    assert (await access(fake, code))["error"] == "invalid_code"  # one-time
    auth = await make_client(token, fake.api_url).auth_test()
    assert auth["team_id"] == "TACME" and auth["user_id"] == "UACMETRADEBOT"


async def test_oauth_v2_access_checks_the_client_and_the_redirect(fake: FakeSlack) -> None:
    code = await code_for(fake, redirect_uri=REDIRECT)
    assert (await access(fake, code, client_id="999.999"))["error"] == "invalid_client_id"
    assert (await access(fake, code, client_secret="wrong"))["error"] == "bad_client_secret"
    assert (await access(fake, code))["error"] == "bad_redirect_uri"  # it was sent: it must be sent again
    assert (await access(fake, "123.nope", redirect_uri=REDIRECT))["error"] == "invalid_code"
    # the client in form fields instead of HTTP Basic is accepted too
    async with aiohttp.ClientSession() as session, session.post(fake.api_url + "oauth.v2.access", data={
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code, "redirect_uri": REDIRECT}) as r:
        assert (await r.json())["ok"] is True


async def test_a_code_expires_after_ten_minutes(fake: FakeSlack) -> None:
    code = await code_for(fake)
    clock = fake.state.clock
    assert isinstance(clock, FakeClock)
    clock.advance(minutes=11)
    assert (await access(fake, code))["error"] == "invalid_code"


async def test_a_token_acts_only_in_its_own_workspace(fake: FakeSlack) -> None:
    token = (await access(fake, await code_for(fake)))["access_token"]
    acme = fake.workspace("TACME")
    mine, theirs = make_client(token, fake.api_url), make_client(BOT_TOKEN, fake.api_url)
    await mine.chat_postMessage(channel=acme.trade, text="hello Acme")
    with pytest.raises(SlackApiError) as refused:
        await mine.chat_postMessage(channel="C0TRADE", text="hello Harness")  # the default workspace's
    assert refused.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as refused:
        await theirs.chat_postMessage(channel=acme.trade, text="hello from elsewhere")
    assert refused.value.response["error"] == "channel_not_found"
    assert [m["text"] for m in fake.channel_messages(acme.trade)] == ["hello Acme"]
    assert fake.channel_messages(acme.trade)[0]["user"] == "UACMETRADEBOT"


async def test_apps_uninstall_revokes_the_token_and_tells_the_app(fake: FakeSlack) -> None:
    received: list[dict[str, Any]] = []

    async def app_events(request: web.Request) -> web.Response:
        received.append({"body": await request.json(), "signed": "X-Slack-Signature" in request.headers})
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/slack/events", app_events)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        fake.app.request_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        token = (await access(fake, await code_for(fake)))["access_token"]
        client = make_client(token, fake.api_url)
        with pytest.raises(SlackApiError) as refused:
            await client.apps_uninstall(client_id=CLIENT_ID, client_secret="wrong")
        assert refused.value.response["error"] == "bad_client_secret"
        await client.apps_uninstall(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        async with asyncio.timeout(5):  # Slack answers first and sends the events after
            while len(received) < 2:
                await asyncio.sleep(0.02)
        assert [r["body"]["event"]["type"] for r in received] == ["tokens_revoked", "app_uninstalled"]
        assert all(r["signed"] and r["body"]["team_id"] == "TACME" for r in received)
        assert received[0]["body"]["event"]["tokens"] == {"oauth": [], "bot": ["UACMETRADEBOT"]}
        with pytest.raises(SlackApiError) as refused:
            await client.auth_test()
        assert refused.value.response["error"] == "token_revoked"
    finally:
        await runner.cleanup()
