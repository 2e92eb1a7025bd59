"""Block Kit rendering: pure functions from our models to Slack message and view payloads.

Built with slack-sdk's Block Kit models (which validate Slack's limits when
serialised); every text we did not write goes through `bot.slack.ui.mrkdwn` first, and
every message is cut to fit Slack's limits before it leaves this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.answers.commands import SEARCH_EXAMPLES, SUBCOMMANDS
from bot.corpus import Article, Corpus
from bot.people import Person, PersonMatch
from bot.search import SearchHit, SearchResponse
from bot.slack.ui.mrkdwn import bold_spans, escape, link, truncate

SECTION_CHARS = 2800  # Slack rejects 3,001; stay clear of it
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 12_000  # total block text; Slack's practical limit is about 13k
FALLBACK_CHARS = 3000  # top-level `text` (notifications); Slack's limit is about 4k
BUTTON_CHARS = 75

ACTION_SHARE = "trade_share"
ACTION_MORE = "trade_more"
ACTION_READ = "trade_read"
ACTION_PICK = "trade_pick"
ACTION_MODAL_PAGE = "trade_modal_page"


@dataclass
class Message:
    """A message payload: blocks plus the plain-text fallback Slack shows in notifications."""

    text: str
    blocks: list[dict] = field(default_factory=list)
    in_channel: bool = False

    def payload(self) -> dict:
        return {"text": self.text, "blocks": self.blocks}


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_CHARS)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, SECTION_CHARS))])


def button(label: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=PlainTextObject(text=truncate(label, BUTTON_CHARS)), action_id=action_id,
                         value=value[:2000], style=style)


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=truncate(text, 150)))


def _block_text(block: dict) -> int:
    total = len(block.get("text", {}).get("text", "")) if isinstance(block.get("text"), dict) else 0
    for element in block.get("elements", []):
        if isinstance(element, dict):
            total += len(element.get("text", "") if isinstance(element.get("text"), str) else
                         element.get("text", {}).get("text", ""))
    return total


def fit(blocks: Sequence[Block], limit: int = MAX_MESSAGE_BLOCKS, keep_last: int = 0) -> list[dict]:
    """Serialise, then drop middle blocks until the message fits Slack's block and size limits.

    The last `keep_last` blocks (the buttons) always survive; dropped content is
    replaced by one line saying so.
    """
    dicts = [b.to_dict() for b in blocks]
    tail = dicts[len(dicts) - keep_last:] if keep_last else []
    body = dicts[: len(dicts) - keep_last] if keep_last else dicts
    dropped = False
    while body and (len(body) + len(tail) + dropped > limit
                    or sum(map(_block_text, body + tail)) > MAX_MESSAGE_TEXT):
        body.pop()
        dropped = True
    if dropped:
        body.append(context("_Some of this answer was cut to fit in one Slack message._").to_dict())
    return body + tail


def _fallback(text: str) -> str:
    return truncate(text, FALLBACK_CHARS)


def _restate(label: str, query: str) -> str:
    return f"{label} *{escape(truncate(query, 300))}*"


def help_message(note: str | None = None) -> Message:
    lines = [f"• `/trade {escape(s.usage)}` — {s.summary}. Try `/trade {escape(s.example)}`" for s in SUBCOMMANDS]
    examples = ", ".join(f"`/trade {escape(e)}`" for e in SEARCH_EXAMPLES)
    blocks: list[Block] = []
    if note:
        blocks.append(section(note))
    blocks += [
        section("*Search the trade-negotiation news:* `/trade <words>`\n"
                f"Examples: {examples}\n"
                "Use `\"quoted phrases\"`, `-word` to exclude, `source:NAME`, `since:YYYY-MM-DD`, `until:YYYY-MM-DD`. "
                "Typos are fine."),
        section("*More commands*\n" + "\n".join(lines)),
        context("Answers are only visible to you until you press *Share in channel*. "
                "Mention @tradebot in a channel or thread to ask there."),
    ]
    return Message(text="How to use /trade", blocks=fit(blocks))


def _hit_blocks(n: int, hit: SearchHit, key: str | None) -> list[Block]:
    title = link(hit.url, truncate(hit.title, 200))
    meta = f"{escape(hit.publisher)} · {hit.published:%d %b %Y}"
    text = f"*{n}. {title}*\n{meta}\n>{bold_spans(hit.snippet, hit.highlights)}"
    block = section(text)
    if key is not None:
        block.accessory = button("Read article", ACTION_READ, hit.article_id)
    return [block]


def search_message(response: SearchResponse, key: str | None, shared_by: str | None = None) -> Message:
    """Search results; `key` names the server-side state behind the buttons (None: no buttons)."""
    blocks: list[Block] = [section(_restate(":mag: Search:", response.query))]
    notes = [escape(n) for n in response.notices]
    if response.corrected:
        notes.append(f"Showing results for *{escape(response.corrected)}*.")
    if notes:
        blocks.append(context(" ".join(notes)))
    if response.message:
        blocks.append(section(response.message))
        return Message(text=_fallback(f"Search: {response.query}"), blocks=fit(blocks))
    if not response.results:
        text = "No articles match."
        if response.suggestions:
            text += " Did you mean " + ", ".join(f"*{escape(s)}*" for s in response.suggestions) + "?"
        blocks.append(section(text))
        return Message(text=_fallback(f"No results for {response.query}"), blocks=fit(blocks))
    first = response.offset + 1
    for n, hit in enumerate(response.results, start=first):
        blocks.append(DividerBlock())
        blocks.extend(_hit_blocks(n, hit, key))
    last = response.offset + len(response.results)
    footer = f"Articles {first}–{last} of {response.total}."
    if shared_by:
        footer += f" Shared by <@{shared_by}>."
    blocks.append(context(footer))
    buttons: list[ButtonElement] = []
    if key is not None:
        buttons.append(button("Share in channel", ACTION_SHARE, key, style="primary"))
        if response.has_more:
            buttons.append(button("More results", ACTION_MORE, key))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    fallback = f"Search: {response.query} — " + "; ".join(h.title for h in response.results)
    return Message(text=_fallback(fallback), blocks=fit(blocks, keep_last=1 if buttons else 0))


def person_blocks(person: Person, limit_articles: int = 8) -> list[Block]:
    described = ", ".join(escape(x) for x in (person.role, person.organization, person.country) if x)
    blocks: list[Block] = [section(f":bust_in_silhouette: *{escape(person.name)}*" + (f"\n{described}" if described else ""))]
    n_articles = max(person.article_count, len(person.articles))
    facts = [f"{person.mentions} mention{'s' if person.mentions != 1 else ''} in {n_articles} "
             f"article{'s' if n_articles != 1 else ''}"]
    if person.other_roles:
        facts.append("also described as " + "; ".join(escape(r) for r in person.other_roles[:3]))
    if person.aliases:
        facts.append("known as " + ", ".join(escape(a) for a in person.aliases[:5]))
    blocks.append(context(" · ".join(facts)))
    for item in person.articles[:limit_articles]:
        blocks.append(section(f"*{link(item.url, truncate(item.title, 200))}* · {item.published:%d %b %Y}\n"
                              f">{escape(truncate(item.sentence, 600))}"))
    if n_articles > limit_articles:
        blocks.append(context(f"…and {n_articles - limit_articles} more articles."))
    return blocks


def person_message(query: str, person: Person, key: str | None, shared_by: str | None = None) -> Message:
    blocks: list[Block] = [section(_restate(":mag: Who is", query)), *person_blocks(person)]
    if shared_by:
        blocks.append(context(f"Shared by <@{shared_by}>."))
    if key is not None:
        blocks.append(ActionsBlock(elements=[button("Share in channel", ACTION_SHARE, key, style="primary")]))
    text = f"{person.name}: {person.role or 'in the news'}"
    return Message(text=_fallback(text), blocks=fit(blocks, keep_last=1 if key else 0))


def person_choices(query: str, matches: list[PersonMatch], key: str) -> Message:
    blocks: list[Block] = [section(_restate(":mag: Who is", query) + "\nSeveral people match; pick one:")]
    for match in matches[:10]:
        p = match.person
        blocks.append(section(f"*{escape(p.name)}* — {escape(p.role or 'role not stated')} · {p.mentions} mentions"))
    buttons = [button(m.person.name, ACTION_PICK, f"{key}|{i}") for i, m in enumerate(matches[:5])]
    blocks.append(ActionsBlock(elements=buttons))
    return Message(text=_fallback(f"Several people match {query}"), blocks=fit(blocks, keep_last=1))


def person_not_found(query: str, suggestions: list[str]) -> Message:
    text = f"No one called *{escape(truncate(query, 200))}* appears in the articles."
    if suggestions:
        text += " Nearest names: " + ", ".join(f"*{escape(s)}*" for s in suggestions) + "."
    return Message(text=_fallback(f"No one called {query} in the articles"), blocks=fit([section(text)]))


def article_list_blocks(articles: Sequence[Article], with_buttons: bool = True) -> list[Block]:
    blocks: list[Block] = []
    for article in articles:
        block = section(f"*{link(article.url, truncate(article.title, 200))}*\n"
                        f"{escape(article.publisher)} · {article.published:%d %b %Y}\n"
                        f"{escape(truncate(article.lead, 280))}")
        if with_buttons:
            block.accessory = button("Read article", ACTION_READ, article.id)
        blocks.append(block)
    return blocks


def latest_message(articles: Sequence[Article]) -> Message:
    blocks: list[Block] = [section(f":newspaper: *The {len(articles)} newest articles*")]
    if not articles:
        blocks = [section("The corpus has no articles yet.")]
    blocks += article_list_blocks(articles)
    return Message(text=_fallback("Newest articles: " + "; ".join(a.title for a in articles)), blocks=fit(blocks))


def sources_message(corpus: Corpus) -> Message:
    articles = corpus.articles
    if not articles:
        return Message(text="The corpus is empty.", blocks=fit([section("The corpus has no articles yet.")]))
    first, last = min(a.published for a in articles), max(a.published for a in articles)
    lines = [f"• {escape(name)}: {count}" for name, count in corpus.publishers().items()]
    blocks: list[Block] = [
        section(f":books: *{len(articles)} articles* from {first:%d %b %Y} to {last:%d %b %Y}"),
        section("\n".join(lines[:60])),
    ]
    if corpus.skipped:
        blocks.append(context(f"{len(corpus.skipped)} corpus files could not be read; "
                              "`tradebot corpus` lists them with reasons."))
    return Message(text=f"{len(articles)} articles", blocks=fit(blocks))


def notice_message(text: str) -> Message:
    """A short answer in our own words (mrkdwn allowed; callers escape what they insert)."""
    return Message(text=_fallback(text), blocks=fit([section(text)]))


def error_message(error_id: str) -> Message:
    return notice_message(f":warning: Sorry, something went wrong on our side. (error id `{error_id}`)")


def loading_message() -> Message:
    return notice_message(":hourglass_flowing_sand: I'm still reading the articles (the bot has just started). "
                          "Please try again in a minute.")


def unavailable_message(reason: str | None) -> Message:
    return notice_message(":warning: The article corpus is unavailable right now, so I can't answer. "
                          "An admin can check the server log." + (f"\n`{escape(truncate(reason, 200))}`" if reason else ""))


def without_action(payload_blocks: list[dict], action_id: str) -> list[dict]:
    """Drop one kind of button (e.g. *Share in channel* from an answer already in a channel)."""
    out = []
    for block in payload_blocks:
        if block.get("type") == "actions":
            elements = [e for e in block.get("elements", []) if e.get("action_id") != action_id]
            if not elements:
                continue
            block = {**block, "elements": elements}
        out.append(block)
    return out
