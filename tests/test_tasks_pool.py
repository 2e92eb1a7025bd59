"""The answer pool: turns, a bounded queue, and what shutdown does with each answer."""

from __future__ import annotations

import asyncio

import pytest

from bot.harness.render import render_blocks
from bot.slack.tasks import BackgroundTasks
from bot.slack.ui.blocks import Message
from bot.slack.workpool import BUSY_TEXT, RESTARTING_TEXT, Admission


class Asker:
    """One question: its work waits for `release`; what it was told is kept."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name
        self.release = asyncio.Event()
        self.told: list[str] = []

    async def run(self) -> None:
        self.log.append(f"start {self.name}")
        await self.release.wait()
        self.log.append(f"end {self.name}")

    async def tell(self, message: Message) -> None:
        self.told.append(render_blocks(message.blocks))


def askers(n: int) -> tuple[list[str], list[Asker]]:
    log: list[str] = []
    return log, [Asker(log, str(i)) for i in range(n)]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_answers_take_turns_first_come_first_served() -> None:
    tasks = BackgroundTasks(workers=2, queue=10)
    log, people = askers(4)
    admitted = [tasks.submit(p.name, p.run, p.tell) for p in people]
    await settle()
    assert admitted == [Admission.STARTED, Admission.STARTED, Admission.QUEUED, Admission.QUEUED]
    assert log == ["start 0", "start 1"] and len(tasks) == 4
    people[1].release.set()
    await settle()
    assert log == ["start 0", "start 1", "end 1", "start 2"]
    for p in people:
        p.release.set()
    await tasks.drain(timeout=1)
    assert [e for e in log if e.startswith("start")] == ["start 0", "start 1", "start 2", "start 3"]
    assert sorted(e for e in log if e.startswith("end")) == ["end 0", "end 1", "end 2", "end 3"]
    assert len(tasks) == 0 and all(p.told == [] for p in people)


async def test_a_full_queue_tells_the_asker_to_try_again() -> None:
    tasks = BackgroundTasks(workers=1, queue=1)
    log, people = askers(3)
    admitted = [tasks.submit(p.name, p.run, p.tell) for p in people]
    await settle()
    assert admitted == [Admission.STARTED, Admission.QUEUED, Admission.BUSY]
    assert people[2].told == [BUSY_TEXT] and "start 2" not in log
    for p in people:
        p.release.set()
    await tasks.drain(timeout=1)
    assert log == ["start 0", "end 0", "start 1", "end 1"]


async def test_shutdown_finishes_waiting_answers_when_there_is_time() -> None:
    tasks = BackgroundTasks(workers=1, queue=5)
    log, people = askers(3)
    for p in people:
        p.release.set()
        tasks.submit(p.name, p.run, p.tell)
    await tasks.drain(timeout=5)
    assert log == ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]
    assert all(p.told == [] for p in people)


async def test_shutdown_out_of_time_tells_everyone_left_to_ask_again() -> None:
    tasks = BackgroundTasks(workers=1, queue=5)
    log, people = askers(3)
    for p in people:
        tasks.submit(p.name, p.run, p.tell)  # none is ever released
    await tasks.drain(timeout=0.2)
    assert log == ["start 0"]  # the running one was cancelled; the waiting ones never started
    assert [p.told for p in people] == [[RESTARTING_TEXT]] * 3
    assert len(tasks) == 0


async def test_after_shutdown_new_questions_are_told_to_ask_again() -> None:
    tasks = BackgroundTasks()
    await tasks.drain(timeout=1)
    log, [late] = askers(1)
    assert tasks.submit("late", late.run, late.tell) is Admission.CLOSED
    await settle()
    assert log == [] and late.told == [RESTARTING_TEXT]


async def test_no_one_to_tell_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks(workers=1, queue=0)
    log, people = askers(2)
    assert tasks.submit("home", people[0].run, None) is Admission.STARTED
    assert tasks.submit("home", people[1].run, None) is Admission.BUSY
    assert "not run" in caplog.text
    people[0].release.set()
    await tasks.drain(timeout=1)
    assert log == ["start 0", "end 0"]


def test_a_pool_needs_a_worker() -> None:
    with pytest.raises(ValueError):
        BackgroundTasks(workers=0)


async def test_busy_holds_through_the_gaps_of_a_burst() -> None:
    """Background work (the first people build, the watcher's check) waits while `busy`: that stays
    true while answers run or wait, and for a moment after the last one, not only between them."""
    tasks = BackgroundTasks(workers=1, queue=5)
    assert not tasks.busy()
    log, people = askers(2)
    for p in people:
        tasks.submit(p.name, p.run, p.tell)
    await settle()
    assert tasks.busy() and tasks.busy(quiet=0)  # one running, one waiting
    for p in people:
        p.release.set()
    await tasks.drain(timeout=1)
    assert len(tasks) == 0 and tasks.busy(quiet=60) and not tasks.busy(quiet=0)
    await asyncio.sleep(0.05)
    assert not tasks.busy(quiet=0.01)
