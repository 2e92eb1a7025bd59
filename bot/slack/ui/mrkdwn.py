"""The one escaping step per Slack field kind, and typed lines rendered to mrkdwn.

Slack decodes `&amp; &lt; &gt;` in every text it shows, mrkdwn and plain_text
alike (plain_text is stored entity-encoded: a button labelled `Answer & 1` comes
back as `Answer &amp; 1`), and parses mentions and links in mrkdwn and the
top-level `text`. So every raw string is escaped exactly once: `escape` for
plain_text fields, `mrkdwn_line` for mrkdwn (it escapes each raw piece and adds
only our own markup), `fallback` for a message's `text`. Only `link`,
`user`/`channel` references and the bold/code markers below produce markup, and
`link` links only URLs that `bot.common.urls.linkable_url` accepts.
"""

from __future__ import annotations

from bot.answers.markup import Terminal
from bot.answers.models import Code, Highlighted, Line, Link, Strong, plain
from bot.answers.text import ELLIPSIS, truncate

__all__ = ["ELLIPSIS", "bold_spans", "escape", "fallback", "link", "mrkdwn_line", "plain_text", "truncate"]

def escape(text: str) -> str:
    """Raw text made literal for any Slack text field: exactly `&`, `<`, `>` are encoded."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit_escaped(text: str, limit: int) -> str:
    """`escape(text)`, cut (in the raw text, never inside an entity) to at most `limit` characters."""
    out = escape(text)
    while len(out) > limit:
        text = truncate(text, max(1, len(text) - (len(out) - limit)))
        out = escape(text)
    return out


def plain_text(text: str, limit: int) -> str:
    """A plain_text field (headers, button labels, view titles)."""
    return fit_escaped(" ".join(text.split()) or "-", limit)


def fallback(summary: str, limit: int) -> str:
    """A message's top-level `text`: notifications parse it like mrkdwn, so it is escaped too."""
    return fit_escaped(summary, limit)


class Mrkdwn(Terminal):
    """Slack's dialect of the shared markup rules: escaped text, `<url|label>`, `<@U…>`, `<#C…>`."""

    def escape(self, text: str) -> str:
        return escape(text)

    def link(self, url: str, label: str) -> str:
        return f"<{url}|{label}>"

    def user(self, user_id: str) -> str:
        return f"<@{user_id}>"

    def channel(self, channel_id: str) -> str:
        return f"<#{channel_id}>"


MRKDWN = Mrkdwn()


def link(url: str | None, label: str) -> str:
    """`<url|label>` for a linkable URL, else the escaped label alone (never half a link)."""
    return MRKDWN.linked(url, label)


def bold_spans(text: str, spans: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> str:
    """Escape `text` and wrap the given character spans in *bold*."""
    return MRKDWN.highlighted(text, spans)


def mrkdwn_line(line: Line, quote: bool = False) -> str:
    return MRKDWN.line(line, quote)


def mrkdwn_lines(lines: tuple[Line, ...], limit: int, quote_last: bool = False) -> str:
    """Lines as one mrkdwn text of at most `limit` characters: raw text is shortened, markup never cut."""
    work = [list(line) for line in lines]
    for _ in range(50):
        text = "\n".join(mrkdwn_line(tuple(line), quote_last and i == len(work) - 1) for i, line in enumerate(work))
        if len(text) <= limit:
            return text
        over = len(text) - limit
        # Shorten the longest piece of raw text (links keep their URL; only labels shrink).
        i, j = max(((i, j) for i, line in enumerate(work) for j in range(len(line))),
                   key=lambda ij: len(plain((work[ij[0]][ij[1]],))))
        part = work[i][j]
        size = len(plain((part,)))
        new = max(1, size - over)
        if isinstance(part, str):
            work[i][j] = truncate(part, new)
        elif isinstance(part, Highlighted):
            cut = truncate(part.text, new)
            work[i][j] = Highlighted(cut, tuple(s for s in part.spans if s[1] < len(cut)))
        elif isinstance(part, (Strong, Code)):
            work[i][j] = type(part)(truncate(part.text, new))
        elif isinstance(part, Link):
            work[i][j] = Link(None if size <= 1 else part.url, truncate(part.text, new), part.strong)
        else:
            work[i][j] = ""
    return fit_escaped(" ".join(plain(tuple(line)) for line in work), limit)
