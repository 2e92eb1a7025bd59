"""`url_problem` with its ASCII fast path gives exactly the answer it gave before
(`tests.corpus_reference.ref_url_problem`, a verbatim copy): on every ASCII character, and on
generated URLs with controls, spaces, `<>|"'`, non-ASCII, odd schemes, hosts and huge lengths."""

from __future__ import annotations

import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.common.urls import MAX_URL_CHARS, url_problem
from tests.corpus_reference import ref_url_problem

PROPERTY = settings(max_examples=1500, deadline=None, database=None)

SCHEMES = ("https://", "http://", "HTTPS://", "hTtP://", "ftp://", "javascript:", "data:", "file:///", "slack://",
           "", "//", "https:", "https:/", "ht tp://", "1http://", "h+t.t-p://", "é://", "https\u200b://", ":", "://")
HOSTS = ("news.example", "WWW.News.Example", "127.0.0.1:8080", "[::1]", "[::1", "::1]", "[v1.x]", "[fe80::1%25eth0]",
         "user:pass@host.example", "@", "例え.jp", "xn--r8jz45g.jp", "host.example:99999", "host.example:x", "")
PIECES = ("/", "/a/b", "?q=1&utm_source=x", "#frag", "%7C", "%", "a b", "<", ">", "|", '"', "'", "\\", "^", "`",
          "{", "}", "\t", "\n", "\r", "\x00", "\x1b", "\x7f", "\x85", "\xa0", "\u00ad", "\u200b", "\u202e", "\u2028",
          "\u3000", "\ufeff", "\ud800", "\ue000", "\u0378", "\U0010ffff", "ü", "ß", "記事", "👨\u200d👩\u200d👧", "~")
any_text = st.text(st.characters(codec=None), max_size=40)  # surrogates too: url_problem takes any str
url = st.builds(lambda scheme, host, pieces: scheme + host + "".join(pieces), st.sampled_from(SCHEMES),
                st.sampled_from(HOSTS), st.lists(st.one_of(st.sampled_from(PIECES), any_text), max_size=8))
ascii_url = st.builds(lambda scheme, host, rest: scheme + host + rest, st.sampled_from(SCHEMES),
                      st.sampled_from(HOSTS), st.text(st.characters(max_codepoint=127), max_size=60))
huge_url = st.builds(lambda base, n, tail: base + "a" * n + tail, st.sampled_from(("https://h.example/", "x:", "")),
                     st.integers(MAX_URL_CHARS - 2, 200_000), st.sampled_from(("", "|", " ", "é", "\x7f", "/b")))


@pytest.mark.parametrize("code", range(128))
def test_every_ascii_character_anywhere_is_judged_as_before(code: int) -> None:
    c = chr(code)
    for candidate in (c, f"https://h.example/{c}", f"https://h.example/a{c}b|", f"{c}https://h.example/", f"ht{c}tp://h"):
        assert url_problem(candidate) == ref_url_problem(candidate), repr(candidate)


def test_every_character_of_the_first_planes_is_refused_or_allowed_as_before() -> None:
    """Up to U+3000 (C1 controls, Latin, the general punctuation spaces, bidi marks, ideographic space),
    and the last ones, alone in a URL's path; hypothesis draws from all the others."""
    for code in [*range(0x3001), *range(sys.maxunicode - 0x100, sys.maxunicode + 1)]:
        candidate = f"https://h.example/{chr(code)}"
        assert url_problem(candidate) == ref_url_problem(candidate), hex(code)


@PROPERTY
@given(st.one_of(url, ascii_url, any_text, st.text(st.characters(max_codepoint=127))))
@example("https://news.example/a|b c")
@example("https://[::1/story")
@example("")
def test_a_url_is_judged_as_before(candidate: str) -> None:
    assert url_problem(candidate) == ref_url_problem(candidate)


@settings(max_examples=60, deadline=None, database=None)
@given(huge_url)
def test_a_huge_url_is_judged_as_before(candidate: str) -> None:
    assert url_problem(candidate) == ref_url_problem(candidate)
