"""Log hygiene: nothing that came in a request can start a new log line."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.common.logs import RateLimitedLog, SafeLogFilter, neutralise
from bot.harness.session import HarnessSession

FORGED = "FORGED 2026-12-01 ERROR bot.slack: admin token leaked"


@pytest.fixture
async def http(seed_corpus_dir: Path, tmp_path: Path) -> AsyncIterator[HarnessSession]:
    # The service installs the filter on start (as under `tradebot run`), on the handlers pytest captures with.
    async with HarnessSession(seed_corpus_dir, transport="http", db_path=tmp_path / "db.sqlite3") as session:
        yield session


def forged_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [line for line in caplog.text.splitlines() if line.lstrip().startswith("FORGED")]


@pytest.mark.parametrize("breaker", ["\n", "\r", "\u2028", "\x1b[2K\r"])
async def test_a_redelivered_event_id_with_a_line_break_stays_on_one_line(
        http: HarnessSession, caplog: pytest.LogCaptureFixture, breaker: str) -> None:
    caplog.set_level(logging.INFO)
    event = {"type": "event_callback", "event_id": f"Ev1{breaker}{FORGED}", "team_id": "T0HARNESS",
             "event": {"type": "app_mention", "user": "U0ALICE", "text": "<@UTRADEBOT> help", "ts": "1.1",
                       "channel": "C0TRADE"}}
    for attempt in range(2):  # the second delivery (Slack's retry) is logged, with its event_id
        body = json.dumps({**event, "event_time": attempt})
        assert (await http.driver.post_raw(body, http.driver.sign(body), "application/json"))[0] == 200
    await http.fake.wait_for(lambda c: c["method"] == "chat.postMessage")
    assert "redelivered event" in caplog.text
    assert forged_lines(caplog) == []
    assert not [r for r in caplog.records if breaker in r.getMessage()]


async def test_an_unknown_action_id_with_newlines_stays_on_one_line(http: HarnessSession,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    payload = {"type": "block_actions", "user": {"id": "U0ALICE"}, "team": {"id": "T0HARNESS"},
               "trigger_id": "1.2", "response_url": f"{http.fake.url}/response/x\n{FORGED}",
               "actions": [{"type": "button", "action_id": f"nope\n{FORGED}", "block_id": "b", "value": "v"}]}
    body = urlencode({"payload": json.dumps(payload)})
    status, _ = await http.driver.post_raw(body, http.driver.sign(body), "application/x-www-form-urlencoded")
    assert status == 404  # bolt: no listener for that action_id; it logs the request it could not route
    assert "Unhandled request" in caplog.text
    assert forged_lines(caplog) == []


async def test_a_slash_command_with_newlines_everywhere_is_answered_and_logs_one_line_each(
        http: HarnessSession, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    http.fake.fail(__import__("bot.harness.fake_slack", fromlist=["Failure"]).Failure(
        method="response_url", error="expired_url"))
    interaction = await http.driver.slash(f"tariffs\n{FORGED}")
    await http.fake.wait_for(lambda c: c["method"] == "chat.postEphemeral")
    assert interaction.ack_status == 200
    assert forged_lines(caplog) == []


def test_neutralise_shows_control_characters_as_escapes() -> None:
    assert neutralise("a\nb\r\tc\x00\x1b[31m\u2028\u202e") == "a\\nb\\r\\tc\\x00\\x1b[31m\\u2028\\u202e"
    assert neutralise("plain text, 黃仁勳 and emoji 🇺🇸") == "plain text, 黃仁勳 and emoji 🇺🇸"


def test_the_filter_folds_arguments_and_keeps_bad_format_strings() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "event %s (retry %s)", ("E\n1", None), None)
    assert SafeLogFilter().filter(record) and record.getMessage() == "event E\\n1 (retry None)"
    broken = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items", ("many\n",), None)
    assert SafeLogFilter().filter(broken) and "\n" not in broken.getMessage()


def test_rate_limited_log_lets_one_line_through_per_interval_and_counts_the_rest(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    now = [0.0]
    limited = RateLimitedLog(logging.getLogger("test.limited"), interval=10, clock=lambda: now[0])
    logged = [limited.log(logging.INFO, "k", "rejected %s", i) for i in range(50)]
    assert logged.count(True) == 1
    now[0] = 11
    assert limited.log(logging.INFO, "k", "rejected %s", "again")
    assert "rejected again (and 49 more like it since the last line)" in caplog.text
    assert limited.log(logging.INFO, "other", "a different kind")  # kinds are limited separately
