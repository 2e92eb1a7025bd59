"""Person answers: a card, a choice between several people, nobody found."""

from __future__ import annotations

from collections.abc import Sequence

from bot.answers.compose import (
    CHOICE_BUTTONS,
    CHOICES_SHOWN,
    NAME_CHARS,
    NOTE_CHARS,
    PERSON_ARTICLES,
    QUERY_CHARS,
    SENTENCE_CHARS,
    TITLE_CHARS,
    day,
    notice,
    or_list,
    share_button,
    shared_note,
)
from bot.answers.models import (
    Action,
    Button,
    Buttons,
    Icon,
    Line,
    Link,
    Note,
    Notice,
    Part,
    PersonCard,
    PersonChoices,
    Section,
    Strong,
)
from bot.answers.text import truncate
from bot.people import Person, PersonMatch


def person_parts(person: Person, limit_articles: int = PERSON_ARTICLES) -> tuple[Part, ...]:
    """A person's card body (also used by the digest and Home)."""
    described = ", ".join(x for x in (person.role, person.organization, person.country) if x)
    head: list[Line] = [(Strong(truncate(person.name, NAME_CHARS)),)]
    if described:
        head.append((truncate(described, NOTE_CHARS),))
    n_articles = max(person.article_count, len(person.articles))
    facts = [f"{counted(person.mentions, 'mention')} in {counted(n_articles, 'article')}"]
    if person.other_roles:
        facts.append("also described as " + "; ".join(person.other_roles[:3]))
    if person.aliases:
        facts.append("known as " + ", ".join(person.aliases[:5]))
    parts: list[Part] = [Section(tuple(head)), Note(((truncate(" · ".join(facts), NOTE_CHARS),),))]
    for item in person.articles[:limit_articles]:
        parts.append(Section(((Link(item.url, truncate(item.title, TITLE_CHARS), strong=True), " · ", day(item.published)),
                              (truncate(item.sentence, SENTENCE_CHARS),)), quote_last=True))
    if n_articles > limit_articles:
        parts.append(Note(((f"…and {n_articles - limit_articles} more articles.",),)))
    return tuple(parts)


def person_card(query: str, person: Person, key: str | None, shared_by: str | None = None) -> PersonCard:
    parts = (*person_parts(person), *shared_note(shared_by), *share_button(key))
    return PersonCard(summary=f"{person.name}: {person.role or 'in the news'}", icon=Icon.PERSON,
                      heading=("Who is ", Strong(truncate(query, QUERY_CHARS))), parts=parts, name=person.name)


def person_choices(query: str, matches: Sequence[PersonMatch], key: str | None) -> PersonChoices:
    """The matches to pick from; without a `key` (no state could be stored) there are no pick buttons."""
    lines: list[Line] = [("Several people match; pick one:",)]
    for match in matches[:CHOICES_SHOWN]:
        p = match.person
        lines.append((Strong(truncate(p.name, NAME_CHARS)), " — ", truncate(p.role or "role not stated", NOTE_CHARS),
                      f" · {counted(p.mentions, 'mention')}"))
    parts: tuple[Part, ...] = (Section(tuple(lines)),)
    if key is not None:
        parts += (Buttons(tuple(Button(m.person.name, Action.PICK, f"{key}|{i}", name=str(i))
                                for i, m in enumerate(matches[:CHOICE_BUTTONS]))),)
    return PersonChoices(summary=f"Several people match {query}", icon=Icon.PERSON,
                         heading=("Who is ", Strong(truncate(query, QUERY_CHARS))), parts=parts, query=query,
                         names=tuple(m.person.name for m in matches[:CHOICES_SHOWN]))


def person_not_found(query: str, suggestions: Sequence[str]) -> Notice:
    line: Line = ("No one called ", Strong(truncate(query, NAME_CHARS)), " appears in the articles.")
    if suggestions:
        line += (" Nearest names: ", *or_list(suggestions), ".")
    return notice(line, summary=f"No one called {query} in the articles")


def counted(n: int, noun: str) -> str:
    """`1 mention`, `5 mentions`: every count users read agrees with its noun."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
