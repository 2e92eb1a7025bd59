"""SIGTERM ends a real `tradebot run` (HTTP mode, against `tradebot fake-slack`) promptly in every
state (#14): during the first build, while the people directory builds, during a reload, and
while a digest is being posted. A hang is the failure; the bound is generous, not a benchmark."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from benchmarks.load_bench import Bot, start_fake, stop_fake
from benchmarks.synth import generate
from bot.cli.errors import Exit

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = 8000  # enough for the multi-process build (5,000 files) and a people build of seconds
EXIT_BOUND_S = 20.0  # the bot's own deadline is 10 s; a hang is what this catches


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(ROOT / "corpus", tmp_path_factory.mktemp("big") / "corpus", ARTICLES)


class Rig:
    def __init__(self, workdir: Path, printed: dict[str, str], http: aiohttp.ClientSession, corpus: Path) -> None:
        self.workdir, self.printed, self.http, self.corpus = workdir, printed, http, corpus
        self.bots: list[Bot] = []

    async def bot(self, **env: str) -> Bot:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TRADEBOT_", "DIGEST_"))}
        bot = Bot({**keep, "SLACK_API_URL": self.printed["SLACK_API_URL"],
                   "SLACK_BOT_TOKEN": self.printed["SLACK_BOT_TOKEN"],
                   "SLACK_SIGNING_SECRET": self.printed["SLACK_SIGNING_SECRET"], "TRADEBOT_MODE": "http",
                   "HOST": "127.0.0.1", "TRADEBOT_CORPUS": str(self.corpus),
                   "TRADEBOT_DB": str(self.workdir / "db.sqlite3"), "TRADEBOT_INDEX_CACHE": str(self.workdir / f"index{len(self.bots)}"),
                   "TRADEBOT_FEEDS_ENABLED": "false", "DIGEST_ENABLED": "false", "TRADEBOT_BUILD_WORKERS": "2",
                   "LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT), **env}, self.workdir, f"bot{len(self.bots)}")
        self.bots.append(bot)
        await bot.start()
        await bot.wait_until(self.http, lambda _: True, 60)  # listening
        return bot

    async def state(self, bot: Bot) -> dict[str, Any]:
        return await bot.health(self.http) or {}

    async def until(self, bot: Bot, ready: Callable[[dict[str, Any]], bool], timeout: float = 120) -> None:
        await bot.wait_until(self.http, ready, timeout)

    async def stops(self, bot: Bot) -> str:
        """SIGTERM; the bot must exit cleanly (0, not the forced deadline) well within the bound."""
        took = await bot.stop(patience=EXIT_BOUND_S)
        log = bot.log.read_text(errors="replace")
        assert took is not None, f"still running {EXIT_BOUND_S:.0f} s after SIGTERM (killed); log:\n{bot.tail(30)}"
        assert bot.proc is not None and bot.proc.returncode == 0, (
            f"exit code {bot.proc and bot.proc.returncode} ({Exit.STOP_FORCED}: the deadline forced it); log:\n{bot.tail(30)}")
        return log


@pytest.fixture
async def rig(tmp_path: Path, big_corpus: Path) -> AsyncIterator[Rig]:
    fake, printed = await start_fake(tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            rig = Rig(tmp_path, printed, http, big_corpus)
            try:
                yield rig
            finally:
                for bot in rig.bots:
                    await bot.stop(5)
    finally:
        await stop_fake(fake)


def people_pending(state: dict[str, Any]) -> bool:
    return int(state.get("articles") or 0) > 0 and not state.get("people_ready")


def complete(state: dict[str, Any]) -> bool:
    return bool(state.get("people_ready"))


async def test_sigterm_during_the_first_build(rig: Rig) -> None:
    bot = await rig.bot()
    await asyncio.sleep(1.0)  # into the multi-process load
    assert (await rig.state(bot))["articles"] == 0, "the build finished before SIGTERM: nothing was tested"
    log = await rig.stops(bot)
    assert "corpus build abandoned" in log


async def test_sigterm_while_the_people_directory_builds(rig: Rig) -> None:
    bot = await rig.bot()
    await rig.until(bot, lambda s: int(s.get("articles") or 0) > 0)
    assert people_pending(await rig.state(bot)), "the people directory was built before SIGTERM: nothing tested"
    log = await rig.stops(bot)
    assert "corpus complete" not in log  # abandoned, not finished first


async def test_sigterm_during_a_reload(rig: Rig, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"  # a copy: the reload is made by touching every file
    corpus.mkdir()
    for path in rig.corpus.iterdir():
        os.link(path, corpus / path.name)
    rig.corpus = corpus
    bot = await rig.bot(TRADEBOT_RELOAD_SECONDS="0.5")
    await rig.until(bot, complete)
    before = len(bot.log.read_text(errors="replace"))
    then = time.time() - 60  # changed a minute ago: read at once, no settling wait
    for path in corpus.iterdir():
        os.utime(path, (then, then))
    deadline = time.monotonic() + 60  # until the watcher has seen the change and is rebuilding (its
    while (time.monotonic() < deadline  # full check is spaced by what one costs on a busy machine)
           and "indexing the corpus" not in bot.log.read_text(errors="replace")[before:]):
        await asyncio.sleep(0.05)
    log = await rig.stops(bot)
    assert "corpus build abandoned" in log, "the reload finished before SIGTERM: nothing was tested"


def due_now(**env: str) -> dict[str, str]:
    """A digest slot two minutes ago: due at once (within the grace window)."""
    due = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).strftime("%H:%M")
    return {"DIGEST_ENABLED": "true", "DIGEST_CHANNEL": "C0TRADE", "DIGEST_TIME": due, "DIGEST_TZ": "UTC", **env}


async def test_sigterm_while_a_digest_is_composed(rig: Rig, tmp_path: Path) -> None:
    bot = await rig.bot(**due_now())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "digest scheduler:" not in bot.log.read_text(errors="replace"):
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # composing from all 8,000 articles (none sent yet) takes seconds
    assert claimed(tmp_path / "db.sqlite3") == [], "the digest was composed before SIGTERM: nothing was tested"
    await rig.stops(bot)


async def test_sigterm_while_a_digest_is_being_posted(rig: Rig, tmp_path: Path, seed_corpus_dir: Path) -> None:
    rig.corpus = seed_corpus_dir  # composed at once
    async with rig.http.post(f"{rig.printed['url']}/_fail", json={"method": "chat.postMessage", "delay": 120}) as r:
        assert r.status == 200  # Slack takes two minutes to answer the post
    bot = await rig.bot(**due_now())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and claimed(tmp_path / "db.sqlite3") == []:
        await asyncio.sleep(0.1)
    assert claimed(tmp_path / "db.sqlite3") != [], f"the digest never started; log:\n{bot.tail(30)}"
    await asyncio.sleep(0.5)  # its post is waiting for Slack
    await rig.stops(bot)
    assert claimed(tmp_path / "db.sqlite3") != []  # left claimed: the next process reconciles it


def claimed(db: Path) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        try:
            return conn.execute("SELECT channel, local_date FROM digests WHERE status = 'claimed'").fetchall()
        except sqlite3.OperationalError:  # the table is not made yet
            return []
