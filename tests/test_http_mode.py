"""HTTP mode against bad requests: real signed requests to the real aiohttp server."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.harness.fake_slack import SIGNING_SECRET
from bot.harness.session import HarnessSession
from bot.settings import SettingsError, isolated_settings
from bot.slack.http import RequestGuard

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def http(seed_corpus_dir: Path, tmp_path: Path) -> AsyncIterator[HarnessSession]:
    async with HarnessSession(seed_corpus_dir, transport="http", db_path=tmp_path / "db.sqlite3") as session:
        yield session


def slash_body(session: HarnessSession, text: str = "who greer") -> str:
    return urlencode({"command": "/trade", "text": text, "user_id": "U0ALICE", "channel_id": "C0TRADE",
                      "team_id": "T0HARNESS", "response_url": session.fake.new_response_url(), "trigger_id": "1.2"})


def handled(session: HarnessSession) -> int:
    return len([c for c in session.fake.calls if c["method"] == "response_url"])


async def test_missing_signature_is_401_and_runs_nothing(http: HarnessSession) -> None:
    status, _ = await http.driver.post_raw(slash_body(http), {}, FORM)
    assert status == 401 and handled(http) == 0


async def test_body_changed_by_one_byte_is_401(http: HarnessSession) -> None:
    body = slash_body(http)
    headers = http.driver.sign(body)
    status, _ = await http.driver.post_raw(body.replace("greer", "greeR"), headers, FORM)
    assert status == 401


@pytest.mark.parametrize("age, expected", [(301, 401), (-301, 401), (299, 200), (-299, 200)])
async def test_timestamp_window(http: HarnessSession, age: int, expected: int) -> None:
    body = slash_body(http)
    status, _ = await http.driver.post_raw(body, http.driver.sign(body, int(time.time()) - age), FORM)
    assert status == expected


@pytest.mark.parametrize("timestamp", ["abc", "", "1700000000.5", "-1"])
async def test_bad_timestamps_are_4xx_never_5xx(http: HarnessSession, timestamp: str) -> None:
    body = slash_body(http)
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
    status, _ = await http.driver.post_raw(body, headers, FORM)
    assert 400 <= status < 500


@pytest.mark.parametrize("body, ctype", [("{not json", "application/json"), ("payload=%7Bbad", FORM)])
async def test_unsigned_garbage_is_4xx_and_not_logged(http: HarnessSession, body: str, ctype: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    status, _ = await http.driver.post_raw(body, {}, ctype)
    assert 400 <= status < 500
    assert "%7Bbad" not in caplog.text and "{not json" not in caplog.text


async def test_signed_garbage_is_400(http: HarnessSession) -> None:
    body = "payload=%7Bbad"
    status, _ = await http.driver.post_raw(body, http.driver.sign(body), FORM)
    assert status == 400


async def test_replayed_request_has_no_second_effect(http: HarnessSession) -> None:
    body = slash_body(http)
    headers = http.driver.sign(body)
    assert (await http.driver.post_raw(body, headers, FORM))[0] == 200
    await http.fake.wait_for(lambda c: c["method"] == "response_url")
    assert (await http.driver.post_raw(body, headers, FORM))[0] == 200
    await http.driver.slash("help")  # a later, different command: proves the bot is still answering
    await http.fake.wait_for(lambda c: c["method"] == "response_url" and "How to use" in c["params"].get("text", ""))
    assert handled(http) == 2


async def test_ssl_check_with_bad_signature_is_401(http: HarnessSession) -> None:
    body = "ssl_check=1&token=x"
    status, _ = await http.driver.post_raw(body, {"X-Slack-Request-Timestamp": str(int(time.time())),
                                                  "X-Slack-Signature": "v0=bad"}, FORM)
    assert status == 401


async def test_body_over_one_mebibyte_is_413(http: HarnessSession) -> None:
    body = "text=" + "a" * (1024 * 1024 + 10)
    status, _ = await http.driver.post_raw(body, http.driver.sign(body), FORM)
    assert status == 413 and handled(http) == 0


async def test_redelivered_event_is_processed_once(http: HarnessSession) -> None:
    event = {"type": "event_callback", "event_id": "Ev0SAME", "team_id": "T0HARNESS",
             "event": {"type": "app_mention", "user": "U0ALICE", "text": "<@UTRADEBOT> who greer",
                       "ts": "1.1", "channel": "C0TRADE"}}
    for retry in ("", "1"):
        body = json.dumps(event)
        headers = {**http.driver.sign(body), **({"X-Slack-Retry-Num": retry} if retry else {})}
        assert (await http.driver.post_raw(body, headers, "application/json"))[0] == 200
    await http.fake.wait_for(lambda c: c["method"] == "chat.postMessage")
    await http.driver.slash("help")
    await http.fake.wait_for(lambda c: c["method"] == "response_url")
    assert len(http.fake.calls_to("chat.postMessage")) == 1


async def test_health_endpoint(http: HarnessSession) -> None:
    import aiohttp

    url = http.service.url.replace("/slack/events", "/health")
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        data = await response.json()
    assert response.status == 200 and data["ok"] and data["articles"] == 5


def test_http_mode_refuses_to_start_without_signing_secret(seed_corpus_dir: Path) -> None:
    settings = isolated_settings(mode="http", slack_signing_secret=None, corpus_dir=seed_corpus_dir,
                                 slack_bot_token="xoxb-1")
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        settings.require_slack()
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        RequestGuard("")


def test_guard_uses_an_injectable_clock() -> None:
    import datetime as dt

    from slack_sdk.signature import SignatureVerifier

    from bot.common.clock import FakeClock

    clock = FakeClock(dt.datetime.fromtimestamp(1_700_000_000, dt.UTC))
    guard = RequestGuard(SIGNING_SECRET, clock=clock)
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp="1700000000", body="x=1")
    assert guard.verify(b"x=1", "1700000000", signature)
    clock.advance(seconds=301)
    assert not guard.verify(b"x=1", "1700000000", signature)
