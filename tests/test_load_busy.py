"""Under load, answers take turns; nobody is silently dropped (issue #14).

Answers are made slow deterministically: the answerer waits on a gate the test opens.
With one worker and a queue of two, a fourth question is told at once that the bot is
busy; on shutdown, questions still waiting are told to ask again after the restart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.harness.driver import Driver, Interaction
from bot.harness.render import render_blocks
from bot.harness.session import HarnessSession
from bot.slack.workpool import BUSY_TEXT, RESTARTING_TEXT, WorkPool

USERS = ["U0ANN", "U0BEN", "U0CAT", "U0DAN"]


@pytest.fixture
async def harness(corpus_copy: Path, tmp_path: Path) -> AsyncIterator[HarnessSession]:
    async with HarnessSession(corpus_copy, db_path=tmp_path / "db.sqlite3") as session:
        yield session


@pytest.fixture
def gate(harness: HarnessSession, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every answer waits until the gate opens (the test opens it; so does teardown)."""
    assert harness.service is not None
    answerer = harness.service.answerer
    real = answerer.answer
    opened = threading.Event()

    def slow_answer(*args: Any, **kwargs: Any) -> Any:
        opened.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(answerer, "answer", slow_answer)
    yield opened
    opened.set()


def pool_of(harness: HarnessSession) -> WorkPool:
    assert harness.service is not None
    pool = harness.service.tasks.pool
    pool.workers, pool.queue_limit = 1, 2
    return pool


async def until(condition: Any, what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def ask_all(driver: Driver, pool: WorkPool, users: list[str]) -> list[Interaction]:
    """Ask `/trade tariffs china` as each user in turn, each taken in before the next."""
    asked = []
    for n, user in enumerate(users, start=1):
        asked.append(await driver.slash("tariffs china", user=user))
        await until(lambda n=n: pool.running + pool.queued >= min(n, 3), f"question {n} taken in")
    return asked


def shown(interaction: Interaction) -> str:
    return render_blocks(interaction.answers()[-1]["blocks"])


async def test_a_question_past_the_queue_is_told_the_bot_is_busy_and_the_rest_are_answered(
        harness: HarnessSession, gate: threading.Event) -> None:
    assert harness.driver is not None
    pool = pool_of(harness)
    asked = await ask_all(harness.driver, pool, USERS)
    assert (pool.running, pool.queued) == (1, 2)
    await asked[3].answer()
    assert shown(asked[3]) == BUSY_TEXT
    assert all(not a.answers() for a in asked[:3]), "the others are still waiting their turn"

    gate.set()
    for interaction in asked[:3]:
        await interaction.answer()
        assert "Search: *tariffs china*" in shown(interaction)
    assert [c["error"] for c in harness.fake.rejections()] == []


async def test_shutdown_tells_questions_that_never_started_to_ask_again(
        harness: HarnessSession, gate: threading.Event) -> None:
    assert harness.driver is not None and harness.service is not None
    pool = pool_of(harness)
    asked = await ask_all(harness.driver, pool, USERS[:3])
    await harness.service.tasks.drain(timeout=0.4)  # what SIGTERM does, with a shorter patience
    gate.set()
    for interaction in asked:
        await interaction.answer()
        assert shown(interaction) == RESTARTING_TEXT
    assert len(harness.service.tasks) == 0
    late = await harness.driver.slash("tariffs china", user="U0EVE")
    await late.answer()
    assert shown(late) == RESTARTING_TEXT
