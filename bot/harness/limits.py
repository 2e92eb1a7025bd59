"""Slack's Block Kit limits, checked the way Slack rejects payloads (the fake Slack uses these)."""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
TEXT_LIMIT = 4000  # top-level text; Slack answers msg_too_long above this (practical limit)
BLOCK_TEXT_LIMIT = 13_000  # all block text together; msg_blocks_too_long above this


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return str(obj or "")


def _element_error(element: dict[str, Any]) -> bool:
    if element.get("type") == "button":
        return (len(_text_of(element.get("text"))) > 75 or len(str(element.get("value", ""))) > 2000
                or len(str(element.get("url", ""))) > 3000 or len(str(element.get("action_id", ""))) > 255)
    return False


def block_errors(blocks: Any) -> bool:
    """True when any block breaks a limit (or is not a block at all)."""
    if not isinstance(blocks, list):
        return True
    for block in blocks:
        if not isinstance(block, dict) or "type" not in block:
            return True
        if len(str(block.get("block_id", ""))) > 255:
            return True
        kind = block["type"]
        if kind == "section":
            if len(_text_of(block.get("text"))) > 3000 or len(block.get("fields") or []) > 10:
                return True
            if "text" not in block and not block.get("fields"):
                return True
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and _element_error(accessory):
                return True
        elif kind == "header":
            if len(_text_of(block.get("text"))) > 150:
                return True
        elif kind == "context":
            if len(block.get("elements") or []) > 10:
                return True
        elif kind == "actions":
            elements = block.get("elements") or []
            if len(elements) > 25 or any(_element_error(e) for e in elements):
                return True
    return False


def _block_text_total(blocks: list[dict[str, Any]]) -> int:
    total = 0
    for block in blocks:
        total += len(_text_of(block.get("text")))
        for element in block.get("elements") or []:
            if isinstance(element, dict):
                total += len(_text_of(element.get("text")) if isinstance(element.get("text"), dict) else element.get("text", ""))
    return total


def check_message(payload: dict[str, Any]) -> str | None:
    blocks = payload.get("blocks")
    text = str(payload.get("text") or "")
    if not blocks and not text:
        return "no_text"
    if len(text) > TEXT_LIMIT:
        return "msg_too_long"
    if blocks:
        if len(blocks) > MESSAGE_BLOCKS or block_errors(blocks):
            return "invalid_blocks"
        if _block_text_total(blocks) > BLOCK_TEXT_LIMIT:
            return "msg_blocks_too_long"
    return None


def check_view(view: dict[str, Any]) -> str | None:
    blocks = view.get("blocks") or []
    if view.get("type") not in ("modal", "home"):
        return "invalid_arguments"
    if view.get("type") == "modal" and len(_text_of(view.get("title"))) > 24:
        return "invalid_arguments"
    if len(blocks) > VIEW_BLOCKS or block_errors(blocks):
        return "invalid_blocks"
    return None
