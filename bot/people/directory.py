"""The people directory: who appears in the corpus, their roles, and typo-tolerant lookup."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, PrivateAttr, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from bot.corpus import Article, Corpus
from bot.corpus.text import STOPWORDS, split_sentences
from bot.people.extract import SPEECH_VERBS, RoleMention, find_mentions
from bot.people.names import NameIndex

log = logging.getLogger(__name__)

_SPEECH_RE = re.compile(rf"\b(?:{'|'.join(SPEECH_VERBS)})\b|[“\"]")


# Person and PersonArticle are slotted pydantic dataclasses, not models: a large corpus has
# tens of thousands of people, and a model instance carries ~1 KB of bookkeeping.
@dataclass(frozen=True, slots=True)
class PersonArticle:
    article_id: str
    title: str
    url: str | None
    published: dt.date
    sentence: str


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    role: str | None = None
    organization: str | None = None
    country: str | None = None
    aliases: tuple[str, ...] = ()
    mentions: int = 0
    article_count: int = 0
    articles: tuple[PersonArticle, ...] = ()  # the newest MAX_ARTICLES_PER_PERSON
    other_roles: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return _PERSON_JSON.dump_python(self, mode="json")


_PERSON_JSON = TypeAdapter(Person)


class PersonOverride(BaseModel):
    name: str
    role: str | None = None
    organization: str | None = None
    country: str | None = None
    aliases: list[str] = []
    hide: bool = False


class Overrides(BaseModel):
    people: list[PersonOverride] = Field(default_factory=list)


class PersonMatch(BaseModel):
    person: Person
    score: float


class PeopleDirectory(BaseModel):
    people: list[Person]  # most mentioned first
    overrides_error: str | None = None
    _names: NameIndex | None = PrivateAttr(default=None)
    _by_name: dict[str, Person] | None = PrivateAttr(default=None)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A directory pickled before it had a name index gets one when first asked."""
        if not state.get("__pydantic_private__"):
            state = {**state, "__pydantic_private__": {"_names": None, "_by_name": None}}
        super().__setstate__(state)

    def _index(self) -> NameIndex:
        """Built once per directory, with it (or on first use after unpickling an old one)."""
        index = self._names
        if index is None:
            index = NameIndex(self.people)
            self._names = index
        return index

    def model_post_init(self, context: object, /) -> None:
        self._index()

    def lookup(self, query: str, limit: int = 5) -> list[PersonMatch]:
        """Best matches for any part of a name, alias or a typo of one; empty when nothing is close.

        A person's score is the better of the whole query against their names and the mean,
        over query tokens, of the best ratio with one of their name tokens (a prefix counts 90);
        only people holding a token near the query's are scored (see `NameIndex`)."""
        return [PersonMatch(person=self.people[i], score=score) for i, score in self._index().lookup(query, limit)]

    def suggest(self, query: str, limit: int = 3) -> list[str]:
        """Names like the query for "did you mean", when `lookup` found nobody."""
        return [self.people[i].name for i, score in self._index().suggest(query, limit) if score >= 40]

    def get(self, name: str) -> Person | None:
        by_name = self._by_name
        if by_name is None:
            by_name = {}
            for person in self.people:
                by_name.setdefault(person.name, person)
            self._by_name = by_name
        return by_name.get(name)


def _pick_role(roles: list[tuple[dt.date, RoleMention]]) -> tuple[RoleMention | None, list[str]]:
    """The most recent formal title wins over descriptions; the rest are kept."""
    if not roles:
        return None, []
    ranked = sorted(roles, key=lambda dr: (dr[1].formal, dr[0], len(dr[1].role)), reverse=True)
    best = ranked[0][1]
    others = list(dict.fromkeys(r.role for _, r in ranked[1:] if r.role != best.role))
    return best, others


def _surname_is_alias(name: str) -> bool:
    """A surname works as an alias unless it is too short or a common word ("He" in He Lifeng)."""
    last = name.split()[-1]
    return len(last) >= 3 and last.lower() not in STOPWORDS


def _load_overrides(path: Path | None) -> tuple[Overrides, str | None]:
    if path is None or not path.exists():
        return Overrides(), None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Overrides.model_validate(data), None
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as exc:
        reason = f"{path.name} ignored: {str(exc).splitlines()[0]}"
        log.warning(reason)
        return Overrides(), reason


@dataclasses.dataclass
class Evidence:
    """What the first pass finds: roles stated for each name, and how often a name comes
    with a role or a speech verb. Articles are independent here, so runs of them can be
    collected apart (in worker processes) and merged, in the corpus's order."""

    roles: dict[str, list[tuple[dt.date, RoleMention]]] = dataclasses.field(default_factory=dict)
    counts: dict[str, int] = dataclasses.field(default_factory=dict)

    def merge(self, other: Evidence) -> None:
        for name, found in other.roles.items():
            self.roles.setdefault(name, []).extend(found)
        for name, n in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + n


def collect_evidence(articles: Iterable[Article]) -> Evidence:
    """The first pass over a run of articles: every name stated with a role or speaking."""
    evidence = Evidence()
    roles, counts = evidence.roles, evidence.counts
    for article in articles:
        for paragraph in article.paragraphs:
            for mention in find_mentions(paragraph):
                if mention.role:
                    roles.setdefault(mention.name, []).append((article.published, mention.role))
                if mention.role or mention.speaks:
                    counts[mention.name] = counts.get(mention.name, 0) + 1
    return evidence


def build_directory(corpus: Corpus, overrides_path: Path | None = None,
                    evidence: Evidence | None = None) -> PeopleDirectory:
    """Two passes: find people and their roles (or take `evidence` collected elsewhere from
    the same articles); then count every sentence that mentions them."""
    if evidence is None:
        evidence = collect_evidence(corpus.articles)
    roles, counts = evidence.roles, evidence.counts
    overrides, error = _load_overrides(overrides_path)
    by_name = {o.name: o for o in overrides.people}
    names = [n for n in counts if not (n in by_name and by_name[n].hide)]
    names += [o.name for o in overrides.people if not o.hide and o.name not in counts]
    aliases = {name: _aliases(name, roles.get(name, []), by_name.get(name)) for name in names}
    # A surname shared by two people (Wang, Li, Kim) is no alias: it would credit both.
    owners: dict[str, set[str]] = defaultdict(set)
    for name, alias_list in aliases.items():
        for alias in alias_list:
            owners[alias].add(name)
    overridden = {a for o in overrides.people for a in o.aliases}
    aliases = {n: [a for a in al if len(owners[a]) == 1 or a in overridden] for n, al in aliases.items()}
    hits = _find_sentences(corpus, aliases)
    people = [_describe(name, roles.get(name, []), aliases[name], hits.get(name) or _Mentions(), by_name.get(name),
                        corpus)
              for name in names]
    people = [p for p in people if p.mentions > 0 or p.name in by_name]
    people.sort(key=lambda p: (-p.mentions, p.name))
    return PeopleDirectory(people=people, overrides_error=error)


_CAPRUN_RE = re.compile(r"[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*")  # a run of capitalised words
_WORD_RE = re.compile(r"\S+")
MAX_ARTICLES_PER_PERSON = 10  # newest first (a card shows 8); mentions are counted in every article


def _aliases(name: str, roles: list[tuple[dt.date, RoleMention]], override: PersonOverride | None) -> list[str]:
    found: list[str] = []
    if _surname_is_alias(name):
        found.append(name.split()[-1])
    found += [r.alias for _, r in roles if r.alias]
    if override:
        found += override.aliases
    return list(dict.fromkeys(a for a in found if a != name))


def _sentence_spans(paragraph: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in split_sentences(paragraph):
        start = paragraph.find(sentence, cursor)
        spans.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    return spans


class _Mentions:
    """What the corpus says about one person, gathered newest article first: counts, and one
    sentence to show from each of the newest articles (not every sentence: at 100k articles
    that would be hundreds of megabytes held until the directory is built)."""

    __slots__ = ("mentions", "article_count", "sentences", "_last")

    def __init__(self) -> None:
        self.mentions = 0
        self.article_count = 0
        self.sentences: dict[str, str] = {}  # article id -> sentence; a quote or speech verb is preferred
        self._last = ""

    def add(self, article_id: str, sentence: str) -> None:
        self.mentions += 1
        if article_id != self._last:
            self._last = article_id
            self.article_count += 1
        shown = self.sentences.get(article_id)
        if shown is None:
            if len(self.sentences) < MAX_ARTICLES_PER_PERSON:
                self.sentences[article_id] = sentence
        elif not _SPEECH_RE.search(shown) and _SPEECH_RE.search(sentence):
            self.sentences[article_id] = sentence


def _find_sentences(corpus: Corpus, aliases: dict[str, list[str]]) -> dict[str, _Mentions]:
    """name -> where the person is mentioned (by full name or alias).

    Names are looked up by the runs of capitalised words in a paragraph (one dict
    lookup per word, pair and triple), so the cost follows the text, not people x articles."""
    phrase_to_name: dict[str, str] = {}
    for name, alias_list in aliases.items():
        phrase_to_name[name] = name
        for alias in alias_list:
            if len(alias) >= 3:
                phrase_to_name.setdefault(alias, name)
    first_words = {phrase.split(" ", 1)[0] for phrase in phrase_to_name}
    hits: dict[str, _Mentions] = defaultdict(_Mentions)
    for article in corpus.articles:  # newest first
        for paragraph in article.paragraphs:
            found = _named_in(paragraph, phrase_to_name, first_words)
            if not found:
                continue
            spans = _sentence_spans(paragraph)
            seen: set[tuple[str, int]] = set()
            for offset, name in found:
                k = next((k for k, (a, b) in enumerate(spans) if a <= offset < b), len(spans) - 1)
                if (name, k) not in seen:
                    seen.add((name, k))
                    a, b = spans[k]
                    hits[name].add(article.id, paragraph[a:b])
    return hits


def _named_in(paragraph: str, phrase_to_name: dict[str, str], first_words: set[str]) -> list[tuple[int, str]]:
    """(offset, name) for each capitalised word starting a known name or alias, the longest
    (of up to three words, in one run of capitalised words) winning. A run none of whose
    words starts a name is passed over in C: most capitalised words in news text start none."""
    found: list[tuple[int, str]] = []
    for run in _CAPRUN_RE.finditer(paragraph):
        words = run.group().split()
        if first_words.isdisjoint(words):
            continue
        starts: list[int] = []  # of the run's words, found once a name is
        for i, word in enumerate(words):
            if word not in first_words:
                continue
            for n in (3, 2, 1):
                name = phrase_to_name.get(" ".join(words[i:i + n])) if i + n <= len(words) else None
                if name is not None:
                    if not starts:
                        starts = [run.start() + m.start() for m in _WORD_RE.finditer(run.group())]
                    found.append((starts[i], name))
                    break
    return found


def _describe(name: str, roles: list[tuple[dt.date, RoleMention]], aliases: list[str],
              hits: _Mentions, override: PersonOverride | None, corpus: Corpus) -> Person:
    best, others = _pick_role(roles)
    articles: list[PersonArticle] = []
    for article_id, sentence in hits.sentences.items():  # newest first, as the corpus is
        article = corpus.get(article_id)
        assert article is not None
        articles.append(PersonArticle(article_id=article.id, title=article.title, url=article.url,
                                      published=article.published, sentence=sentence))
    person = Person(
        name=name,
        role=best.role if best else None,
        organization=best.organization if best else None,
        country=best.country if best else None,
        aliases=tuple(aliases),
        mentions=hits.mentions,
        article_count=hits.article_count,
        articles=tuple(articles),
        other_roles=tuple(others),
    )
    if override:
        updates = override.model_dump(include={"role", "organization", "country"}, exclude_none=True)
        person = dataclasses.replace(person, **updates)
    return person
