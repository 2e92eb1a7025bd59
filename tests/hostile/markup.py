"""A detector of live Slack markup in anything the bot sends, independent of the bot's code.

Slack parses `<...>` sequences in mrkdwn text and in a message's top-level `text`
(the notification fallback): `<!channel>` pings a channel, `<@U1>` a person,
`<#C1>` names a channel, `<url|label>` is a link whose label can say anything.
Entity-encoded forms (`&lt;!channel&gt;`) are shown literally and are harmless.

`live_markup(payload, allowed_urls=...)` walks every string of a payload (message
text, blocks, attachments, views, metadata, response_url bodies) and returns one
`Finding` per live sequence that is not allowed, and per `<` that opens a sequence
never closed (a link cut in half). This module deliberately re-implements the
rules from Slack's documentation and never imports `bot.slack.ui`, so it can catch
the renderer's mistakes.

Field kinds: `plain_text` objects (`{"type": "plain_text", "text": ...}`) are not
parsed by Slack; keys that are data, not shown text (`value`, `action_id`,
`private_metadata`, ...), are not parsed either. Findings in those are reported
only when asked for with `kinds=`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["special", "user", "channel", "link", "unclosed"]
FieldKind = Literal["mrkdwn", "plain_text", "data"]

# Keys whose strings Slack never renders as mrkdwn: ids, button values, hashes, flags.
DATA_KEYS = frozenset({
    "action_id", "block_id", "callback_id", "private_metadata", "value", "type", "style", "response_type",
    "response_id", "channel", "user", "user_id", "ts", "thread_ts", "trigger_id", "view_id", "hash",
    "external_id", "event_type", "token", "image_url", "alt_text", "url", "initial_value", "team_id",
    "app_id", "bot_id", "id", "unfurl_links", "unfurl_media", "replace_original", "delete_original",
    "include_all_metadata", "limit", "cursor", "mrkdwn", "emoji", "verbatim", "submit_disabled",
    "notify_on_close", "clear_on_close",
})
# `<...>` as Slack's parser sees it: from a `<` to the next `>`, with no `<` in between.
_TOKEN_RE = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True)
class Finding:
    kind: Kind
    token: str  # the sequence as sent, e.g. "<!here>" or "<https://evil.example|Reuters>"
    path: str  # where in the payload, e.g. "blocks[3].text.text"
    field: FieldKind

    def __str__(self) -> str:
        return f"{self.kind} {self.token[:120]!r} at {self.path} ({self.field})"


def classify(inner: str, allowed_urls: frozenset[str], allowed_users: frozenset[str]) -> Kind | None:
    """What the text between `<` and `>` does in Slack, or None when it is allowed."""
    if inner.startswith("!"):
        return "special"  # <!channel>, <!here>, <!everyone>, <!subteam^ID>, <!date^...>
    if inner.startswith("@"):
        user = inner[1:].split("|", 1)[0]
        return None if user in allowed_users else "user"
    if inner.startswith("#"):
        return "channel"
    target = inner.split("|", 1)[0]
    if target in allowed_urls or html.unescape(target) in allowed_urls:
        return None
    return "link"


def scan_text(text: str, path: str = "text", field: FieldKind = "mrkdwn", *,
              allowed_urls: Iterable[str] = (), allowed_users: Iterable[str] = ()) -> list[Finding]:
    """Findings in one string as Slack would parse it."""
    urls, users = frozenset(allowed_urls), frozenset(allowed_users)
    found: list[Finding] = []
    starts = set()
    for match in _TOKEN_RE.finditer(text):
        starts.add(match.start())
        kind = classify(match.group(1), urls, users)
        if kind is not None:
            found.append(Finding(kind, match.group(0), path, field))
    # A `<` that starts no complete sequence opens one that never closes, e.g.
    # `<https://x.example/very-long|Tit` cut by a length limit. Escaped text has no raw `<`.
    for stray in re.finditer("<", text):
        if stray.start() not in starts:
            found.append(Finding("unclosed", text[stray.start():stray.start() + 80], path, field))
    return found


def _walk(node: Any, path: str, field: FieldKind) -> Iterator[tuple[str, str, FieldKind]]:
    if isinstance(node, str):
        yield path, node, field
    elif isinstance(node, dict):
        plain = node.get("type") == "plain_text"
        for key, value in node.items():
            if key in DATA_KEYS and isinstance(value, str):
                kind: FieldKind = "data"
            elif plain and key == "text":
                kind = "plain_text"
            elif key in ("metadata", "event_payload"):
                kind = "data"
            else:
                kind = field
            yield from _walk(value, f"{path}.{key}" if path else str(key), kind)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]", field)


def strings(payload: Any) -> Iterator[tuple[str, str, FieldKind]]:
    """Every string in a payload with its path and field kind."""
    yield from _walk(payload, "", "mrkdwn")


def live_markup(payload: Any, *, allowed_urls: Iterable[str] = (), allowed_users: Iterable[str] = (),
                kinds: Iterable[FieldKind] = ("mrkdwn",)) -> list[Finding]:
    """Every live control sequence in `payload` that is not an allowed link or user mention."""
    wanted = set(kinds)
    urls, users = frozenset(allowed_urls), frozenset(allowed_users)
    found: list[Finding] = []
    for path, text, field in strings(payload):
        if field in wanted and "<" in text:
            found += scan_text(text, path, field, allowed_urls=urls, allowed_users=users)
    return found


def is_live(text: str, **allowed: Any) -> bool:
    """True when `text`, read as mrkdwn, holds a live sequence that is not allowed."""
    return bool(scan_text(text, **allowed))
