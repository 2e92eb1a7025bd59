"""Installing the app, as Slack does it: the consent screen, `oauth.v2.access`, uninstall events.

The app is configured as on api.slack.com (`AppConfig`: client id and secret, redirect URLs,
the events request URL). Approving an install on the consent screen (`/oauth/v2/authorize`)
issues a one-time code, valid 10 minutes, bound to the workspace, the installing user, the
requested scopes and the `redirect_uri` (if one was sent); the browser is redirected to the
app with `code` and `state`. `oauth.v2.access` trades the code for the workspace's bot token,
checking the client (HTTP Basic, or `client_id`/`client_secret` fields) and the redirect URI,
with Slack's errors: `invalid_client_id`, `bad_client_secret`, `invalid_code`,
`bad_redirect_uri`. An uninstall takes the token back and sends `tokens_revoked` and
`app_uninstalled`, signed with the signing secret as every Slack request is.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.common.clock import Clock, SystemClock
from bot.harness.slack_state import TEAM
from bot.harness.teams import Teams, Workspace

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "harness-client-secret"
APP_ID = "A0TRADEBOT"
CODE_LIFETIME = dt.timedelta(minutes=10)

Result = dict[str, Any]


@dataclass
class AppConfig:
    """The app's settings at Slack (Basic Information, OAuth & Permissions, Event Subscriptions)."""

    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    app_id: str = APP_ID
    redirect_urls: list[str] = field(default_factory=list)
    request_url: str | None = None  # where events are POSTed (HTTP mode); None: over Socket Mode


@dataclass
class Grant:
    team: str
    user: str
    scopes: frozenset[str]
    redirect_uri: str | None  # as sent to the consent screen
    issued: dt.datetime
    used: bool = False


class ConsentRefused(Exception):
    """The consent screen shows an error instead of redirecting (a bad client_id, scope or redirect)."""


class OAuth:
    """Slack's side of installs. `record` keeps a call in the fake's log; `over_socket` delivers an
    event through Socket Mode when the app has no request URL."""

    def __init__(self, app: AppConfig, teams: Teams, clock: Clock | None = None, *,
                 record: Callable[[Result], Awaitable[None]] | None = None,
                 over_socket: Callable[[Result], Awaitable[Any]] | None = None, signing_secret: str = "") -> None:
        self.app = app
        self.teams = teams
        self.clock = clock or SystemClock()
        self.grants: dict[str, Grant] = {}
        self._record = record
        self._over_socket = over_socket
        self._signing_secret = signing_secret

    def _allowed(self, redirect_uri: str) -> bool:
        """Slack accepts a configured Redirect URL or a path below one."""
        return any(redirect_uri == url or redirect_uri.startswith(url.rstrip("/") + "/")
                   for url in self.app.redirect_urls)

    def consent(self, query: Mapping[str, str], team: str, user: str | None = None) -> str:
        """`user` of `team` presses Allow: the URL the browser is sent to (the app's redirect)."""
        if query.get("client_id") != self.app.client_id:
            raise ConsentRefused("invalid_client_id")
        scopes = frozenset(s for s in query.get("scope", "").split(",") if s)
        if not scopes:
            raise ConsentRefused("invalid_scope")
        sent = query.get("redirect_uri") or None
        if sent is not None and not self._allowed(sent):
            raise ConsentRefused("bad_redirect_uri")
        target = sent or (self.app.redirect_urls[0] if self.app.redirect_urls else None)
        if target is None:
            raise ConsentRefused("no_redirect_url")
        workspace = self.teams.by_id.get(team)
        if workspace is None:
            raise ConsentRefused("invalid_team")
        code = f"{uuid.uuid4().int % 10**12}.{secrets.token_hex(16)}"
        self.grants[code] = Grant(team, user or workspace.people[0], scopes, sent, self.clock.now())
        answer = {"code": code, **({"state": query["state"]} if "state" in query else {})}
        return f"{target}{'&' if '?' in target else '?'}{urlencode(answer)}"

    def access(self, params: Mapping[str, Any], authorization: str) -> Result:
        """`oauth.v2.access`: a code for the workspace's bot token, once."""
        client_id, client_secret = _client(params, authorization)
        if client_id != self.app.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if not hmac.compare_digest(client_secret.encode(), self.app.client_secret.encode()):
            return {"ok": False, "error": "bad_client_secret"}
        grant = self.grants.get(str(params.get("code") or ""))
        if grant is None or grant.used or self.clock.now() - grant.issued > CODE_LIFETIME:
            return {"ok": False, "error": "invalid_code"}
        redirect_uri = params.get("redirect_uri") or None
        if (grant.redirect_uri is not None and redirect_uri != grant.redirect_uri) or (
                grant.redirect_uri is None and redirect_uri is not None and not self._allowed(str(redirect_uri))):
            return {"ok": False, "error": "bad_redirect_uri"}
        grant.used = True
        workspace = self.teams.by_id[grant.team]
        token = self.teams.install(workspace, grant.scopes, installer=grant.user)
        return {"ok": True, "app_id": self.app.app_id, "authed_user": {"id": grant.user},
                "scope": ",".join(sorted(grant.scopes)), "token_type": "bot", "access_token": token,
                "bot_user_id": workspace.state.bot_user, "team": {"id": workspace.id, "name": workspace.name},
                "enterprise": None, "is_enterprise_install": False}

    def client_matches(self, params: Mapping[str, Any]) -> str | None:
        """`apps.uninstall` names the app by its client id and secret: Slack's error, or None."""
        if params.get("client_id") != self.app.client_id:
            return "invalid_client_id"
        if not hmac.compare_digest(str(params.get("client_secret") or "").encode(), self.app.client_secret.encode()):
            return "bad_client_secret"
        return None

    async def consent_page(self, request: web.Request) -> web.Response:
        """`GET /oauth/v2/authorize`: the signed-in user (`team` picks the workspace, `user` the person;
        Slack's own `team` parameter preselects one) presses Allow and is sent back to the app."""
        query = dict(request.query)
        team = query.get("team", TEAM)
        try:
            location = self.consent(query, team, query.get("user"))
        except ConsentRefused as exc:
            await self._log({"method": "oauth/v2/authorize", "params": query, "ok": False, "error": str(exc)})
            return web.Response(status=400, text=f"Slack could not install the app: {exc}")
        await self._log({"method": "oauth/v2/authorize", "params": query, "ok": True, "team": team})
        raise web.HTTPFound(location)

    async def uninstall(self, workspace: Workspace) -> list[int]:
        """Take the workspace's token back and tell the app; its HTTP statuses ([] if not installed)."""
        if self.teams.revoke(workspace) is None:
            return []
        now = SystemClock().now()  # events are signed with wall time: what the app checks
        return [await self.send_event(event) for event in self.uninstall_events(workspace, workspace.state.bot_user,
                                                                                  now)]

    async def send_event(self, body: Result) -> int:
        """An Events API callback: signed to the app's request URL, else over the socket (200)."""
        if self.app.request_url is None:
            assert self._over_socket is not None, "no request URL and no socket to deliver events on"
            await self._over_socket(body)
            return 200
        raw, headers = signed(body, self._signing_secret, SystemClock().now())
        async with aiohttp.ClientSession() as session, session.post(self.app.request_url, data=raw,
                                                                        headers=headers) as response:
            await response.read()
            return response.status

    async def _log(self, call: Result) -> None:
        if self._record is not None:
            await self._record(call)

    def uninstall_events(self, workspace: Workspace, token_owner: str, now: dt.datetime) -> list[Result]:
        """What Slack sends when the app leaves a workspace: `tokens_revoked`, then `app_uninstalled`."""
        def callback(event: Result) -> Result:
            return {"token": "deprecated", "team_id": workspace.id, "api_app_id": self.app.app_id, "event": event,
                    "type": "event_callback", "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
                    "event_time": int(now.timestamp())}

        return [callback({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [token_owner]}}),
                callback({"type": "app_uninstalled"})]


def _client(params: Mapping[str, Any], authorization: str) -> tuple[str, str]:
    """The client id and secret, from HTTP Basic (what Slack prefers) or the form fields."""
    if authorization.startswith("Basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return str(params.get("client_id") or ""), str(params.get("client_secret") or "")


def signed(body: Result, secret: str, now: dt.datetime) -> tuple[bytes, dict[str, str]]:
    """An event as Slack POSTs it: the JSON body and its v0 signature headers."""
    raw = json.dumps(body).encode()
    ts = str(int(now.timestamp()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                 "X-Slack-Signature": "v0=" + digest}
