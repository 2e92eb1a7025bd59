"""What was already handled: signatures and event ids seen within Slack's redelivery window.

Slack redelivers an event it got no timely ack for (HTTP retries, Socket Mode
envelopes) and an attacker may replay a signed request; either must have no second
effect, on whichever replica it lands. Keys are rows of `seen_keys` in the shared
database (an insert that loses says "seen"; an expired row is taken over by a conditional
update), and also kept in this process's memory: a replay to the same process is caught
without a query, and while the database is down (or slower than `wait`) requests are
still handled once per process. The HTTP guard and the Socket Mode middleware share
this one rule.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt.response import BoltResponse

from bot.common.clock import Clock, SystemClock
from bot.common.logs import RateLimitedLog
from bot.store import Database, StoreUnavailable
from bot.store.expiry import Pruner
from bot.store.schema import seen_keys

log = logging.getLogger(__name__)

WINDOW = 300  # seconds Slack allows between signing and arrival
MAX_KEYS = 10_000  # above this, keys older than the window are forgotten
DB_WAIT = 1.0  # seconds a request waits for the database before trusting this process's memory
RETRY_AFTER = 5.0  # seconds without asking the database after it failed
MAX_KEY_CHARS = 200  # the column's width; longer keys are hashed


class _Memory:
    """This process's keys, for twice the window."""

    def __init__(self, window: float) -> None:
        self._window = window
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, key: str, now: float) -> bool:
        with self._lock:
            if len(self._seen) > MAX_KEYS:
                self._seen = {k: t for k, t in self._seen.items() if now - t < self._window}
            seen_at = self._seen.get(key)
            if seen_at is not None and now - seen_at < self._window:
                return False
            self._seen[key] = now
            return True


class RecentKeys:
    """`await first_time(key)`: whether a key is new, across every process on `database`
    (None: this process only). Keys are remembered for twice the window."""

    def __init__(self, clock: Clock | None = None, database: Database | None = None, window: float = 2 * WINDOW,
                 wait: float = DB_WAIT) -> None:
        self._clock = clock or SystemClock()
        self.db = database
        self._window = window
        self._wait = wait
        self._memory = _Memory(window)
        self._pruner = Pruner(database, seen_keys) if database is not None else None
        self._retry_at: float | None = None  # set while the database is down
        self._log = RateLimitedLog(log, interval=60)

    async def first_time(self, key: str) -> bool:
        if len(key) > MAX_KEY_CHARS:
            key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        now = self._clock.now().timestamp()
        if not self._memory.first_time(key, now):
            return False
        if self.db is None or (self._retry_at is not None and self._clock.monotonic() < self._retry_at):
            return True
        try:
            new = await asyncio.wait_for(asyncio.to_thread(self._claim, key, now), timeout=self._wait)
        except (StoreUnavailable, TimeoutError) as exc:
            self._down(str(exc) or type(exc).__name__)
            return True
        except Exception as exc:  # never fail a request over its de-duplication
            log.exception("de-duplication query failed")
            self._down(type(exc).__name__)
            return True
        if new and self._pruner is not None and self._pruner.due():  # in the background: the request has waited enough
            asyncio.get_running_loop().run_in_executor(None, self._pruner.prune, now)
        if self._retry_at is not None:
            self._retry_at = None
            log.warning("database reachable again: de-duplication is shared with the other replicas again")
        return new

    def _claim(self, key: str, now: float) -> bool:
        """Insert the key, or take over its expired row; False when another request holds it."""
        assert self.db is not None
        expires_at = now + self._window
        with self.db.begin() as db:
            new = db.execute(self.db.insert_ignore(seen_keys).values(key=key, expires_at=expires_at)).rowcount == 1
            if not new:
                new = db.execute(seen_keys.update().where(seen_keys.c.key == key, seen_keys.c.expires_at <= now)
                                 .values(expires_at=expires_at)).rowcount == 1
        return new

    def _down(self, reason: str) -> None:
        self._retry_at = self._clock.monotonic() + RETRY_AFTER
        self._log.log(logging.WARNING, "down", "database unavailable for de-duplication (%s): replays and "
                      "redeliveries are caught by this process alone until it is back", reason)


def event_dedupe_middleware(keys: RecentKeys) -> Callable[..., Any]:
    """A bolt middleware acking a redelivered event (same `event_id`) without running listeners:
    Socket Mode has no HTTP guard in front of bolt to catch it."""

    async def skip_redelivered(body: dict[str, Any], next: Callable[[], Any]) -> BoltResponse | None:
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if isinstance(event_id, str) and not await keys.first_time(f"event:{event_id}"):
            return BoltResponse(status=200, body="")
        return await next()

    return skip_redelivered
