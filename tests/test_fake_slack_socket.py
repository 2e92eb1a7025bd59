"""Socket Mode in the fake, seen from a bare WebSocket client: hello, redelivery, warning, disconnect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.harness.fake_slack import APP_TOKEN, FakeSlack


class Client:
    """A minimal Socket Mode client that acks only when told to."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def receive(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.ws.receive(), 5)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        data: dict[str, Any] = message.json()
        return data

    async def ack(self, envelope: dict[str, Any]) -> None:
        await self.ws.send_json({"envelope_id": envelope["envelope_id"]})


@pytest.fixture
async def socket() -> AsyncIterator[tuple[FakeSlack, Client]]:
    fake = FakeSlack()
    await fake.start()
    opened = await AsyncWebClient(token=APP_TOKEN, base_url=fake.api_url).apps_connections_open(app_token=APP_TOKEN)
    async with aiohttp.ClientSession() as http, http.ws_connect(opened["url"]) as ws:
        client = Client(ws)
        assert (await client.receive())["type"] == "hello"
        yield fake, client
    await fake.stop()


EVENT = {"type": "event_callback", "event_id": "Ev0ONE", "event": {"type": "app_mention", "text": "hi"}}


async def test_an_unacked_event_is_redelivered_with_retry_attempt(socket: tuple) -> None:
    fake, client = socket
    delivery = asyncio.create_task(fake.socket_mode.deliver("events_api", EVENT, ack_timeout=0.3))
    first = await client.receive()  # not acked: the app was too slow
    second = await client.receive()
    await client.ack(second)
    await delivery
    assert (first["retry_attempt"], first["retry_reason"]) == (0, "")
    assert (second["retry_attempt"], second["retry_reason"]) == (1, "timeout")
    assert second["payload"] == first["payload"] == EVENT and second["envelope_id"] != first["envelope_id"]


async def test_an_unacked_slash_command_is_not_redelivered(socket: tuple) -> None:
    fake, client = socket
    delivery = asyncio.create_task(fake.socket_mode.deliver("slash_commands", {"command": "/trade"}, ack_timeout=0.3))
    await client.receive()
    with pytest.raises(TimeoutError):
        await delivery
    assert len(fake.socket_mode.envelopes) == 1


async def test_warning_then_refresh_closes_the_socket(socket: tuple) -> None:
    fake, client = socket
    await fake.send_warning()
    assert (await client.receive())["reason"] == "warning"
    await fake.request_refresh()
    assert (await client.receive()) | {"debug_info": None} == {"type": "disconnect", "reason": "refresh_requested",
                                                                "debug_info": None}
    closing = await asyncio.wait_for(client.ws.receive(), 5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    with pytest.raises(TimeoutError):  # nothing is delivered on a retired socket
        await fake.wait_for_socket(timeout=0.3)
