"""Invisible and control characters: stripped wherever text enters, so they can neither
hide a word from search nor disguise text shown to users (items 13, 16)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.corpus import Article, load_corpus, render_article
from bot.corpus.text import normalize_term, strip_controls, terms
from bot.library import Snapshot

INVISIBLE = {
    "zero-width space": "\u200b", "word joiner": "\u2060", "soft hyphen": "\u00ad", "BOM": "\ufeff",
    "NUL": "\x00", "bell": "\x07", "escape": "\x1b", "DEL": "\x7f", "C1 control": "\x85",
    "right-to-left override": "\u202e", "left-to-right embedding": "\u202a", "pop directional": "\u202c",
    "first-strong isolate": "\u2068", "right-to-left mark": "\u200f", "Arabic letter mark": "\u061c",
    "invisible times": "\u2062", "lone surrogate": "\ud800", "stray joiner": "\u200d", "stray non-joiner": "\u200c",
}


@pytest.mark.parametrize("name", INVISIBLE)
def test_invisible_characters_are_stripped(name: str) -> None:
    char = INVISIBLE[name]
    assert strip_controls(f"tar{char}iffs {char}rose{char}") == "tariffs rose"
    assert terms(f"tar{char}iffs") == ["tariffs"]


def test_visible_text_is_kept_exactly() -> None:
    for text in ["family 👨\u200d👩\u200d👧 and 🏳\ufe0f\u200d🌈", "می\u200cخواهم", "क्\u200dष", "Straße café 中国 “quoted”",
                 "tab\tand\nnewline", "עברית العربية"]:
        assert strip_controls(text) == text


def test_stripped_text_always_encodes_as_utf8() -> None:
    strip_controls("a\ud800b\udfffc").encode("utf-8")  # lone surrogates would raise here


def test_an_article_with_invisible_characters_loads_clean(tmp_path: Path) -> None:
    title = "Tariff\u200b talks \u202eresume\u202c"
    article = Article(id="x", title=title, publisher="Wire\u2060", published=dt.date(2025, 7, 1),
                      paragraphs=["Negotiators met.\x00 Tar\u00adiffs were on the table."])
    (tmp_path / "x.md").write_text(render_article(article), encoding="utf-8")
    [loaded] = load_corpus(tmp_path).articles
    assert loaded.title == "Tariff talks resume" and loaded.publisher == "Wire"
    assert loaded.body == "Negotiators met. Tariffs were on the table."


def test_a_query_with_invisible_characters_finds_the_word(snapshot: Snapshot) -> None:
    plain = snapshot.search.search("tariffs")
    for char in ("\u200b", "\u2060", "\u00ad", "\x00", "\u202e"):
        response = snapshot.search.search(f"tar{char}iffs")
        assert [r.article_id for r in response.results] == [r.article_id for r in plain.results], repr(char)
        assert response.corrected is None


def test_normalize_term_agrees() -> None:
    assert normalize_term("BESSENT\u200b’s") == "bessent"
