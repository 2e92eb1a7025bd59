"""The HTTP guard against hostile headers and bodies: the real aiohttp server, real signatures.

Whatever arrives, the answer is 4xx unless it is a correctly signed Slack payload, and
the log gets at most a short line: no traceback, no body.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import pytest_asyncio

from bot.harness.session import HarnessSession

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
pytestmark = pytest.mark.asyncio(loop_scope="module")  # one server for the module; each request stands alone


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def http(seed_corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[HarnessSession]:
    db = tmp_path_factory.mktemp("guard") / "db.sqlite3"
    async with HarnessSession(seed_corpus_dir, transport="http", db_path=db) as session:
        yield session


def slash_body(session: HarnessSession, text: str = "who greer") -> str:
    return urlencode({"command": "/trade", "text": text, "user_id": "U0ALICE", "channel_id": "C0TRADE",
                      "team_id": "T0HARNESS", "response_url": session.fake.new_response_url(), "trigger_id": "1.2"})


def assert_quiet(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    assert not [r for r in caplog.records if r.exc_info], "a rejection logged a traceback"
    assert "Traceback" not in caplog.text
    for secret in secrets:
        assert secret not in caplog.text


@pytest.mark.parametrize("timestamp", [
    "1" + "0" * 309,  # 310 digits: an OverflowError (HTTP 500) before the signature check, once
    "9" * 40, "-1700000000", "+1700000000", " 1700000000", "1700000000 ", "1_700_000_000", "0x6553f100",
    "１７００００００００",  # full-width digits: str.isdigit() says yes
    "²", "1e9", "1700000000.0", "nan", "inf", "abc", "",
])
async def test_timestamps_of_any_shape_are_401_before_anything_runs(
        http: HarnessSession, timestamp: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = slash_body(http)
    now_signed = http.driver.sign(body)  # a real signature for now; only the timestamp header is hostile
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": now_signed["X-Slack-Signature"]}
    status, _ = await http.driver.post_raw(body.encode(), headers, FORM)
    assert status == 401
    assert_quiet(caplog)
    assert not [c for c in http.fake.calls_to("response_url") if c["params"]["response_id"] in body]


@pytest.mark.parametrize("signature", ["", "v0=", "v0=" + "0" * 64, "v1=" + "0" * 64, "v0=" + "ä" * 64,
                                       "v0=" + "0" * 2000])
async def test_wrong_signatures_of_any_shape_are_401(http: HarnessSession, signature: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = slash_body(http)
    headers = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": signature}
    status, _ = await http.driver.post_raw(body.encode(), headers, FORM)
    assert status == 401
    assert_quiet(caplog, body)


@pytest.mark.parametrize("body, ctype", [
    ("[1,2,3]", JSON), ("[1,2,3,4]", FORM), ("payload=null", FORM), ("payload=%5B%5D", FORM), ("payload=%7B%7D", FORM),
    ("payload=%5B1%2C2%5D", FORM), ("payload=%22text%22", FORM), ("null", JSON), ('"a string"', JSON), ("", FORM),
    (json.dumps({"type": "event_callback", "event_id": 12, "event": {"type": "app_mention"}}), JSON),
    (json.dumps({"type": "event_callback", "event_id": ["Ev1"], "event": {"type": "app_mention"}}), JSON),
    (json.dumps({"type": "event_callback", "event_id": "Ev1", "event": "app_mention"}), JSON),
    (json.dumps({"type": "event_callback", "event_id": "Ev1", "event": [1]}), JSON),
    (json.dumps({"type": 5}), JSON),
])
async def test_signed_bodies_that_are_not_slack_payloads_are_400(http: HarnessSession, body: str, ctype: str,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    status, _ = await http.driver.post_raw(body, http.driver.sign(body), ctype)
    assert status == 400
    assert_quiet(caplog)


async def test_a_header_too_long_for_aiohttp_is_400_with_one_short_line(http: HarnessSession,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    headers = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "7" * 10_000}
    status, _ = await http.driver.post_raw(slash_body(http), headers, FORM)
    assert status == 400
    assert_quiet(caplog, "7777777777")


async def test_signed_body_that_is_not_utf8_is_400(http: HarnessSession) -> None:
    import hashlib
    import hmac

    from bot.harness.fake_slack import SIGNING_SECRET

    body = b"command=%2Ftrade&text=\xff\xfe"
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest}
    status, _ = await http.driver.post_raw(body, headers, FORM)
    assert status == 400


async def test_a_command_whose_text_contains_payload_is_answered(http: HarnessSession) -> None:
    # bolt's parser treats any form body containing "payload" as an interactive payload (so: 404)
    answer = await (await http.driver.slash("payload tariffs")).answer()
    assert "payload tariffs" in answer["text"]


@pytest.mark.parametrize("body, ctype", [("{not json", JSON), ("payload=%7Bbad", FORM), ("\x00\x01\x02", FORM),
                                         ("a" * 5000, FORM)])
async def test_unsigned_garbage_is_401_with_one_short_line(http: HarnessSession, body: str, ctype: str,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    status, _ = await http.driver.post_raw(body, {}, ctype)
    assert status == 401
    assert_quiet(caplog, body)
    lines = [r for r in caplog.records if r.name.startswith("bot.")]
    assert len(lines) <= 1 and all(len(r.getMessage()) < 200 for r in lines)


async def test_a_flood_of_rejections_logs_a_bounded_number_of_lines(http: HarnessSession,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for _ in range(100):
        assert (await http.driver.post_raw("x=1", {}, FORM))[0] == 401
    rejections = [r for r in caplog.records if "rejected a request" in r.getMessage()]
    assert len(rejections) <= 2  # one per kind per 10 s (another test may have used this one already)


async def test_ssl_check_with_a_bad_signature_is_401_and_signed_is_200(http: HarnessSession) -> None:
    body = "ssl_check=1&token=x"
    bad = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "1" * 64}
    assert (await http.driver.post_raw(body, bad, FORM))[0] == 401
    assert (await http.driver.post_raw(body, {}, FORM))[0] == 401
    assert (await http.driver.post_raw(body, http.driver.sign(body), FORM))[0] == 200


async def test_299_seconds_is_accepted_and_301_refused(http: HarnessSession) -> None:
    for age, expected in ((299, 200), (-299, 200), (301, 401), (-301, 401)):
        body = slash_body(http)
        status, _ = await http.driver.post_raw(body, http.driver.sign(body, int(time.time()) - age), FORM)
        assert status == expected, age


async def test_a_body_over_the_limit_is_413_without_being_read(http: HarnessSession) -> None:
    # Content-Length says 10 MiB but only a few bytes follow: a guard that read the body would hang.
    import asyncio

    host, port = http.service.url.split("//")[1].split("/")[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: 10485760\r\n\r\ntext=aaaa")
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 413")


async def test_replay_within_the_window_has_no_second_effect(http: HarnessSession) -> None:
    body = slash_body(http, "help")
    rid = body.split("response%2F")[1].split("&")[0]
    headers = http.driver.sign(body)
    for _ in range(3):
        assert (await http.driver.post_raw(body, headers, FORM))[0] == 200
    await http.fake.wait_for(lambda c: c["method"] == "response_url" and c["params"]["response_id"] == rid)
    await (await http.driver.slash("who greer")).answer()  # later work is answered, so the replays were dropped
    assert len([c for c in http.fake.calls_to("response_url") if c["params"]["response_id"] == rid]) == 1
