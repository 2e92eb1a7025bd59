"""The Read-article modal's pages and the Home tab, as typed answers.

An article is paged by markup cost and by section count together, so every
paragraph lands on exactly one page however long or short the paragraphs are,
and each page keeps room for its "Page N of M" line and buttons.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from bot.answers.compose import article_section, day, usage_lines
from bot.answers.models import (
    Action,
    ArticlePages,
    Button,
    Code,
    Divider,
    HomeSummary,
    Line,
    Link,
    Part,
    Section,
    Strong,
)
from bot.answers.text import truncate
from bot.corpus import Article
from bot.people import Person

SECTION_COST = 2600  # a section's escaped text; Slack's limit is 3,000
PAGE_COST = 9000  # escaped text per page: a readable screenful
PAGE_SECTIONS = 90  # a view holds 100 blocks: header, source line, page line and buttons besides
_PAGE_VALUE_RE = re.compile(r"([a-z0-9][a-z0-9-]{0,119})\|(\d{1,6})", re.ASCII)


def cost(text: str) -> int:
    """Characters once escaped for markup (`&` becomes `&amp;`, `<` becomes `&lt;`)."""
    return len(text) + 4 * text.count("&") + 3 * (text.count("<") + text.count(">"))


def _split(paragraph: str, limit: int = SECTION_COST) -> list[str]:
    """Cut a paragraph into pieces of at most `limit` cost, at a space where one is near."""
    if cost(paragraph) <= limit:
        return [paragraph]
    totals = list(accumulate(5 if c == "&" else 4 if c in "<>" else 1 for c in paragraph))  # cost of [:i + 1]
    pieces: list[str] = []
    start = 0
    while start < len(paragraph):
        end = bisect_right(totals, (totals[start - 1] if start else 0) + limit)
        if end >= len(paragraph):
            pieces.append(paragraph[start:])
            break
        space = paragraph.rfind(" ", start, end)
        if space > start + (end - start) * 0.6:
            pieces.append(paragraph[start:space])
            start = space + 1
        else:
            pieces.append(paragraph[start:end])
            start = end
    return pieces


def sections_of(paragraphs: Sequence[str]) -> list[str]:
    """Paragraphs packed into sections (joined by blank lines) of at most SECTION_COST each."""
    sections: list[str] = []
    for paragraph in paragraphs:
        for piece in _split(paragraph):
            if sections and cost(sections[-1]) + 2 + cost(piece) <= SECTION_COST:
                sections[-1] += "\n\n" + piece
            else:
                sections.append(piece)
    return sections


def paginate(paragraphs: Sequence[str]) -> list[list[str]]:
    """Sections grouped into pages by cost and count; always at least one (maybe empty) page."""
    pages: list[list[str]] = [[]]
    size = 0
    for section in sections_of(paragraphs):
        if pages[-1] and (size + cost(section) > PAGE_COST or len(pages[-1]) >= PAGE_SECTIONS):
            pages.append([])
            size = 0
        pages[-1].append(section)
        size += cost(section)
    return pages


def parse_page_value(value: str) -> tuple[str, int] | None:
    """A page button's value `article-id|N`, or None when it does not parse (an expired button)."""
    match = _PAGE_VALUE_RE.fullmatch(value)
    return (match.group(1), int(match.group(2))) if match else None


def article_pages(article: Article, page: int = 0) -> ArticlePages:
    pages = paginate(article.paragraphs)
    page = max(0, min(page, len(pages) - 1))
    meta: Line = (article.publisher, " · ", day(article.published), " · ",
                  Link(article.url, "Read at the source") if article.url else "source link unknown")
    buttons: list[Button] = []
    if page > 0:
        buttons.append(Button("Previous page", Action.PAGE, f"{article.id}|{page - 1}", name="prev"))
    if page + 1 < len(pages):
        buttons.append(Button("Next page", Action.PAGE, f"{article.id}|{page + 1}", name="next"))
    return ArticlePages(article_id=article.id, title=article.title, meta=meta, paragraphs=tuple(pages[page]),
                        page=page, pages=len(pages), page_line=f"Page {page + 1} of {len(pages)}" if len(pages) > 1 else "",
                        buttons=tuple(buttons))


HOME_TITLE = "Trade negotiations in the news"
HOME_LOADING = "Still reading the articles; this tab fills in a minute."
HOME_UNAVAILABLE = "The article corpus is unavailable right now."


def home(articles: Sequence[Article], people: Sequence[Person], notice: str | None = None) -> HomeSummary:
    """The Home tab; `notice` replaces the news when there is none to show (loading, unavailable)."""
    parts: list[Part] = []
    if notice is not None:
        parts.append(Section(((notice,),)))
    else:
        parts.append(Section(((Strong("Newest articles"),),)))
        parts += [article_section(a) for a in articles]
        parts.append(Divider())
        names: list[Line] = [("• ", Strong(truncate(p.name, 200)), " — ", truncate(p.role or "in the news", 300),
                              f" ({p.mentions})") for p in people]
        parts.append(Section(((Strong("Top people in the news"),), *(names or [("No one yet.",)]))))
    parts.append(Divider())
    parts.append(Section(((Strong("How to use"), " ", Code("/trade")), *usage_lines(with_examples=False),
                          ("• ", Code("/trade <words>"), " — search, e.g. ", Code("/trade tariffs china")))))
    return HomeSummary(title=HOME_TITLE, parts=tuple(parts))
