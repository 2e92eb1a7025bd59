"""Block Kit as terminal text, so a person can see what Slack would show.

It reads Slack's markup back the way `bot.cli.render` writes typed answers
(`*bold*`, `label (url)`, `@U123`, the same icons), so `tradebot try` and
`tradebot search`/`who` print the same text for the same answer.
"""

from __future__ import annotations

import re
from typing import Any

from bot.answers.text import decode_entities
from bot.cli.render import DIVIDER, GLYPHS, header_lines
from bot.slack.ui.blocks import EMOJI

_LINK_RE = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_USER_RE = re.compile(r"<@([A-Z0-9]+)>")
_CHANNEL_RE = re.compile(r"<#([A-Z0-9]+)>")
_ICONS = {f"{EMOJI[icon]} ": f"{glyph} " for icon, glyph in GLYPHS.items()}


def mrkdwn_to_text(text: str) -> str:
    for code, glyph in _ICONS.items():
        if text.startswith(code):
            text = glyph + text[len(code):]
            break
    text = _LINK_RE.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _USER_RE.sub(lambda m: f"@{m.group(1)}", text)
    text = _CHANNEL_RE.sub(lambda m: f"#{m.group(1)}", text)
    return decode_entities(text)


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        raw = str(obj.get("text", ""))
        return mrkdwn_to_text(raw) if obj.get("type") == "mrkdwn" else decode_entities(raw)
    return str(obj or "")


def _buttons(elements: list[dict[str, Any]]) -> str:
    return "  ".join(f"[{_text(e.get('text'))}]" for e in elements if e.get("type") == "button")


def render_blocks(blocks: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines += header_lines(_text(block.get("text")))
        elif kind == "section":
            text = _text(block.get("text"))
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") == "button":
                text += f"  [{_text(accessory.get('text'))}]"
            lines.append(text)
        elif kind == "context":
            lines.append("  " + " ".join(_text(e) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append(DIVIDER)
        elif kind == "actions":
            lines.append(_buttons(block.get("elements", [])))
    return "\n".join(lines)


def render_payload(payload: dict[str, Any]) -> str:
    blocks = payload.get("blocks") or (payload.get("view") or {}).get("blocks")
    if blocks:
        return render_blocks(blocks)
    return mrkdwn_to_text(str(payload.get("text", "")))
