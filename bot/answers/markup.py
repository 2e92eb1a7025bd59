"""Typed lines to marked-up text: one set of rules, two dialects (Slack mrkdwn, terminal).

The rules (what is bold, when a link is made, how a quote starts) live here once,
so `tradebot search`/`who` and `tradebot try` (Slack's payload read back) show the
same text. A dialect says only how to escape raw text and how to spell a link or a
mention; every raw piece passes through `escape` exactly once, in `inline`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answers.models import ChannelRef, Code, Inline, Line, Link, Part, Section, Strong, UserRef
from bot.common.urls import linkable_url

# Slack ids: only these may become `<@…>` / `<#…>` (a user's U/W id; a channel's C, G or D id).
USER_ID = re.compile(r"[UW][A-Z0-9]{1,40}")
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{1,40}")


class Terminal:
    """Plain terminal text: `*bold*`, `` `code` ``, `label (url)`, `@U123`."""

    def escape(self, text: str) -> str:
        return text

    def link(self, url: str, label: str) -> str:
        return f"{label} ({url})"

    def user(self, user_id: str) -> str:
        return f"@{user_id}"

    def channel(self, channel_id: str) -> str:
        return f"#{channel_id}"

    # The rules, shared by every dialect -----------------------------------

    def strong(self, rendered: str) -> str:
        core = rendered.strip()
        return f"*{core}*" if core and "*" not in core else rendered

    def highlighted(self, text: str, spans: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> str:
        out: list[str] = []
        last = 0
        for start, end in sorted(spans):
            if start < last or end <= start:
                continue
            out.append(self.escape(text[last:start]))
            word = text[start:end]
            out.append(f"*{self.escape(word)}*" if "*" not in word and word.strip() == word else self.escape(word))
            last = end
        out.append(self.escape(text[last:]))
        return "".join(out)

    def linked(self, url: str | None, label: str) -> str:
        """A link for a URL `bot.common.urls` allows, else the label alone (never half a link)."""
        label = self.escape(label).replace("|", "¦")
        target = linkable_url(url)
        return self.link(target, label) if target and label else label

    def inline(self, part: Inline) -> str:
        if isinstance(part, str):
            return self.escape(part)
        if isinstance(part, Strong):
            return self.strong(self.escape(part.text))
        if isinstance(part, Code):
            body = self.escape(part.text)
            return f"`{body}`" if body and "`" not in body else body
        if isinstance(part, Link):
            rendered = self.linked(part.url, part.text)
            return self.strong(rendered) if part.strong else rendered
        if isinstance(part, UserRef):
            return self.user(part.id) if USER_ID.fullmatch(part.id) else self.escape(f"@{part.id}")
        if isinstance(part, ChannelRef):
            return self.channel(part.id) if CHANNEL_ID.fullmatch(part.id) else self.escape(f"#{part.id}")
        return self.highlighted(part.text, part.spans)

    def line(self, line: Line, quote: bool = False) -> str:
        text = "".join(self.inline(p) for p in line)
        return ">" + text.replace("\n", " ") if quote else text

    def lines(self, lines: tuple[Line, ...], quote_last: bool = False) -> str:
        return "\n".join(self.line(line, quote_last and i == len(lines) - 1) for i, line in enumerate(lines))


def laid_out(parts: Sequence[Part], heading: Line = ()) -> list[tuple[Part, bool]]:
    """The parts in display order, the heading first as a section, each with whether it carries
    the answer's icon (only the first section does): the one layout every surface renders."""
    ordered: list[Part] = [Section((heading,)), *parts] if heading else list(parts)
    first = next((i for i, part in enumerate(ordered) if isinstance(part, Section)), None)
    return [(part, i == first) for i, part in enumerate(ordered)]
