"""Text normalisation and tokenisation shared by search, people and the corpus.

Everything that compares user text with corpus text goes through `normalize_term`,
so `Bessent's`, `BESSENT` and `bessent` meet, `rare-earth` matches `rare earth`,
and `145%` matches `145 per cent`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Invisible or dangerous code points, removed wherever text enters: C0/C1 controls (but tab,
# newline, carriage return), NUL, bidi embeddings, overrides, isolates and marks (U+202E can make
# text read backwards), zero-width space, word joiner and invisible operators, soft hyphen,
# BOM, interlinear annotation marks, and lone surrogates (they cannot be encoded as UTF-8).
_CONTROL_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
# Zero-width (non-)joiners are kept only inside a sequence that needs them: an emoji (👨‍👩‍👧)
# or a script that joins letters (Persian, Devanagari); beside ASCII, a space or an edge
# they only hide a word break (`tar\u200diffs`), so they go.
_STRAY_JOINER_RE = re.compile(r"(?<![^\x00-\x7f\s])[\u200c\u200d]|[\u200c\u200d](?![^\x00-\x7f\s])")
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_QUOTE_PAIRS = tuple((chr(k), v) for k, v in _QUOTES.items())
# A token: a run of letters/digits, with inner apostrophes (don't) and decimal points (2.25).
# `%` and `$` are captured separately so that numbers with units stay searchable.
TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’‘ʼ][^\W\d_]+)*|[%$€£¥]", re.UNICODE)
SYMBOL_TERMS = {"%": "percent", "$": "usd", "€": "eur", "£": "gbp", "¥": "jpy"}
STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "he", "her", "his", "in", "is", "it", "its", "of", "on", "or", "she", "that", "the", "their", "they", "this", "to", "was", "were", "will", "with"]
)


def strip_controls(text: str) -> str:
    """Remove control, bidi and zero-width characters (see `_CONTROL_RE`); the rest is kept as it is."""
    if text.isascii():
        return _CONTROL_RE.sub("", text) if not text.isprintable() else text
    text = _CONTROL_RE.sub("", text)
    return _STRAY_JOINER_RE.sub("", text) if "\u200c" in text or "\u200d" in text else text


_ASCII_CONTROLS = bytes(range(10)) + bytes(range(11, 32)) + b"\x7f"  # all but newline
_ASCII = bytes(range(128))


def plain_utf8(data: bytes) -> str | None:
    """The non-ASCII characters of `data` (UTF-8), when it holds nothing but printable characters
    and newlines; else None. Such text has nothing for `strip_controls` to remove, and no
    whitespace but space and newline, so readers can skip that work (bytes ops are C-fast)."""
    if len(data.translate(None, _ASCII_CONTROLS)) != len(data):
        return None
    if data.isascii():
        return ""
    others = data.translate(None, _ASCII).decode("utf-8")  # removing whole ASCII characters keeps it UTF-8
    return others if others.isprintable() else None


def spaced_words(data: bytes) -> bytes | None:
    """`data` with its paragraph breaks ("\\n\\n") made spaces, when that is its words joined by
    single spaces: the form `" ".join(paragraph.split())` and a `"\\n\\n"` join give, which
    normalising again leaves as it is. None otherwise, or when empty. Assumes space and newline
    are the only whitespace (see `plain_utf8`). Splits at newlines, which are few (C-fast)."""
    lines = data.split(b"\n")
    if len(lines) % 2 == 0 or any(lines[1::2]):  # a newline not in a pair of them
        return None
    words = b" ".join(lines[0::2])  # a blank end, an empty paragraph or a space beside a break: two spaces
    return words if words and b"  " not in words and not words.startswith(b" ") and not words.endswith(b" ") else None


_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    if not _COMBINING_RE.search(decomposed):
        return text
    return unicodedata.normalize("NFC", _COMBINING_RE.sub("", decomposed))


def normalize_text(text: str) -> str:
    """NFKC + casefold + straight quotes + no accents; lengths may change."""
    text = strip_controls(text)
    if text.isascii():
        return text.casefold()
    text = unicodedata.normalize("NFKC", text)
    for curly, straight in _QUOTE_PAIRS:  # str.replace is C-fast; translate() with a dict is not
        if curly in text:
            text = text.replace(curly, straight)
    text = text.casefold()
    return text if text.isascii() else _strip_accents(text)


def normalize_term(raw: str) -> str:
    """One token as it is indexed: `Bessent’s` -> `bessent`, `%` -> `percent`."""
    if raw in SYMBOL_TERMS:
        return SYMBOL_TERMS[raw]
    term = normalize_text(raw)
    if term.endswith("'s"):
        term = term[:-2]
    elif term.endswith("'"):
        term = term[:-1]
    return term.replace("'", "")


@dataclass(frozen=True, slots=True)
class Token:
    term: str
    start: int
    end: int


def tokenize(text: str, only: set[str] | frozenset[str] | None = None) -> list[Token]:
    """Tokens with their character spans in `text` (spans are used to mark snippets);
    with `only`, just the tokens whose term is in it (snippets need no others)."""
    tokens: list[Token] = []
    previous = ""
    per_start = -1
    for match in TOKEN_RE.finditer(text):
        raw = match.group()
        term = raw.lower() if raw.isascii() and raw.isalnum() else normalize_term(raw)
        if not term:
            continue
        # "per cent" is the same unit as "%".
        if term == "cent" and previous == "per":
            if tokens and tokens[-1].start == per_start:
                tokens.pop()
            term = "percent"
            start = per_start
        else:
            start = match.start()
        previous, per_start = term, start
        if only is None or term in only:
            tokens.append(Token(term, start, match.end()))
    return tokens


def terms(text: str) -> list[str]:
    """The indexed terms of any text (controls stripped first, as everywhere text enters)."""
    return [t.term for t in tokenize(strip_controls(text))]


_SENTENCE_END_RE = re.compile(r"[.!?]+[\"'”’)]*(?=\s+[\"'“‘(]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(["mr", "mrs", "ms", "dr", "st", "co", "corp", "inc", "ltd", "gen", "sen", "rep", "no", "vs", "jr", "sr", "u.s", "u.k"])


_SPACES_RE = re.compile(r"\s*+")


def split_sentences(text: str) -> list[str]:
    """Split at sentence boundaries; good enough for news prose, never loses text."""
    return [text[a:b] for a, b in sentence_spans(text)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where each sentence of `split_sentences` stands in the text: the text between sentence ends,
    without the spaces around it, and none that is only spaces. Positions are worked out, not
    searched for: a sentence ends at punctuation, so only its start has spaces to skip."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        end = match.start()
        if text[end] == ".":  # (only the words before a full stop are looked at, as few end in one)
            before = text[start:end].rsplit(None, 1)
            if before and before[-1].casefold() in _ABBREVIATIONS:
                continue
        spaces = _SPACES_RE.match(text, start)  # (always matches)
        spans.append((spaces.end() if spaces else start, match.end()))
        start = match.end()
    tail = text[start:]
    kept = tail.strip()
    if kept:
        first = start + len(tail) - len(tail.lstrip())
        spans.append((first, first + len(kept)))
    return spans
