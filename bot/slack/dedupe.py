"""What was already handled: signatures and event ids seen within Slack's redelivery window.

Slack redelivers an event it got no timely ack for (HTTP retries, Socket Mode
envelopes) and an attacker may replay a signed request; either must have no second
effect. The HTTP guard and the Socket Mode middleware share this one memory rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt.response import BoltResponse

WINDOW = 300  # seconds Slack allows between signing and arrival
MAX_KEYS = 10_000  # above this, keys older than the window are forgotten


class RecentKeys:
    """Remembers keys for twice the window; `first_time` says whether a key is new."""

    def __init__(self, now: Callable[[], float], window: float = 2 * WINDOW) -> None:
        self._now = now
        self._window = window
        self._seen: dict[str, float] = {}

    def first_time(self, key: str) -> bool:
        now = self._now()
        if len(self._seen) > MAX_KEYS:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self._window}
        seen_at = self._seen.get(key)
        if seen_at is not None and now - seen_at < self._window:
            return False
        self._seen[key] = now
        return True


def event_dedupe_middleware(keys: RecentKeys) -> Callable[..., Any]:
    """A bolt middleware acking a redelivered event (same `event_id`) without running listeners:
    Socket Mode has no HTTP guard in front of bolt to catch it."""

    async def skip_redelivered(body: dict[str, Any], next: Callable[[], Any]) -> BoltResponse | None:
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if isinstance(event_id, str) and not keys.first_time(f"event:{event_id}"):
            return BoltResponse(status=200, body="")
        return await next()

    return skip_redelivered
