"""A fake Slack on 127.0.0.1: Web API, response_url endpoints and the Socket Mode WebSocket.

It speaks Slack's wire format (form or JSON bodies, bearer tokens, `{"ok": false,
"error": ...}`, 429 with Retry-After) and is as strict as Slack: Block Kit is
validated (`bot.harness.validation`), scopes come from manifest.yml
(`bot.harness.scopes`), trigger_ids and response_urls expire, D… channels exist
only once opened. It keeps what users would see (`bot.harness.slack_state`) and
records every call with its outcome and whom it notified. Failures can be
programmed like Slack's own.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.common.clock import Clock
from bot.harness.mentions import notified
from bot.harness.response_urls import answer_response_url
from bot.harness.scopes import manifest_scopes
from bot.harness.slack_state import BOT_USER, Channel, MessageRef, SlackState
from bot.harness.socket_mode import SocketModeServer
from bot.harness.web_api import TEAM, WebApi

__all__ = ["APP_TOKEN", "BOT_TOKEN", "BOT_USER", "SIGNING_SECRET", "TEAM", "Channel", "Failure", "FakeSlack"]

log = logging.getLogger(__name__)

BOT_TOKEN = "xoxb-harness-0000"
APP_TOKEN = "xapp-harness-0000"
SIGNING_SECRET = "harness-signing-secret"
_JSON_FIELDS = ("blocks", "view", "metadata", "attachments")
_POSTING = ("chat.postMessage", "chat.postEphemeral", "chat.update")


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
    def __init__(self, clock: Clock | None = None, scopes: frozenset[str] | None = None) -> None:
        self.state = SlackState(clock)
        self.scopes = manifest_scopes() if scopes is None else scopes
        self.api = WebApi(self.state, self.scopes)
        self.socket_mode = SocketModeServer()
        self.calls: list[dict[str, Any]] = []
        self.failures: list[Failure] = []
        self.connections_opened = 0
        self._changed = asyncio.Condition()
        self.url = ""
        self._runner: web.AppRunner | None = None

    # State users see -----------------------------------------------------------------

    @property
    def channels(self) -> dict[str, Channel]:
        return self.state.channels

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        return self.state.views

    @property
    def home(self) -> dict[str, dict[str, Any]]:
        return self.state.home

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        """What everyone sees in the channel, oldest first (people's messages and the bot's, replies included)."""
        return list(self.state.channels[channel].messages)

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [m for m in self.state.channels[channel].messages if m.get("thread_ts") == thread_ts]

    def ephemeral_for(self, user: str, channel: str) -> list[dict[str, Any]]:
        """The ephemeral messages `user` currently sees in `channel`, with replace/delete applied."""
        return list(self.state.ephemeral.get((user, channel), []))

    def open_dm(self, user: str) -> str:
        return self.state.open_dm(user)

    def add_member(self, channel: str, user: str) -> None:
        self.state.channels[channel].members.add(user)

    def rejections(self) -> list[dict[str, Any]]:
        """Calls Slack refused, except failures a test programmed."""
        return [c for c in self.calls if not c.get("ok") and not c.get("programmed")]

    def notifications(self) -> list[dict[str, Any]]:
        """Accepted calls whose message would notify someone (`notified` lists whom)."""
        return [c for c in self.calls if c.get("ok") and c.get("notified")]

    # Lifecycle -----------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack-sdk reads some methods with GET
        app.router.add_post("/response/{rid}", self._response_url)
        app.router.add_get("/socket", self.socket_mode.handle)
        app.router.add_get("/_calls", self._get_calls)
        app.router.add_post("/_fail", self._post_fail)
        app.router.add_post("/_interaction", self._post_interaction)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}"
        return self.url

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    async def stop(self) -> None:
        await self.socket_mode.stop()
        if self._runner:
            await self._runner.cleanup()

    # Test controls ---------------------------------------------------------------

    def fail(self, failure: Failure) -> None:
        self.failures.append(failure)

    def new_response_url(self, channel: str = "C0TRADE", user: str = "U0ALICE",
                         original: MessageRef | None = None) -> str:
        return f"{self.url}/response/{self.state.new_response_url(channel, user, original)}"

    def new_trigger_id(self, user: str = "U0ALICE") -> str:
        return self.state.new_trigger(user)

    def expire(self, response_url: str) -> None:
        rid = response_url.rsplit("/", 1)[-1]
        if rid in self.state.response_urls:
            self.state.response_urls[rid].expired = True

    async def _record(self, call: dict[str, Any]) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for a recorded call matching `predicate(call)`; returns it. Each call is tried once
        (every change of state is a call), so a long session's waits stay cheap."""
        async def find() -> dict[str, Any]:
            seen = 0
            async with self._changed:
                while True:
                    for call in self.calls[seen:]:
                        if predicate(call):
                            return call
                    seen = len(self.calls)
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
            if key in _JSON_FIELDS and text[:1] in "[{":
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
        call: dict[str, Any] = {"method": method, "params": params}
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:
            result = {"ok": False, "error": "invalid_auth" if token else "not_authed"}
            await self._record({**call, "ok": False, "error": result["error"]})
            return web.json_response(result)
        failure = self._take_failure(method)
        if failure and not failure.after_success:
            if failure.delay:
                await asyncio.sleep(failure.delay)
            if failure.status != 200 or failure.error:
                await self._record({**call, "ok": False, "error": failure.error or str(failure.status),
                                    "programmed": True})
                return self._failure_response(failure)
        result = self._call(method, params)
        posted = result["ok"] and method in _POSTING
        await self._record({**call, "ok": result["ok"], "error": result.get("error"), "why": _why(result),
                            "notified": notified(params) if posted else []})
        if failure and failure.after_success:
            # Slack acted on the call, then the connection broke before the answer arrived.
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError("harness: connection reset after success")
        return web.json_response(result)

    def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        result = self.api.call(method, params)
        if method == "apps.connections.open" and result["ok"]:
            self.connections_opened += 1
            result["url"] = f"{self.url.replace('http://', 'ws://')}/socket?ticket={id(result)}"
        if not result["ok"]:
            log.info("fake Slack refused %s: %s", method, result.get("error"))
        return result

    @staticmethod
    def _failure_response(failure: Failure) -> web.Response:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        if failure.html:
            return web.Response(status=failure.status, text="<html><body>Bad Gateway</body></html>",
                                content_type="text/html", headers=headers)
        status = failure.status if failure.status != 200 else (429 if failure.error == "ratelimited" else 200)
        return web.json_response({"ok": False, "error": failure.error or "internal_error"}, status=status,
                                 headers=headers)

    # response_url ----------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(payload, dict):
            return web.Response(status=400, text="invalid_payload")
        call: dict[str, Any] = {"method": "response_url", "params": {"response_id": rid, **payload}}
        failure = self._take_failure("response_url")
        if failure and failure.delay:
            await asyncio.sleep(failure.delay)
        status, body = answer_response_url(self.state, rid, payload, force_expired=bool(failure and failure.error))
        await self._record({**call, "ok": status == 200, "error": body.get("error"), "why": _why(body), "status": status,
                            "notified": notified(payload) if status == 200 else [],
                            "programmed": bool(failure and failure.error)})
        if status == 404:
            return web.Response(status=404, text=str(body.get("error")))
        return web.json_response(body, status=status)

    # Socket Mode ------------------------------------------------------------------

    @property
    def sockets(self) -> list[web.WebSocketResponse]:
        return self.socket_mode.sockets

    @property
    def acks(self) -> dict[str, dict[str, Any]]:
        return self.socket_mode.acks

    async def wait_for_socket(self, timeout: float = 10.0) -> web.WebSocketResponse:
        return await self.socket_mode.wait_for_socket(timeout)

    async def deliver(self, envelope_type: str, payload: dict[str, Any], ack_timeout: float = 3.0) -> dict[str, Any]:
        """Send an envelope over the live socket and wait for its ack (Slack allows 3 s; events are retried)."""
        return await self.socket_mode.deliver(envelope_type, payload, ack_timeout)

    async def send_warning(self) -> None:
        await self.socket_mode.send_warning()

    async def request_refresh(self) -> None:
        """Tell the client to reconnect, as Slack does every few hours; the old socket is then closed."""
        await self.socket_mode.request_refresh()

    # Inspection endpoints (for a separately started bot) ---------------------------

    async def _get_calls(self, request: web.Request) -> web.Response:
        return web.json_response(self.calls)

    async def _post_interaction(self, request: web.Request) -> web.Response:
        """A trigger_id and response_url for a payload a person sends to the bot by hand."""
        try:
            body = await request.json()
            user, channel = str(body.get("user", "U0ALICE")), str(body.get("channel", "C0TRADE"))
        except (ValueError, AttributeError):
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        return web.json_response({"ok": True, "trigger_id": self.new_trigger_id(user),
                                  "response_url": self.new_response_url(channel, user)})

    async def _post_fail(self, request: web.Request) -> web.Response:
        try:
            self.fail(Failure(**await request.json()))
        except (ValueError, TypeError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True})


def _why(body: dict[str, Any]) -> list[str]:
    """Slack's explanation of a refusal (`response_metadata.messages`), empty when there is none."""
    meta = body.get("response_metadata")
    return list(meta.get("messages", [])) if isinstance(meta, dict) else []
