"""Start the fake Slack and the real bot (same code as `tradebot run`) wired together.

The session's settings are validated but isolated: the harness's values, the caller's
overrides and the defaults, never the developer's `.env` or exported variables (a real
token or a broken `DIGEST_TZ` there must not reach a fake-Slack session).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from bot.common.clock import Clock
from bot.harness.driver import Driver, Transport
from bot.harness.fake_slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from bot.service import BotService
from bot.settings import isolated_settings


class HarnessSession:
    """`async with HarnessSession(corpus_dir) as s:` then `await s.driver.slash("who greer")`."""

    def __init__(self, corpus_dir: Path, transport: Transport = "http", db_path: Path | None = None,
                 clock: Clock | None = None, **settings: Any) -> None:
        self.corpus_dir = corpus_dir
        self.transport = transport
        self.db_path = db_path
        self.clock = clock
        self.overrides = settings
        self.fake = FakeSlack(clock=clock)  # Slack's expiry (triggers, response_urls) follows the same clock
        self.service: BotService | None = None
        self.driver: Driver | None = None

    async def __aenter__(self) -> HarnessSession:
        await self.fake.start()
        installs = bool(self.overrides.get("slack_client_id"))  # many workspaces: installed through OAuth
        values: dict[str, Any] = {
            "corpus_dir": self.corpus_dir, "slack_bot_token": None if installs else BOT_TOKEN,
            "slack_api_url": self.fake.api_url, "host": "127.0.0.1", "port": 0, "mode": self.transport,
            "db_path": self.db_path or self.corpus_dir.parent / ".tradebot-harness.sqlite3",
        }
        values["index_cache_dir"] = Path(values["db_path"]).parent / "index-cache"
        if self.transport == "http":
            values["slack_signing_secret"] = SIGNING_SECRET
        else:
            values["slack_app_token"] = APP_TOKEN
        values.update(self.overrides)
        settings = isolated_settings(**values)
        self.service = BotService(settings, clock=self.clock)
        await self.service.start()
        if self.service.url:  # the app as configured at Slack: events and the install redirect come here
            self.fake.app.request_url = self.service.url
            self.fake.app.redirect_urls = [self.service.url.replace("/slack/events", "/slack/oauth_redirect")]
        await self.service.library_ready()
        self.driver = Driver(self.fake, self.transport, self.service.url, SIGNING_SECRET)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self.driver:
            await self.driver.close()
        if self.service:
            await self.service.stop()
        await self.fake.stop()
