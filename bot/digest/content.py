"""The digest's content: a pure function from new articles, people and watch topics to blocks."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from slack_sdk.models.blocks import Block, DividerBlock

from bot.corpus import Article
from bot.corpus.text import split_sentences
from bot.people import PeopleDirectory
from bot.search import SearchEngine
from bot.slack.ui.blocks import Message, context, fit, header, section
from bot.slack.ui.mrkdwn import bold_spans, escape, link, truncate

SAME_STORY = 72  # title similarity (token set ratio) at which two outlets carry one story
DIGEST_EVENT = "tradebot_digest"


@dataclass
class StoryGroup:
    lead: Article
    also: list[Article] = field(default_factory=list)

    @property
    def articles(self) -> list[Article]:
        return [self.lead, *self.also]


def group_stories(articles: Sequence[Article]) -> list[StoryGroup]:
    """The same story from several outlets becomes one item, newest first."""
    groups: list[StoryGroup] = []
    for article in sorted(articles, key=lambda a: (a.published, a.id), reverse=True):
        for group in groups:
            same_title = fuzz.token_set_ratio(article.title.lower(), group.lead.title.lower()) >= SAME_STORY
            same_lead = len(article.lead) >= 80 and fuzz.ratio(article.lead[:300], group.lead.lead[:300]) >= 85
            if (same_title or same_lead) and article.publisher != group.lead.publisher:
                group.also.append(article)
                break
        else:
            groups.append(StoryGroup(article))
    return groups


def lead_text(article: Article, limit: int = 300) -> str:
    sentences = split_sentences(article.lead)
    text = " ".join(sentences[:2]) if sentences else article.lead
    if len(text) > limit and sentences:
        text = sentences[0]
    return truncate(text, limit)


def top_people(people: PeopleDirectory, article_ids: set[str], limit: int = 5) -> list[tuple[str, str | None, int]]:
    counts: Counter[str] = Counter()
    roles: dict[str, str | None] = {}
    for person in people.people:
        n = sum(1 for a in person.articles if a.article_id in article_ids)
        if n:
            counts[person.name] = n
            roles[person.name] = person.role
    return [(name, roles[name], n) for name, n in counts.most_common(limit)]


def build_digest(
    *, local_date: dt.date, channel: str, new_articles: Sequence[Article], people: PeopleDirectory | None,
    search: SearchEngine, topics: Sequence[str], max_items: int = 8,
) -> Message:
    """The digest message; its metadata marks it as ours for this channel and date."""
    blocks: list[Block] = [header(f"Trade news digest — {local_date:%A %d %B %Y}")]
    groups = group_stories(new_articles)
    if not groups:
        blocks.append(section("Nothing new in the corpus since the last digest."))
    for group in groups[:max_items]:
        a = group.lead
        text = (f"*{link(a.url, truncate(a.title, 200))}*\n{escape(a.publisher)} · {a.published:%d %b %Y}\n"
                f"{escape(lead_text(a))}")
        if group.also:
            text += "\n_Also reported by " + ", ".join(link(o.url, o.publisher) for o in group.also[:5]) + "_"
        blocks.append(section(text))
    if len(groups) > max_items:
        blocks.append(context(f"…and {len(groups) - max_items} more. Use `/trade latest 20` to see them."))
    new_ids = {a.id for a in new_articles}
    names = top_people(people, new_ids) if people else []
    if names:
        blocks.append(DividerBlock())
        blocks.append(section("*In the news:* " + ", ".join(
            f"{escape(n)}" + (f" ({escape(r)})" if r else "") for n, r, _ in names)))
    for topic in topics:
        hits = [h for h in search.search(topic, limit=20).results if h.article_id in new_ids][:3]
        blocks.append(DividerBlock())
        if not hits:
            blocks.append(section(f"*Watching “{escape(topic)}”:* nothing new."))
            continue
        lines = [f"• {link(h.url, truncate(h.title, 120))}: {bold_spans(h.snippet, h.highlights)}" for h in hits]
        blocks.append(section(f"*Watching “{escape(topic)}”:*\n" + "\n".join(lines)))
    fallback = f"Trade news digest for {local_date:%d %b %Y}: {len(groups)} new stories"
    return Message(text=fallback, blocks=fit(blocks))


def digest_metadata(channel: str, local_date: dt.date) -> dict:
    return {"event_type": DIGEST_EVENT, "event_payload": {"channel": channel, "date": local_date.isoformat()}}
