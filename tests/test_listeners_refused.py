"""A reply Slack refuses (invalid_blocks, msg_too_long, any ok: false) is logged with its error code,
and the user still gets a short plain apology. Failures are programmed into the fake Slack."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.harness.fake_slack import Failure
from bot.harness.session import HarnessSession


@pytest.fixture
async def s(seed_corpus_dir: Path, tmp_path: Path) -> AsyncIterator[HarnessSession]:
    async with HarnessSession(seed_corpus_dir, transport="http", db_path=tmp_path / "db.sqlite3") as session:
        yield session


@pytest.mark.parametrize("error", ["msg_too_long", "invalid_blocks"])
async def test_a_refused_thread_reply_is_replaced_by_a_plain_apology(s: HarnessSession, error: str,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    s.fake.fail(Failure(method="chat.postMessage", error=error))
    await s.driver.mention("who greer")
    apology = await s.fake.wait_for(lambda c: c["method"] == "chat.postMessage"
                                    and "refused my answer" in c["params"].get("text", ""))
    assert error in apology["params"]["text"] and not apology["params"].get("blocks")
    assert apology["params"]["thread_ts"]  # in the thread the question was asked in
    assert f"failed: {error}" in caplog.text


async def test_a_refused_ephemeral_fallback_still_apologises(s: HarnessSession,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    s.fake.fail(Failure(method="response_url", error="expired_url"))
    s.fake.fail(Failure(method="chat.postEphemeral", error="invalid_blocks"))
    await s.driver.slash("who greer")
    apology = await s.fake.wait_for(lambda c: c["method"] == "chat.postEphemeral"
                                    and "refused my answer" in c["params"].get("text", ""))
    assert apology["params"]["user"] == "U0ALICE" and "invalid_blocks" in apology["params"]["text"]
    assert "chat.postEphemeral to C0TRADE failed: invalid_blocks" in caplog.text


async def test_a_refused_modal_gets_an_apology_with_the_code_in_the_log(s: HarnessSession,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    answer = await (await s.driver.slash("tariffs")).answer()
    s.fake.fail(Failure(method="views.open", error="invalid_blocks"))
    click = await s.driver.click(answer["blocks"], "Read article")
    apology = await click.answer()
    assert "error id" in apology["text"]
    assert "invalid_blocks" in caplog.text


async def test_a_refused_share_is_explained_privately_not_in_the_channel(s: HarnessSession) -> None:
    answer = await (await s.driver.slash("who greer")).answer()
    s.fake.fail(Failure(method="chat.postMessage", error="invalid_blocks"))
    click = await s.driver.click(answer["blocks"], "Share in channel")
    notice = await click.answer()
    assert "Slack refused the post" in notice["text"] and "invalid_blocks" in notice["text"]
    assert len(s.fake.calls_to("chat.postMessage")) == 1  # no public apology in the channel
