"""No server-side request forgery: schemes, literal addresses, resolved addresses and redirect hops."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.feeds import Fetcher, FetchError, StaticResolver, UnsafeURL, check_url
from bot.feeds.safety import VettingResolver, address_problem
from tests.test_feeds_server import TEST_HOSTS, PublisherSite, make_service, serve_site


@pytest.fixture
def site() -> Iterator[PublisherSite]:
    yield from serve_site()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed.xml", "gopher://example.com/",
                                 "data:text/xml,<rss/>", "javascript:alert(1)", "example.com/feed.xml", ""])
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(UnsafeURL, match="only http"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("address,kind", [
    ("127.0.0.1", "loopback"), ("10.0.0.1", "private"), ("192.168.1.20", "private"), ("172.16.3.4", "private"),
    ("169.254.169.254", "link-local address (cloud metadata)"), ("224.0.0.251", "multicast"),
    ("240.0.0.1", "reserved"), ("0.0.0.0", "unspecified"), ("100.64.0.1", "non-public"), ("::1", "loopback"),
    ("fe80::1", "link-local"), ("fc00::5", "private"), ("ff02::1", "multicast"), ("::", "unspecified"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "cloud metadata"), ("2002:a00:1::", "private"),
])
def test_non_public_addresses_are_refused_by_default_and_allowed_by_the_setting(address: str, kind: str) -> None:
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeURL, match="TRADEBOT_ALLOW_PRIVATE_URLS") as refused:
        check_url(f"http://{host}:8080/feed.xml", allow_private=False)
    assert kind in str(refused.value)
    assert check_url(f"http://{host}/feed.xml", allow_private=True)


def test_public_addresses_pass() -> None:
    for address in ("93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"):
        assert address_problem(ipaddress.ip_address(address)) is None


async def test_127_0_0_1_is_refused_without_the_setting(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path, allow_private=False)
    try:
        with pytest.raises(UnsafeURL, match="loopback.*TRADEBOT_ALLOW_PRIVATE_URLS"):
            await service.ingester.add_url(site.base + "/2025/06/11/rare-earths")
        with pytest.raises(UnsafeURL, match="TRADEBOT_ALLOW_PRIVATE_URLS"):
            service.add_feed(site.base + "/feed.xml")
    finally:
        await service.close()
    assert site.requests == []  # refused before any request


@pytest.mark.parametrize("host,why", [("news.test", "resolves to 127.0.0.1 is a loopback"),
                                      ("metadata.test", "cloud metadata"), ("mixed.test", "10.0.0.8 is a private"),
                                      ("mapped.test", "inside the IPv6 address")])
async def test_every_resolved_address_is_checked(site: PublisherSite, tmp_path: Path, host: str, why: str) -> None:
    service = make_service(tmp_path, allow_private=False)
    try:
        with pytest.raises(UnsafeURL, match=why):
            await service.ingester.add_url(f"http://{host}:{site.port}/2025/06/11/rare-earths")
    finally:
        await service.close()
    assert site.requests == []


async def test_a_name_connects_to_the_address_it_was_vetted_with(site: PublisherSite, tmp_path: Path) -> None:
    service = make_service(tmp_path, allow_private=True)  # the test resolver is the only resolver used
    try:
        outcome = await service.ingester.add_url(f"http://news.test:{site.port}/2025/06/11/rare-earths")
    finally:
        await service.close()
    assert outcome.status == "added" and site.requests_to("/2025/06/11/rare-earths")[0]["Host"].startswith("news.test")


async def test_a_redirect_to_a_private_address_is_refused(site: PublisherSite) -> None:
    # Literal 127.0.0.1 is let through for the first hop; host names are still vetted by the inner
    # resolver, so the cloud-metadata address behind the redirect is refused.
    vetting_names = VettingResolver(StaticResolver(TEST_HOSTS), allow_private=False)
    async with Fetcher(allow_private=True, resolver=vetting_names) as fetcher:
        with pytest.raises(FetchError, match="metadata.test resolves to 169.254.169.254") as refused:
            await fetcher.get(site.base + "/to-metadata")
    assert refused.value.unsafe
    assert [p for p, _ in site.requests] == ["/to-metadata"]


async def test_a_redirect_to_another_scheme_is_refused(site: PublisherSite) -> None:
    async with Fetcher(allow_private=True) as fetcher:
        with pytest.raises(FetchError, match="only http"):
            await fetcher.get(site.base + "/to-file")
