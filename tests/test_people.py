"""People directory from the seed corpus: roles, lookups, non-people, overrides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.corpus import load_corpus
from bot.library import Snapshot
from bot.people import build_directory

ROLES = {
    "Scott Bessent": "Treasury Secretary",
    "Jamieson Greer": "US Trade Representative",
    "Howard Lutnick": "Commerce Secretary",
    "Kevin Hassett": "Chairman of the White House National Economic Council",
    "Katsunobu Kato": "Japanese Finance Minister",
    "Ryosei Akazawa": "trade negotiator",
    "He Lifeng": "Vice Premier",
    "Li Chenggang": "Trade Representative",
    "Wang Wentao": "Commerce Minister",
    "Choi Sang-mok": "South Korean Finance Minister",
    "Ahn Duk-geun": "South Korean Trade Minister",
    "Emily Benson": "head of strategy at Minerva Technology Futures",
    "Kathleen Brooks": "research director at XTB",
    "Marco Rubio": "Secretary of State",
    "Sanae Takaichi": "Prime Minister",
    "Donald Trump": "President",
    "Xi Jinping": "President",
    "Thomas Mathews": "head analyst",
}


@pytest.mark.parametrize("name, role", ROLES.items())
def test_people_have_the_right_role(snapshot: Snapshot, name: str, role: str) -> None:
    person = snapshot.people.get(name)
    assert person is not None, name
    assert role.lower() in (person.role or "").lower()
    assert person.mentions >= 1 and person.articles


def test_greer_has_alias_and_other_roles_kept(snapshot: Snapshot) -> None:
    greer = snapshot.people.get("Jamieson Greer")
    assert "USTR" in greer.aliases and "Greer" in greer.aliases
    assert "trade envoy" in greer.other_roles
    assert {a.published.isoformat() for a in greer.articles} == {"2025-04-26", "2025-06-10", "2025-06-11"}


@pytest.mark.parametrize("not_person", ["Lancaster House", "White House", "Wall Street", "Financial Times",
                                        "Capital Economics", "Bank of Japan", "Kuala Lumpur", "Bloomberg Television",
                                        "Jensen Huang", "Kate Kallot", "Hankyung Han", "Jeenah Moon", "Joe Tsai"])
def test_places_organisations_and_furniture_are_not_people(snapshot: Snapshot, not_person: str) -> None:
    assert snapshot.people.get(not_person) is None


@pytest.mark.parametrize("query, name", [("greer", "Jamieson Greer"), ("grear", "Jamieson Greer"),
                                         ("jamieson", "Jamieson Greer"), ("he lifeng", "He Lifeng"),
                                         ("lifeng", "He Lifeng"), ("lutnik", "Howard Lutnick"),
                                         ("USTR", "Jamieson Greer"), ("bessnt", "Scott Bessent"),
                                         ("Hasset", "Kevin Hassett")])
def test_lookup_tolerates_typos_and_partial_names(snapshot: Snapshot, query: str, name: str) -> None:
    assert snapshot.people.lookup(query)[0].person.name == name


def test_absent_name_has_no_match_but_suggestions(snapshot: Snapshot) -> None:
    assert snapshot.people.lookup("Zelensky") == []
    assert snapshot.people.lookup("") == []
    assert snapshot.people.suggest("Bessant")[0] == "Scott Bessent"


def test_representative_sentence_prefers_speech(snapshot: Snapshot) -> None:
    kato = snapshot.people.get("Katsunobu Kato")
    sentence = next(a.sentence for a in kato.articles)
    assert "said" in sentence or "told" in sentence or "“" in sentence


def test_overrides_file_adds_corrects_and_hides(corpus_copy: Path) -> None:
    (corpus_copy / "people.yml").write_text(
        "people:\n"
        "  - name: Jamieson Greer\n    role: United States Trade Representative\n"
        "    organization: Office of the USTR\n    aliases: [Jamie]\n"
        "  - name: Thomas Mathews\n    hide: true\n"
        "  - name: Ryosei Akazawa\n    role: Minister for Economic Revitalization\n", encoding="utf-8")
    people = build_directory(load_corpus(corpus_copy), corpus_copy / "people.yml")
    greer = people.get("Jamieson Greer")
    assert greer.role == "United States Trade Representative" and greer.organization == "Office of the USTR"
    assert people.lookup("jamie")[0].person.name == "Jamieson Greer"
    assert people.get("Thomas Mathews") is None
    assert people.get("Ryosei Akazawa").role == "Minister for Economic Revitalization"


def test_broken_overrides_file_is_reported_not_fatal(corpus_copy: Path) -> None:
    (corpus_copy / "people.yml").write_text("people: [unclosed", encoding="utf-8")
    people = build_directory(load_corpus(corpus_copy), corpus_copy / "people.yml")
    assert people.overrides_error and people.get("Jamieson Greer")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent.parent)


def test_who_and_people_cli_json() -> None:
    result = run_cli("who", "grear", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["matches"][0]["name"] == "Jamieson Greer"
    assert set(data["matches"][0]) >= {"name", "role", "organization", "aliases", "mentions", "articles"}
    assert set(data["matches"][0]["articles"][0]) >= {"article_id", "title", "url", "published", "sentence"}
    nobody = run_cli("who", "nobody-at-all", "--json")
    assert nobody.returncode == 0 and json.loads(nobody.stdout)["matches"] == []
    people = json.loads(run_cli("people", "--json").stdout)["people"]
    assert people[0]["mentions"] >= people[-1]["mentions"]
