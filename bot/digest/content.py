"""What a digest says: new articles, people and watched topics in, a typed `Digest` out.

Pure and Slack-free, so the Slack renderer (`bot.slack.ui.digest`) and the terminal
preview (`tradebot digest --dry-run`) show the same digest. Texts here are plain
(never escaped); each renderer makes them safe for its own surface.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz

from bot.corpus import Article
from bot.corpus.text import split_sentences
from bot.people import PeopleDirectory
from bot.search import SearchEngine

SAME_STORY = 72  # title similarity (token set ratio) at which two outlets carry one story
LEAD_CHARS = 300  # two sentences of lead unless that is longer than this; then one
ALSO_REPORTED = 5  # other outlets named per story
TOPIC_HITS = 3  # snippets per watched topic
TOP_PEOPLE = 5


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Source(_Frozen):
    """Another outlet carrying the same story."""

    publisher: str
    url: str | None


class DigestItem(_Frozen):
    """One story: its newest article, and the other outlets that reported it."""

    article_id: str
    title: str
    url: str | None
    publisher: str
    published: dt.date
    lead: str
    also: tuple[Source, ...] = ()


class PersonInNews(_Frozen):
    name: str
    role: str | None
    mentions: int  # articles of this digest that mention them


class TopicHit(_Frozen):
    """A new passage matching a watched topic; `highlights` are spans of `snippet` to emphasise."""

    title: str
    url: str | None
    snippet: str
    highlights: tuple[tuple[int, int], ...] = ()


class WatchedTopic(_Frozen):
    topic: str
    hits: tuple[TopicHit, ...] = ()


class Digest(_Frozen):
    """One channel's digest for one local date."""

    local_date: dt.date
    items: tuple[DigestItem, ...]  # the stories shown, newest first
    story_count: int  # all new stories, shown or not
    people: tuple[PersonInNews, ...] = ()
    topics: tuple[WatchedTopic, ...] = ()
    article_ids: tuple[str, ...] = ()  # every new article it reports: marked sent once posted

    @property
    def more(self) -> int:
        """Stories left out of `items`."""
        return max(0, self.story_count - len(self.items))


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


def lead_text(article: Article) -> str:
    """The first two sentences, or only the first when two run past `LEAD_CHARS`, cut at a word to fit it."""
    sentences = split_sentences(article.lead)
    text = " ".join(sentences[:2]) if sentences else article.lead
    if len(text) > LEAD_CHARS and sentences:
        text = sentences[0]
    if len(text) <= LEAD_CHARS:
        return text
    short = textwrap.shorten(text, LEAD_CHARS, placeholder="…")
    return short if len(short) > 1 else text[: LEAD_CHARS - 1] + "…"


def top_people(people: PeopleDirectory, article_ids: set[str], limit: int = TOP_PEOPLE) -> list[PersonInNews]:
    counts: Counter[str] = Counter()
    roles: dict[str, str | None] = {}
    for person in people.people:
        n = sum(1 for a in person.articles if a.article_id in article_ids)
        if n:
            counts[person.name] = n
            roles[person.name] = person.role
    return [PersonInNews(name=name, role=roles[name], mentions=n) for name, n in counts.most_common(limit)]


def watched_topic(search: SearchEngine, topic: str, new_ids: set[str]) -> WatchedTopic:
    hits = [h for h in search.search(topic, limit=20).results if h.article_id in new_ids][:TOPIC_HITS]
    return WatchedTopic(topic=topic, hits=tuple(
        TopicHit(title=h.title, url=h.url, snippet=h.snippet, highlights=tuple(h.highlights)) for h in hits))


def _item(group: StoryGroup) -> DigestItem:
    a = group.lead
    return DigestItem(article_id=a.id, title=a.title, url=a.url, publisher=a.publisher, published=a.published,
                      lead=lead_text(a),
                      also=tuple(Source(publisher=o.publisher, url=o.url) for o in group.also[:ALSO_REPORTED]))


def build_digest(*, local_date: dt.date, new_articles: Sequence[Article], people: PeopleDirectory | None,
                 search: SearchEngine, topics: Sequence[str], max_items: int = 8) -> Digest:
    """The digest of `new_articles` (those the channel has not been sent yet) for one local date."""
    groups = group_stories(new_articles)
    new_ids = {a.id for a in new_articles}
    return Digest(
        local_date=local_date,
        items=tuple(_item(g) for g in groups[:max_items]),
        story_count=len(groups),
        people=tuple(top_people(people, new_ids)) if people else (),
        topics=tuple(watched_topic(search, t, new_ids) for t in topics),
        article_ids=tuple(a.id for a in new_articles),
    )
