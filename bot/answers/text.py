"""Raw-text helpers shared by the core and every renderer: decoding Slack's entities, cutting."""

from __future__ import annotations

import re

ELLIPSIS = "…"
_ENTITY_RE = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def decode_entities(text: str) -> str:
    """Undo Slack's encoding of user text, once: only `&amp; &lt; &gt;` (all Slack encodes)."""
    return _ENTITY_RE.sub(lambda m: _ENTITIES[m.group(1)], text)


def truncate(text: str, limit: int) -> str:
    """Cut plain text to `limit` characters at a word boundary, marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS
