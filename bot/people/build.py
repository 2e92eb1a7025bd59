"""Building the people directory from what each article says, kept per article so that a changed
corpus costs what changed, not what the corpus holds.

Two passes, each per article: the first finds names stated with a role or speaking
(`bot.people.extract`); the second, once every article's first pass is known and so the names
and aliases ("phrases"), finds the sentences that mention a phrase (`bot.people.scan`).
`PeopleCache` keeps both results per article version (its stamp). A second-pass result
depends only on the phrases found in that article, so when the phrases change, only the
articles that held a phrase now gone, or whose capitalised words could hold a new one (a
Bloom filter over them says), are read again. `assemble` merges the kept results into the directory, or names the
articles it needs read first (`read_articles`, in any process, then `store`); `build_directory`
answers it in this process, and `bot.library.people.PeopleWorker` from a worker process that
keeps the cache between builds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.corpus import Article, Corpus
from bot.people.directory import (
    PeopleDirectory,
    Person,
    PersonArticle,
    PersonOverride,
    describe,
    load_overrides,
    pick_aliases,
)
from bot.people.extract import RoleMention, article_mentions
from bot.people.scan import BLOOM_BITS, bloom, phrase_index, scan

Stamp = Hashable  # which version of an article a result is for (the bot uses its file's size and mtime)

MAX_ARTICLES_PER_PERSON = 10  # newest first (a card shows 8); mentions are counted in every article
# More new phrases than this (a first build): read every article again rather than test each filter
# (a test costs ~2 ms per phrase at 100k articles; reading them all again, ~10 s).
RESCAN_ALL_PHRASES = 2000
MAX_ROUNDS = 4  # assemble -> texts -> assemble: two rounds when nothing changes meanwhile


@dataclass(slots=True)
class _Entry:
    """What one version of an article says about people."""

    stamp: Stamp
    title: str
    url: str | None
    published: dt.date
    mentions: tuple[tuple[str, RoleMention | None], ...] | None  # names stated with a role or speaking (None:
    # not read again, as kept)
    capitals: bytes  # Bloom filter of its capitalised words; empty when not read for them yet
    hits: tuple[tuple[str, int], ...] | None  # (phrase, sentence) in text order for the cache's phrases; None: stale
    sentences: tuple[bytes, ...]  # the sentences `hits` point to, UTF-8 (half the size of a str with a curly quote)
    speaking: tuple[bool, ...]  # per sentence: has a quote or speech verb


def _first_pass(article: Article) -> tuple[tuple[str, RoleMention | None], ...]:
    return article_mentions(article.paragraphs)


class _Mentions:
    """What the corpus says about one person, gathered newest article first: counts, and one
    sentence to show from each of the newest articles (a quote or speech verb is preferred)."""

    __slots__ = ("mentions", "article_count", "sentences", "_last")

    def __init__(self) -> None:
        self.mentions = 0
        self.article_count = 0
        self.sentences: dict[str, tuple[int, bool]] = {}  # article id -> (sentence, speaking)
        self._last = ""

    def add(self, article_id: str, sentence: int, speaking: bool) -> None:
        self.mentions += 1
        if article_id != self._last:
            self._last = article_id
            self.article_count += 1
        shown = self.sentences.get(article_id)
        if shown is None:
            if len(self.sentences) < MAX_ARTICLES_PER_PERSON:
                self.sentences[article_id] = (sentence, speaking)
        elif not shown[1] and speaking:
            self.sentences[article_id] = (sentence, speaking)


class PeopleCache:
    """Per article version, what both passes found; merged into a directory by `assemble`."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._phrases: dict[str, str] = {}  # phrase (name or alias) -> name; every entry's hits are for these
        self._version = 0  # of the phrases
        self._described: dict[str, tuple[tuple[object, ...], Person]] = {}  # name -> what it was made of, and it

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """How many article versions it keeps results for."""
        return len(self._entries)

    def add(self, articles: Iterable[tuple[Article, Stamp]]) -> None:
        """Read these articles (the first pass only for a version not seen before)."""
        articles = list(articles)
        first = {a.id for a, stamp in articles if (e := self._entries.get(a.id)) is None or e.stamp != stamp}
        self.store(read_articles(articles, Reading(self._phrases, self._version, first)))

    def store(self, read: Iterable[tuple[str, _Entry, int]]) -> None:
        """Keep what `read_articles` found (here or in another process). A result for other phrases
        than the cache's is kept for its first pass only; one without a first pass needs the version
        it was read for."""
        for article_id, entry, version in read:
            if entry.mentions is None:
                old = self._entries.get(article_id)
                if old is None or old.stamp != entry.stamp:
                    continue  # asked for again by the next `assemble`
                entry.mentions = old.mentions
            if version != self._version:
                entry.hits = None
            self._entries[article_id] = entry

    def assemble(self, order: Sequence[tuple[str, Stamp]], overrides_path: Path | None = None,
                 ) -> PeopleDirectory | Needed:
        """The directory of these articles (id and stamp, newest first), or the articles whose text it
        needs first (`read_articles`, then `store`): versions not seen, or ones new phrases may change."""
        wanted = dict(order)
        for gone in [i for i in self._entries if i not in wanted]:
            del self._entries[gone]
        missing = [i for i, stamp in order
                   if (e := self._entries.get(i)) is None or e.stamp != stamp or e.hits is None]
        if missing:
            first = {i for i in missing if (e := self._entries.get(i)) is None or e.stamp != wanted[i]}
            return Needed(missing, Reading(self._phrases, self._version, first))
        roles: dict[str, list[tuple[dt.date, RoleMention]]] = {}
        counts: dict[str, int] = {}
        for article_id, _ in order:
            entry = self._entries[article_id]
            for name, role in entry.mentions or ():
                if role:
                    roles.setdefault(name, []).append((entry.published, role))
                counts[name] = counts.get(name, 0) + 1
        overrides, error = load_overrides(overrides_path)
        names, aliases = pick_aliases(roles, counts, overrides)
        phrases: dict[str, str] = {}
        for name in names:
            phrases[name] = name
            for alias in aliases[name]:
                if len(alias) >= 3:
                    phrases.setdefault(alias, name)
        reread = self._changed_phrases(phrases, [i for i, _ in order])
        if phrases != self._phrases:
            self._phrases, self._version = phrases, self._version + 1
        if reread:
            for article_id in reread:
                self._entries[article_id].hits = None  # stale until read again
            return Needed(reread, Reading(self._phrases, self._version, set()))
        hits: dict[str, _Mentions] = defaultdict(_Mentions)
        for article_id, _ in order:  # newest first
            entry = self._entries[article_id]
            seen: set[tuple[str, int]] = set()
            for phrase, k in entry.hits or ():
                name = phrases[phrase]
                if (name, k) not in seen:
                    seen.add((name, k))
                    hits[name].add(article_id, k, entry.speaking[k])
        by_name = {o.name: o for o in overrides.people}
        described: dict[str, tuple[tuple[object, ...], Person]] = {}
        for name in names:
            found = hits.get(name) or _Mentions()
            override = by_name.get(name)
            made_of = (roles.get(name), aliases[name], found.mentions, found.article_count, override,
                       [(i, self._entries[i].stamp, k) for i, (k, _) in found.sentences.items()])
            last = self._described.get(name)
            # An update changes few people: the rest are the objects made last time (making one costs validation).
            described[name] = last if last is not None and last[0] == made_of else (
                made_of, self._person(name, roles.get(name, []), aliases[name], found, override))
        self._described = described
        people = [p for _, p in described.values() if p.mentions > 0 or p.name in by_name]
        people.sort(key=lambda p: (-p.mentions, p.name))
        return PeopleDirectory(people=people, overrides_error=error)

    def _changed_phrases(self, phrases: dict[str, str], ids: list[str]) -> list[str]:
        """Articles whose hits may differ under `phrases`: those holding a phrase now gone, and
        those whose capitalised words may hold every word of a new phrase (longest match wins, so
        a new phrase can also displace a shorter one)."""
        added = [p for p in phrases if p not in self._phrases]
        removed = {p for p in self._phrases if p not in phrases}
        if len(added) > RESCAN_ALL_PHRASES:
            return ids
        reread: set[int] = set()
        if removed:
            reread.update(n for n, i in enumerate(ids) if any(p in removed for p, _ in self._entries[i].hits or ()))
        if added:
            full = b"\xff" * (BLOOM_BITS // 8)  # capitals not known yet: may hold any phrase
            filters = np.frombuffer(b"".join(self._entries[i].capitals or full for i in ids), dtype=np.uint64)
            filters = filters.reshape(len(ids), BLOOM_BITS // 64)
            for phrase in added:
                need = np.frombuffer(bloom(phrase.split()), dtype=np.uint64)
                reread.update(np.flatnonzero(np.all((filters & need) == need, axis=1)).tolist())
        return [ids[n] for n in sorted(reread)]

    def _person(self, name: str, roles: list[tuple[dt.date, RoleMention]], aliases: list[str],
                hits: _Mentions, override: PersonOverride | None) -> Person:
        articles = []
        for article_id, (k, _) in hits.sentences.items():  # newest first, as the corpus is
            entry = self._entries[article_id]
            articles.append(PersonArticle(article_id=article_id, title=entry.title, url=entry.url,
                                          published=entry.published, sentence=entry.sentences[k].decode()))
        return describe(name, roles, aliases, hits.mentions, hits.article_count, articles, override)


@dataclass
class Reading:
    """How to read articles for a cache: for these phrases (of this version), and the first pass
    only for the articles in `first` (the others were read in this version before)."""

    phrases: dict[str, str]
    version: int
    first: set[str]


@dataclass
class Needed:
    """What `assemble` needs read first."""

    ids: list[str]
    reading: Reading


def read_articles(articles: Iterable[tuple[Article, Stamp]], reading: Reading) -> list[tuple[str, _Entry, int]]:
    """Both passes over articles, for `PeopleCache.store`; in any process."""
    phrases = reading.phrases
    index = phrase_index(phrases) if phrases else None
    out = []
    for article, stamp in articles:
        mentions = _first_pass(article) if article.id in reading.first else None
        if index is not None:
            hits, sentences, speaking, capitals = scan(article, index)
        else:  # the first build: nothing to find yet, and every article is read again once there is
            hits, sentences, speaking, capitals = (), (), (), b""
        out.append((article.id, _Entry(stamp, article.title, article.url, article.published, mentions, capitals,
                                       hits, sentences, speaking), reading.version))
    return out


def directory_from(cache: PeopleCache, order: Sequence[tuple[str, Stamp]], overrides_path: Path | None,
                   texts: Corpus) -> PeopleDirectory:
    """Answer `assemble` with the articles it asks for until it gives the directory."""
    stamps = dict(order)
    for _ in range(MAX_ROUNDS):
        result = cache.assemble(order, overrides_path)
        if isinstance(result, PeopleDirectory):
            return result
        cache.add((article_of(texts, i), stamps[i]) for i in result.ids)
    raise RuntimeError("the people directory did not settle")  # the phrases kept changing: a bug


def article_of(corpus: Corpus, article_id: str) -> Article:
    """The article with this id, which the caller knows is in `corpus`."""
    article = corpus.get(article_id)
    assert article is not None, article_id
    return article


def build_directory(corpus: Corpus, overrides_path: Path | None = None) -> PeopleDirectory:
    """The directory of a corpus, built in this process from nothing."""
    return directory_from(PeopleCache(), [(a.id, 0) for a in corpus.articles], overrides_path, corpus)
