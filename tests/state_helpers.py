"""Test helpers for the shared state: a SQLite-backed button store, and a TCP proxy that can cut a
database off and bring it back (a real outage), a SQLite file that vanishes. Fresh databases come from `tests.databases`."""

from __future__ import annotations

import asyncio
import shutil
import threading
from contextlib import suppress
from pathlib import Path

import sqlalchemy as sa

from bot.answers.state import AnswerStore
from bot.store import Database, open_database


def answer_store(directory: Path) -> AnswerStore:
    """Button state in a SQLite file in `directory` (the embedded engine, as `tradebot run` has)."""
    directory.mkdir(parents=True, exist_ok=True)
    return AnswerStore(open_database(f"sqlite:///{directory / 'state.sqlite3'}"))


def via(url: str, port: int) -> str:
    """`url` with its port replaced (to go through a proxy on 127.0.0.1)."""
    return sa.make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 in front of `target`, on its own thread and event loop (the
    bot's loop may block on the database; the proxy must not block with it).

    `cut()` closes every connection and makes new ones close at once (the server went away);
    `stall()` stops forwarding bytes without closing anything (a black-holed network);
    `restore()` forwards again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.mode = "open"  # "open" | "cut" | "stall"
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._thread = threading.Thread(target=self._loop.run_forever, name="db-proxy", daemon=True)

    def __enter__(self) -> CuttableProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        self._close_all()
        self._flowing.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "cut":
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                if writer not in self._writers:
                    break
                writer.write(data)
                await writer.drain()
        writer.close()
        self._writers.discard(writer)

    def _set(self, mode: str) -> None:
        def apply() -> None:
            self.mode = mode
            if mode == "cut":
                self._close_all()
            if mode == "stall":
                self._flowing.clear()
            else:
                self._flowing.set()

        self._loop.call_soon_threadsafe(apply)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self._loop).result(5)  # applied before returning

    def cut(self) -> None:
        self._set("cut")

    def stall(self) -> None:
        self._set("stall")

    def restore(self) -> None:
        self._set("open")


class GoneSqliteFile:
    """A SQLite database's file goes (a lost volume): a directory stands where it was, so it cannot
    be opened; `restore` puts it back. Same `cut`/`restore` as `CuttableProxy`."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.path = Path(sa.make_url(database.safe_url).database or "")
        self.aside = self.path.parent / "aside"

    def cut(self) -> None:
        self.database.engine.dispose()  # open connections would hold the old file
        self.aside.mkdir(exist_ok=True)
        for file in self.path.parent.glob(self.path.name + "*"):
            shutil.move(file, self.aside / file.name)
        self.path.mkdir()

    def restore(self) -> None:
        self.path.rmdir()
        for file in self.aside.iterdir():
            shutil.move(file, self.path.parent / file.name)
