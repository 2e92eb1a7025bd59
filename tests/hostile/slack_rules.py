"""Slack rules the fake does not check, re-stated from Slack's documentation (not the bot's code)."""

from __future__ import annotations

from collections import Counter
from typing import Any


def repeated_ids(blocks: list[dict[str, Any]]) -> list[str]:
    """`action_id`s repeated within one block, and `block_id`s repeated within the message or view:
    Slack answers `invalid_blocks` for either."""
    problems: list[str] = []
    for block in blocks:
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        counts = Counter(e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id"))
        problems += [f"action_id {a!r} x{n} in block {block.get('block_id')!r}" for a, n in counts.items() if n > 1]
    block_ids = Counter(b.get("block_id") for b in blocks if b.get("block_id"))
    problems += [f"block_id {b!r} x{n}" for b, n in block_ids.items() if n > 1]
    return problems
