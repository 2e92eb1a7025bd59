"""The running bot: corpus + watcher, Slack app (HTTP or Socket Mode), digest scheduler.

`tradebot run` and the local harness start exactly this, so the harness tests
the production code path.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.answers.answerer import Answerer
from bot.answers.state import AnswerStore
from bot.cli.errors import Exit
from bot.common.clock import Clock, SystemClock
from bot.common.logs import install_safe_logging
from bot.common.progress import log_progress
from bot.digest.scheduler import DigestScheduler
from bot.digest.store import DigestStore
from bot.feeds.alerts import InstantAlerts
from bot.feeds.poller import FeedPoller
from bot.feeds.service import FeedService
from bot.library import Library
from bot.settings import Settings
from bot.slack.alerts import SlackAlertSender
from bot.slack.app import build_app
from bot.slack.client import make_client
from bot.slack.credentials import SlackCredentials
from bot.slack.dedupe import RecentKeys
from bot.slack.deps import Deps
from bot.slack.digest import SlackDigestSender
from bot.slack.http import RequestGuard, make_web_app
from bot.slack.oauth import add_oauth_routes, install_flow
from bot.slack.server import HttpLimits, start_server
from bot.slack.tasks import BackgroundTasks
from bot.slack.ui.presenter import SlackAnswers
from bot.slack.workspaces import SingleWorkspace, Workspaces
from bot.store import open_database
from bot.store.status import DatabaseProbe

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

log = logging.getLogger(__name__)

# SIGTERM: exit within 10 s in every state (#14). Answers in flight get DRAIN_SECONDS (the queue half
# of it); the rest of stopping takes well under a second. If anything still holds the process after
# EXIT_DEADLINE_SECONDS (a thread the interpreter would wait for at exit), it exits anyway, with
# Exit.STOP_FORCED: not 0, so a supervisor (and the tests) can tell a forced exit from a clean one.
DRAIN_SECONDS = 6.0
EXIT_DEADLINE_SECONDS = 9.5


class BotService:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.tasks = BackgroundTasks()
        self.library = Library(settings.corpus_dir, settings.index_cache_dir,
                               progress=log_progress(log, "indexing the corpus"), workers=settings.build_workers,
                               busy=self.tasks.busy)  # background work yields to answers
        self.database = open_database(settings.resolved_database_url)  # upgraded to the current schema
        self.store = DigestStore(self.database, self.clock)
        self.database_probe = DatabaseProbe(self.database, self.clock)  # /health: never waits on the database
        self.feeds = FeedService(settings, database=self.database, clock=self.clock)  # `/trade add`, `/trade feeds` and the poller share it
        also = self.feeds.also_reported_by
        self.answerer = SlackAnswers(Answerer(self.library, store=AnswerStore(self.database, self.clock),
                                              prefs=self.store, feeds=self.feeds, also_reported_by=also))
        self.credentials = SlackCredentials.from_settings(settings)
        oauth = settings.oauth_enabled  # many workspaces: the install flow, each one's token from the database
        self.client = make_client(None if oauth else self.credentials.bot_token, settings.slack_api_url)
        self.install = install_flow(self.client, settings.slack_client_id or "", self.credentials.client_secret,
                                    self.database, settings.slack_api_url, self.store.forget_team,
                                    self.clock) if oauth else None
        self.workspaces: Workspaces = self.install.workspaces if self.install else SingleWorkspace(self.client)
        self.mode = settings.resolved_mode()
        # Replays and redeliveries, shared by the replicas; aged by wall time, as Slack signs.
        self.seen = RecentKeys(SystemClock(), self.database)
        deps = Deps(self.answerer, self.tasks, many_workspaces=oauth,
                    installed=self.install.workspaces if self.install else None)
        self.app = build_app(self.client, deps, self.credentials.signing_secret,
                             seen=self.seen if self.mode == "socket" else None,
                             oauth_flow=self.install.flow if self.install else None)
        self.scheduler = DigestScheduler(settings, self.library, self.store, SlackDigestSender(self.workspaces), self.clock)
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self.alerts = InstantAlerts(self.library, self.store, SlackAlertSender(self.workspaces),
                                    stale_after=settings.stale_claim, clock=self.clock,
                                    also_reported_by=also, wait_s=max(30.0, 3 * settings.reload_interval + 10))
        self.poller = FeedPoller(self.feeds, clock=self.clock, enabled=settings.feeds_enabled,
                                 on_added=self.alerts.on_added)  # does nothing without feeds
        self._background: list[asyncio.Task[Any]] = []
        self._loaded: asyncio.Task[None] | None = None
        self.url: str | None = None

    def health(self) -> dict[str, Any]:
        snapshot = self.library.current
        return {"articles": len(snapshot.corpus.articles) if snapshot else 0,
                "people_ready": snapshot is not None and snapshot.people is not None,
                "corpus_error": self.library.error, "answers_in_flight": len(self.tasks),
                "slack_session": self.socket_session(), "database": self.database_probe.current().health()}

    def socket_session(self) -> str | None:
        """Socket Mode: `live`, or `stale` while pings go unanswered (slack-sdk's monitor then
        reconnects: a half-open link is noticed within four ping intervals); None in HTTP mode."""
        if self._socket is None:
            return None
        client = self._socket.client
        session = getattr(client, "current_session", None)
        if session is None or session.closed:
            return "stale"
        last = client.last_ping_pong_time
        if last is not None and self.clock.now().timestamp() - last >= 4 * client.ping_interval:
            return "stale"
        return "live"

    async def start(self) -> None:
        """Connect to Slack first, then load the corpus: meanwhile users are told it is loading
        (a 100k-article corpus takes most of a minute to index without a saved index)."""
        self.settings.require_slack()
        install_safe_logging()  # request fields (event_id, action_id, user text) never start a new log line
        if self.mode == "http":
            limits = HttpLimits(max_body=self.settings.max_body_bytes, read_timeout=self.settings.http_read_timeout,
                                max_connections=self.settings.http_max_connections)
            guard = RequestGuard(self.credentials.signing_secret, seen=self.seen)  # wall time, as Slack signs
            web_app = make_web_app(self.app, guard, limits, health=self.health)
            if self.install is not None:
                add_oauth_routes(web_app, self.install.flow)  # GET /slack/install, /slack/oauth_redirect
                if self.settings.digest_channels:
                    log.warning("DIGEST_CHANNEL is for SLACK_BOT_TOKEN's workspace; with the install flow, "
                                "channels ask for the digest with /trade digest on")
            self._runner = await start_server(web_app, self.settings.host, self.settings.port, limits)
            host, port = self._runner.addresses[0][:2]
            self.url = f"http://{host}:{port}/slack/events"
            log.info("HTTP mode: listening on %s", self.url)
        else:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler  # (not in HTTP mode)

            self._socket = AsyncSocketModeHandler(self.app, self.credentials.app_token, web_client=self.client)
            await self._socket.connect_async()
            log.info("Socket Mode: connected")
        self._loaded = asyncio.create_task(self._load(), name="corpus-load")
        self._background.append(self._loaded)

    async def _load(self) -> None:
        people_task = await self.library.start()
        self.poller.start()  # new articles land in the corpus directory; the watcher picks them up
        self._background.append(asyncio.create_task(self.alerts.reconcile(), name="alerts-reconcile"))
        self._background.append(asyncio.create_task(self.library.watch(self.settings.reload_interval), name="watcher"))
        if self.settings.digest_enabled:  # after the corpus, so a catch-up digest is not built from nothing
            self._background.append(asyncio.create_task(self.scheduler.run(), name="digest"))
        if people_task is not None:
            await people_task

    async def library_ready(self) -> None:
        """Wait until the corpus, search and people directory are all loaded (the harness waits)."""
        if self._loaded is not None:
            await asyncio.shield(self._loaded)

    async def stop(self) -> None:
        """Stop taking requests, let answers in flight finish, then stop the rest."""
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.shutdown()
        await self.tasks.drain(timeout=DRAIN_SECONDS)
        await self.poller.stop()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        self.library.close()
        self.database_probe.close()
        self.database.close()
        log.info("stopped")

    async def run_forever(self) -> None:
        """Serve until SIGINT or SIGTERM, which may come at any moment, even while starting."""
        import signal

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def stop_soon() -> None:
            if not stop.is_set():
                log.info("stopping")
                threading.Thread(target=_exit_at_deadline, name="exit-deadline", daemon=True).start()
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop_soon)
        starting = asyncio.create_task(self.start(), name="start")
        stopping = asyncio.create_task(stop.wait(), name="stop-signal")
        try:
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if starting.done():
                starting.result()  # a failure to start is raised
                await stopping
        finally:
            for task in (starting, stopping):
                task.cancel()
            await asyncio.gather(starting, stopping, return_exceptions=True)
            await self.stop()


def _exit_at_deadline() -> None:
    """The last resort after a stop signal: whatever still runs, the process ends."""
    time.sleep(EXIT_DEADLINE_SECONDS)
    log.error("still stopping after %.1fs; exiting now", EXIT_DEADLINE_SECONDS)
    logging.shutdown()
    os._exit(Exit.STOP_FORCED)
