"""A fake Slack: Web API, response_url endpoints and the Socket Mode WebSocket, on 127.0.0.1.

It speaks Slack's wire format (form or JSON bodies, bearer tokens, `{"ok": false,
"error": ...}`, 429 with Retry-After), keeps messages per channel, records every
call, validates Block Kit against Slack's limits, and fails on request like Slack.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.harness.limits import check_message, check_view

log = logging.getLogger(__name__)

BOT_TOKEN = "xoxb-harness-0000"
APP_TOKEN = "xapp-harness-0000"
SIGNING_SECRET = "harness-signing-secret"
BOT_USER = "UTRADEBOT"
TEAM = "T0HARNESS"
MAX_RESPONSE_URL_USES = 5


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_member: bool = True
    messages: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Failure:
    """A programmed failure for the next matching call."""

    method: str  # a Web API method, or "response_url"
    error: str | None = None  # Slack error code, e.g. ratelimited, channel_not_found
    status: int = 200
    retry_after: int | None = None
    delay: float = 0.0
    html: bool = False
    times: int = 1
    after_success: bool = False  # perform the call, then fail the connection (a reset after accept)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.channels: dict[str, Channel] = {
            "C0TRADE": Channel("C0TRADE", "trade-news"),
            "C0PUBLIC": Channel("C0PUBLIC", "general", is_member=False),
            "C0PRIVATE": Channel("C0PRIVATE", "secret", is_private=True, is_member=False),
            "C0ARCHIVED": Channel("C0ARCHIVED", "old", is_archived=True),
        }
        self.views: dict[str, dict[str, Any]] = {}
        self.home: dict[str, dict[str, Any]] = {}
        self.failures: list[Failure] = []
        self.response_urls: dict[str, int] = {}
        self.expired_urls: set[str] = set()
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.connections_opened = 0
        self._retired: set[int] = set()  # sockets told to disconnect: Slack delivers nothing more on them
        self.url = ""
        self._runner: web.AppRunner | None = None

    # Lifecycle ---------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack-sdk reads some methods with GET
        app.router.add_post("/response/{rid}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/_calls", self._get_calls)
        app.router.add_post("/_fail", self._post_fail)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}"
        return self.url

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    async def stop(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    # Test controls -------------------------------------------------------------

    def fail(self, failure: Failure) -> None:
        self.failures.append(failure)

    def new_response_url(self) -> str:
        rid = uuid.uuid4().hex[:12]
        self.response_urls[rid] = 0
        return f"{self.url}/response/{rid}"

    def expire(self, response_url: str) -> None:
        self.expired_urls.add(response_url.rsplit("/", 1)[-1])

    async def _record(self, method: str, params: dict[str, Any]) -> None:
        async with self._changed:
            self.calls.append({"method": method, "params": params})
            self._changed.notify_all()

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for a recorded call matching `predicate(call)`; returns it."""
        async def find() -> dict[str, Any]:
            async with self._changed:
                while True:
                    for call in self.calls:
                        if predicate(call):
                            return call
                    await self._changed.wait()

        return await asyncio.wait_for(find(), timeout)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == method]

    def _take_failure(self, method: str) -> Failure | None:
        for failure in self.failures:
            if failure.method == method:
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                return failure
        return None

    # Web API ---------------------------------------------------------------------

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)  # slack-sdk sends some arguments in the query string
        if request.method == "GET":
            return params
        if request.content_type == "application/json":
            data = await request.json()
            return {**params, **data} if isinstance(data, dict) else params
        form = await request.post()
        for key, value in form.items():
            text = str(value)
            if key in ("blocks", "view", "metadata", "attachments") and text[:1] in "[{":
                try:
                    params[key] = json.loads(text)
                    continue
                except ValueError:
                    pass
            params[key] = text
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else str(params.get("token", ""))
        await self._record(method, params)
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:
            return web.json_response({"ok": False, "error": "invalid_auth" if token else "not_authed"})
        failure = self._take_failure(method)
        if failure and not failure.after_success:
            if failure.delay:
                await asyncio.sleep(failure.delay)
            if failure.status != 200 or failure.error:
                return self._failure_response(failure)
        result = self._dispatch(method, params)
        if failure and failure.after_success:
            # Slack acted on the call, then the connection broke before the answer arrived.
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError("harness: connection reset after success")
        return web.json_response(result)

    @staticmethod
    def _failure_response(failure: Failure) -> web.Response:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        if failure.html:
            return web.Response(status=failure.status, text="<html><body>Bad Gateway</body></html>",
                                content_type="text/html", headers=headers)
        status = failure.status if failure.status != 200 else (429 if failure.error == "ratelimited" else 200)
        return web.json_response({"ok": False, "error": failure.error or "internal_error"}, status=status, headers=headers)

    def _next_ts(self) -> str:
        return f"1763800000.{next(self._ts):06d}"

    def _dispatch(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(p)

    def _m_auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://harness.slack.example/", "team": "Harness", "user": "tradebot",
                "team_id": TEAM, "user_id": BOT_USER, "bot_id": "B0TRADEBOT", "is_enterprise_install": False}

    def _channel_error(self, channel_id: str, posting: bool) -> tuple[Channel | None, str | None]:
        if channel_id.startswith("D"):
            channel = self.channels.setdefault(channel_id, Channel(channel_id, channel_id, is_private=True))
            return channel, None
        channel = self.channels.get(channel_id)
        if channel is None:
            return None, "channel_not_found"
        if channel.is_archived and posting:
            return channel, "is_archived"
        if not channel.is_member and (channel.is_private or not posting):
            return channel, "not_in_channel"
        return channel, None

    def _m_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, error = self._channel_error(str(p.get("channel", "")), posting=True)
        error = error or check_message(p)
        if error or channel is None:
            return {"ok": False, "error": error}
        message = {"type": "message", "user": BOT_USER, "bot_id": "B0TRADEBOT", "ts": self._next_ts(),
                   "text": p.get("text", ""), "blocks": p.get("blocks", [])}
        for key in ("thread_ts", "metadata"):
            if p.get(key):
                message[key] = p[key]
        channel.messages.append(message)
        return {"ok": True, "channel": channel.id, "ts": message["ts"], "message": message}

    def _m_chat_postEphemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, error = self._channel_error(str(p.get("channel", "")), posting=True)
        error = error or check_message(p)
        return {"ok": False, "error": error} if error else {"ok": True, "message_ts": self._next_ts()}

    def _m_chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(p.get("channel", "")))
        error = check_message(p)
        if channel is None or error:
            return {"ok": False, "error": error or "channel_not_found"}
        for message in channel.messages:
            if message["ts"] == p.get("ts"):
                message.update(text=p.get("text", ""), blocks=p.get("blocks", []))
                return {"ok": True, "channel": channel.id, "ts": message["ts"]}
        return {"ok": False, "error": "message_not_found"}

    def _view(self, p: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        view = p.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        error = check_view(view)
        if error:
            return {"ok": False, "error": error}
        view_id = view_id or "V" + uuid.uuid4().hex[:10].upper()
        stored = {**view, "id": view_id, "hash": uuid.uuid4().hex[:8]}
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _m_views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._view(p)

    def _m_views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        view_id = str(p.get("view_id", ""))
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        if p.get("hash") and p["hash"] != self.views[view_id]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return self._view(p, view_id)

    def _m_views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        result = self._view(p)
        if result["ok"]:
            self.home[str(p.get("user_id"))] = result["view"]
        return result

    def _m_conversations_info(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(p.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": channel.id, "name": channel.name, "is_private": channel.is_private,
                                        "is_archived": channel.is_archived, "is_member": channel.is_member}}

    def _m_conversations_join(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(p.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.is_private:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if channel.is_archived:
            return {"ok": False, "error": "is_archived"}
        channel.is_member = True
        return {"ok": True, "channel": {"id": channel.id, "name": channel.name}}

    def _m_conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, error = self._channel_error(str(p.get("channel", "")), posting=False)
        if error or channel is None:
            return {"ok": False, "error": error}
        include_meta = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(p.get("limit", 100))
        messages = []
        for message in reversed(channel.messages[-limit:]):
            shown = dict(message)
            if not include_meta:
                shown.pop("metadata", None)
            messages.append(shown)
        return {"ok": True, "messages": messages, "has_more": len(channel.messages) > limit}

    def _m_apps_connections_open(self, p: dict[str, Any]) -> dict[str, Any]:
        self.connections_opened += 1
        return {"ok": True, "url": f"{self.url.replace('http://', 'ws://')}/socket?ticket={uuid.uuid4().hex}"}

    # response_url ----------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        await self._record("response_url", {"response_id": rid, **payload})
        failure = self._take_failure("response_url")
        if failure and failure.delay:
            await asyncio.sleep(failure.delay)
        uses = self.response_urls.get(rid)
        if uses is None or rid in self.expired_urls or uses >= MAX_RESPONSE_URL_USES or (failure and failure.error):
            return web.Response(status=404, text="expired_url")
        self.response_urls[rid] = uses + 1
        error = check_message(payload)
        if error:
            return web.Response(status=400, text=error)
        return web.Response(status=200, text="ok")

    # Socket Mode ------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": len(self.sockets),
                            "connection_info": {"app_id": "A0TRADEBOT"}, "debug_info": {"host": "harness"}})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                envelope_id = data.get("envelope_id")
                if envelope_id:
                    self.acks[envelope_id] = data
                    waiter = self._ack_waiters.pop(envelope_id, None)
                    if waiter and not waiter.done():
                        waiter.set_result(data)
        finally:
            if ws in self.sockets:
                self.sockets.remove(ws)
        return ws

    async def wait_for_socket(self, timeout: float = 10.0) -> web.WebSocketResponse:
        async def poll() -> web.WebSocketResponse:
            while True:
                live = [ws for ws in self.sockets if not ws.closed and id(ws) not in self._retired]
                if live:
                    return live[-1]
                await asyncio.sleep(0.02)

        return await asyncio.wait_for(poll(), timeout)

    async def deliver(self, envelope_type: str, payload: dict[str, Any], ack_timeout: float = 3.0) -> dict[str, Any]:
        """Send an envelope over the live socket and wait for its ack (Slack allows 3 s)."""
        ws = await self.wait_for_socket()
        envelope_id = uuid.uuid4().hex
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._ack_waiters[envelope_id] = waiter
        await ws.send_json({"envelope_id": envelope_id, "type": envelope_type, "payload": payload,
                            "accepts_response_payload": envelope_type != "events_api", "retry_attempt": 0,
                            "retry_reason": ""})
        return await asyncio.wait_for(waiter, ack_timeout)

    async def request_refresh(self) -> None:
        """Tell the client to reconnect, as Slack does every few hours."""
        ws = await self.wait_for_socket()
        self._retired.add(id(ws))
        await ws.send_json({"type": "disconnect", "reason": "refresh_requested",
                            "debug_info": {"host": "harness"}})

    # Inspection endpoints (for a separately started bot) ---------------------------

    async def _get_calls(self, request: web.Request) -> web.Response:
        return web.json_response(self.calls)

    async def _post_fail(self, request: web.Request) -> web.Response:
        try:
            self.fail(Failure(**await request.json()))
        except (ValueError, TypeError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True})
