"""Block Kit views: the article modal (paginated) and the App Home tab. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock

from bot.answers.commands import SUBCOMMANDS
from bot.corpus import Article
from bot.people import Person
from bot.slack.ui.blocks import (
    ACTION_MODAL_PAGE,
    MAX_VIEW_BLOCKS,
    SECTION_CHARS,
    article_list_blocks,
    button,
    context,
    fit,
    header,
    section,
)
from bot.slack.ui.mrkdwn import escape, link

MODAL_PAGE_CHARS = 9000


def paginate_article(article: Article, page_chars: int = MODAL_PAGE_CHARS) -> list[list[str]]:
    """Split an article's paragraphs into modal pages of at most `page_chars` characters."""
    pages: list[list[str]] = [[]]
    size = 0
    for paragraph in article.paragraphs:
        for piece in [paragraph[i:i + SECTION_CHARS - 200] for i in range(0, len(paragraph), SECTION_CHARS - 200)]:
            if size + len(piece) > page_chars and pages[-1]:
                pages.append([])
                size = 0
            pages[-1].append(piece)
            size += len(piece)
    return pages


def article_modal(article: Article, page: int = 0) -> dict:
    pages = paginate_article(article)
    page = max(0, min(page, len(pages) - 1))
    blocks: list[Block] = [
        header(article.title),
        context(f"{escape(article.publisher)} · {article.published:%d %b %Y}"
                + (f" · {link(article.url, 'Read at the source')}" if article.url else " · source link unknown")),
    ]
    blocks += [section(escape(p)) for p in pages[page]]
    buttons = []
    if page > 0:
        buttons.append(button("Previous page", ACTION_MODAL_PAGE, f"{article.id}|{page - 1}"))
    if page + 1 < len(pages):
        buttons.append(button("Next page", ACTION_MODAL_PAGE, f"{article.id}|{page + 1}"))
    if len(pages) > 1:
        blocks.append(context(f"Page {page + 1} of {len(pages)}"))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return {
        "type": "modal",
        "callback_id": "trade_article",
        "title": {"type": "plain_text", "text": "Article"},
        "close": {"type": "plain_text", "text": "Close"},
        "private_metadata": article.id,
        "blocks": fit(blocks, limit=MAX_VIEW_BLOCKS, keep_last=1 if buttons else 0),
    }


def home_view(articles: Sequence[Article], people: Sequence[Person], notice: str | None = None) -> dict:
    """The Home tab; `notice` replaces the news when there is none to show (loading, unavailable)."""
    blocks: list[Block] = [header("Trade negotiations in the news")]
    if notice is not None:
        blocks.append(section(notice))
    else:
        blocks.append(section("*Newest articles*"))
        blocks += article_list_blocks(articles, with_buttons=True)
        blocks.append(DividerBlock())
        names = [f"• *{escape(p.name)}* — {escape(p.role or 'in the news')} ({p.mentions})" for p in people]
        blocks.append(section("*Top people in the news*\n" + ("\n".join(names) or "No one yet.")))
    blocks.append(DividerBlock())
    blocks.append(section("*How to use* `/trade`\n" + "\n".join(
        f"• `/trade {escape(s.usage)}` — {s.summary}" for s in SUBCOMMANDS)
        + "\n• `/trade <words>` — search, e.g. `/trade tariffs china`"))
    return {"type": "home", "blocks": fit(blocks, limit=MAX_VIEW_BLOCKS)}
