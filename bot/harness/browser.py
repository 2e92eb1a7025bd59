"""A person's browser for the install flow: the app's `/slack/install`, Slack's consent screen,
and back to the app's `/slack/oauth_redirect` with the code, over real HTTP.

It follows redirects one at a time (so a test can stop, tamper or replay at any step) and
keeps cookies as a browser would, except that it also returns `Secure` ones over http://
(the test servers have no TLS; production runs behind https).
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import aiohttp


@dataclass
class Page:
    url: str
    status: int
    location: str | None
    text: str


class Browser:
    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    async def get(self, url: str) -> Page:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session, \
                session.get(url, headers=headers, allow_redirects=False) as response:
            for header in response.headers.getall("Set-Cookie", []):
                self._keep(header)
            return Page(url, response.status, response.headers.get("Location"), await response.text())

    def _keep(self, header: str) -> None:
        for name, morsel in SimpleCookie(header).items():
            gone = morsel["max-age"] == "0" or "1970" in morsel["expires"]
            if gone:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    async def start_install(self, app_base: str) -> str:
        """Open the app's install link: the consent screen's URL Slack shows (the state cookie is set)."""
        page = await self.get(f"{app_base}/slack/install")
        if page.status != 302 or not page.location:
            raise AssertionError(f"/slack/install answered {page.status}, not a redirect to Slack")
        return page.location

    async def approve(self, consent_url: str, team: str, user: str | None = None) -> str:
        """Press Allow on Slack's consent screen as `user` of `team`: the app's redirect URL (code, state)."""
        extra = {"team": team, **({"user": user} if user else {})}
        page = await self.get(f"{consent_url}&{urlencode(extra)}")
        if page.status != 302 or not page.location:
            raise AssertionError(f"the consent screen answered {page.status}: {page.text}")
        return page.location

    async def install(self, app_base: str, team: str, user: str | None = None) -> Page:
        """The whole install, as a person clicks through it: the app's last page."""
        redirect = await self.approve(await self.start_install(app_base), team, user)
        return await self.get(redirect)
