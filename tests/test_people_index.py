"""`who` from the name index answers exactly what a scan over every person answered."""

from __future__ import annotations

import random

import pytest

from benchmarks.who_bench import scan_lookup
from bot.people import PeopleDirectory, Person
from bot.people.names import MATCH_THRESHOLD

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


def test_index_lookup_equals_the_scan(people: list[Person]) -> None:
    directory = PeopleDirectory(people=people)
    differ = [(q, got, want) for q in queries(people)
              if (got := [(m.person.name, m.score) for m in directory.lookup(q)]) != (want := scan_lookup(people, q))]
    assert not differ, differ[:5]


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
