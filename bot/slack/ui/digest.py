"""The digest as a Slack message, and `/trade digest status` lines.

Every text from articles, people or users is escaped exactly once (`escape`, or `link`
for a label); the only links are article URLs that `bot.common.urls.linkable_url`
accepts (`link` asks it). Text is budgeted, not cut after rendering: a section too long
for Slack gives up its lead first, then its links, then its title's tail, so a
`<url|label>` is never cut in half and every message fits Slack's limits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.digest.content import Digest, DigestItem, PersonInNews, TopicHit, WatchedTopic
from bot.slack.ui.blocks import Message
from bot.slack.ui.mrkdwn import bold_spans, escape, link, truncate

SECTION_CHARS = 2800  # Slack rejects a section of 3,001
MESSAGE_CHARS = 12_000  # all block text together; Slack's practical limit is about 13k
MAX_BLOCKS = 50
MAX_STORIES = 20  # the most DIGEST_MAX_ITEMS allows
TITLE_CHARS = 200
HIT_TITLE_CHARS = 120
NAME_CHARS = 80
ROLE_CHARS = 120
TOPIC_CHARS = 100
MIN_LEAD = 80  # room kept for the lead (or a snippet) before a link is given up
ELLIPSIS = "…"
NOTHING_NEW = "Nothing new in the corpus since the last digest."

Render = Callable[[int], str]  # a section's mrkdwn within a budget of characters


def _within(render: Callable[[str], str], text: str, budget: int) -> str | None:
    """`render(text)`, the plain `text` cut at a word boundary until the result fits `budget`
    (None if nothing does). Cutting before rendering keeps entities and links whole."""
    n, out = len(text), render(text)
    while len(out) > budget:
        if n <= 1:
            return None
        n = max(1, min(n - 1, n - (len(out) - budget)))
        out = render(truncate(text, n))
    return out


def _emphasised(original: str, spans: Sequence[tuple[int, int]], text: str) -> str:
    """`text` (all or a cut prefix of `original`) escaped, with the spans it still holds in *bold*."""
    kept = [(start, end) for start, end in spans if end <= len(text) and text[start:end] == original[start:end]]
    return bold_spans(text, kept)


def _also(names: Sequence[str]) -> str:
    return "_Also reported by " + ", ".join(names) + "_" if names else ""


def _story(item: DigestItem, budget: int) -> str:
    """Title (linked), publisher and date, lead, other outlets (linked while they fit)."""
    title = truncate(item.title, TITLE_CHARS)
    meta = f"{escape(truncate(item.publisher, NAME_CHARS))} · {item.published:%d %b %Y}"
    lead_room = min(len(escape(item.lead)), MIN_LEAD)

    def size(head: str, names: Sequence[str]) -> int:
        return len(head) + len(meta) + len(_also(names)) + lead_room + 3

    plain = [link(None, truncate(s.publisher, NAME_CHARS)) for s in item.also]
    head = f"*{link(item.url, title)}*"
    if size(head, plain) > budget:
        head = f"*{link(None, title)}*"
    names = plain
    for i, source in enumerate(item.also):  # each outlet linked if the lead keeps its room
        trial = [*names[:i], link(source.url, truncate(source.publisher, NAME_CHARS)), *names[i + 1:]]
        if size(head, trial) <= budget:
            names = trial
    if size(head, names) > budget:
        names = []
    if size(head, names) > budget:
        return _within(lambda t: f"*{escape(t)}*", item.title, budget) or ELLIPSIS
    tail = _also(names)
    lead = _within(escape, item.lead, budget - len(head) - len(meta) - len(tail) - 3) or ""
    return "\n".join(part for part in (head, meta, lead, tail) if part)


def _hit(hit: TopicHit, budget: int) -> str:
    title = truncate(hit.title, HIT_TITLE_CHARS)
    for url in (hit.url, None):
        head = f"• {link(url, title)}: "
        if budget - len(head) >= min(len(escape(hit.snippet)), MIN_LEAD):
            return head + (_within(partial(_emphasised, hit.snippet, hit.highlights), hit.snippet,
                                  budget - len(head)) or "")
    return _within(lambda t: "• " + escape(t), hit.title, budget) or ""


def _topic(watched: WatchedTopic, budget: int) -> str:
    name = _within(escape, truncate(watched.topic, TOPIC_CHARS), max(budget // 3, 10)) or ELLIPSIS
    head = f"*Watching “{name}”:*"
    if not watched.hits:
        return f"{head} nothing new."
    share = (budget - len(head)) // len(watched.hits) - 1
    return "\n".join([head, *(line for line in (_hit(h, share) for h in watched.hits) if line)])


def _people_line(people: Sequence[PersonInNews], budget: int) -> str:
    names = [escape(truncate(p.name, NAME_CHARS)) + (f" ({escape(truncate(p.role, ROLE_CHARS))})" if p.role else "")
             for p in people]
    while names:
        text = "*In the news:* " + ", ".join(names)
        if len(text) <= budget:
            return text
        names.pop()
    return "*In the news:* " + ELLIPSIS


def _cap(lengths: Sequence[int], total: int) -> int:
    """The largest per-section length c with sum(min(length, c)) <= total."""
    remaining, left = total, len(lengths)
    for n in sorted(lengths):
        if n * left > remaining:
            return remaining // left
        remaining -= n
        left -= 1
    return SECTION_CHARS


def _fill(renders: Sequence[Render], total: int) -> list[str]:
    """Each section at full size if all fit in `total`; else the longest ones re-rendered smaller."""
    texts = [render(SECTION_CHARS) for render in renders]
    cap = _cap([len(t) for t in texts], total)
    return [t if len(t) <= cap else render(cap) for t, render in zip(texts, renders)]


def _constant(text: str) -> Render:
    return lambda budget: text


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def digest_message(digest: Digest) -> Message:
    """The digest message: stories, then the people in them, then each watched topic."""
    header = f"Trade news digest — {digest.local_date:%A %d %B %Y}"
    items = digest.items[:MAX_STORIES]
    left_out = digest.story_count - len(items)
    more = f"…and {left_out} more. Use `/trade latest 20` to see them." if left_out > 0 else None
    stories: list[Render] = [partial(_story, item) for item in items] or [_constant(NOTHING_NEW)]
    people: list[Render] = [partial(_people_line, digest.people)] if digest.people else []
    used = 1 + len(stories) + (1 if more else 0) + 2 * len(people) + (1 if digest.topics else 0)
    room = MAX_BLOCKS - used
    shown = list(digest.topics) if len(digest.topics) <= room else list(digest.topics[: room - 1])
    cut = (f"…and {len(digest.topics) - len(shown)} more watched topics; "
           "`/trade watching` lists them.") if len(shown) < len(digest.topics) else None
    topics: list[Render] = [partial(_topic, t) for t in shown]
    fixed = len(header) + len(more or "") + len(cut or "")
    texts = _fill([*stories, *people, *topics], MESSAGE_CHARS - fixed)
    story_texts = texts[: len(stories)]
    people_texts = texts[len(stories): len(stories) + len(people)]
    topic_texts = texts[len(stories) + len(people):]

    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=header)), *map(_section, story_texts)]
    if more:
        blocks.append(_context(more))
    for text in people_texts:
        blocks += [DividerBlock(), _section(text)]
    if digest.topics:
        blocks.append(DividerBlock())
        blocks += map(_section, topic_texts)
    if cut:
        blocks.append(_context(cut))
    n = digest.story_count
    fallback = f"Trade news digest for {digest.local_date:%d %b %Y}: {n} new {'story' if n == 1 else 'stories'}"
    return Message(text=fallback, blocks=[b.to_dict() for b in blocks])
