"""The install flow (many workspaces): bolt's OAuth v2 flow on our stores, behind our server.

`GET /slack/install` issues a `state` (a database row and a browser cookie) and sends the
installer to Slack's consent screen; Slack sends them back to `GET /slack/oauth_redirect`
with a one-time `code`, which bolt trades for the workspace's bot token (`oauth.v2.access`)
and saves. Both talk to the Slack that `SLACK_API_URL` names (the consent screen lives
beside the Web API), so the fake Slack plays the whole flow in tests. Requests are then
authorized per workspace from the stored installation; `auth.test` results are cached per
token, while the installation itself is looked up on every request (an uninstall counts at once).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.common.clock import Clock
from bot.slack.installations import BOT_SCOPES, StoredInstallations, StoredStates
from bot.slack.workspaces import InstalledWorkspaces
from bot.store import Database, StoreUnavailable
from bot.store.installations import InstallationRecords, OAuthStates

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600
NOT_INSTALLED = ("tradebot is not installed in this workspace any more. "
                 "Someone who can add apps here can reinstall it from the app's install page.")


class _NoCodes(logging.Filter):
    """Bolt logs the one-time code of a failed exchange; keep only Slack's error code."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "with code" in message:
            error = re.search(r"'error': '([a-z_]+)'", message)
            record.msg, record.args = "oauth.v2.access refused the install: %s", (error[1] if error else "error",)
        return True


_flow_log = logging.getLogger("bot.slack.oauth.bolt")
_flow_log.addFilter(_NoCodes())


def authorization_url(api_url: str | None) -> str:
    """Slack's consent screen, beside the Web API: https://slack.com/oauth/v2/authorize, or the fake's."""
    base = (api_url or "https://slack.com/api/").rstrip("/")
    return base.removesuffix("/api") + "/oauth/v2/authorize"


async def _success(args: AsyncSuccessArgs) -> BoltResponse:
    return await args.default.success(args)


# Failures a person causes or can act on get a page of ours; the rest keep bolt's (its reason
# codes, `invalid_state` and the like, are what someone debugging an install looks up).
_CANCELLED = "You cancelled the install: tradebot was not added to your workspace."
_ORG_WIDE = ("tradebot installs into one workspace at a time, not into a whole organisation: "
             "choose a workspace on Slack's install screen.")


async def _failure(args: AsyncFailureArgs) -> BoltResponse:
    log.info("an install did not complete: %s", args.reason)  # never the code or the state
    if args.reason == "access_denied":  # the person pressed Cancel on Slack's consent screen
        return _bolt_page(200, _CANCELLED, args)
    if args.reason == "storage_error" and "org-wide" in str(args.error):
        return _bolt_page(400, _ORG_WIDE, args)
    return await args.default.failure(args)


def _bolt_page(status: int, text: str, args: AsyncFailureArgs) -> BoltResponse:
    return BoltResponse(status=status, body=_html(text), headers={
        "Content-Type": "text/html; charset=utf-8",
        "Set-Cookie": args.settings.state_utils.build_set_cookie_for_deletion()})


def build_flow(client: AsyncWebClient, client_id: str, client_secret: str, records: InstallationRecords,
               states: OAuthStates, api_url: str | None) -> AsyncOAuthFlow:
    """Bolt's flow with our stores, asking for the manifest's bot scopes and no user scopes."""
    installations = StoredInstallations(records)
    settings = AsyncOAuthSettings(
        client_id=client_id, client_secret=client_secret, scopes=list(BOT_SCOPES), user_scopes=[],
        install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH, install_page_rendering_enabled=False,
        authorization_url=authorization_url(api_url), installation_store=installations,
        state_store=StoredStates(states), state_expiration_seconds=STATE_SECONDS,
        callback_options=AsyncCallbackOptions(success=_success, failure=_failure), logger=_flow_log)
    settings.authorize = AsyncInstallationStoreAuthorize(
        logger=_flow_log, installation_store=installations, client_id=client_id, client_secret=client_secret,
        cache_enabled=True)
    return AsyncOAuthFlow(client=client, logger=_flow_log, settings=settings)


@dataclass(frozen=True)
class InstallFlow:
    flow: AsyncOAuthFlow
    workspaces: InstalledWorkspaces


def install_flow(client: AsyncWebClient, client_id: str, client_secret: str, database: Database,
                 api_url: str | None, forget_team: Callable[[str], None], clock: Clock) -> InstallFlow:
    """The flow and the workspaces it installs, on one database (what `BotService` wires in)."""
    flow = build_flow(client, client_id, client_secret, InstallationRecords(database, clock),
                      OAuthStates(database, STATE_SECONDS, clock), api_url)
    return InstallFlow(flow, InstalledWorkspaces(flow.settings.installation_store, api_url, forget_team))


def add_oauth_routes(web_app: web.Application, flow: AsyncOAuthFlow) -> None:
    """`GET /slack/install` and `GET /slack/oauth_redirect`: a browser's requests, not Slack's, so
    there is no signature to check; the state (cookie and database row) ties the two together."""
    async def handle(request: web.Request) -> web.StreamResponse:
        bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
        try:
            if request.path == flow.install_path:
                response = await flow.handle_installation(bolt_request)
            else:
                response = await flow.handle_callback(bolt_request)
        except StoreUnavailable as exc:
            log.warning("install page: database unavailable (%s)", exc)
            return _page(503, "tradebot's database is unavailable just now: nothing was installed. "
                              "Try again in a minute.")
        except Exception as exc:  # noqa: BLE001 (no traceback: a driver's error names the installation, token and all)
            log.error("install page failed: %s", type(exc).__name__)
            return _page(500, "Something went wrong on tradebot's side: the install could not be saved.")
        return await to_aiohttp_response(response)

    web_app.router.add_get(flow.install_path, handle)
    web_app.router.add_get(flow.redirect_uri_path, handle)


def _page(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=_html(text), content_type="text/html")


def _html(text: str) -> str:
    """A page of ours: what happened, and the link to start an install again."""
    return (f"<html><body><h2>tradebot</h2><p>{html.escape(text)}</p>"
            f'<p><a href="{INSTALL_PATH}">Add tradebot to a workspace</a></p></body></html>')
