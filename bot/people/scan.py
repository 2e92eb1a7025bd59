"""The second people pass over an article (`bot.people.build`): where each known phrase (a name or
alias) stands, the sentences holding one, and a Bloom filter of the article's capitalised words.

A phrase stands at a capitalised word when it is the longest phrase (of up to three words, in one
run of capitalised words) starting there. Rather than reading every run in Python, the pass finds
the runs in C, and looks only for the phrases whose words and neighbouring pairs of words the runs
hold (`PhraseIndex.candidates`, set operations), by `str.find`: where a run's words are one space
apart, a phrase stands where its text does, as whole words. Other text is read run by run.
"""

from __future__ import annotations

import re
import sys
import zlib
from collections import defaultdict
from collections.abc import Iterable, Set
from dataclasses import dataclass

import numpy as np

from bot.corpus import Article
from bot.people.extract import SPEECH_VERBS
from bot.people.joined import SEPARATOR, Joined

BLOOM_BITS = 1024  # per article, two bits per capitalised word: ~1% false "may hold" at 40 words
_SPEECH_RE = re.compile(rf"\b(?:{'|'.join(SPEECH_VERBS)})\b")
# A run of capitalised words (possessive: giving back a character could not end a word or run elsewhere).
_CAPRUN_RE = re.compile(r"[A-Z][\w-]*+(?:\s++[A-Z][\w-]*+)*+")
_CAPWORD_RE = re.compile(r"[A-Z][\w-]*")  # one of its words
# In runs joined by SEPARATOR whose words are one space apart: each run's 1st and 2nd words, 3rd and
# 4th..., then (after a space) its 2nd and 3rd, 4th and 5th...: together, every pair of neighbours.
_ODD_PAIR_RE = re.compile(r"[A-Z][\w-]*+ [A-Z][\w-]*+")
_EVEN_PAIR_RE = re.compile(r"(?<= )[A-Z][\w-]*+ [A-Z][\w-]*+")
_GOES_ON_RE = re.compile(r"[\w-]")  # a character that continues a capitalised word
_WORD_RE = re.compile(r"\S+")
Scanned = tuple[tuple[tuple[str, int], ...], tuple[bytes, ...], tuple[bool, ...], bytes]


def bloom(words: Iterable[str]) -> bytes:
    """Two bits per word, from CRC-32, not `hash`: a filter made in a helper process is tested in
    the worker, and `hash` differs between processes. (Bit n is bit n % 8 of byte n // 8.)"""
    bits = bytearray(BLOOM_BITS)
    for h in map(zlib.crc32, map(str.encode, words)):
        bits[h % BLOOM_BITS] = 1
        bits[(h >> 16) % BLOOM_BITS] = 1
    return np.packbits(np.frombuffer(bits, dtype=np.uint8), bitorder="little").tobytes()


def phrases_in(paragraph: str, phrases: dict[str, str], first_words: Set[str]) -> list[tuple[int, str]]:
    """(offset, phrase) for each capitalised word starting a known phrase, the longest winning,
    read run by run. A run none of whose words starts a phrase is passed over in C: most start none."""
    found: list[tuple[int, str]] = []
    for run in _CAPRUN_RE.finditer(paragraph):
        words = run.group().split()
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
                        starts = [run.start() + m.start() for m in _WORD_RE.finditer(run.group())]
                    found.append((starts[i], sys.intern(phrase)))  # one copy however many articles hold it
                    break
    return found


@dataclass(frozen=True, slots=True)
class PhraseIndex:
    """A reading's phrases that can stand in text (one to three capitalised words): by word, by pair
    of words ("A B"), and three-word ones by their first pair; each interned, so that one copy serves
    however many articles hold it."""

    phrases: dict[str, str]
    first_words: frozenset[str]
    single: dict[str, str]  # a word that is a phrase alone -> the phrase
    double: dict[str, str]  # "A B" -> the phrase
    triple: dict[str, list[tuple[str, str]]]  # "A B" -> (the phrase "A B C", its second pair "B C")

    @classmethod
    def of(cls, phrases: dict[str, str]) -> PhraseIndex:
        single: dict[str, str] = {}
        double: dict[str, str] = {}
        triple: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for phrase in phrases:
            words = phrase.split(" ")
            if not 1 <= len(words) <= 3 or not all(_CAPWORD_RE.fullmatch(w) for w in words):
                continue  # never a run's words
            kept = sys.intern(phrase)
            if len(words) == 1:
                single[phrase] = kept
            elif len(words) == 2:
                double[phrase] = kept
            else:
                triple[" ".join(words[:2])].append((kept, " ".join(words[1:])))
        first_words = frozenset(p.split(" ", 1)[0] for p in (*single, *double, *triple))
        return cls(phrases, first_words, single, double, dict(triple))

    def candidates(self, capitals: set[str], pairs: set[str]) -> list[str]:
        """The phrases whose words are among these capitalised words, and whose pairs of words among
        these pairs."""
        out = [self.single[word] for word in self.single.keys() & capitals]
        out.extend(self.double[pair] for pair in self.double.keys() & pairs)
        for pair in self.triple.keys() & pairs:
            out.extend(phrase for phrase, tail in self.triple[pair] if tail in pairs)
        return out


_LAST_INDEX: list[PhraseIndex] = []  # of the last reading: helpers read many runs of articles with one


def phrase_index(phrases: dict[str, str]) -> PhraseIndex:
    """The index of these phrases, made once per reading (by identity: `PeopleCache` makes a new
    dict whenever its phrases change, never changing one in place). Safe across threads: each call
    returns the index of its own phrases."""
    index = _LAST_INDEX[0] if _LAST_INDEX else None
    if index is None or index.phrases is not phrases:
        index = PhraseIndex.of(phrases)
        _LAST_INDEX[:] = [index]
    return index


def _starts_word(text: str, at: int) -> bool:
    """Whether the capital at `at` begins a capitalised word: not if a capital before it, with only
    word characters and hyphens between, began one ("US-China" holds the word "US-China" alone)."""
    while at > 0 and _GOES_ON_RE.match(text, at - 1):
        at -= 1
        if "A" <= text[at] <= "Z":
            return False
    return True


def _placed(text: str, held: list[str]) -> list[tuple[int, str]]:
    """(offset, phrase) in text order where the held phrases stand as whole words, the longest at
    each start; for text whose only spaces are single ones."""
    best: dict[int, str] = {}
    for phrase in held:
        at = text.find(phrase)
        while at >= 0:  # (a space either side, as is most common, is tested without a call)
            after = at + len(phrase)
            if ((text[after:after + 1] == " " or not _GOES_ON_RE.match(text, after))
                    and (text[at - 1:at] == " " or _starts_word(text, at))):
                other = best.get(at)
                if other is None or other.count(" ") < phrase.count(" "):
                    best[at] = phrase
            at = text.find(phrase, at + 1)
    return sorted(best.items())


def _read_by_runs(joined: Joined, phrases: dict[str, str], first_words: set[str]) -> list[tuple[int, str]]:
    return [(start + offset, phrase) for paragraph, start in zip(joined.paragraphs, joined.starts, strict=True)
            if any(word in paragraph for word in first_words)
            for offset, phrase in phrases_in(paragraph, phrases, first_words)]


def _speaks(sentence: str) -> bool:
    """Whether a sentence has a quote or speech verb. `in` first: the pattern (a speech verb as a
    whole word) is tried at every position, which costs more than looking for each verb in C."""
    return "“" in sentence or '"' in sentence or (
        any(verb in sentence for verb in SPEECH_VERBS) and _SPEECH_RE.search(sentence) is not None)


def scan(article: Article, index: PhraseIndex) -> Scanned:
    """The second pass over one article: (phrase, sentence) in text order, those sentences (UTF-8),
    whether each has a quote or speech verb, and the Bloom filter of the capitalised words."""
    joined = Joined(article.paragraphs)
    text = joined.text
    runs = _CAPRUN_RE.findall(text)
    spaced = " ".join(runs)
    words = spaced.split()
    capitals = set(words)
    if " ".join(words) == spaced:  # a run's words are one space apart: "A B" is in the text
        longer = SEPARATOR.join([run for run in runs if " " in run])
        pairs = set(_ODD_PAIR_RE.findall(longer))
        pairs.update(_EVEN_PAIR_RE.findall(longer))
        found = _placed(text, index.candidates(capitals, pairs))
    else:
        found = _read_by_runs(joined, index.phrases, capitals & index.first_words)
    hits: list[tuple[str, int]] = []
    sentences: list[bytes] = []
    speaking: list[bool] = []
    end = -1  # of the sentence the last hit stands in: the hits come in text order, and a capital
    # (where a phrase starts) always stands in a sentence, so a hit before it stands in that one
    for offset, phrase in found:
        if offset >= end:
            _, _, a, end = joined.sentence(offset)
            sentence = text[a:end]
            sentences.append(sentence.encode())
            speaking.append(_speaks(sentence))
        hits.append((phrase, len(sentences) - 1))
    return tuple(hits), tuple(sentences), tuple(speaking), bloom(capitals)
