"""Make text that did not come from us safe for Slack mrkdwn.

Escaping `&`, `<` and `>` (and nothing else) defuses every control sequence:
`<!channel>`, `<@U123>`, `<#C1>`, `<url|label>`. Only http(s) URLs are linked.
"""

from __future__ import annotations

from bot.common.urls import linkable_url

ELLIPSIS = "…"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut plain text to `limit` characters at a word boundary, marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """The URL if it may be linked (see `bot.common.urls`), else None."""
    return linkable_url(url)


def link(url: str | None, label: str) -> str:
    """`<url|label>` for a safe URL, else the escaped label alone."""
    label = escape(label).replace("|", "¦")
    target = safe_url(url)
    return f"<{target}|{label}>" if target else label


def bold_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Escape `text` and wrap the given character spans in *bold*."""
    out: list[str] = []
    last = 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(escape(text[last:start]))
        word = text[start:end]
        out.append(f"*{escape(word)}*" if "*" not in word else escape(word))
        last = end
    out.append(escape(text[last:]))
    return "".join(out)
