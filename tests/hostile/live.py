"""One harness session shared by many hypothesis examples.

Hypothesis calls a test function once per example; starting the bot and the fake
Slack for each would take most of a second. `LiveHarness` runs one `HarnessSession`
on an event loop in a background thread, and sync test code runs coroutines on it
with `run()`. Everything still goes through the real aiohttp server, real
signatures and the fake Slack.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from bot.harness.render import render_blocks
from bot.harness.session import HarnessSession
from tests.hostile.markup import Finding, live_markup

T = TypeVar("T")
SHARER = "U0CAROL"  # the only user the bot may mention: "Shared by <@U0CAROL>"


class LiveHarness:
    def __init__(self, corpus_dir: Path, db_path: Path, transport: str = "http", **settings: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="live-harness", daemon=True)
        self._thread.start()
        self.session = HarnessSession(corpus_dir, transport=transport, db_path=db_path,  # type: ignore[arg-type]
                                      **settings)
        self.run(self.session.__aenter__())

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        try:
            self.run(self.session.__aexit__(None, None, None))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()

    @property
    def driver(self) -> Any:
        return self.session.driver

    @property
    def fake(self) -> Any:
        return self.session.fake

    def mark(self) -> int:
        """Where the fake's call log stands now; `sent_since(mark)` is what came after."""
        return len(self.fake.calls)

    def sent_since(self, mark: int) -> list[dict[str, Any]]:
        """Calls the bot made to Slack (Web API and response_url) since `mark`."""
        return [c for c in self.fake.calls[mark:] if c["method"] != "apps.connections.open"]

    def article_urls(self) -> set[str]:
        snapshot = self.session.service.library.current  # type: ignore[union-attr]
        return {a.url for a in snapshot.corpus.articles if a.url} if snapshot else set()

    def findings(self, mark: int) -> list[Finding]:
        """Live markup in everything sent since `mark`, other than the articles' own links."""
        urls = self.article_urls()
        out: list[Finding] = []
        for call in self.sent_since(mark):
            out += live_markup(call["params"], allowed_urls=urls, allowed_users={SHARER})
        return out


def describe(findings: list[Finding], calls: list[dict[str, Any]]) -> str:
    """A failure message naming each finding and the method whose payload held it."""
    lines = [str(f) for f in findings[:8]]
    methods = sorted({c["method"] for c in calls})
    return f"{len(findings)} live sequence(s) in {methods}:\n  " + "\n  ".join(lines)


def shown(payload: dict[str, Any]) -> str:
    """A payload as Slack would show it (the harness renderer), for content assertions."""
    return render_blocks(payload.get("blocks") or [])
