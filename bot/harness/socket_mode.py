"""The fake's Socket Mode side: a WebSocket that delivers envelopes and expects acks.

As Slack does: `hello` on connect; an events_api envelope that is not acked in
time is delivered again with `retry_attempt` and `retry_reason: timeout` (up to
3 retries; slash commands and interactions are not retried, the user just sees
an error); a `disconnect` with reason `warning` announces a refresh, one with
`refresh_requested` asks the client to reconnect, and the socket is closed
shortly after: nothing more is delivered on it. `go_silent()` makes the current
sockets half-open: still connected, but never answering a ping or sending again
(what a dead NAT entry or a stuck Slack edge looks like to the client).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

ACK_TIMEOUT = 3.0
EVENT_RETRIES = 3
CLOSE_AFTER_DISCONNECT = 0.5  # Slack closes a retired socket after a grace period; short here


class SocketModeServer:
    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.envelopes: list[dict[str, Any]] = []  # every envelope sent, retries included
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._retired: set[int] = set()
        self._closers: set[asyncio.Task[None]] = set()
        self._silent: set[int] = set()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None, autoping=False)  # pings answered below, unless silent
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": len(self.live()),
                            "connection_info": {"app_id": "A0TRADEBOT"}, "debug_info": {"host": "harness"}})
        try:
            async for msg in ws:
                if id(ws) in self._silent:
                    continue  # half-open: nothing comes back, not even a pong
                if msg.type == WSMsgType.PING:
                    await ws.pong(msg.data)
                    continue
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
                if isinstance(envelope_id, str):
                    self.acks[envelope_id] = data
                    waiter = self._waiters.pop(envelope_id, None)
                    if waiter and not waiter.done():
                        waiter.set_result(data)
        finally:
            if ws in self.sockets:
                self.sockets.remove(ws)
        return ws

    def live(self) -> list[web.WebSocketResponse]:
        return [ws for ws in self.sockets
                if not ws.closed and id(ws) not in self._retired and id(ws) not in self._silent]

    def go_silent(self) -> None:
        """Make every open socket half-open: the TCP link stays up, nothing answers on it."""
        self._silent.update(id(ws) for ws in self.sockets if not ws.closed)

    async def wait_for_socket(self, timeout: float = 10.0) -> web.WebSocketResponse:
        async def poll() -> web.WebSocketResponse:
            while not self.live():
                await asyncio.sleep(0.02)
            return self.live()[-1]

        return await asyncio.wait_for(poll(), timeout)

    async def deliver(self, envelope_type: str, payload: dict[str, Any], ack_timeout: float = ACK_TIMEOUT,
                      retries: int | None = None) -> dict[str, Any]:
        """Send an envelope and wait for its ack; events are redelivered while unacked.

        Raises TimeoutError when the last attempt is not acked either.
        """
        retries = (EVENT_RETRIES if envelope_type == "events_api" else 0) if retries is None else retries
        for attempt in range(retries + 1):
            envelope_id = str(uuid.uuid4())  # a retry is a new envelope carrying the same payload
            ws = await self.wait_for_socket()
            waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._waiters[envelope_id] = waiter
            envelope = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload,
                        "accepts_response_payload": envelope_type != "events_api", "retry_attempt": attempt,
                        "retry_reason": "timeout" if attempt else ""}
            self.envelopes.append(envelope)
            await ws.send_json(envelope)
            try:
                return await asyncio.wait_for(asyncio.shield(waiter), ack_timeout)
            except TimeoutError:
                self._waiters.pop(envelope_id, None)
                log.info("envelope %s not acked in %.1fs (attempt %d)", envelope_id, ack_timeout, attempt)
        raise TimeoutError(f"envelope {envelope_type} not acked after {retries + 1} attempt(s)")

    async def send_warning(self) -> None:
        """Slack's notice that this connection will be refreshed soon."""
        ws = await self.wait_for_socket()
        await ws.send_json({"type": "disconnect", "reason": "warning", "debug_info": {"host": "harness"}})

    async def request_refresh(self, close_after: float = CLOSE_AFTER_DISCONNECT) -> None:
        """Tell the client to reconnect, then close this socket (Slack does both every few hours)."""
        ws = await self.wait_for_socket()
        self._retired.add(id(ws))
        await ws.send_json({"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "harness"}})

        async def close_later() -> None:
            await asyncio.sleep(close_after)
            await ws.close()

        task = asyncio.create_task(close_later())
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)

    async def stop(self) -> None:
        for task in list(self._closers):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for ws in list(self.sockets):
            await ws.close()
