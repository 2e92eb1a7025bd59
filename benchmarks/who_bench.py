"""`who` latency: the people directory's lookup against the scan over every person it replaced.

Queries are what people type: a surname, a full name, either with one typo, the start of
a surname, and names nobody has (those also ask for suggestions, as the bot does).
"""

from __future__ import annotations

import functools
import random
import time
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from benchmarks.synth import misspell
from bot.corpus.text import normalize_text, terms
from bot.people import PeopleDirectory, Person
from bot.people.names import MATCH_THRESHOLD


@functools.cache
def _scan_names(people: tuple[Person, ...]) -> list[tuple[Person, list[str], set[str]]]:
    return [(p, [normalize_text(n) for n in (p.name, *p.aliases)], {t for n in (p.name, *p.aliases) for t in terms(n)})
            for p in people]


def scan_lookup(people: list[Person], query: str, limit: int = 5) -> list[tuple[str, float]]:
    """The lookup as it was before the name index: every person scored with rapidfuzz."""
    q_tokens = [t for t in terms(query) if t]
    if not q_tokens:
        return []
    q_full = " ".join(q_tokens)
    scored = []
    for person, names, name_tokens in _scan_names(tuple(people)):
        full = max(fuzz.ratio(q_full, n) for n in names)
        per_token = []
        for token in q_tokens:
            best = max((fuzz.ratio(token, n) for n in name_tokens), default=0.0)
            if len(token) >= 3 and any(n.startswith(token) for n in name_tokens):
                best = max(best, 90.0)
            per_token.append(best)
        score = max(full, sum(per_token) / len(per_token))
        if score >= MATCH_THRESHOLD:
            scored.append((person, round(score, 1)))
    scored.sort(key=lambda m: (-m[1], -m[0].mentions, m[0].name))
    return [(p.name, s) for p, s in scored[:limit]]


@dataclass
class WhoQuery:
    text: str
    person: str | None  # whom a full-name query means (None: a surname or prefix, or nobody)


@dataclass
class WhoResult:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    first_right: list[bool] = field(default_factory=list)

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


def make_who_queries(people: list[Person], n: int, seed: int = 13) -> list[WhoQuery]:
    rng = random.Random(seed)
    top = people[: max(1, min(len(people), 1000))]
    out: list[WhoQuery] = []
    while people and len(out) < n:
        person = rng.choice(top) if rng.random() < 0.5 else rng.choice(people)
        surname = person.name.split()[-1]
        kind = len(out) % 6
        if kind == 0:
            out.append(WhoQuery(surname, None))
        elif kind == 1:
            out.append(WhoQuery(misspell(surname, rng) if len(surname) >= 4 else surname, None))
        elif kind == 2:
            out.append(WhoQuery(person.name, person.name))
        elif kind == 3:
            words = person.name.split()
            k = max(range(len(words)), key=lambda j: len(words[j]))
            words[k] = misspell(words[k], rng) if len(words[k]) >= 4 else words[k]
            out.append(WhoQuery(" ".join(words), person.name))
        elif kind == 4:
            out.append(WhoQuery(surname[: max(3, len(surname) // 2)], None))
        else:
            out.append(WhoQuery("Zq" + "".join(rng.choice("xvkwqz") for _ in range(6)), None))
    return out


def _right(query: WhoQuery, first: str | None) -> bool:
    return query.person is not None and first == query.person


def measure_index(directory: PeopleDirectory, queries: list[WhoQuery], rounds: int) -> WhoResult:
    """Lookup, and suggestions when it finds nobody (as the bot answers `who`)."""
    result = WhoResult("index")
    directory.lookup(queries[0].text)  # warm-up
    for round_no in range(rounds):
        for query in queries:
            t0 = time.perf_counter()
            matches = directory.lookup(query.text)
            if not matches:
                directory.suggest(query.text)
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            if round_no == 0 and query.person is not None:
                result.first_right.append(_right(query, matches[0].person.name if matches else None))
    return result


def measure_scan(people: list[Person], queries: list[WhoQuery], budget_s: float) -> WhoResult:
    """The former design on the first queries, until `budget_s` is spent."""
    result = WhoResult("scan")
    started = time.perf_counter()
    for query in queries:
        t0 = time.perf_counter()
        found = scan_lookup(people, query.text)
        result.latencies_ms.append((time.perf_counter() - t0) * 1000)
        if query.person is not None:
            result.first_right.append(_right(query, found[0][0] if found else None))
        if time.perf_counter() - started > budget_s:
            break
    return result


def report(directory: PeopleDirectory, n_queries: int, rounds: int, scan_budget_s: float) -> None:
    queries = make_who_queries(directory.people, n_queries)
    if not queries:
        print("who: no people")
        return
    results = [measure_index(directory, queries, rounds)]
    if scan_budget_s > 0:
        _scan_names(tuple(directory.people))  # the scan's own preparation is not timed
        results.append(measure_scan(directory.people, queries, scan_budget_s))
    print(f"who over {len(directory.people):,} people ({len(queries)} queries: surnames, full names, either with "
          f"a typo, prefixes, nobody):")
    print(f"{'who':<9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'queries':>8} {'full name right':>16}")
    for r in results:
        right = sum(r.first_right) / len(r.first_right) if r.first_right else float("nan")
        print(f"{r.name:<9} {r.pct(50):>8.2f} {r.pct(95):>8.2f} {r.pct(99):>8.2f} {len(r.latencies_ms):>8} "
              f"{right:>16.2f}")
