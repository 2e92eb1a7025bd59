"""HTTP mode: every request is checked before bolt sees it.

Stock bolt on aiohttp parses the body before verifying it (a garbled or
non-numeric-timestamp request gives a 500), processes a replayed signed request
again, and logs rejected bodies. Here, in order: size (413), a bounded read (408),
the timestamp's shape and age and the signature (401), replays and redelivered
events (200, no second effect), the payload's shape (400); only then bolt.
Rejections log one short rate-limited line; bodies are never logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.common.clock import Clock, SystemClock
from bot.common.logs import RateLimitedLog
from bot.slack.dedupe import WINDOW, RecentKeys
from bot.slack.payloads import parse_body
from bot.slack.server import HttpLimits

log = logging.getLogger(__name__)

_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")  # ASCII digits, no sign, no point; 12 digits reach year 33658
_SIGNATURE_RE = re.compile(r"v0=[0-9a-f]{64}")


class RequestGuard:
    """Verifies signatures and remembers what it has already let through."""

    def __init__(self, signing_secret: str, clock: Clock | None = None, seen: RecentKeys | None = None) -> None:
        """`seen`: the keys shared with the other replicas (the service's); by default this process's own."""
        if not signing_secret:
            raise ValueError("SLACK_SIGNING_SECRET is empty; HTTP mode cannot verify requests without it")
        self._secret = signing_secret.encode()
        self._clock = clock or SystemClock()
        self._recent = seen or RecentKeys(self._clock)
        self.log = RateLimitedLog(log)  # one line per kind of rejection per 10 s

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def verify(self, body: bytes, timestamp: str | None, signature: str | None) -> bool:
        """Slack's v0 scheme: HMAC-SHA256 of `v0:{timestamp}:{body}`, timestamp within 300 s.

        The header values are checked for shape first, so no input reaches an int or
        float conversion that could overflow (a 310-digit timestamp did, once)."""
        if not timestamp or not signature or not _TIMESTAMP_RE.fullmatch(timestamp):
            return False
        if not _SIGNATURE_RE.fullmatch(signature) or abs(self._now() - int(timestamp)) > WINDOW:
            return False
        expected = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest("v0=" + expected, signature)

    async def first_time(self, key: str) -> bool:
        """True the first time a key (signature, event id) is seen within the window."""
        return await self._recent.first_time(key)

    def reject(self, status: int, reason: str, text: str) -> web.Response:
        """A short answer and one rate-limited log line naming the reason, never the body."""
        self.log.log(logging.INFO, reason, "rejected a request: %s (HTTP %d)", reason, status)
        headers = {"Connection": "close"} if status in (408, 413, 429) else None
        return web.Response(status=status, text=text, headers=headers)


async def _read_body(request: web.Request, guard: RequestGuard, limits: HttpLimits) -> bytes | web.Response:
    try:
        async with asyncio.timeout(limits.read_timeout):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        return guard.reject(413, "body too large", "request body too large")
    except TimeoutError:
        return guard.reject(408, "body not sent in time", "request timeout")
    except (ConnectionError, aiohttp.ClientError, aiohttp.http_exceptions.HttpProcessingError):
        return guard.reject(400, "connection lost while reading the body", "incomplete request")


def _bolt_request(raw: str, body: dict[str, Any], request: web.Request) -> AsyncBoltRequest:
    """Bolt's request, given the body as `parse_body` read it (bolt's parser misreads some forms)."""
    bolt_request = AsyncBoltRequest(body=raw, query=request.query_string, headers=dict(request.headers))
    bolt_request.body = body
    bolt_request.context = build_async_context(AsyncBoltContext({}), body)
    return bolt_request


def make_web_app(app: AsyncApp, guard: RequestGuard, limits: HttpLimits, path: str = "/slack/events",
                 health: Callable[[], dict[str, Any]] | None = None) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > limits.max_body:
            return guard.reject(413, "body too large", "request body too large")
        body = await _read_body(request, guard, limits)
        if isinstance(body, web.Response):
            return body
        headers = request.headers
        signature = headers.get("X-Slack-Signature")
        if not guard.verify(body, headers.get("X-Slack-Request-Timestamp"), signature):
            return guard.reject(401, "missing, stale or wrong signature", "invalid signature")
        if not await guard.first_time(f"sig:{signature}"):
            guard.log.log(logging.INFO, "replay", "ignored a replayed request")
            return web.Response(status=200, text="")
        try:
            raw = body.decode("utf-8")
        except UnicodeDecodeError:
            return guard.reject(400, "signed body is not UTF-8", "malformed request")
        payload = parse_body(raw, request.content_type)
        if payload is None:
            return guard.reject(400, "signed body is not a Slack payload", "malformed request")
        event_id = payload.get("event_id")
        if isinstance(event_id, str) and not await guard.first_time(f"event:{event_id}"):
            log.info("ignored a redelivered event %s (retry %s)", event_id, headers.get("X-Slack-Retry-Num"))
            return web.Response(status=200, text="")
        try:
            bolt_response = await app.async_dispatch(_bolt_request(raw, payload, request))
        except Exception as exc:  # a signed payload bolt cannot route is the sender's problem: 400
            log.warning("signed request that bolt could not handle: %s", type(exc).__name__)
            return web.Response(status=400, text="malformed request")
        return await to_aiohttp_response(bolt_response)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, **(health() if health else {})})

    web_app = web.Application(client_max_size=limits.max_body)
    web_app.router.add_post(path, handle)
    web_app.router.add_get("/health", healthz)
    return web_app
