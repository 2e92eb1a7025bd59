"""The HTTP-mode server: aiohttp with bounded connections, bounded reads and quiet failures.

Anyone on the internet can open a connection before any signature is checked,
so what a connection may cost is bounded here: at most `max_connections` open at
once (the next one gets a 429 and is closed, without reading its request); a
request's headers must arrive within `read_timeout` (aiohttp's keep-alive timer
closes a connection whose request never completes) and its body too (the
handler's timeout, see `bot.slack.http`); after a rejection the rest of a body is
not waited for. aiohttp's own error lines for broken or aborted requests become
one short line each, rate-limited, without a traceback.

Why 429 and not 503 over the cap: every answer to a request that is not a
verified Slack request is a 4xx (a 5xx would read as a bot fault, and Slack
retries events on any non-2xx anyway); 429 with `Retry-After` says "too many at
once, come back in a second", which is what happened.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web

from bot.common.logs import RateLimitedLog

log = logging.getLogger(__name__)
_quiet = RateLimitedLog(log)

OVER_CAPACITY = (b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nConnection: close\r\n"
                 b"Content-Type: text/plain\r\nContent-Length: 21\r\n\r\ntoo many connections\n")


@dataclass(frozen=True)
class HttpLimits:
    max_body: int = 1024 * 1024
    read_timeout: float = 3.0  # Slack gives up on an ack after 3 s: a body slower than that is of no use
    max_connections: int = 256


class _Refuse(asyncio.Protocol):
    """A connection over the cap: answer 429 at once and close, reading nothing."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(OVER_CAPACITY)
        transport.close()


class LimitedSite(web.TCPSite):
    """A TCP site that refuses connections beyond `max_connections`."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, max_connections: int) -> None:
        super().__init__(runner, host, port)
        self._max_connections = max_connections

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None

        def protocol() -> asyncio.BaseProtocol:
            if len(server.connections) >= self._max_connections:
                _quiet.log(logging.WARNING, "cap", "refused a connection: %d already open (429)",
                           self._max_connections)
                return _Refuse()
            return server()

        self._server = await asyncio.get_running_loop().create_server(protocol, self._host, self._port)
        self._bound_port = self._server.sockets[0].getsockname()[1] if self._server.sockets else self._port


class QuietServerErrors(logging.Filter):
    """aiohttp logs each malformed or aborted request with an 18-line traceback; make it one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info:
            return True
        exc = record.exc_info[1]
        kind = type(exc).__name__ if exc is not None else "error"
        _quiet.log(logging.INFO, "aiohttp:" + kind, "dropped a broken HTTP request (%s)", kind)
        return False


_QUIET = QuietServerErrors()


async def start_server(web_app: web.Application, host: str, port: int, limits: HttpLimits) -> web.AppRunner:
    """Serve `web_app`; the runner's `addresses` say where (port 0 picks a free one)."""
    server_log = logging.getLogger("aiohttp.server")
    if _QUIET not in server_log.filters:
        server_log.addFilter(_QUIET)
    runner = web.AppRunner(web_app, access_log=None, handle_signals=False,
                           keepalive_timeout=limits.read_timeout, lingering_time=min(1.0, limits.read_timeout))
    await runner.setup()
    await LimitedSite(runner, host, port, limits.max_connections).start()
    return runner
