"""Snippets: the best window of at most ~300 characters around the matched terms."""

from __future__ import annotations

from bot.corpus.text import Token, tokenize

SNIPPET_CHARS = 300
ELLIPSIS = "…"


def best_window(tokens: list[Token], matched: set[str], width: int) -> tuple[int, int]:
    """Start and end character offsets of the window covering the most distinct matches."""
    hits = [t for t in tokens if t.term in matched]  # (tokens may already be only the matches)
    if not hits:
        return 0, width
    best = (0, 0, hits[0].start)
    for i, first in enumerate(hits):
        seen: set[str] = set()
        count = 0
        for hit in hits[i:]:
            if hit.end - first.start > width:
                break
            count += 1
            seen.add(hit.term)
        score = (len(seen), count)
        if score > best[:2]:
            best = (*score, first.start)
    start = best[2]
    return start, start + width


def make_snippet(text: str, matched: set[str], width: int = SNIPPET_CHARS) -> tuple[str, list[tuple[int, int]]]:
    """Plain-text snippet and the (start, end) spans of matched words inside it."""
    tokens = tokenize(text, only=matched)
    if len(text) <= width:
        start, end = 0, len(text)
    else:
        start, end = best_window(tokens, matched, width)
        # Open the window a little before the first match for context, at a word boundary.
        lead = min(start, width // 4)
        start, end = start - lead, min(len(text), start - lead + width)
        if end == len(text):
            start = max(0, end - width)
        if start > 0:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < start + 30 else start
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space if space > start + width // 2 else end
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    body = text[start:end].strip()
    shift = len(prefix) - start - (len(text[start:end]) - len(text[start:end].lstrip()))
    spans = [
        (t.start + shift, t.end + shift)
        for t in tokens
        if t.term in matched and t.start >= start and t.end <= end
    ]
    return prefix + body + suffix, spans
