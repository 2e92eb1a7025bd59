"""The people directory: who appears in the corpus, their roles, and typo-tolerant lookup;
how a person is described from what was found (`bot.people.build` finds it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, PrivateAttr, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from bot.corpus.text import STOPWORDS
from bot.people.extract import RoleMention
from bot.people.names import NameIndex

log = logging.getLogger(__name__)

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


def load_overrides(path: Path | None) -> tuple[Overrides, str | None]:
    if path is None or not path.exists():
        return Overrides(), None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Overrides.model_validate(data), None
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as exc:
        reason = f"{path.name} ignored: {str(exc).splitlines()[0]}"
        log.warning(reason)
        return Overrides(), reason


def pick_aliases(roles: dict[str, list[tuple[dt.date, RoleMention]]], counts: dict[str, int],
                 overrides: Overrides) -> tuple[list[str], dict[str, list[str]]]:
    """The people (named with a role or speaking, or listed in people.yml, minus the hidden) and
    their aliases. A surname shared by two people (Wang, Li, Kim) is no alias: it would credit both."""
    by_name = {o.name: o for o in overrides.people}
    names = [n for n in counts if not (n in by_name and by_name[n].hide)]
    names += [o.name for o in overrides.people if not o.hide and o.name not in counts]
    aliases = {name: _aliases(name, roles.get(name, []), by_name.get(name)) for name in names}
    owners: dict[str, set[str]] = defaultdict(set)
    for name, alias_list in aliases.items():
        for alias in alias_list:
            owners[alias].add(name)
    overridden = {a for o in overrides.people for a in o.aliases}
    return names, {n: [a for a in al if len(owners[a]) == 1 or a in overridden] for n, al in aliases.items()}


def _aliases(name: str, roles: list[tuple[dt.date, RoleMention]], override: PersonOverride | None) -> list[str]:
    found: list[str] = []
    if _surname_is_alias(name):
        found.append(name.split()[-1])
    found += [r.alias for _, r in roles if r.alias]
    if override:
        found += override.aliases
    return list(dict.fromkeys(a for a in found if a != name))


def describe(name: str, roles: list[tuple[dt.date, RoleMention]], aliases: list[str], mentions: int,
             article_count: int, articles: list[PersonArticle], override: PersonOverride | None) -> Person:
    """A person as the directory shows them: the best role, what people.yml says winning."""
    best, others = _pick_role(roles)
    person = Person(
        name=name,
        role=best.role if best else None,
        organization=best.organization if best else None,
        country=best.country if best else None,
        aliases=tuple(aliases),
        mentions=mentions,
        article_count=article_count,
        articles=tuple(articles),
        other_roles=tuple(others),
    )
    if override:
        updates = override.model_dump(include={"role", "organization", "country"}, exclude_none=True)
        person = dataclasses.replace(person, **updates)
    return person
