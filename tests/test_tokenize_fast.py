"""The numpy tokeniser (`bot.search.tokenize`) gives exactly what `passage_terms`, one passage
at a time, gives: the same passages, the same terms in the same order, the same vocabulary."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from itertools import count
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.synth import generate
from bot.corpus import Article, load_corpus
from bot.corpus.text import strip_controls
from bot.search import build, tokenize
from bot.search.build import MAX_PASSAGE_CHARS, Tokens, passage_terms, split_passages, tokenize_articles
from bot.search.tokenize import PUNCTUATION, TermTable, tokenize_run

ROOT = Path(__file__).resolve().parent.parent

# Pieces that the byte rules must get right: numbers with marks, letters against digits,
# apostrophes at edges, symbols, "per cent", newlines and controls, the punctuation taken as
# ASCII, and characters that are not, some of them with an ASCII low byte in UTF-16
# (š is U+0161, ħ U+0127, Ċ U+010A, İ U+0130, ․ U+2024, ‥ U+2025, ＇ U+FF07).
PIECES = ["per cent", "per", "cent", "Per Cent", "percent", "'s", "s'", "'", "''", "o'neil's", "don't", "'quoted'",
          "g7", "F16", "3rd", "1990s", "1.2.3", "1..2", "1.,2", ".5", "5.", "2,5", "1,000,000", "10%", "$3.5bn",
          "%$", "\n", "\r", "\t", "\x00", "\x07", "\x7f", "\x1f", " ", "  ", ".", ",", "-", "a", "Z", "s", "xyz",
          "supercalifragilistic", "agreemen", "agreement", "agreements", "internationalisation", "abcdefgh",
          "abcdefghijklmnop", "abcdefghijklmnopq", "1234567890123456", "12345678901234567",
          *PUNCTUATION, "é", "ß", "中国", "👩\u200d👧", "š", "ħ", "Ċ", "İ", "\u2024", "\u2025", "\uff07", "…", "\u2000",
          "€", "£", "\u0080", "\u009f", "\u200b", "\u00ad", "\u202e", "\ufeff", "ｆｕｌｌ", "ﬁ", "e\u0301", "\u2033",
          "\ud800"]
texts = st.lists(st.sampled_from(PIECES) | st.text(st.sampled_from(list("aZ1 .,'%$\n’")), max_size=6),
                 max_size=30).map("".join)


def reference_tokens(articles: list[Article]) -> Tokens:
    """What `tokenize_articles` did before runs: one passage at a time through `passage_terms`."""
    term_ids: dict[str, int] = defaultdict(count().__next__)
    rows: list[tuple[int, int, int, int, int]] = []
    flat: list[int] = []
    for a_index, article in enumerate(articles):
        for para_index, paragraph in enumerate(article.paragraphs):
            for start, end in split_passages(paragraph):
                terms = passage_terms(paragraph[start:end])
                if terms:
                    rows.append((a_index, para_index, start, end, len(terms)))
                    flat.extend(term_ids[t] for t in terms)
    article, para, start, end, lengths = np.array(rows, dtype=np.int64).reshape(-1, 5).T
    return Tokens(list(term_ids), article.astype(np.int32), para.astype(np.int32), start.astype(np.int32),
                  end.astype(np.int32), lengths, np.array(flat, np.int32), [" ".join(passage_terms(a.title)) for a in articles])


def assert_same_tokens(new: Tokens, old: Tokens) -> None:
    assert set(new.vocab) == set(old.vocab) and len(new.vocab) == len(old.vocab)
    for name in ("article", "para", "start", "end", "lengths"):
        assert np.array_equal(getattr(new, name), getattr(old, name)), name
    assert new.terms.dtype == np.int32 and new.lengths.dtype == np.int64
    as_strings = np.array(new.vocab + [""], dtype=object)[new.terms], np.array(old.vocab + [""], dtype=object)[old.terms]
    assert as_strings[0].tolist() == as_strings[1].tolist()
    assert new.titles == old.titles


def run_terms(passages: list[str]) -> list[list[str]]:
    term_ids: dict[str, int] = defaultdict(count().__next__)
    counts, ids = tokenize_run(passages, TermTable(term_ids), passage_terms)
    vocab = list(term_ids)
    assert counts.sum() == ids.size
    words = [vocab[i] for i in ids.tolist()]
    cuts = np.concatenate([[0], np.cumsum(counts)]).tolist()
    return [words[a:b] for a, b in zip(cuts[:-1], cuts[1:])]


@settings(max_examples=400, deadline=None)
@given(st.lists(texts, min_size=1, max_size=8))
def test_a_run_gives_each_passage_its_own_terms(passages: list[str]) -> None:
    assert run_terms(passages) == [passage_terms(p) for p in passages]


def test_a_run_of_tricky_passages() -> None:
    passages = [*PIECES, "", "per\ncent", "per", "cent", "Bessent’s 145% “tariff” — on ‘G7’ • 1.2.3..4,5,",
                "cent per cent per per cent", "rock’n’roll's 'n' x's's a''b", "–\u2011—‐‒―‚‛„′"]
    assert run_terms(passages) == [passage_terms(p) for p in passages]
    assert run_terms(["per", "cent"]) == [["per"], ["cent"]]  # never joined across passages


def articles_of(bodies: list[list[str]]) -> list[Article]:
    out = []
    for i, paragraphs in enumerate(bodies):
        kept = [p for p in paragraphs if strip_controls(p).strip()] or ["—"]  # (at least one, not blank)
        out.append(Article(id=f"a{i}", title=f"Title {i}: {strip_controls(kept[0])[:40]}", publisher="Wire",
                           published=dt.date(2025, 7, 1), paragraphs=kept))
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(texts, min_size=1, max_size=5), max_size=6), st.sampled_from([1, 30, 1_000_000]))
def test_articles_give_the_reference_tokens(bodies: list[list[str]], run_chars: int) -> None:
    articles = articles_of(bodies)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build, "RUN_CHARS", run_chars)  # runs of one article, a few, or all
        assert_same_tokens(tokenize_articles(articles), reference_tokens(articles))


def test_long_paragraphs_empty_articles_and_none() -> None:
    sentence = "The U.S. raised tariffs on Bessent’s list by 2.5 per cent. "
    articles = articles_of([[sentence * 40, "—", sentence], ["…", "•"], [sentence * 13 + "x" * MAX_PASSAGE_CHARS]])
    assert max(map(len, articles[0].paragraphs)) > MAX_PASSAGE_CHARS
    assert_same_tokens(tokenize_articles(articles), reference_tokens(articles))
    empty = tokenize_articles([])
    assert (empty.vocab, empty.titles, empty.terms.size, empty.lengths.size) == ([], [], 0, 0)


def test_huge_passages_and_tokens() -> None:
    """A passage larger than a run (no sentence end to split it at), and a token of 200,000 letters."""
    words = " ".join(f"Tariff{i % 977} per cent’s G7 1.2.{i}" for i in range(60_000))
    assert len(words) > 2 * build.RUN_CHARS
    articles = articles_of([["x" * 200_000 + " tail", words, "short one."], ["y" * 200_000]])
    new = tokenize_articles(articles)
    assert "x" * 200_000 in new.vocab and new.lengths.max() > 200_000
    assert_same_tokens(new, reference_tokens(articles))


def test_a_large_vocabulary_grows_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tens of thousands of new words, in small runs: the table grows many times and keys probe far."""
    rng = random.Random(7)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(1, 20)))
             for _ in range(40_000)]
    bodies = [[" ".join(rng.choice(words) for _ in range(60)) for _ in range(3)] for _ in range(150)]
    articles = articles_of(bodies)
    monkeypatch.setattr(build, "RUN_CHARS", 20_000)
    new = tokenize_articles(articles)
    assert len(new.vocab) > 20_000
    assert_same_tokens(new, reference_tokens(articles))


def test_the_table_gives_each_key_one_id() -> None:
    """From a table of 16 slots: it grows, and keys that share their first 8 bytes stay apart."""
    term_ids: dict[str, int] = defaultdict(count().__next__)
    table = TermTable(term_ids, bits=4)
    names = ["a", "ab", "abcdefgh", "abcdefghi", "abcdefghijklmnop", "ba", "9", "99999999", "999999999", "1.2"] * 3
    data = " ".join(names).encode()
    starts, ends = tokenize.token_bounds(data)
    first, second = tokenize.token_keys(np.frombuffer(data + bytes(tokenize.LONG), np.uint8), starts, ends - starts)
    for part in (slice(0, 4), slice(4, None)):  # what is in the table already, and what is not
        ids = table.ids(first[part], second[part])
        assert [list(term_ids)[i] for i in ids.tolist()] == names[part]
    assert table.bits > 4 and table.used == len(term_ids) == 10


def test_a_synthetic_corpus_gives_the_reference_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    articles = list(load_corpus(generate(ROOT / "corpus", tmp_path / "synth", 200)).articles)
    monkeypatch.setattr(build, "RUN_CHARS", 50_000)
    assert_same_tokens(tokenize_articles(articles), reference_tokens(articles))
