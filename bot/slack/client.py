"""The Web API client: slack-sdk's, with bounded retries for rate limits and server errors."""

from __future__ import annotations

import asyncio
import logging
import random

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 120.0  # never sleep longer than this on one Retry-After
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0


class RateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Honour `Retry-After`; without one, back off exponentially (capped) with jitter.

    slack-sdk's own handler waits a flat ~1 s when the header is missing.
    A 429 means Slack did not act on the call, so retrying cannot post twice.
    """

    async def prepare_for_next_attempt_async(
        self, *, state: RetryState, request: HttpRequest,
        response: HttpResponse | None = None, error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        header = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        try:
            delay = min(float(header[0] if isinstance(header, list) else header), MAX_RETRY_AFTER) if header else None
        except (TypeError, ValueError):
            delay = None
        if delay is None:
            delay = min(BACKOFF_CAP, BACKOFF_BASE * 2**state.current_attempt) * (0.5 + random.random() / 2)
        log.warning("Slack rate limit on %s; retrying in %.1fs", request.url.rsplit("/", 1)[-1], delay)
        state.next_attempt_requested = True
        await asyncio.sleep(delay)
        state.increment_current_attempt()


POSTING_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage", "chat.meMessage")


class SafeConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    """Retry connection errors, except for calls that post: a connection can break after
    Slack has accepted a post, and posting again would show it twice."""

    async def _can_retry_async(
        self, *, state: RetryState, request: HttpRequest,
        response: HttpResponse | None = None, error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").rsplit("/", 1)[-1] in POSTING_METHODS:
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


def retry_handlers() -> list[AsyncRetryHandler]:
    return [SafeConnectionErrorRetryHandler(max_retry_count=1), RateLimitRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2)]


def make_client(token: str | None, base_url: str | None = None, timeout: int = 15) -> AsyncWebClient:
    """`token` None: the install flow's client, given each workspace's token per request."""
    return AsyncWebClient(token=token or None, base_url=base_url or AsyncWebClient.BASE_URL, timeout=timeout,
                          retry_handlers=retry_handlers())


def slack_error(exc: SlackApiError) -> str:
    """The error code of a failed call, also when Slack answered with HTML or plain text."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "unknown_error")
    return f"http_{getattr(exc.response, 'status_code', 'error')}"
