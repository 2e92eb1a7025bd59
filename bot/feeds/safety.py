"""No server-side request forgery: which URLs and addresses tradebot may fetch.

Checked twice: every URL (and every redirect hop) before it is requested, and every address a
host name resolves to, inside the resolver aiohttp connects with. The connector connects to the
addresses the resolver returned, so a name cannot resolve to a public address when checked and a
private one when used (no DNS-rebinding window).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from bot.common.urls import is_web_url

ALLOW_SETTING = "TRADEBOT_ALLOW_PRIVATE_URLS"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValueError):
    """A URL tradebot refuses to fetch; the message says why and names the setting when it applies."""


def address_problem(address: IPAddress) -> str | None:
    """Why an address may not be fetched from (None: a public unicast address)."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if mapped is not None:
            problem = address_problem(mapped)
            return f"{problem} (inside the IPv6 address {address})" if problem else None
    kinds = [("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
             ("link-local", address.is_link_local), ("multicast", address.is_multicast),
             ("reserved", address.is_reserved), ("private", address.is_private),
             ("non-public", not address.is_global)]
    kind = next((name for name, hit in kinds if hit), None)
    if kind is None:
        return None
    metadata = " (cloud metadata)" if str(address) in ("169.254.169.254", "fd00:ec2::254") else ""
    article = "an" if kind[0] in "aeiou" else "a"
    return f"{address} is {article} {kind} address{metadata}"


def refusal(problem: str) -> UnsafeURL:
    return UnsafeURL(f"refused: {problem}; set {ALLOW_SETTING}=true to allow local and private addresses")


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL if it may be requested; raises UnsafeURL. Host names are checked again when resolved."""
    scheme = urlsplit(url.strip()).scheme.lower() if url else ""
    if scheme not in ("http", "https"):
        raise UnsafeURL(f"refused: only http(s) URLs can be fetched, not {scheme + ':' if scheme else repr(url[:80])}")
    if not is_web_url(url):
        raise UnsafeURL(f"refused: not a valid web address: {url[:200]!r}")
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    problem = address_problem(address)
    if problem and not allow_private:
        raise refusal(problem)
    return url


class VettingResolver(AbstractResolver):
    """Resolves with an inner resolver and refuses the whole name if any address is not public."""

    def __init__(self, inner: AbstractResolver | None = None, *, allow_private: bool = False) -> None:
        self._inner = inner  # the system resolver is made on first use: it needs the running loop
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = ThreadedResolver()
        results = await self._inner.resolve(host, port, family)
        if not self._allow_private:
            for result in results:
                problem = address_problem(ipaddress.ip_address(result["host"].split("%")[0]))
                if problem:
                    raise refusal(f"{host} resolves to {problem}")
        return results

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


class StaticResolver(AbstractResolver):
    """Names to fixed addresses, for tests: no DNS and no network."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self._table = {name.lower(): addresses for name, addresses in table.items()}

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        addresses = self._table.get(host.lower())
        if not addresses:
            raise OSError(f"unknown host {host}")
        return [ResolveResult(hostname=host, host=a, port=port,
                              family=socket.AF_INET6 if ":" in a else socket.AF_INET, proto=0,
                              flags=socket.AI_NUMERICHOST) for a in addresses]

    async def close(self) -> None:
        return None
