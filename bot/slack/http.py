"""HTTP mode: an aiohttp server that checks each request before bolt sees it.

Stock bolt on aiohttp parses the body before verifying it (a garbled or
non-numeric-timestamp request gives a 500), processes a replayed signed request
again, and logs rejected bodies. This guard closes those gaps: size limit (413),
signature and timestamp check with slack-sdk's `SignatureVerifier` (401), replay
and retry de-duplication, and 400 for anything bolt cannot parse. Bodies are never logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

WINDOW = 300  # seconds Slack allows between signing and arrival


class _Clock:
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


class RequestGuard:
    """Verifies signatures and remembers what it has already let through."""

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        if not signing_secret:
            raise ValueError("SLACK_SIGNING_SECRET is empty; HTTP mode cannot verify requests without it")
        self._verifier = SignatureVerifier(signing_secret, clock=_Clock(clock))  # type: ignore[arg-type]
        self._clock = clock
        self._seen: dict[str, float] = {}

    def verify(self, body: bytes, timestamp: str | None, signature: str | None) -> bool:
        if not timestamp or not signature or not timestamp.isdigit():
            return False
        try:
            return self._verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
        except (ValueError, TypeError):
            return False

    def first_time(self, key: str) -> bool:
        """True the first time a key (signature, event id) is seen within the window."""
        now = self._clock()
        if len(self._seen) > 10_000:
            self._seen = {k: t for k, t in self._seen.items() if now - t < 2 * WINDOW}
        seen_at = self._seen.get(key)
        if seen_at is not None and now - seen_at < 2 * WINDOW:
            return False
        self._seen[key] = now
        return True


def _event_id(body: bytes) -> str | None:
    if not body.startswith(b"{"):
        return None
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    return data.get("event_id") if isinstance(data, dict) else None


def make_web_app(app: AsyncApp, guard: RequestGuard, max_body: int, path: str = "/slack/events",
                 health: Callable[[], dict[str, Any]] | None = None) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > max_body:
            return web.Response(status=413, text="request body too large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="request body too large")
        headers = request.headers
        if not guard.verify(body, headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature")):
            log.info("rejected a request with a missing, stale or wrong signature (%d bytes)", len(body))
            return web.Response(status=401, text="invalid signature")
        if not guard.first_time("sig:" + headers["X-Slack-Signature"]):
            log.info("ignored a replayed request")
            return web.Response(status=200, text="")
        event_id = _event_id(body)
        if event_id and not guard.first_time("event:" + event_id):
            log.info("ignored a redelivered event %s (retry %s)", event_id, headers.get("X-Slack-Retry-Num"))
            return web.Response(status=200, text="")
        try:
            bolt_request = AsyncBoltRequest(body=body.decode("utf-8"), query=request.query_string,
                                            headers=dict(headers))  # type: ignore[arg-type]
            bolt_response = await app.async_dispatch(bolt_request)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            log.warning("signed request that bolt could not parse (%d bytes)", len(body))
            return web.Response(status=400, text="malformed request")
        return await to_aiohttp_response(bolt_response)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, **(health() if health else {})})

    web_app = web.Application(client_max_size=max_body)
    web_app.router.add_post(path, handle)
    web_app.router.add_get("/health", healthz)
    return web_app
