"""Who a message would notify, worked out the way Slack parses it.

Slack turns `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^ID>` and `<@U…>`
into notifications wherever mrkdwn is parsed: the top-level `text` (always) and
every `mrkdwn` text object in the blocks. rich_text `user`/`usergroup`/`broadcast`
elements notify too. With `link_names=true` (or `parse=full`) plain `@channel`,
`@here` and `@everyone` become live as well. plain_text never notifies.
"""

from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile(r"<(!channel|!here|!everyone|!subteam\^[A-Z0-9]+|@[UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINKED_NAMES = re.compile(r"(?<![\w<])@(channel|here|everyone)\b")


def _from_text(text: str, link_names: bool) -> set[str]:
    found: set[str] = set()
    for match in _CONTROL.finditer(text):
        token = match.group(1)
        if token.startswith("!subteam^"):
            found.add("subteam:" + token.split("^", 1)[1])
        elif token.startswith("!"):
            found.add("@" + token[1:])
        else:
            found.add(token[1:])
    if link_names:
        found |= {"@" + m.group(1) for m in _LINKED_NAMES.finditer(text)}
    return found


def _walk(node: Any, link_names: bool, found: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, link_names, found)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in ("mrkdwn", "markdown") and isinstance(node.get("text"), str):
        found |= _from_text(node["text"], link_names)
    elif kind == "user" and isinstance(node.get("user_id"), str):
        found.add(node["user_id"])
    elif kind == "usergroup" and isinstance(node.get("usergroup_id"), str):
        found.add("subteam:" + node["usergroup_id"])
    elif kind == "broadcast" and isinstance(node.get("range"), str):
        found.add("@" + node["range"])
    for value in node.values():
        if isinstance(value, (dict, list)):
            _walk(value, link_names, found)


def notified(payload: dict[str, Any]) -> list[str]:
    """Sorted targets this payload notifies: user ids, `@channel`/`@here`/`@everyone`, `subteam:ID`."""
    link_names = str(payload.get("link_names", "")).lower() in ("1", "true") or payload.get("parse") == "full"
    found = _from_text(str(payload.get("text") or ""), link_names)
    _walk(payload.get("blocks") or [], link_names, found)
    return sorted(found)
