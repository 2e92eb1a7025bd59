"""The faster people passes find exactly what the old ones found (`tests/people_reference.py`):
per paragraph (`find_mentions`) and per article (`_first_pass`, `scan`) on generated news-like
text with odd Unicode, and the whole directory of the seed corpus."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.corpus import Article, Corpus
from bot.corpus.text import sentence_spans, split_sentences, strip_controls
from bot.people import build as people_build
from bot.people import build_directory
from bot.people.build import _first_pass
from bot.people.extract import find_mentions
from bot.people.scan import phrase_index, scan
from tests import people_reference as old

NAMES = ["Jamieson", "Greer", "Scott", "Bessent", "He", "Lifeng", "Li", "McDonald", "DeSantis", "O'", "Choi",
         "Sang-mok", "Ahn", "Duk-geun", "Barbar", "Xi", "Jinping", "Wilma", "Quist", "Lee", "Baran", "Zoë", "Élise",
         "Łukasz", "Ng", "A", "I", "A'", "Ma'", "Co"]
TITLES = ["U.S.", "US", "Trade", "Representative", "(USTR)", "(NEC)", "Commerce", "Secretary", "of", "State",
          "Vice", "Premier", "Minister", "Finance", "Japanese", "South", "Korean", "White", "House", "Chairman",
          "the", "top", "trade", "negotiator", "envoy", "head", "analyst", "chief", "economist", "at", "for",
          "President", "Mr.", "Dr.", "Ms", "Bank", "Japan's", "Trump’s", "adviser", "former", "Capital", "Economics"]
WORDS = ["said", "says", "told", "added", "warned", "wrote", "who", "which", "and", "but", "a", "reporters",
         "talks", "tariffs", "on", "Monday", "in", "Geneva", "the", "deal", "145%", "2.5", "it's", "don’t",
         "rare-earth", "习近平", "関税", "𝔘𝔫𝔦", "ﬁnance", "ß", "İstanbul", "café", "naïve", "x" * 300,
         "US-Greer", "McQuist", "anti-Quist", "xGreer", "Lee-Baran", "Greer's", "_Quist", "Quist2"]
PUNCT = [",", ".", "!", "?", ";", ":", "—", "–", " - ", "-", "“", "”", '"', "'", "’", "‘", "(", ")", "...", ".”",
         ".’", ".)", "?\"", "!'"]
SPACES = [" ", " ", " ", " ", "  ", "\n", "\t", "\xa0", "\u2028", "\u3000", "\x1c", "\x85", "", "\u200b"]
ODD = ["\x00", "\x07", "\x7f", "\u202e", "\ufeff", "\ud800", "\U0001f600", "\u0301", "\u00ad", "\x9f"]

AFTER = [" said", " says", ", said", " told reporters", ", who", ", head of strategy at Minerva Futures,",
         ", Chairman of the White House National Economic Council (NEC), said", ", an analyst.",
         ", trade minister of Freedonia, would", ", the", ", and", " (USTR)", "’s", "'s", ""]
# An appositive before a name: "Trump's top economic adviser, Kevin Hassett".
BEFORE = ["", "", "top economic adviser, ", "the trade minister, ", "Japan's chief negotiator , ", "an analyst,\n",
          "chief, ", "said the envoy, ", "(USTR), ", "U.S. official, "]
space = st.one_of(st.just(" "), st.sampled_from(SPACES))
token = st.one_of(st.sampled_from(NAMES), st.sampled_from(TITLES), st.sampled_from(WORDS), st.sampled_from(PUNCT),
                  st.sampled_from(ODD), st.text(max_size=4))


def joined(parts: list[tuple[str, str]]) -> str:
    return "".join(part + gap for part, gap in parts)


# A clause as news states a role: words, an appositive or a title, a name, then speech or an appositive.
clause = st.tuples(
    st.lists(st.tuples(token, space), max_size=4).map(joined),
    st.sampled_from(BEFORE),
    st.lists(st.tuples(st.sampled_from(TITLES), space), max_size=4).map(joined),
    st.lists(st.tuples(st.sampled_from(NAMES), space), min_size=1, max_size=4).map(joined),
    st.sampled_from(AFTER),
).map(lambda parts: "".join(parts[:3]) + parts[3].rstrip(" ") + parts[4])
paragraph = st.one_of(
    st.lists(st.tuples(clause, st.sampled_from([". ", ", ", " ", "? ", ".” ", "; ", " — ", ".\n", "! ", ". ("])),
             max_size=6).map(joined),
    st.lists(st.tuples(token, space), max_size=60).map(joined),
    st.text(max_size=80),
    st.text(alphabet="ABab '-.,\n", max_size=40),
    st.lists(st.sampled_from(NAMES + AFTER), min_size=1, max_size=3).map(" ".join),  # a name across paragraphs
)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def an_article(paragraphs: list[str]) -> Article | None:
    kept = [p for p in paragraphs if strip_controls(p).strip()]  # an article's paragraphs hold text
    if not kept:
        return None
    return Article(id="a", title="T", publisher="P", published=dt.date(2025, 1, 1), paragraphs=kept)


def phrases_for(article: Article, extra: list[str]) -> dict[str, str]:
    """Names found in the article and their words (so phrases are often there), and generated ones."""
    phrases: dict[str, str] = {}
    for paragraph in article.paragraphs:
        for mention in old.find_mentions(paragraph):
            phrases[mention.name] = mention.name
            phrases.setdefault(mention.name.split()[-1], mention.name)
    for phrase in extra:
        phrases.setdefault(phrase, phrase)
    return phrases


@SETTINGS
@given(paragraph)
def test_mentions_of_a_paragraph_are_the_old_ones(text: str) -> None:
    assert find_mentions(text) == old.find_mentions(text)


# Sentence ends, abbreviations and every kind of space, with the tokens above.
sentences = st.lists(st.one_of(token, space, st.sampled_from(["Mr.", "U.S.", "No.", "st.", "Dr", ". ", "? ", "!” ",
                                                             ".) A", ". 5", " (", "’ B", "Inc. Co"])),
                     max_size=40).map("".join)


@SETTINGS
@given(st.one_of(sentences, paragraph))
def test_sentences_are_split_as_before(text: str) -> None:
    assert split_sentences(text) == old.split_sentences(text)
    assert sentence_spans(text) == old._sentence_spans(text)


LONG = ["US Trade Representative Jamieson Greer said", "Mr. Li Chenggang. He Lifeng said. Scott Bessent",
        "Kevin Hassett, Chairman of the White House National Economic Council (NEC), said",
        "Trump's top economic adviser, Kevin Hassett, told"]


@given(st.sampled_from(LONG), st.integers(1, 2000))
@settings(max_examples=20, deadline=None)
def test_a_very_long_paragraph_is_read_alike(sentence: str, times: int) -> None:
    text = " ".join([sentence] * times)
    assert find_mentions(text) == old.find_mentions(text)


@SETTINGS
@given(st.lists(paragraph, min_size=1, max_size=6),
       st.lists(st.lists(st.sampled_from(NAMES + TITLES[:6]), min_size=1, max_size=3).map(" ".join), max_size=8))
def test_both_passes_over_an_article_are_the_old_ones(paragraphs: list[str], extra: list[str]) -> None:
    article = an_article(paragraphs)
    if article is None:
        return
    assert _first_pass(article) == old._first_pass(article)
    phrases = phrases_for(article, extra)
    if phrases:
        first_words = {p.split(" ", 1)[0] for p in phrases}
        assert scan(article, phrase_index(phrases)) == old._scan(article, phrases, first_words)


def test_a_phrase_index_is_made_again_for_other_phrases() -> None:
    first, second = {"Jamieson Greer": "Jamieson Greer"}, {"Wilma Quist": "Wilma Quist"}
    assert phrase_index(first) is phrase_index(first)
    assert phrase_index(second).phrases is second and phrase_index(first).first_words == {"Jamieson"}


def test_the_seed_directory_is_the_one_the_old_passes_make(seed_corpus: Corpus,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    new = build_directory(seed_corpus)
    monkeypatch.setattr(people_build, "_first_pass", old._first_pass)
    monkeypatch.setattr(people_build, "scan", lambda article, index: old._scan(article, index.phrases,
                                                                                set(index.first_words)))
    before = build_directory(seed_corpus)
    assert new.people == before.people and len(new.people) > 10
