"""Today's people passes, kept verbatim as the reference the faster ones must equal (tests only).

Copied from bot/people/extract.py and bot/people/build.py at f4dabb7; the only edit is a rename,
build's `_WORD_RE` to `_RUN_WORD_RE`, since extract has a `_WORD_RE` of its own. The word lists
and dataclasses are imported, not copied: a change to them applies to both paths alike.
`split_sentences` is copied from bot/corpus/text.py at 552780c (the pattern and abbreviations
are imported).
"""

# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

import re
import sys
import zlib
from collections.abc import Iterable

from bot.corpus import Article
from bot.corpus.text import _ABBREVIATIONS, _SENTENCE_END_RE
from bot.people.build import BLOOM_BITS
from bot.people.extract import (
    DEMONYMS,
    NOT_NAME_WORDS,
    ROLE_HEADS,
    ROLE_WORDS,
    SPEECH_VERBS,
    NameMention,
    RoleMention,
)


def split_sentences(text: str) -> list[str]:
    """Split at sentence boundaries; good enough for news prose, never loses text."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        before = text[start : match.start()].rsplit(None, 1)
        last_word = before[-1].casefold() if before else ""
        if match.group().startswith(".") and last_word in _ABBREVIATIONS:
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


_NAME_WORD = r"(?:[A-Z][a-z]+(?:-[a-z]+)?|[A-Z][a-z]*[A-Z][a-z]+|[A-Z]')"
# The first word's capital comes first in the pattern (then "no word character before it"), so
# that `re` skips ahead to capitals instead of trying the look-behind at every position: 2x faster.
_NAME_RE = re.compile(rf"([A-Z](?<![\w-].)(?:[a-z]+(?:-[a-z]+)?|[a-z]*[A-Z][a-z]+|')(?:\s+{_NAME_WORD})+)(?![\w-])")
_WORD_RE = re.compile(r"[\w.'’()-]+")
_SPEAKS_RE = re.compile(rf"^,?\s*(?:{'|'.join(SPEECH_VERBS)})\b")

def _words_before(text: str) -> list[str]:
    """The words just before a name, within its clause (stops at punctuation and quotes)."""
    clause = re.split(r"[,;:.!?\"“”—–]|\s-\s", text)[-1]
    return _WORD_RE.findall(clause)


_DEMONYM_RE = re.compile(r"(?<![\w.])(" + "|".join(re.escape(k) for k in sorted(DEMONYMS, key=len, reverse=True))
                         + r")(?!\w)")


def _country(words: list[str]) -> str | None:
    match = _DEMONYM_RE.search(" ".join(w.lower() for w in words))
    return DEMONYMS[match.group(1)] if match else None


def _title_before(prefix: str) -> RoleMention | None:
    words = _words_before(prefix)
    taken: list[str] = []
    for word in reversed(words):
        bare = word.strip("()").lower().rstrip("’'s").rstrip("'")
        is_abbrev = word.startswith("(") and word.endswith(")")
        if bare in ROLE_WORDS or is_abbrev or (word[:1].isupper() and bare not in NOT_NAME_WORDS - ROLE_WORDS):
            taken.append(word)
            continue
        break
    taken.reverse()
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
    org_match = re.search(r".*\b(?:at|of|for)\s+(?:the\s+)?([A-Z].*)$", phrase)
    if org_match and org_match.group(1)[:1].isupper():
        organization = org_match.group(1)
    formal = words[head_at][:1].isupper()
    return RoleMention(role=phrase, organization=organization, country=_country(words), formal=formal, alias=None)


def _appositive_before(prefix: str) -> RoleMention | None:
    if not prefix.rstrip().endswith(","):
        return None
    clause = re.split(r"[;:.!?\"“”—–]", prefix.rstrip()[:-1])[-1]
    clause = clause.split(",")[-1].strip()
    words = clause.split()
    if not 1 <= len(words) <= 6 or words[-1].lower() not in ROLE_HEADS:
        return None
    return RoleMention(role=clause, organization=None, country=_country(words), formal=False, alias=None)


def _valid_name(name: str) -> bool:
    words = name.split()
    return all(w.lower().strip("'") not in NOT_NAME_WORDS and w.lower() not in ROLE_WORDS for w in words)



def find_mentions(paragraph: str) -> list[NameMention]:
    """Every candidate full name in a paragraph, with the role or speech evidence beside it."""
    mentions: list[NameMention] = []
    if not _NAME_RE.search(paragraph):  # a third of news paragraphs: no sentence splitting needed
        return mentions
    for sentence in split_sentences(paragraph):
        for match in _NAME_RE.finditer(sentence):
            name = match.group(1)
            words = name.split()
            # Drop role words that the capitalised run swallowed: "Commerce Secretary Howard Lutnick".
            while words and (words[0].lower() in ROLE_WORDS or words[0].lower() in NOT_NAME_WORDS):
                words.pop(0)
            if not 2 <= len(words) <= 3:
                continue
            name = " ".join(words)
            if not _valid_name(name):
                continue
            start = match.end() - len(name)
            prefix, suffix = sentence[:start], sentence[match.end():]
            role = _title_before(prefix) or _appositive_after(suffix) or _appositive_before(prefix)
            speaks = bool(_SPEAKS_RE.match(suffix))
            mentions.append(NameMention(name=name, sentence=sentence, role=role, speaks=speaks))
    return mentions


# From bot/people/build.py
_SPEECH_RE = re.compile(rf"\b(?:{'|'.join(SPEECH_VERBS)})\b|[“\"]")
_CAPRUN_RE = re.compile(r"[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*")  # a run of capitalised words
_RUN_WORD_RE = re.compile(r"\S+")

def _bloom(words: Iterable[str]) -> bytes:
    """Two bits per word, from CRC-32, not `hash`: a filter made in a helper process is tested in
    the worker, and `hash` differs between processes."""
    mask = 0
    for word in words:
        h = zlib.crc32(word.encode())
        mask |= (1 << (h % BLOOM_BITS)) | (1 << ((h >> 16) % BLOOM_BITS))
    return mask.to_bytes(BLOOM_BITS // 8, "little")


def _sentence_spans(paragraph: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in split_sentences(paragraph):
        start = paragraph.find(sentence, cursor)
        spans.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    return spans


def _named_in(paragraph: str, phrases: dict[str, str], first_words: set[str],
              capitals: set[str]) -> list[tuple[int, str]]:
    """(offset, phrase) for each capitalised word starting a known phrase, the longest (of up to
    three words, in one run of capitalised words) winning; every capitalised word goes to `capitals`.
    A run none of whose words starts a phrase is passed over in C: most start none."""
    found: list[tuple[int, str]] = []
    for run in _CAPRUN_RE.finditer(paragraph):
        words = run.group().split()
        capitals.update(words)
        if first_words.isdisjoint(words):
            continue
        starts: list[int] = []  # of the run's words, found once a phrase is
        for i, word in enumerate(words):
            if word not in first_words:
                continue
            for n in (3, 2, 1):
                phrase = " ".join(words[i:i + n]) if i + n <= len(words) else None
                if phrase is not None and phrase in phrases:
                    if not starts:
                        starts = [run.start() + m.start() for m in _RUN_WORD_RE.finditer(run.group())]
                    found.append((starts[i], sys.intern(phrase)))  # one copy however many articles hold it
                    break
    return found


def _scan(article: Article, phrases: dict[str, str], first_words: set[str]) -> tuple[
        tuple[tuple[str, int], ...], tuple[bytes, ...], tuple[bool, ...], bytes]:
    """The second pass over one article: where each phrase is, and its capitalised words."""
    hits: list[tuple[str, int]] = []
    sentences: list[bytes] = []
    speaking: list[bool] = []
    capitals: set[str] = set()
    for paragraph in article.paragraphs:
        found = _named_in(paragraph, phrases, first_words, capitals)
        if not found:
            continue
        spans = _sentence_spans(paragraph)
        numbered: dict[int, int] = {}  # sentence in the paragraph -> in `sentences`
        for offset, phrase in found:
            k = next((k for k, (a, b) in enumerate(spans) if a <= offset < b), len(spans) - 1)
            if k not in numbered:
                numbered[k] = len(sentences)
                a, b = spans[k]
                sentences.append(paragraph[a:b].encode())
                speaking.append(bool(_SPEECH_RE.search(paragraph, a, b)))
            hits.append((phrase, numbered[k]))
    return tuple(hits), tuple(sentences), tuple(speaking), _bloom(capitals)


def _first_pass(article: Article) -> tuple[tuple[str, RoleMention | None], ...]:
    return tuple((m.name, m.role) for paragraph in article.paragraphs for m in find_mentions(paragraph)
                 if m.role or m.speaks)
