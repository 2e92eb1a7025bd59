"""Typed answers rendered to Slack views: the Read-article modal (one page) and the App Home tab."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ContextBlock, SectionBlock

from bot.answers.models import ArticlePages, HomeSummary
from bot.slack.ui.blocks import MAX_VIEW_BLOCKS, SECTION_CHARS, action_buttons, fit, header, mrkdwn_object, render_parts
from bot.slack.ui.mrkdwn import escape, fit_escaped, mrkdwn_lines, plain_text

MODAL_CALLBACK = "trade_article"
VIEW_TITLE_CHARS = 24


def article_modal(pages: ArticlePages) -> dict:
    """One page of an article; pagination (`bot.answers.pages`) keeps every page within limits."""
    blocks: list[Block] = [
        header(pages.title),
        ContextBlock(elements=[mrkdwn_object(mrkdwn_lines((pages.meta,), SECTION_CHARS))]),
    ]
    # Each section is at most SECTION_COST escaped characters; fit_escaped only guards the limit.
    blocks += [SectionBlock(text=mrkdwn_object(fit_escaped(p, SECTION_CHARS)))
               for p in pages.paragraphs]
    if pages.page_line:
        blocks.append(ContextBlock(elements=[mrkdwn_object(escape(pages.page_line))]))
    if pages.buttons:
        blocks.append(ActionsBlock(elements=action_buttons(pages.buttons)))
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "title": {"type": "plain_text", "text": plain_text(pages.window_title, VIEW_TITLE_CHARS)},
        "close": {"type": "plain_text", "text": plain_text(pages.close_label, VIEW_TITLE_CHARS)},
        "private_metadata": pages.article_id,
        "blocks": fit(blocks, limit=MAX_VIEW_BLOCKS, keep_last=2 if pages.buttons and pages.page_line else 0),
    }


def home_view(home: HomeSummary) -> dict:
    blocks: list[Block] = [header(home.title), *render_parts(home.parts)]
    return {"type": "home", "blocks": fit(blocks, limit=MAX_VIEW_BLOCKS)}
