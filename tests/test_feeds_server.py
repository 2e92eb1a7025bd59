"""A publisher's web site on 127.0.0.1 for the feed tests: feeds and article pages modelled on real
publishers' formats, conditional GET, and every fault a feed reader meets (see
test_feeds_faults.py). It runs in its own thread, so synchronous CLI tests and async tests share it."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

DATA = Path(__file__).parent / "data" / "feeds"
PAGES = {
    "/2025/06/10/tariff-truce": "nav-heavy.html",
    "/2025/06/11/rare-earths": "article-tag.html",
    "/2025/06/12/paywalled": "paywall.html",
    "/og-only": "og-only.html",
    "/stories/eu-steel": "atom-page.html",
    "/courier/truce": "wire-copy.html",
}
FEEDS = {"/feed.xml": ("rss2.xml", "application/rss+xml"), "/atom/feed.atom": ("atom.xml", "application/atom+xml"),
         "/feed.json": ("feed.json", "application/feed+json")}

COURIER = """<?xml version="1.0"?><rss version="2.0"><channel><title>Coastal Courier</title><link>{base}/</link>
<item><title>US, China extend tariff truce for 90 more days</title><link>{base}/courier/truce</link>
<guid>courier-1</guid><pubDate>Tue, 10 Jun 2025 11:00:00 +0000</pubDate></item>
<item><title>US and China agree to extend tariff truce by 90 days</title>
<link>{base}/2025/06/10/tariff-truce?utm_campaign=courier</link><guid>courier-2</guid></item>
</channel></rss>"""

ODD = """<?xml version="1.0"?><rss version="2.0"><channel><title>Odd Entries</title><link>{base}/</link>
<item><title>No link but a summary</title><guid isPermaLink="false">odd-1</guid><pubDate>Mon, 09 Jun 2025 10:00:00 +0000</pubDate>
<description>Negotiators met again in London on Monday to discuss export controls on chips and rare earths.</description></item>
<item><title>No link and no summary</title><guid isPermaLink="false">odd-2</guid></item>
<item><title>Rare earth exports resume after licence backlog clears</title><link>{base}/2025/06/11/rare-earths</link>
<guid>odd-3</guid><pubDate>Fri, 01 Jan 2100 10:00:00 +0000</pubDate></item>
<item><title>Same GUID again</title><link>{base}/og-only</link><guid>odd-3</guid></item>
<item><title>EU weighs retaliatory duties on US steel</title><link>{base}/stories/eu-steel</link><guid>odd-5</guid></item>
</channel></rss>"""


@functools.cache
def gzip_bomb(megabytes: int = 16) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    return b"".join(packer.compress(b"\0" * (1 << 20)) for _ in range(megabytes)) + packer.flush()


class PublisherSite:
    """Serves the fixtures with `{base}` filled in; records every request's path and headers."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.base = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.feed_version = 1
        self.in_flight = 0
        self.most_in_flight = 0

    def text(self, name: str) -> str:
        return (DATA / name).read_text(encoding="utf-8").replace("{base}", self.base)

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == path]

    # Handlers ----------------------------------------------------------------

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        name, content_type = FEEDS[request.path]
        body = self.text(name).encode() if self.feed_version == 1 else self.text(name).replace(
            "<item>", "<item><title>Late item</title><link>{b}/og-only</link><guid>late</guid></item><item>"
            .replace("{b}", self.base), 1).encode()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        modified = "Wed, 11 Jun 2025 08:00:00 GMT"
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag, "Last-Modified": modified})
        return web.Response(body=body, content_type=content_type, charset="utf-8",
                            headers={"ETag": etag, "Last-Modified": modified})

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=self.text(PAGES[request.path]), content_type="text/html")

    async def _fault(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/courier.xml":
            return web.Response(text=COURIER.replace("{base}", self.base), content_type="application/rss+xml")
        if path == "/odd.xml":
            return web.Response(text=ODD.replace("{base}", self.base), content_type="application/rss+xml")
        if path == "/html-feed":
            return web.Response(text=self.text("nav-heavy.html"), content_type="text/html")
        if path == "/broken.xml":
            return web.Response(text="<?xml version='1.0'?><rss><channel><title>Broken & <item", content_type="text/xml")
        if path == "/latin1.xml":  # ISO-8859-1 bytes, declared in the XML, while the header says UTF-8
            xml = ('<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Le Négoce</title>'
                   f'<item><title>Café exports and tariffs</title><link>{self.base}/2025/06/11/rare-earths</link>'
                   '<guid>l1</guid></item></channel></rss>')
            return web.Response(body=xml.encode("latin-1"), headers={"Content-Type": "text/xml; charset=utf-8"})
        if path in ("/gone", "/missing"):
            return web.Response(status=410 if path == "/gone" else 404, text="no")
        if path == "/busy":
            return web.Response(status=429, headers={"Retry-After": "7200"}, text="slow down")
        if path == "/unavailable":
            return web.Response(status=503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"},
                                text="<html>maintenance</html>", content_type="text/html")
        if path.startswith("/hold/"):  # counts requests served at once
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            await asyncio.sleep(0.1)
            self.in_flight -= 1
            return web.Response(text="ok")
        if path == "/slow":
            await asyncio.sleep(30)
            return web.Response(text="late")
        if path == "/big":
            return web.Response(body=b"<rss>" + b" " * (6 * 1024 * 1024), content_type="application/rss+xml")
        if path == "/bomb":  # 16 KB on the wire, 16 MB when inflated
            return web.Response(body=gzip_bomb(), headers={"Content-Encoding": "gzip",
                                                           "Content-Type": "application/rss+xml"})
        if path == "/loop":
            raise web.HTTPFound(f"/loop?{len(self.requests)}")
        if path == "/to-metadata":
            raise web.HTTPFound("http://metadata.test/latest/meta-data/")
        if path == "/to-file":
            raise web.HTTPFound("file:///etc/passwd")
        if path == "/to-feed":
            raise web.HTTPMovedPermanently("/feed.xml")
        raise web.HTTPNotFound()

    @web.middleware
    async def _record(self, request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.headers)))
        return await handler(request)

    # Lifecycle -----------------------------------------------------------------

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._record])
        for path in FEEDS:
            app.router.add_get(path, self._feed)
        for path in PAGES:
            app.router.add_get(path, self._page)
        app.router.add_get("/{tail:.*}", self._fault)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        self.port = port

    def start(self) -> PublisherSite:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def serve_site() -> Iterator[PublisherSite]:
    """The body of each feed test module's `site` fixture."""
    server = PublisherSite().start()
    yield server
    server.stop()


@pytest.fixture
def site() -> Iterator[PublisherSite]:
    yield from serve_site()


def test_the_site_serves_feeds_with_validators(site: PublisherSite) -> None:
    import urllib.request

    with urllib.request.urlopen(site.base + "/feed.xml") as resp:  # noqa: S310 (127.0.0.1 test server)
        assert resp.headers["ETag"] and b"content:encoded" in resp.read()


TEST_HOSTS = {
    "news.test": ["127.0.0.1"],
    "metadata.test": ["169.254.169.254"],
    "mixed.test": ["93.184.216.34", "10.0.0.8"],  # one public address is not enough: every one is checked
    "mapped.test": ["::ffff:127.0.0.1"],
}


def make_service(tmp_path: Path, *, allow_private: bool = True, **settings: object):  # -> FeedService
    """The feed machinery as `tradebot` builds it, on a temporary database and corpus, with host
    names resolved from TEST_HOSTS (never the network)."""
    from bot.feeds.safety import StaticResolver
    from bot.feeds.service import FeedService
    from bot.settings import load_settings

    values = {"TRADEBOT_DB": str(tmp_path / "state.sqlite3"), "TRADEBOT_CORPUS": str(tmp_path / "corpus"),
              "TRADEBOT_ALLOW_PRIVATE_URLS": allow_private, "TRADEBOT_FETCH_TIMEOUT_SECONDS": 2, **settings}
    return FeedService(load_settings(**values), resolver=StaticResolver(TEST_HOSTS))
