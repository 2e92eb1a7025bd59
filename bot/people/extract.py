"""Find people in news text, with the roles the text gives them.

News prose states roles in three ways, and each is a pattern here:
- a title before the name: "US Trade Representative Jamieson Greer",
  "top Japanese trade negotiator Ryosei Akazawa";
- an appositive after it: "Kevin Hassett, Chairman of the White House National
  Economic Council (NEC), said", "Emily Benson, head of strategy at Y";
- an appositive before it: "Trump's top economic adviser, Kevin Hassett, told".
A capitalised pair of words only counts as a person with such a role, or as the
subject of a speech verb ("Katsunobu Kato told reporters"). Words that name
places, buildings, organisations and publications never form a name.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.people.joined import Joined

ROLE_HEADS = {
    "secretary", "minister", "president", "premier", "representative", "chairman", "chairwoman", "chair",
    "chief", "ceo", "cfo", "governor", "envoy", "negotiator", "adviser", "advisor", "director", "head",
    "analyst", "economist", "spokesperson", "spokesman", "spokeswoman", "ambassador", "commissioner",
    "senator", "chancellor", "officer", "strategist", "official", "leader", "founder", "king", "queen",
    "mayor", "lawmaker", "partner", "professor", "researcher", "fellow", "trader", "manager", "executive",
}
# Words that may stand inside a title ("Vice Commerce Minister", "trade envoy").
ROLE_WORDS = ROLE_HEADS | {
    "vice", "deputy", "prime", "foreign", "finance", "trade", "commerce", "treasury", "state", "defense",
    "defence", "economy", "economic", "industry", "international", "national", "top", "senior", "chief",
    "former", "acting", "assistant", "general", "executive", "research", "global", "market", "markets",
    "investment", "policy", "us", "u.s.", "uk", "eu", "white", "house", "council", "the", "of", "for",
    "nec", "ustr", "new", "japanese", "chinese", "american", "south", "korean", "north", "british",
    "german", "french", "indian", "malaysian", "taiwanese", "european", "china", "japan", "korea",
    "agriculture", "energy", "labor", "labour", "security", "affairs", "central", "bank", "head", "lead",
}
DEMONYMS = {
    "us": "United States", "u.s.": "United States", "american": "United States", "japanese": "Japan",
    "japan": "Japan", "chinese": "China", "china": "China", "south korean": "South Korea",
    "korean": "South Korea", "uk": "United Kingdom", "british": "United Kingdom", "malaysian": "Malaysia",
    "taiwanese": "Taiwan", "indian": "India", "german": "Germany", "french": "France", "eu": "European Union",
    "european": "European Union",
}
# Capitalised words that never belong to a person's name.
NOT_NAME_WORDS = {
    "house", "street", "times", "economics", "bank", "fund", "council", "ministry", "department", "office",
    "futures", "journal", "post", "news", "daily", "television", "summit", "index", "markets", "market",
    "group", "corp", "co", "inc", "ltd", "company", "university", "institute", "agency", "reserve",
    "association", "union", "nations", "states", "united", "kingdom", "republic", "east", "west", "asia",
    "europe", "africa", "america", "china", "japan", "korea", "taiwan", "malaysia", "vietnam", "thailand",
    "cambodia", "london", "washington", "beijing", "tokyo", "geneva", "seoul", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may",
    "june", "july", "august", "september", "october", "november", "december", "the", "a", "an", "this",
    "that", "these", "those", "in", "on", "at", "for", "but", "and", "or", "if", "as", "after", "before",
    "while", "when", "with", "earlier", "later", "still", "even", "meanwhile", "both", "since", "asked",
    "according", "during", "next", "last", "new", "top", "global", "federal", "platform", "capital",
    "technology", "trading", "exchange", "ai", "gdp", "ceo", "nato", "asean", "imf", "ft", "reuters", "afp",
    "bloomberg", "cnbc", "cnn", "mr", "mrs", "ms", "dr", "trade", "talks", "tariff", "tariffs", "secretary",
    "minister", "president", "premier", "representative", "chairman", "lumpur", "kuala", "lancaster",
    "wall", "financial", "white", "natural", "gas", "crypto", "bitcoin", "ethereum", "emerging", "academy",
}
_TITLE_CAPITALS_OUT = NOT_NAME_WORDS - ROLE_WORDS  # capitalised words that end a title read backwards
_SWALLOWED = ROLE_WORDS | NOT_NAME_WORDS  # words a capitalised run may start with that are not the name's
SPEECH_VERBS = (
    "said", "says", "told", "stated", "added", "noted", "warned", "revealed", "explained", "emphasized",
    "emphasised", "announced", "argued", "wrote", "insisted", "confirmed", "stressed", "indicated",
)
# Possessive runs of letters (`[a-z]++`): giving letters back could only leave a letter before a space
# or the end, where the pattern needs neither, so `re` need not try.
_NAME_WORD = r"(?:[A-Z][a-z]++(?:-[a-z]++)?|[A-Z][a-z]*+[A-Z][a-z]++|[A-Z]')"
# The first word's capital comes first in the pattern (then "no word character before it"), so
# that `re` skips ahead to capitals instead of trying the look-behind at every position: 2x faster.
_NAME_RE = re.compile(rf"([A-Z](?<![\w-].)(?:[a-z]++(?:-[a-z]++)?|[a-z]*+[A-Z][a-z]++|')(?:\s++{_NAME_WORD})+)(?![\w-])")
_WORD_RE = re.compile(r"[\w.'’()-]+")
_SPEAKS_RE = re.compile(rf",?\s*(?:{'|'.join(SPEECH_VERBS)})\b")  # matched where a name ends


@dataclass(frozen=True, slots=True)
class RoleMention:
    role: str
    organization: str | None
    country: str | None
    formal: bool  # a capitalised title, not a description like "trade envoy"
    alias: str | None  # an abbreviation given for the title, e.g. USTR


@dataclass(frozen=True, slots=True)
class NameMention:
    name: str
    sentence: str
    role: RoleMention | None
    speaks: bool


_CLAUSE_BREAK_RE = re.compile(r"[,;:.!?\"“”—–]|\s-\s")
_LAST_BREAK_RE = re.compile(r".*[,;:.!?\"“”—–]", re.DOTALL)  # up to the last one-character clause break
_SENTENCE_BREAK_RE = re.compile(r"[;:.!?\"“”—–]")
_ORGANIZATION_RE = re.compile(r".*\b(?:at|of|for)\s+(?:the\s+)?([A-Z].*)$")


def _clause(text: str, start: int, end: int) -> tuple[str, bool]:
    """The clause of `text[start:end]` that ends there (what follows its last punctuation, quote or
    spaced dash), and whether that punctuation is a comma with only spaces after it. As the last piece
    of splitting at every break, without splitting the rest: after a one-character break, splitting
    starts afresh (a spaced dash holds none), so only the text after the last one is split."""
    last = _LAST_BREAK_RE.match(text, start, end)
    cut = last.end() if last else start
    tail = text[cut:end]
    comma = last is not None and text[cut - 1] == "," and (not tail or tail.isspace())
    return (_CLAUSE_BREAK_RE.split(tail)[-1] if "-" in tail else tail), comma


_DEMONYM_RE = re.compile(r"(?<![\w.])(" + "|".join(re.escape(k) for k in sorted(DEMONYMS, key=len, reverse=True))
                         + r")(?!\w)")


def _country(words: list[str]) -> str | None:
    match = _DEMONYM_RE.search(" ".join(w.lower() for w in words))
    return DEMONYMS[match.group(1)] if match else None


@functools.lru_cache(maxsize=1 << 16)
def _in_title(word: str) -> bool:
    """Whether a word read backwards from a name still belongs to its title."""
    bare = word.strip("()").lower().rstrip("’'s").rstrip("'")
    is_abbrev = word.startswith("(") and word.endswith(")")
    return bare in ROLE_WORDS or is_abbrev or (word[:1].isupper() and bare not in _TITLE_CAPITALS_OUT)


def _title_before(clause: str) -> RoleMention | None:
    """A title read backwards from the end of the clause before a name."""
    words = _WORD_RE.findall(clause)
    start = len(words)
    while start and _in_title(words[start - 1]):
        start -= 1
    return _title(tuple(words[start:])) if start < len(words) else None


@functools.lru_cache(maxsize=1 << 14)
def _title(taken_words: tuple[str, ...]) -> RoleMention | None:
    """The title these words make, if they make one (the same words recur: a role is made once)."""
    taken = list(taken_words)
    while taken and taken[0].lower() in {"the", "of", "for", "and", "new", "top"}:
        taken.pop(0)
    # The title must end in a role word, possibly followed by an abbreviation: "Representative (USTR)".
    alias = None
    if taken and taken[-1].startswith("(") and taken[-1].endswith(")"):
        alias = taken.pop().strip("()")
    heads = [i for i, w in enumerate(taken) if w.lower() in ROLE_HEADS]
    # "Trade Representative" ends in its head; "Secretary of State" has it before "of".
    if not heads or not (heads[-1] == len(taken) - 1 or taken[heads[-1] + 1].lower() == "of"):
        return None
    role = " ".join(taken)
    formal = taken[heads[-1]][:1].isupper()
    return RoleMention(role=role, organization=None, country=_country(taken), formal=formal, alias=alias)


_APPOSITIVE_AFTER_RE = re.compile(r"^,\s+([^,;\"“”]{3,120}?)(?:,|\.|;|\s+(?:said|told|stated|who)\b|$)")


def _appositive_after(suffix: str) -> RoleMention | None:
    match = _APPOSITIVE_AFTER_RE.match(suffix)
    if not match:
        return None
    phrase = match.group(1).strip()
    words = phrase.split()
    if not words or len(words) > 14 or words[0].lower() in {"who", "which", "and", "but", "the", "a"}:
        return None
    lowered = [w.lower().strip("()") for w in words]
    head_at = next((i for i, w in enumerate(lowered) if w in ROLE_HEADS), None)
    if head_at is None or head_at > 4:
        return None
    organization = None
    org_match = _ORGANIZATION_RE.search(phrase)
    if org_match and org_match.group(1)[:1].isupper():
        organization = org_match.group(1)
    formal = words[head_at][:1].isupper()
    return RoleMention(role=phrase, organization=organization, country=_country(words), formal=formal, alias=None)


def _appositive_before(prefix: str) -> RoleMention | None:
    if not prefix.rstrip().endswith(","):
        return None
    clause = _SENTENCE_BREAK_RE.split(prefix.rstrip()[:-1])[-1]
    clause = clause.split(",")[-1].strip()
    words = clause.split()
    if not 1 <= len(words) <= 6 or words[-1].lower() not in ROLE_HEADS:
        return None
    return RoleMention(role=clause, organization=None, country=_country(words), formal=False, alias=None)


@functools.lru_cache(maxsize=1 << 15)
def _name_in_run(run: str) -> str | None:
    """The full name a capitalised run holds once the role words it swallowed are dropped
    ("Commerce Secretary Howard Lutnick"), or None. Cached: a corpus repeats its runs."""
    words = run.split()
    lowered = run.lower().split()  # the same words: a run's letters are ASCII
    first = 0
    while first < len(words) and lowered[first] in _SWALLOWED:
        first += 1
    if not 2 <= len(words) - first <= 3:
        return None
    rest = lowered[first:]
    if not ROLE_WORDS.isdisjoint(rest) or not NOT_NAME_WORDS.isdisjoint([w.strip("'") for w in rest]):
        return None
    return " ".join(words[first:])


def _mentions(joined: Joined) -> Iterator[tuple[str, int, RoleMention | None, bool]]:
    """(name, offset, role, speaks) for each candidate full name in the paragraphs.

    Names are matched in the whole text at once: a name holds no `.!?`, so it cannot cross a
    sentence's end, nor `SEPARATOR`; and to the pattern's look-arounds, the space before a sentence
    and the separator are what a text's ends are. A title is read within the paragraph, not the
    sentence: before a sentence stand its predecessor's end mark and closing quotes or brackets,
    which end a title read backwards as the sentence's start does; a speech verb follows the name
    directly. Only an appositive could reach past a sentence's ends, so a paragraph is split into
    sentences only for a name with a comma beside it."""
    text, starts, paragraphs = joined.text, joined.starts, joined.paragraphs
    for match in _NAME_RE.finditer(text):
        name = _name_in_run(match.group())
        if name is None:
            continue
        at, end = match.span()
        start = end - len(name)  # as the sentence-by-sentence pass did, even where spaces were collapsed
        i = bisect_right(starts, at) - 1
        paragraph_start = starts[i]
        paragraph_end = paragraph_start + len(paragraphs[i])
        clause, comma_before = _clause(text, paragraph_start, start)
        role = _title_before(clause)
        if role is None and (comma_before or text.startswith(",", end, paragraph_end)):
            _, _, a, b = joined.sentence(at)
            role = _appositive_after(text[end:b]) or _appositive_before(text[a:start])
        yield name, at, role, bool(_SPEAKS_RE.match(text, end, paragraph_end))


def article_mentions(paragraphs: Sequence[str]) -> tuple[tuple[str, RoleMention | None], ...]:
    """The names an article states with a role or as speaking, in text order."""
    return tuple((name, role) for name, _, role, speaks in _mentions(Joined(paragraphs)) if role or speaks)


def find_mentions(paragraph: str) -> list[NameMention]:
    """Every candidate full name in a paragraph, with the role or speech evidence beside it."""
    joined = Joined([paragraph])
    return [NameMention(name=name, sentence=paragraph[a:b], role=role, speaks=speaks)
            for name, at, role, speaks in _mentions(joined) for _, _, a, b in [joined.sentence(at)]]
