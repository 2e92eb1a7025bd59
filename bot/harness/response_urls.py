"""response_url: what Slack does with a payload posted to one.

Slack keeps a response_url for 30 minutes and 5 uses, then answers 404
`expired_url`. A payload is validated like chat.postMessage. `delete_original`
removes the message the interaction came from; `replace_original` rewrites it in
place (it stays where it was: ephemeral or in the channel); otherwise the payload
is a new message, ephemeral to the user unless `response_type` is `in_channel`.
For a slash command there is no source message: its first answer becomes the
one later `replace_original` answers rewrite.
"""

from __future__ import annotations

from typing import Any

from bot.harness.slack_state import RESPONSE_URL_LIFETIME, RESPONSE_URL_USES, MessageRef, SlackState
from bot.harness.validation import message_rejection


def _flag(payload: dict[str, Any], key: str) -> bool:
    return str(payload.get(key, "")).lower() in ("1", "true")


def answer_response_url(state: SlackState, rid: str, payload: dict[str, Any],
                        force_expired: bool = False) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) for a POST to response_url `rid`; applies it to Slack's state."""
    url = state.response_urls.get(rid)
    if url is None:
        return 404, {"ok": False, "error": "expired_url"}
    url.uses += 1
    too_old = state.clock.now() - url.issued > RESPONSE_URL_LIFETIME
    if force_expired or url.expired or too_old or url.uses > RESPONSE_URL_USES:
        return 404, {"ok": False, "error": "expired_url"}
    if _flag(payload, "delete_original"):
        if url.original is None or not state.delete(url.original):
            return 404, {"ok": False, "error": "message_not_found"}
        url.original = None
        return 200, {"ok": True}
    refused = message_rejection(payload)
    if refused:
        return 400, refused
    if _flag(payload, "replace_original") and url.original is not None:
        if state.replace(url.original, payload) is None:
            return 404, {"ok": False, "error": "message_not_found"}
        return 200, {"ok": True}
    if payload.get("response_type") == "in_channel" and url.channel in state.channels:
        message = state.post(url.channel, payload)
        ref = MessageRef(url.channel, message["ts"])
    else:
        message = state.post_ephemeral(url.channel, url.user, payload)
        ref = MessageRef(url.channel, message["ts"], ephemeral_for=url.user)
    if url.original is None:
        url.original = ref
    return 200, {"ok": True}
