"""`/health` says which database the bot uses and whether it answers, without ever waiting on it:
through HTTP mode with the fake Slack, on both engines, and across a real outage (a TCP proxy in
front of PostgreSQL that the test cuts and restores)."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.common.clock import FakeClock
from bot.harness.session import HarnessSession
from bot.store import Database
from bot.store.schema import SCHEMA_VERSION
from bot.store.status import DatabaseProbe
from tests.databases import fresh_postgres_schema


async def health(session: HarnessSession) -> tuple[dict[str, Any], str]:
    assert session.service is not None and session.service.url is not None
    url = session.service.url.replace("/slack/events", "/health")
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        assert response.status == 200
        text = await response.text()
        return await response.json(), text


def with_password(url: str) -> str:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    return parsed.set(password="s3cret-pw").render_as_string(hide_password=False)


async def test_health_names_the_database_and_says_it_answers(seed_corpus_dir: Path, tmp_path: Path,
                                                           database_url: str) -> None:
    url = with_password(database_url)  # trust auth ignores it; /health must not show it
    async with HarnessSession(seed_corpus_dir, transport="http", db_path=tmp_path / "unused.sqlite3",
                              database_url=url) as session:
        data, text = await health(session)
    engine = sa.make_url(database_url).get_backend_name()
    assert data["ok"] is True and data["database"] == {
        "engine": engine, "url": sa.make_url(url).render_as_string(hide_password=True),
        "reachable": True, "schema": SCHEMA_VERSION, "error": None}
    assert "s3cret" not in text


class Proxy:
    """A TCP forwarder on 127.0.0.1 to the PostgreSQL server, on its own thread and event loop (the
    bot's database calls block its loop): `cut()` closes it and every connection through it (the
    database is gone), `restore()` listens on the same port again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="pg-proxy", daemon=True)
        self.thread.start()

    def _do(self, work: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=30)

    def restore(self) -> None:
        self._do(self._listen())

    def cut(self) -> None:
        self._do(self._cut())

    def close(self) -> None:
        if self.server is not None and self.server.is_serving():
            self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
def proxied_url() -> Iterator[tuple[str, Proxy]]:
    with fresh_postgres_schema() as url:
        parsed = sa.make_url(url)
        proxy = Proxy((parsed.host or "127.0.0.1", parsed.port or 5432))
        try:
            proxy.restore()
            yield parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
        finally:
            proxy.close()


async def until(check: Callable[[dict[str, Any]], bool], session: HarnessSession) -> dict[str, Any]:
    """/health until `check` holds (the refresh runs in a thread), for at most 30 s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        data, _ = await health(session)
        if check(data["database"]) or loop.time() > deadline:
            return data["database"]
        await asyncio.sleep(0.05)


async def test_health_follows_a_database_outage_and_its_end(seed_corpus_dir: Path, tmp_path: Path,
                                                           proxied_url: tuple[str, Proxy]) -> None:
    url, proxy = proxied_url
    clock = FakeClock(dt.datetime.now(dt.UTC))
    async with HarnessSession(seed_corpus_dir, transport="http", db_path=tmp_path / "unused.sqlite3",
                              database_url=url, clock=clock, feeds_enabled=False) as session:
        first, _ = await health(session)
        assert first["database"]["reachable"] is True and first["database"]["schema"] == SCHEMA_VERSION

        proxy.cut()
        assert (await health(session))[0]["database"]["reachable"] is True  # not checked again yet
        clock.advance(seconds=6)
        down = await until(lambda d: d["reachable"] is False, session)
        assert down["reachable"] is False and down["schema"] is None
        assert down["error"] and str(proxy.port) in down["error"] and down["engine"] == "postgresql"

        proxy.restore()
        clock.advance(seconds=6)
        up = await until(lambda d: d["reachable"] is True, session)
        assert up == {**first["database"]}


def test_the_probe_answers_at_once_while_a_check_is_hanging() -> None:
    """A server that accepts and never answers: the refresh waits out the connect timeout in its
    thread, and `current()` meanwhile returns the last status instead of joining the wait."""
    clock = FakeClock(dt.datetime.now(dt.UTC))
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    database = Database(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test")
    try:
        probe = DatabaseProbe(database, clock, every=5)  # nothing listens yet: refused at once
        before = probe.current()
        assert before.reachable is False and before.error and "refused" in before.error.lower()
        with socket.socket() as silent:
            silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            silent.bind(("127.0.0.1", port))
            silent.listen(8)  # now something accepts, and never says a word
            clock.advance(seconds=5)
            assert probe.current() is before  # starts a refresh, which hangs on the silent server
            refresh = probe._refresh
            assert refresh is not None and refresh.is_alive()
            assert probe.current() is before and probe._refresh is refresh  # no second thread piled on
            probe.close()  # waits for the refresh to give up
            assert not refresh.is_alive()
            after = probe.current()
            assert after is not before and after.error and "timeout" in after.error.lower()
    finally:
        database.close()
