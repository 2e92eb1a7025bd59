"""A fake Slack on 127.0.0.1: Web API, response_url endpoints and the Socket Mode WebSocket.

It speaks Slack's wire format (form or JSON bodies, bearer tokens, `{"ok": false,
"error": ...}`, 429 with Retry-After) and is as strict as Slack: Block Kit is
validated (`bot.harness.validation`), scopes come from manifest.yml
(`bot.harness.scopes`), trigger_ids and response_urls expire, D… channels exist
only once opened. It keeps what users would see (`bot.harness.slack_state`) and
records every call with its outcome and whom it notified. Failures can be
programmed like Slack's own.

It holds several workspaces (`bot.harness.teams`): the default one, where the app is
installed by hand with `BOT_TOKEN`, and any added with `add_workspace`, installed through
the OAuth flow (`bot.harness.installs`). Every Web API call acts in its token's workspace.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.common.clock import Clock
from bot.harness.installs import CLIENT_ID, CLIENT_SECRET, AppConfig, OAuth
from bot.harness.mentions import notified
from bot.harness.response_urls import answer_response_url
from bot.harness.scopes import manifest_scopes
from bot.harness.slack_state import BOT_USER, TEAM, Channel, MessageRef, SlackState
from bot.harness.socket_mode import SocketModeServer
from bot.harness.teams import BOT_TOKEN, Teams, Workspace

__all__ = ["APP_TOKEN", "BOT_TOKEN", "BOT_USER", "CLIENT_ID", "CLIENT_SECRET", "SIGNING_SECRET", "TEAM", "Channel",
           "Failure", "FakeSlack", "Workspace"]

log = logging.getLogger(__name__)

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
        self.scopes = manifest_scopes() if scopes is None else scopes
        self.teams = Teams(clock, self.scopes)
        self.state: SlackState = self.teams.default.state  # the default workspace's
        self.api = self.teams.default.api
        self.app = AppConfig()
        self.oauth = OAuth(self.app, self.teams, clock, record=self._record,
                           over_socket=lambda body: self.deliver("events_api", body), signing_secret=SIGNING_SECRET)
        self._deliveries: set[asyncio.Task[Any]] = set()
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

    def workspace(self, team: str = TEAM) -> Workspace:
        return self.teams.by_id[team]

    def add_workspace(self, team: str, name: str) -> Workspace:
        """Another workspace (ids tagged from its id: TACME has CACMETRADE, UACMEALICE); not installed yet."""
        return self.teams.add(team, name)

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        """What everyone sees in the channel, oldest first (people's messages and the bot's, replies included)."""
        return list(self.teams.with_channel(channel).channels[channel].messages)

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [m for m in self.channel_messages(channel) if m.get("thread_ts") == thread_ts]

    def ephemeral_for(self, user: str, channel: str) -> list[dict[str, Any]]:
        """The ephemeral messages `user` currently sees in `channel`, with replace/delete applied."""
        return list(self.teams.with_channel(channel).ephemeral.get((user, channel), []))

    def open_dm(self, user: str) -> str:
        return self.teams.of_user(user).open_dm(user)

    def add_member(self, channel: str, user: str) -> None:
        self.teams.with_channel(channel).channels[channel].members.add(user)

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
        app.router.add_get("/oauth/v2/authorize", self.oauth.consent_page)
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
        for task in list(self._deliveries):
            task.cancel()
        await asyncio.gather(*self._deliveries, return_exceptions=True)
        await self.socket_mode.stop()
        if self._runner:
            await self._runner.cleanup()

    # Test controls ---------------------------------------------------------------

    def fail(self, failure: Failure) -> None:
        self.failures.append(failure)

    def new_response_url(self, channel: str = "C0TRADE", user: str = "U0ALICE",
                         original: MessageRef | None = None, team: str = TEAM) -> str:
        return f"{self.url}/response/{self.workspace(team).state.new_response_url(channel, user, original)}"

    def new_trigger_id(self, user: str = "U0ALICE", team: str = TEAM) -> str:
        return self.workspace(team).state.new_trigger(user)

    def expire(self, response_url: str) -> None:
        rid = response_url.rsplit("/", 1)[-1]
        state = self.teams.with_response_url(rid)
        if rid in state.response_urls:
            state.response_urls[rid].expired = True

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
        call: dict[str, Any] = {"method": method, "params": params}
        if method == "oauth.v2.access":  # the app authenticates as itself, not with a token
            result = self.oauth.access(params, auth)
            team = result.get("team", {}).get("id") if result["ok"] else None
            await self._record({**call, "ok": result["ok"], "error": result.get("error"), "team": team})
            return web.json_response(result)
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else str(params.get("token", ""))
        workspace, error = self.teams.default, None
        if method == "apps.connections.open":
            error = None if token == APP_TOKEN else "invalid_auth" if token else "not_authed"
        else:
            found, error = self.teams.by_token(token)
            workspace = found or workspace
        if error:
            await self._record({**call, "ok": False, "error": error})
            return web.json_response({"ok": False, "error": error})
        call["team"] = workspace.id
        failure = self._take_failure(method)
        if failure and not failure.after_success:
            if failure.delay:
                await asyncio.sleep(failure.delay)
            if failure.status != 200 or failure.error:
                await self._record({**call, "ok": False, "error": failure.error or str(failure.status),
                                    "programmed": True})
                return self._failure_response(failure)
        result = self._call(workspace, method, params)
        posted = result["ok"] and method in _POSTING
        await self._record({**call, "ok": result["ok"], "error": result.get("error"), "why": _why(result),
                            "notified": notified(params) if posted else []})
        if failure and failure.after_success:
            # Slack acted on the call, then the connection broke before the answer arrived.
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError("harness: connection reset after success")
        return web.json_response(result)

    def _call(self, workspace: Workspace, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "apps.uninstall":
            refused = self.oauth.client_matches(params)
            if refused:
                return {"ok": False, "error": refused}
            self._in_background(self.uninstall(workspace.id))  # Slack answers first, then sends the events
            return {"ok": True}
        result = workspace.api.call(method, params)
        if method == "apps.connections.open" and result["ok"]:
            self.connections_opened += 1
            result["url"] = f"{self.url.replace('http://', 'ws://')}/socket?ticket={id(result)}"
        if not result["ok"]:
            log.info("fake Slack refused %s: %s", method, result.get("error"))
        return result

    # Installs ------------------------------------------------------------------------

    def _in_background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def uninstall(self, team: str) -> list[int]:
        """Someone removes the app from `team`: its token stops working and Slack tells the app
        (`tokens_revoked`, then `app_uninstalled`). The app's HTTP statuses (200 each in Socket Mode)."""
        return await self.oauth.uninstall(self.workspace(team))

    async def send_event(self, body: dict[str, Any]) -> int:
        """Deliver an Events API callback: signed to the app's request URL, else over the socket."""
        return await self.oauth.send_event(body)

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
        state = self.teams.with_response_url(rid)
        call: dict[str, Any] = {"method": "response_url", "params": {"response_id": rid, **payload},
                                "team": state.team}
        failure = self._take_failure("response_url")
        if failure and failure.delay:
            await asyncio.sleep(failure.delay)
        status, body = answer_response_url(state, rid, payload, force_expired=bool(failure and failure.error))
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
        """Every recorded call; `?since=N`: those after the first N (a poller's new ones only)."""
        since = request.query.get("since", "0")
        if not since.isascii() or not since.isdigit() or len(since) > 9:
            return web.json_response({"ok": False, "error": "invalid_arguments"}, status=400)
        return web.json_response(self.calls[int(since):])

    async def _post_interaction(self, request: web.Request) -> web.Response:
        """A trigger_id and response_url for a payload a person sends to the bot by hand."""
        try:
            body = await request.json()
            user, channel = str(body.get("user", "U0ALICE")), str(body.get("channel", "C0TRADE"))
            team = str(body.get("team", TEAM))
            self.workspace(team)
        except (ValueError, AttributeError, KeyError):
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        return web.json_response({"ok": True, "trigger_id": self.new_trigger_id(user, team),
                                  "response_url": self.new_response_url(channel, user, team=team)})

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
