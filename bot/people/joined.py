"""An article's paragraphs as one string, so that each pattern of the people passes runs once per
article rather than once per paragraph (at 10k articles, 150k calls cost more than the text they
read), with offsets mapped back to paragraphs and, when asked, to sentences."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate, repeat
from operator import add

from bot.corpus.text import sentence_spans

# Neither a space, a word character nor a hyphen: no name, capitalised word or phrase runs across it,
# and the patterns' look-arounds see it as they see a paragraph's ends.
SEPARATOR = "|"


class Joined:
    """Paragraphs joined by `SEPARATOR`; a paragraph is split into sentences once, when first asked."""

    __slots__ = ("paragraphs", "text", "starts", "_sentences")

    def __init__(self, paragraphs: Sequence[str]) -> None:
        self.paragraphs = paragraphs
        self.text = SEPARATOR.join(paragraphs)
        self.starts = list(accumulate(map(add, map(len, paragraphs[:-1]), repeat(1)), initial=0))
        self._sentences: dict[int, tuple[list[tuple[int, int]], list[int]]] = {}  # paragraph -> spans, their ends

    def sentence(self, offset: int) -> tuple[int, int, int, int]:
        """(paragraph, sentence in it, start, end in `text`) of the sentence holding an offset; the
        paragraph's last sentence for an offset between sentences (the old passes did the same)."""
        i = bisect_right(self.starts, offset) - 1
        start = self.starts[i]
        known = self._sentences.get(i)
        if known is None:
            spans = sentence_spans(self.paragraphs[i])
            known = self._sentences[i] = spans, [b for _, b in spans]
        spans, ends = known
        local = offset - start
        k = bisect_right(ends, local)  # the first sentence ending after the offset, if it starts before
        if k == len(spans) or spans[k][0] > local:
            k = len(spans) - 1
        a, b = spans[k]
        return i, k, start + a, start + b
