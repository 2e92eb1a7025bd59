"""Parse a search query once into a typed value: words, phrases, exclusions, filters.

Syntax: plain words; "quoted phrases"; -word to exclude; source:NAME;
since:YYYY-MM-DD and until:YYYY-MM-DD. An unknown key:value is plain words.
Nothing here is a regex or SQL fragment: every character is a literal.
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel

from bot.corpus.text import STOPWORDS, strip_controls, terms

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
_PART_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_FILTER_RE = re.compile(r"^(source|since|until):(.+)$", re.IGNORECASE)
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})


class ParsedQuery(BaseModel):
    raw: str
    terms: list[str] = []
    phrases: list[list[str]] = []
    excluded: list[str] = []
    source: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    notices: list[str] = []

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.phrases)

    @property
    def all_terms(self) -> list[str]:
        """Every distinct term to score: the words and the words of the phrases."""
        seen: dict[str, None] = {}
        for term in [*self.terms, *(t for p in self.phrases for t in p)]:
            seen.setdefault(term, None)
        return list(seen)


def _parse_date(value: str, key: str, notices: list[str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        notices.append(f"Ignored {key}:{value[:40]} (dates are written YYYY-MM-DD).")
        return None


def parse_query(raw: str) -> ParsedQuery:
    """Parse user text (already decoded from Slack's entities by the caller)."""
    text = strip_controls(raw).translate(_QUOTES)
    notices: list[str] = []
    if len(text) > MAX_QUERY_CHARS:
        notices.append(f"Your query was {len(text):,} characters long; I searched its first {MAX_QUERY_CHARS}.")
        text = text[:MAX_QUERY_CHARS]
    words: list[str] = []
    phrases: list[list[str]] = []
    excluded: list[str] = []
    source = since = until = None
    for match in _PART_RE.finditer(text):
        negated, phrase, word = match.group(1), match.group(2), match.group(3)
        if phrase is not None:
            phrase_terms = terms(phrase)
            if negated:
                excluded.extend(phrase_terms)
            elif len(phrase_terms) > 1:
                phrases.append(phrase_terms)
            else:
                words.extend(phrase_terms)
            continue
        filter_match = _FILTER_RE.match(word)
        if filter_match:
            key, value = filter_match.group(1).lower(), filter_match.group(2)
            if key == "source":
                source = value.replace("_", " ")
            elif key == "since":
                since = _parse_date(value, key, notices)
            else:
                until = _parse_date(value, key, notices)
            continue
        if word.startswith("-") and len(word) > 1:
            excluded.extend(terms(word[1:]))
            continue
        words.extend(terms(word))
    content = [w for w in words if w not in STOPWORDS] or words
    content = list(dict.fromkeys(content))
    if len(content) > MAX_TERMS:
        notices.append(f"I used the first {MAX_TERMS} words of your query.")
        content = content[:MAX_TERMS]
    return ParsedQuery(
        raw=raw, terms=content, phrases=phrases[:4], excluded=excluded[:MAX_TERMS],
        source=source, since=since, until=until, notices=notices,
    )
