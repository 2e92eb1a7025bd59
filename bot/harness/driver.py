"""The driver: plays the Slack side of interactions against a running tradebot.

Over HTTP it sends correctly signed requests to the app's endpoint; over Socket
Mode it delivers the same payloads as envelopes through the fake's WebSocket.
Either way `response_url`s point at the fake, so answers can be collected.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.common.clock import Clock, SystemClock
from bot.harness.fake_slack import TEAM, FakeSlack
from bot.harness.slack_state import SlackState

Transport = Literal["http", "socket"]


@dataclass
class Interaction:
    """One thing a user did, and what came back for it."""

    fake: FakeSlack
    response_url: str | None
    trigger_id: str
    ack_status: int = 200
    ack_body: Any = None
    channel: str | None = None
    user: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def response_id(self) -> str | None:
        return self.response_url.rsplit("/", 1)[-1] if self.response_url else None

    def answers(self) -> list[dict[str, Any]]:
        """Payloads posted to this interaction's response_url, in order."""
        return [c["params"] for c in self.fake.calls
                if c["method"] == "response_url" and c["params"].get("response_id") == self.response_id]

    async def answer(self, n: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for the n-th response_url payload of this interaction and return it."""
        rid = self.response_id

        def predicate(call: dict[str, Any]) -> bool:
            if call["method"] != "response_url" or call["params"].get("response_id") != rid:
                return False
            return len(self.answers()) >= n

        await self.fake.wait_for(predicate, timeout)
        return self.answers()[n - 1]


def find_button(blocks: list[dict[str, Any]], label: str, nth: int = 0) -> tuple[dict[str, Any], str | None]:
    """The nth button whose text is `label` (case-insensitive), with its block_id."""
    found: list[tuple[dict[str, Any], str | None]] = []
    for block in blocks:
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if element.get("type") == "button" and element.get("text", {}).get("text", "").lower() == label.lower():
                found.append((element, block.get("block_id")))
    if len(found) <= nth:
        labels = [e.get("text", {}).get("text") for b in blocks for e in
                  ([*(b.get("elements") or [])] + ([b["accessory"]] if isinstance(b.get("accessory"), dict) else []))
                  if isinstance(e, dict) and e.get("type") == "button"]
        raise LookupError(f"no button {label!r} (#{nth}); buttons here: {labels}")
    return found[nth]


class _Http:
    """The connection pool drivers for several workspaces of one session share."""

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        if self.session is None:
            # A new connection per request, as Slack's deliveries are: a pooled keep-alive connection
            # that the server is closing (its keep-alive timeout is short) would fail the next send.
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        return self.session


class Driver:
    """Plays the people of one workspace (`team`; the default one unless `in_team` says otherwise):
    a user or channel not given is the workspace's first person and the channel the bot is in."""

    def __init__(self, fake: FakeSlack, transport: Transport, app_url: str | None, signing_secret: str,
                 clock: Clock | None = None, team: str = TEAM, http: _Http | None = None) -> None:
        self.fake = fake
        self.transport = transport
        self.app_url = app_url
        self.secret = signing_secret
        self.clock = clock or SystemClock()  # wall time: Slack signs with it, the app's guard checks it
        self.team = team
        self._http = http or _Http()

    def in_team(self, team: str) -> Driver:
        """The same session, as the people of another workspace."""
        return Driver(self.fake, self.transport, self.app_url, self.secret, self.clock, team, self._http)

    @property
    def _state(self) -> SlackState:
        return self.fake.workspace(self.team).state

    def _who(self, user: str | None, channel: str | None = None) -> tuple[str, str]:
        return user or self._state.people[0], channel or self._state.trade

    def _ts(self) -> str:
        """A Slack timestamp ("1718000000.123456") for now."""
        return f"{self.clock.now().timestamp():.6f}"

    async def close(self) -> None:
        if self._http.session:
            await self._http.session.close()
            self._http.session = None

    def sign(self, body: str, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(self.clock.now().timestamp()) if timestamp is None else timestamp)
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=ts, body=body) or ""
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    async def post_raw(self, body: str | bytes, headers: dict[str, str], content_type: str) -> tuple[int, str]:
        """POST exactly these bytes and headers to the app (for signature and bad-input tests)."""
        assert self.app_url, "post_raw needs HTTP mode"
        async with self._http.get().post(self.app_url, data=body, headers={**headers, "Content-Type": content_type}) as r:
            return r.status, await r.text()

    async def _send(self, kind: str, payload: dict[str, Any]) -> tuple[int, Any]:
        if self.transport == "socket":
            envelope_type = {"command": "slash_commands", "interactive": "interactive", "event": "events_api"}[kind]
            ack = await self.fake.deliver(envelope_type, payload)
            return 200, ack.get("payload")
        if kind == "command":
            body, ctype = urlencode(payload), "application/x-www-form-urlencoded"
        elif kind == "interactive":
            body, ctype = urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        else:
            body, ctype = json.dumps(payload), "application/json"
        status, text = await self.post_raw(body, self.sign(body), ctype)
        return status, text

    async def slash(self, text: str, *, user: str | None = None, channel: str | None = None,
                    command: str = "/trade") -> Interaction:
        user, channel = self._who(user, channel)
        interaction = Interaction(self.fake, self.fake.new_response_url(channel, user, team=self.team),
                                  self.fake.new_trigger_id(user, self.team), channel=channel, user=user)
        payload = {
            "token": "deprecated", "team_id": self.team, "team_domain": self._state.team_name.lower(), "channel_id": channel,
            "channel_name": "trade-news", "user_id": user, "user_name": user.lower(), "command": command,
            "text": text, "api_app_id": "A0TRADEBOT", "is_enterprise_install": "false",
            "response_url": interaction.response_url, "trigger_id": interaction.trigger_id,
        }
        interaction.ack_status, interaction.ack_body = await self._send("command", payload)
        return interaction

    async def click(self, blocks: list[dict[str, Any]], label: str, *, nth: int = 0, user: str | None = None,
                    channel: str | None = None, view: dict[str, Any] | None = None,
                    forged: bool = False) -> Interaction:
        """Press a button found in `blocks` (a message's or, with `view`, a modal's).

        The message must be one `user` can see in `channel` right now (Slack has no
        buttons on a message that was replaced or deleted, or on someone else's
        ephemeral answer): LookupError otherwise. `forged=True` sends the click anyway,
        as a hand-made signed request could, to test what the bot does with ids and
        values no message of ours carried.
        """
        user, channel = self._who(user, channel)
        button, block_id = find_button(blocks, label, nth)
        source = None
        if view is None:
            source = self._state.find_visible(blocks, user, channel)
            if source is None and not forged:
                raise LookupError(f"no message {user} can see in {channel} shows these blocks")
        response_url = None if view else self.fake.new_response_url(channel, user, source, team=self.team)
        interaction = Interaction(self.fake, response_url, self.fake.new_trigger_id(user, self.team),
                                  channel=channel, user=user)
        payload: dict[str, Any] = {
            "type": "block_actions", **self._team_fields(user), "token": "deprecated",
            "trigger_id": interaction.trigger_id,
            "actions": [{"type": "button", "action_id": button.get("action_id"), "block_id": block_id or "b",
                         "value": button.get("value", ""), "text": button.get("text"),
                         "action_ts": self._ts()}],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id")}
            payload["view"] = view
        else:
            payload["container"] = {"type": "message", "channel_id": channel,
                                    "message_ts": source.ts if source else "0000000000.000000",
                                    "is_ephemeral": source is None or source.ephemeral_for is not None}
            payload["channel"] = {"id": channel, "name": "trade-news"}
            payload["response_url"] = response_url
        interaction.ack_status, interaction.ack_body = await self._send("interactive", payload)
        return interaction

    async def submit_view(self, view: dict[str, Any], *, user: str | None = None) -> Interaction:
        """Submit a modal, as when the user presses its submit button."""
        user, _ = self._who(user)
        interaction = Interaction(self.fake, None, self.fake.new_trigger_id(user, self.team), user=user)
        payload = {
            "type": "view_submission", **self._team_fields(user), "token": "deprecated",
            "trigger_id": interaction.trigger_id,
            "view": {**view, "state": {"values": {}}, "team_id": self.team, "app_id": "A0TRADEBOT"},
        }
        interaction.ack_status, interaction.ack_body = await self._send("interactive", payload)
        return interaction

    def _team_fields(self, user: str) -> dict[str, Any]:
        """Where an interaction payload says which workspace and person it comes from."""
        return {"team": {"id": self.team, "domain": self._state.team_name.lower()}, "api_app_id": "A0TRADEBOT",
                "user": {"id": user, "username": user.lower(), "team_id": self.team}}

    def _event(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"token": "deprecated", "team_id": self.team, "api_app_id": "A0TRADEBOT", "event": event,
                "type": "event_callback", "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
                "event_time": int(self.clock.now().timestamp()),
                "authorizations": [{"team_id": self.team, "user_id": self._state.bot_user, "is_bot": True}]}

    async def mention(self, text: str, *, user: str | None = None, channel: str | None = None,
                      thread_ts: str | None = None) -> tuple[int, Any]:
        """`user` writes `@tradebot text` in `channel` (the message lands in its history first)."""
        user, channel = self._who(user, channel)
        said = self._state.user_says(channel, user, f"<@{self._state.bot_user}> {text}", thread_ts)
        event = {"type": "app_mention", "user": user, "text": said["text"], "ts": said["ts"],
                 "channel": channel, "event_ts": said["ts"]}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return await self._send("event", self._event(event))

    async def direct_message(self, text: str, *, user: str | None = None) -> tuple[int, Any]:
        """`user` writes to the bot in their DM with it (which Slack opens for them)."""
        user, _ = self._who(user)
        channel = self._state.open_dm(user)
        said = self._state.user_says(channel, user, text)
        event = {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": said["ts"],
                 "channel": channel, "event_ts": said["ts"]}
        return await self._send("event", self._event(event))

    async def open_home(self, user: str | None = None) -> tuple[int, Any]:
        user, _ = self._who(user)
        event = {"type": "app_home_opened", "user": user, "channel": self._state.open_dm(user), "tab": "home",
                 "event_ts": self._ts()}
        return await self._send("event", self._event(event))
