"""Several real `tradebot run` processes (HTTP mode) on one PostgreSQL schema and one fake Slack.

A `Cluster` runs the fake Slack in the test's event loop and each `Replica` as its own
`python -m bot run` process, with an environment built from scratch (never the developer's
tokens, `.env` or database). The test plays the load balancer: `cluster.driver(replica)` signs
requests and sends them to that replica, while every answer, post and click goes through the
one fake Slack. The database is a fresh schema (`fresh_schema`) dropped afterwards, so tests of
several helpers can share the one PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from bot.harness.driver import Driver
from bot.harness.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack

_LISTENING = re.compile(r"HTTP mode: listening on (http://\S+)/slack/events")


def _die_with_parent() -> None:
    """Linux: the replica gets SIGTERM if the test process dies, so no replica outlives a killed run."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Replica:
    """One `tradebot run` process; its log (a file, read only for the listening line and for failures)."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.env = env
        self.workdir = workdir
        self.log = workdir / f"replica-{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    @property
    def url(self) -> str:
        return f"{self.base_url}/slack/events"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start the process (PORT=0: it picks a free port and logs it)."""
        self.base_url = ""
        with self.log.open("ab") as log:
            log.write(f"--- start {time.strftime('%H:%M:%S')} ---\n".encode())
            log.flush()
            self.proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=self.env, cwd=self.workdir,
                                         stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def since_start(self) -> str:
        """The log of the current run."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text.rsplit("--- start ", 1)[-1]

    async def health(self, http: aiohttp.ClientSession) -> dict[str, Any] | None:
        try:
            async with http.get(f"{self.base_url}/health", timeout=aiohttp.ClientTimeout(total=5)) as response:
                return dict(await response.json())
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return None

    async def wait_loaded(self, timeout: float = 90.0) -> None:
        """Until `/health` counts the articles; fails with the log's tail if the process dies or is late."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if not self.running:
                    raise AssertionError(f"replica {self.name} exited ({self.proc and self.proc.returncode}):\n"
                                         f"{self.tail()}")
                if not self.base_url:
                    found = _LISTENING.search(self.since_start())
                    self.base_url = found.group(1) if found else ""
                state = await self.health(http) if self.base_url else None
                if state is not None and int(state.get("articles") or 0) > 0:
                    return
                await asyncio.sleep(0.1)
        raise AssertionError(f"replica {self.name} not loaded within {timeout:.0f}s:\n{self.tail()}")

    async def wait_log(self, predicate: Callable[[str], bool], timeout: float = 30.0) -> str:
        """Until the current run's log satisfies `predicate`; returns that log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.since_start()
            if predicate(text):
                return text
            await asyncio.sleep(0.1)
        raise AssertionError(f"replica {self.name}: the expected log line did not appear:\n{self.tail()}")

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs (what a crash or an OOM kill does)."""
        if self.proc is not None and self.running:
            self.proc.send_signal(signal.SIGKILL)
        await self._exited(10.0)

    async def stop(self, patience: float = 20.0) -> None:
        """SIGTERM, as an orchestrator stops a replica; SIGKILL after `patience`."""
        if self.proc is None or not self.running:
            return
        self.proc.send_signal(signal.SIGTERM)
        if not await self._exited(patience):
            self.proc.kill()
            await self._exited(10.0)

    async def _exited(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return not self.running


class Cluster:
    """The fake Slack plus any number of replicas sharing one database, corpus and index cache."""

    def __init__(self, workdir: Path, corpus_dir: Path, database_url: str, **settings: str) -> None:
        self.workdir = workdir
        self.corpus_dir = corpus_dir
        self.database_url = database_url
        self.settings = settings
        self.fake = FakeSlack()
        self.replicas: dict[str, Replica] = {}
        self._drivers: list[Driver] = []

    async def __aenter__(self) -> Cluster:
        await self.fake.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(r.stop() for r in self.replicas.values()))
        for driver in self._drivers:
            await driver.close()
        await self.fake.stop()

    def env(self, name: str, **extra: str) -> dict[str, str]:
        """A replica's whole environment: what README says each replica needs, nothing inherited."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO",
               "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "SLACK_API_URL": self.fake.api_url, "TRADEBOT_MODE": "http", "HOST": "127.0.0.1", "PORT": "0",
               "TRADEBOT_CORPUS": str(self.corpus_dir), "TRADEBOT_INDEX_CACHE": str(self.workdir / "index-cache"),
               "TRADEBOT_DB": str(self.workdir / f"unused-{name}.sqlite3"),  # must stay unused: state is shared
               "TRADEBOT_DATABASE_URL": self.database_url, "TRADEBOT_FEEDS_ENABLED": "false",
               "TRADEBOT_BUILD_WORKERS": "1"}
        return {**env, **self.settings, **extra}

    def add(self, name: str, **extra: str) -> Replica:
        replica = self.replicas[name] = Replica(name, self.env(name, **extra), self.workdir)
        return replica

    async def start(self, *names: str, **extra: str) -> list[Replica]:
        """Start these replicas at once and wait until each has loaded the corpus."""
        replicas = [self.replicas.get(name) or self.add(name, **extra) for name in names]
        for replica in replicas:
            replica.start()
        await asyncio.gather(*(r.wait_loaded() for r in replicas))
        return replicas

    async def restart(self, name: str) -> Replica:
        replica = self.replicas[name]
        await replica.stop()
        replica.start()
        await replica.wait_loaded()
        return replica

    def driver(self, replica: Replica) -> Driver:
        """A driver sending to `replica` (its URL as of now: a restarted replica needs a new one)."""
        assert replica.base_url, f"replica {replica.name} is not listening"
        driver = Driver(self.fake, "http", replica.url, SIGNING_SECRET)
        self._drivers.append(driver)
        return driver
