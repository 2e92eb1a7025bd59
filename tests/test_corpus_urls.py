"""Article URLs: one rule (bot.common.urls) decides which are stored and when two are the same page
(items 35, 37)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.common.urls import canonical_url, is_web_url, url_problem
from bot.corpus import load_corpus

FILE = "---\nid: {id}\ntitle: T {id}\npublisher: Wire\nurl: {url}\npublished: 2025-05-01\n---\nBody of {id}.\n"

SAME_PAGE = [
    "https://news.example/trade/story",
    "http://news.example/trade/story",
    "HTTPS://NEWS.Example/trade/story",
    "https://www.news.example/trade/story",
    "https://news.example/trade/story/",
    "https://news.example/trade/story?utm_source=x&utm_medium=social",
    "https://news.example/trade/story#comments",
    "https://www.NEWS.example/trade/story/?UTM_campaign=y#top",
]


def test_spelling_differences_of_one_url_are_one_page() -> None:
    assert {canonical_url(u) for u in SAME_PAGE} == {canonical_url(SAME_PAGE[0])}


def test_path_and_query_case_make_different_pages() -> None:
    assert canonical_url("https://v.example/watch/AbC") != canonical_url("https://v.example/watch/aBc")
    assert canonical_url("https://v.example/a?id=X") != canonical_url("https://v.example/a?id=x")
    assert canonical_url("https://v.example/a?id=1") != canonical_url("https://v.example/a?id=2")
    assert canonical_url("https://v.example/a?b=2&a=1") == canonical_url("https://v.example/a?a=1&b=2")


def test_duplicates_by_url_load_once_and_different_paths_load_twice(tmp_path: Path) -> None:
    for i, url in enumerate(SAME_PAGE):
        (tmp_path / f"a{i}.md").write_text(FILE.format(id=f"a{i}", url=url), encoding="utf-8")
    (tmp_path / "b1.md").write_text(FILE.format(id="b1", url="https://v.example/watch/AbC"), encoding="utf-8")
    (tmp_path / "b2.md").write_text(FILE.format(id="b2", url="https://v.example/watch/aBc"), encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert sorted(a.id for a in corpus.articles) == ["a0", "b1", "b2"]
    assert all("duplicate of a0.md" in s.reason for s in corpus.skipped) and len(corpus.skipped) == len(SAME_PAGE) - 1


REFUSED = {
    "javascript": ("javascript:alert(1)", "not an http(s) URL (scheme javascript:)"),
    "file": ("file:///etc/passwd", "not an http(s) URL (scheme file:)"),
    "slack": ("slack://channel?team=T1&id=C1", "not an http(s) URL (scheme slack:)"),
    "data": ("data:text/html,hi", "not an http(s) URL (scheme data:)"),
    "no scheme": ("news.example/story", "not an http(s) URL (scheme missing)"),
    "no host": ("https:///story", "URL has no host"),
    "pipe": ("https://news.example/a|Reuters", "not allowed ('|')"),
    "angle": ("https://news.example/<!here>", "not allowed ('<')"),
    "closing angle": ("https://news.example/a>b", "not allowed ('>')"),
    "tab": ("https://news.example/a\tb", "not allowed ('\\t')"),
    "escape": ("https://news.example/a\x1bb", "not allowed ('\\x1b')"),
    "bidi": ("https://news.example/a\u202eb", "not allowed ('\\u202e')"),
    "ipv6": ("https://[::1/story", "malformed URL"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_unsafe_urls_are_refused_with_a_reason(name: str) -> None:
    url, reason = REFUSED[name]
    assert not is_web_url(url)
    assert reason in (url_problem(url) or "")


@pytest.mark.parametrize("name", [n for n in REFUSED if n not in ("tab", "escape")])  # those are not YAML-safe
def test_a_file_with_an_unsafe_url_is_skipped_with_the_reason(tmp_path: Path, name: str) -> None:
    url, reason = REFUSED[name]
    (tmp_path / "x.md").write_text(FILE.format(id="x", url=f"'{url}'"), encoding="utf-8")
    (tmp_path / "good.md").write_text(FILE.format(id="good", url="https://news.example/ok"), encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert [a.id for a in corpus.articles] == ["good"]
    [skipped] = corpus.skipped
    assert skipped.path == "x.md" and skipped.reason.startswith("url: ") and reason in skipped.reason
    assert "Value error" not in skipped.reason  # the reason a person reads, not pydantic's wording


def test_safe_urls_are_accepted() -> None:
    for url in SAME_PAGE + ["https://news.example/a?id=1&x=%7C", "http://127.0.0.1:8080/p", "https://例え.jp/記事"]:
        assert url_problem(url) is None and is_web_url(url), url
