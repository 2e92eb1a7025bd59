"""Fetching one URL safely: vetted hops, bounded redirects, size and time limits, conditional GET.

Every failure becomes a `FetchError` whose message is the status line a person reads
("HTTP 404", "TLS error: ...", "timed out after 20 s"), so callers never parse exceptions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import ssl
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver
from pydantic import BaseModel, ConfigDict

from bot.feeds.safety import UnsafeURL, VettingResolver, check_url

USER_AGENT = "tradebot/0.1 (news reader; +https://github.com/)"
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
REDIRECTS = (301, 302, 303, 307, 308)


class FetchLimits(BaseModel):
    max_bytes: int = 5 * 1024 * 1024
    timeout_s: float = 20.0
    max_redirects: int = 5
    concurrency: int = 4


class FetchResult(BaseModel):
    """A 200 (body read within limits) or a 304 (`not_modified`, no body)."""

    model_config = ConfigDict(frozen=True)

    url: str  # after redirects
    status: int
    body: bytes = b""
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """Why a fetch failed, as one line; `retry_after` (seconds) on 429/503, `gone` on 410."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None,
                 unsafe: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.unsafe = unsafe

    @property
    def gone(self) -> bool:
        return self.status == 410


def retry_after_seconds(value: str | None, now: dt.datetime) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


class Fetcher:
    """One aiohttp session for all fetches; at most `limits.concurrency` requests at once."""

    def __init__(self, limits: FetchLimits | None = None, *, allow_private: bool = False,
                 resolver: AbstractResolver | None = None) -> None:
        self.limits = limits or FetchLimits()
        self.allow_private = allow_private
        self._resolver = VettingResolver(resolver, allow_private=allow_private)
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(self.limits.concurrency)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(resolver=self._resolver, use_dns_cache=False,
                                             limit=self.limits.concurrency)
            self._session = aiohttp.ClientSession(
                connector=connector, trust_env=False, headers={"User-Agent": USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.limits.timeout_s,
                                              sock_read=self.limits.timeout_s))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def get(self, url: str, *, accept: str = PAGE_ACCEPT, etag: str | None = None,
                  last_modified: str | None = None) -> FetchResult:
        """GET with every hop vetted; raises FetchError with a one-line reason."""
        async with self._slots:
            try:
                return await asyncio.wait_for(self._get(url, accept, etag, last_modified), self.limits.timeout_s)
            except TimeoutError:
                raise FetchError(f"timed out after {self.limits.timeout_s:g} s") from None

    async def _get(self, url: str, accept: str, etag: str | None, last_modified: str | None) -> FetchResult:
        headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _hop in range(self.limits.max_redirects + 1):
            try:
                check_url(url, allow_private=self.allow_private)
            except UnsafeURL as exc:
                raise FetchError(str(exc), unsafe=True) from None
            try:
                async with self._client().get(url, headers=headers, allow_redirects=False) as resp:
                    if resp.status in REDIRECTS and resp.headers.get("Location"):
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    return await self._read(url, resp)
            except FetchError:
                raise
            except UnsafeURL as exc:
                raise FetchError(str(exc), unsafe=True) from None
            except aiohttp.ClientConnectorCertificateError as exc:
                raise FetchError(f"TLS error: certificate not accepted ({exc.certificate_error})") from None
            except (aiohttp.ClientSSLError, ssl.SSLError) as exc:
                raise FetchError(f"TLS error: {exc}") from None
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, UnsafeURL):
                    raise FetchError(str(exc.os_error), unsafe=True) from None
                raise FetchError(f"cannot connect to {exc.host}: {exc.os_error.strerror or exc.os_error}") from None
            except aiohttp.ServerTimeoutError:
                raise FetchError(f"timed out after {self.limits.timeout_s:g} s") from None
            except (aiohttp.ClientError, OSError) as exc:
                raise FetchError(f"connection failed: {exc.__class__.__name__} {exc}".strip()) from None
        raise FetchError(f"more than {self.limits.max_redirects} redirects")

    async def _read(self, url: str, resp: aiohttp.ClientResponse) -> FetchResult:
        if resp.status == 304:
            return FetchResult(url=url, status=304, etag=resp.headers.get("ETag"),
                               last_modified=resp.headers.get("Last-Modified"))
        if resp.status != 200:
            retry = retry_after_seconds(resp.headers.get("Retry-After"), dt.datetime.now(dt.UTC))
            reason = {410: "410 Gone", 404: "404 Not Found", 429: "429 Too Many Requests",
                      503: "503 Service Unavailable"}.get(resp.status, f"HTTP {resp.status}")
            if retry is not None:
                reason += f" (Retry-After {retry:g} s)"
            raise FetchError(reason, status=resp.status, retry_after=retry)
        limit = self.limits.max_bytes
        declared = resp.content_length
        if declared is not None and declared > limit and not resp.headers.get("Content-Encoding"):
            raise FetchError(f"response too large ({declared:,} bytes; limit {limit:,})")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):  # decompressed: a gzip bomb stops here
            size += len(chunk)
            if size > limit:
                raise FetchError(f"response too large (over {limit:,} bytes after decompression)")
            chunks.append(chunk)
        return FetchResult(url=url, status=200, body=b"".join(chunks), content_type=resp.content_type,
                           charset=resp.charset, etag=resp.headers.get("ETag"),
                           last_modified=resp.headers.get("Last-Modified"))
