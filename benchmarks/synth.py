"""A deterministic synthetic news corpus in the corpus file format.

Sentence shapes and vocabulary come from the seed articles; names, numbers and
rare words are varied so that the vocabulary grows with size as real news does
(hundreds of thousands of distinct terms at 100k articles). With `misspell_rate`,
that share of words (of 4+ letters) is misspelt as people misspell: a doubled letter
dropped or added or moved, two letters swapped, one dropped, one added or replaced.
Real news text has such slips, so a rare misspelling sits beside a common word.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

from bot.corpus import Article, load_corpus, render_article

SYLLABLES = ["ka", "to", "ri", "na", "mo", "su", "ve", "la", "den", "bar", "tor", "mik", "sen", "hal", "gor", "pra", "lin", "chu", "wei", "zan", "qi", "dor", "fel", "nos", "pel", "tra", "vik", "sam", "rol", "ber", "tam", "gu", "hao", "lei", "ming", "jun", "tek", "ras", "bol", "cor", "dan"]
_CAP_RE = re.compile(r"\b[A-Z][a-z]{2,}\b")
_NUM_RE = re.compile(r"\b\d+(?:\.\d+)?\b")


def pseudo_word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(n))


def misspell(word: str, rng: random.Random) -> str:
    """One human slip in a word of 4+ letters (the first letter is kept, as it mostly is)."""
    doubled = [i for i in range(1, len(word)) if word[i] == word[i - 1]]
    kind = rng.choice(["undouble", "double", "swap", "drop", "sub", "insert"])
    if doubled and (kind == "undouble" or rng.random() < 0.3):
        i = rng.choice(doubled)
        single = word[:i] + word[i + 1:]
        others = [j for j in range(max(1, i - 3), min(len(single), i + 3)) if j not in (i - 1, i)]
        if others and rng.random() < 0.5:  # the doubling moves: tariff -> tarrif
            j = rng.choice(others)
            return single[:j] + single[j] + single[j:]
        return single
    i = rng.randrange(1, len(word) - 1)
    if kind in ("undouble", "double"):
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind in ("drop", "swap"):
        return word[:i] + word[i + 1:]
    letter = rng.choice([c for c in "aeioulnrst" if c != word[i]])
    return word[:i] + letter + word[i + 1:] if kind == "sub" else word[:i] + letter + word[i:]


class Generator:
    def __init__(self, seed_corpus: Path, size: int, seed: int = 7, misspell_rate: float = 0.0) -> None:
        self.rng = random.Random(seed)
        self.misspell_rate = misspell_rate
        self.typo_rng = random.Random(seed + 1)  # its own stream: the corpus is otherwise the same
        corpus = load_corpus(seed_corpus)
        self.sentences = [s for a in corpus.articles for p in a.paragraphs
                          for s in re.split(r"(?<=[.!?])\s+", p) if 40 <= len(s) <= 400]
        self.titles = [a.title for a in corpus.articles]
        self.publishers = ["Reuters", "AFP", "Bloomberg", "Nikkei Asia", "Financial Times", "Taipei Times",
                           "Korea Economic Daily", "South China Morning Post", "Politico", "The Straits Times"]
        rng = self.rng
        # Names grow with the corpus: about one distinct surname per 20 articles.
        self.surnames = sorted({pseudo_word(rng, rng.randint(2, 3)).capitalize() for _ in range(max(200, size // 20))})
        self.given = sorted({pseudo_word(rng, 2).capitalize() for _ in range(400)})
        # A Zipf-like pool of rarer topic words, growing with size.
        self.pool = [pseudo_word(rng, rng.randint(2, 4)) for _ in range(max(2000, size))]

    def name(self) -> str:
        rng = self.rng
        surname = self.surnames[min(int(rng.paretovariate(1.1)) - 1, len(self.surnames) - 1)
                                if rng.random() < 0.5 else rng.randrange(len(self.surnames))]
        return f"{rng.choice(self.given)} {surname}"

    def pool_word(self) -> str:
        index = min(int(self.rng.paretovariate(0.9)) - 1, len(self.pool) - 1)
        return self.pool[index if self.rng.random() < 0.7 else self.rng.randrange(len(self.pool))]

    def sentence(self, names: list[str]) -> str:
        rng = self.rng
        text = rng.choice(self.sentences)
        text = _NUM_RE.sub(lambda m: str(rng.randint(1, 999)), text)
        text = _CAP_RE.sub(lambda m: rng.choice(names).split()[rng.randint(0, 1)] if rng.random() < 0.25 else m.group(), text)
        words = text.split()
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randrange(len(words) + 1), self.pool_word())
        if rng.random() < 0.4:  # rare words (names of firms, places, products): the vocabulary's long tail
            words.insert(rng.randrange(len(words) + 1), pseudo_word(rng, rng.randint(3, 4)))
        if self.misspell_rate:
            words = [self._slip(w) for w in words]
        return " ".join(words)

    def _slip(self, word: str) -> str:
        if self.typo_rng.random() >= self.misspell_rate:
            return word
        core = word.rstrip(".,;:!?\"'”’)")
        if len(core) < 4 or not core.isalpha():
            return word
        return misspell(core, self.typo_rng) + word[len(core):]

    def article(self, i: int) -> Article:
        rng = self.rng
        names = [self.name() for _ in range(3)]
        # News paragraphs are short: 11-19 of one or two sentences (~15 passages an article,
        # ~1.5 million at 100k, as in the held-out corpus of issue #14).
        paragraphs = tuple(" ".join(self.sentence(names) for _ in range(rng.randint(1, 2)))
                           for _ in range(rng.randint(11, 19)))
        verb = rng.choice(["says", "warns", "signals", "rejects"])
        word = self.pool_word()
        topic = rng.choice(["tariffs", "talks", "export controls", "rare earths", "trade deal"])
        title = f"{names[0]} {verb} {word} {topic}"
        return Article(id=f"synth-{i:06d}", title=title, publisher=rng.choice(self.publishers),
                       url=f"https://synthetic.example/{i}", published=dt.date(2024, 1, 1) + dt.timedelta(days=i % 700),
                       paragraphs=paragraphs)  # type: ignore[call-arg]  # packed by a before-validator


def generate(seed_corpus: Path, out: Path, size: int, seed: int = 7, misspell_rate: float = 0.0) -> Path:
    """Write `size` articles to `out` (skipped when a complete corpus of that size is there)."""
    slips = f"-misspelt-{misspell_rate:g}" if misspell_rate else ""
    marker = out / f".complete-v3-{size}-{seed}{slips}"  # bump when the generator changes
    if marker.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    generator = Generator(seed_corpus, size, seed, misspell_rate)
    for i in range(size):
        article = generator.article(i)
        (out / f"{article.id}.md").write_text(render_article(article), encoding="utf-8")
    marker.touch()
    return out
