"""Typed answers as terminal text, for `tradebot search`, `who` and `people`.

It reads like `tradebot try` (Slack's payload read back by `bot.harness.render`):
the same words from `bot.answers.compose`, the same markup rules from
`bot.answers.markup` (`*bold*`, `label (url)`), the same block layout.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.answers.markup import Terminal, laid_out
from bot.answers.models import (
    Answer,
    ArticlePages,
    Button,
    Divider,
    HomeSummary,
    Icon,
    Line,
    Note,
    Part,
    Section,
)
from bot.people import Person

GLYPHS = {Icon.SEARCH: "🔍", Icon.PERSON: "👤", Icon.NEWS: "📰", Icon.BOOKS: "📚", Icon.WARNING: "⚠️",
          Icon.WAIT: "⏳"}
DIVIDER = "-" * 40
TERMINAL = Terminal()


def buttons_line(buttons: Sequence[Button]) -> str:
    return "  ".join(f"[{' '.join(b.label.split())}]" for b in buttons)


def header_lines(title: str) -> list[str]:
    title = " ".join(title.split())
    return [title, "=" * min(len(title), 78)]


def _lines(lines: tuple[Line, ...], prefix: str = "", quote_last: bool = False) -> str:
    return prefix + TERMINAL.lines(lines, quote_last=quote_last)


def render_part(part: Part, prefix: str = "") -> str:
    if isinstance(part, Section):
        text = _lines(part.lines, prefix, part.quote_last)
        return text + (f"  {buttons_line([part.button])}" if part.button else "")
    if isinstance(part, Note):
        return "  " + _lines(part.lines, prefix)
    if isinstance(part, Divider):
        return DIVIDER
    return buttons_line(part.buttons)


def render_parts(parts: Sequence[Part], heading: Line = (), icon: Icon | None = None) -> list[str]:
    prefix = f"{GLYPHS[icon]} " if icon else ""
    return [render_part(part, prefix if with_icon else "") for part, with_icon in laid_out(parts, heading)]


def render_answer(answer: Answer) -> str:
    return "\n".join(render_parts(answer.parts, answer.heading, answer.icon))


def render_article(pages: ArticlePages) -> str:
    out = [*header_lines(pages.title), "  " + TERMINAL.line(pages.meta), *pages.paragraphs]
    if pages.page_line:
        out.append("  " + pages.page_line)
    if pages.buttons:
        out.append(buttons_line(pages.buttons))
    return "\n".join(out)


def render_home(home: HomeSummary) -> str:
    return "\n".join([*header_lines(home.title), *render_parts(home.parts)])


def format_people(people: Sequence[Person]) -> str:
    """`tradebot people`: one line each, most mentioned first."""
    return "\n".join(f"{p.mentions:>4}  {p.name:<24} {p.role or ''}" for p in people)
