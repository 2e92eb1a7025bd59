"""Slack's verdict on a payload as a bare error code, for tests of the renderer.

A thin front to `bot.harness.validation` (the fake Slack's own rules): None when
Slack would accept the payload, else the error code it would answer.
"""

from __future__ import annotations

from typing import Any

from bot.harness.validation import message_rejection, view_rejection


def check_message(payload: dict[str, Any]) -> str | None:
    refused = message_rejection(payload)
    return str(refused["error"]) if refused else None


def check_view(view: dict[str, Any]) -> str | None:
    refused = view_rejection(view)
    return str(refused["error"]) if refused else None
