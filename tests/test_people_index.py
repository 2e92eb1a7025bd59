"""`who` from the name index answers what a scan over every person answered (see whole_name_only)."""

from __future__ import annotations

import random

import pytest
from rapidfuzz import fuzz

from benchmarks.who_bench import scan_lookup
from bot.corpus.text import terms
from bot.people import PeopleDirectory, Person
from bot.people.names import MATCH_THRESHOLD, WHOLE_NAME_CUTOFF, WHOLE_NAME_MIN_LENGTH

SYLLABLES = ["ka", "to", "ri", "na", "mo", "su", "ve", "la", "den", "bar", "li", "wang", "chen", "ha", "set", "ett"]


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))).capitalize()


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    return rng.choice([text[:i] + text[i + 1:], text[:i] + "e" + text[i:], text[:i] + text[i + 1] + text[i] + text[i + 2:]])


@pytest.fixture(scope="module")
def people() -> list[Person]:
    rng = random.Random(5)
    names = list(dict.fromkeys(f"{word(rng)} {word(rng)}" for _ in range(400)))
    out = [Person(name=n, mentions=rng.randint(1, 50),
                  aliases=(n.split()[-1],) if rng.random() < 0.5 else (n.split()[-1], n.upper()[:4]))
           for n in names]
    return sorted(out, key=lambda p: (-p.mentions, p.name))


def queries(people: list[Person]) -> list[str]:
    rng = random.Random(9)
    out = ["", "   ", "x", "zz", "???", "a b c d", "li", "wang", "he", "Ka", "kar", "setett", "Hasett"]
    for person in rng.sample(people, 20):
        first, last = person.name.split()
        out += [last, first.lower(), typo(last, rng), person.name, typo(person.name, rng), last[:3],
                f"{typo(first, rng)} {last}", person.name.replace(" ", ""), f"{last} {first}"]
    return out


def whole_name_only(person: Person, query: str) -> bool:
    """A scan match through the whole name alone, no query token near any name token: the
    index looks for those only from query tokens of WHOLE_NAME_MIN_LENGTH letters."""
    q_tokens = terms(query)
    tokens = {t for n in (person.name, *person.aliases) for t in terms(n)}
    return not any(fuzz.ratio(q, t) >= (MATCH_THRESHOLD if len(q) < WHOLE_NAME_MIN_LENGTH else WHOLE_NAME_CUTOFF)
                   or (len(q) >= 3 and t.startswith(q)) for q in q_tokens for t in tokens)


def test_index_lookup_equals_the_scan(people: list[Person]) -> None:
    directory = PeopleDirectory(people=people)
    by_name = {p.name: p for p in people}
    differ = []
    for q in queries(people):
        got = [(m.person.name, m.score) for m in directory.lookup(q)]
        want = [(n, s) for n, s in scan_lookup(people, q, limit=50) if not whole_name_only(by_name[n], q)][:5]
        if got != want:
            differ.append((q, got, want))
    assert not differ, differ[:5]


def test_a_run_together_name_is_found_by_its_whole_name(people: list[Person]) -> None:
    directory = PeopleDirectory(people=people)
    person = next(p for p in people if len(p.name) >= 12)
    assert directory.lookup(person.name.replace(" ", ""))[0].person == person


def test_lookup_ranks_several_matches_and_suggests_when_none(people: list[Person]) -> None:
    directory = PeopleDirectory(people=people)
    surname = people[0].name.split()[-1]
    matches = directory.lookup(surname, limit=10)
    assert matches and matches[0].score >= matches[-1].score
    assert all(m.score >= MATCH_THRESHOLD for m in matches)
    assert directory.lookup("qqqqqqqq") == []
    near = typo(typo(people[0].name, random.Random(3)), random.Random(4))
    assert directory.suggest(near) and directory.suggest("qqqqqqqq") == []


def test_directory_survives_a_round_trip_through_pickle(people: list[Person]) -> None:
    import pickle

    directory = PeopleDirectory(people=people[:50])
    copy = pickle.loads(pickle.dumps(directory))
    name = people[0].name
    assert copy.lookup(name)[0].person.name == name and copy.get(name) == people[0]
    # One saved before directories had a name index (no private state) builds it when asked.
    state = {**directory.__getstate__(), "__pydantic_private__": None}
    old = PeopleDirectory.__new__(PeopleDirectory)
    old.__setstate__(state)
    assert old.lookup(name)[0].person.name == name and old.get(name) == people[0]
