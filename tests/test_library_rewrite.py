"""A corpus file rewritten while queries run: every query sees a whole article, old or new (items 36, 47)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
import time
from pathlib import Path

import pytest

from bot.corpus import Article, load_corpus, render_article
from bot.corpus import loading as corpus_loading
from bot.corpus.loading import PENDING_REASON
from bot.library import Library

PARAGRAPHS = 300


def version(n: int) -> Article:
    """A long article whose every paragraph says which version it belongs to."""
    paragraphs = [f"Paragraph {i} of version {n}: zanzibar tariff talks went on for hours, officials said."
                  for i in range(PARAGRAPHS)]
    return Article(id="big", title=f"Zanzibar talks, version {n}", publisher="Example Wire",
                   url="https://wire.example/big", published=dt.date(2025, 7, 1), paragraphs=paragraphs)


def write_slowly(path: Path, text: str, chunks: int = 120) -> None:
    """Rewrite in place, the way `open(path, "w")` and a slow producer do: truncate, then append."""
    data = text.encode("utf-8")
    step = len(data) // chunks + 1
    with path.open("wb") as f:
        for at in range(0, len(data), step):
            f.write(data[at : at + step])
            f.flush()
            time.sleep(0.002)


def old_mtime(path: Path) -> None:
    stamp = time.time() - 60
    os.utime(path, (stamp, stamp))


async def test_queries_never_see_a_file_half_rewritten_in_place(corpus_copy: Path) -> None:
    big = corpus_copy / "big.md"
    versions = {n: version(n) for n in range(4)}
    whole = {a.body for a in versions.values()}
    big.write_text(render_article(versions[0]), encoding="utf-8")
    old_mtime(big)
    library = Library(corpus_copy)
    await library.start()
    assert library.current is not None and library.current.corpus.get("big") == versions[0]

    stop = threading.Event()
    seen: list[str] = []
    partial: list[int] = []

    def query() -> None:  # a query thread, as the Slack listeners run beside reloads
        while not stop.is_set():
            snapshot = library.current
            assert snapshot is not None
            article = snapshot.corpus.get("big")
            hits = [r for r in snapshot.search.search("zanzibar talks", limit=3).results if r.article_id == "big"]
            if article is None or article.body not in whole or not hits:
                partial.append(len(article.body) if article else 0)
            else:
                seen.append(article.title)
            time.sleep(0.001)

    def rewrite() -> None:
        for n in range(1, 4):
            write_slowly(big, render_article(versions[n]))
            time.sleep(0.01)

    threads = [threading.Thread(target=query), threading.Thread(target=rewrite)]
    for thread in threads:
        thread.start()
    reloads = 0
    try:
        while threads[1].is_alive():
            reloads += await library.reload_if_changed()
    finally:
        threads[1].join()
        stop.set()
        threads[0].join()
    assert reloads and seen
    assert partial == [], f"{len(partial)} of {len(partial) + len(seen)} queries saw a partial article"
    for _ in range(100):  # once the file is left alone for `settle` seconds, its new version is read
        await library.reload_if_changed()
        if library.current is not None and library.current.corpus.get("big") == versions[3]:
            break
        await asyncio.sleep(0.1)
    assert library.current is not None and library.current.corpus.get("big") == versions[3]
    assert not library.changed()


async def test_a_file_replaced_by_rename_during_queries_is_seen_whole(corpus_copy: Path) -> None:
    """The safe way to replace a file (write elsewhere, then rename) needs no waiting at all."""
    big = corpus_copy / "big.md"
    big.write_text(render_article(version(0)), encoding="utf-8")
    library = Library(corpus_copy, settle=0.0)
    await library.start()
    for n in range(1, 4):
        tmp = corpus_copy / "big.md.tmp"
        tmp.write_text(render_article(version(n)), encoding="utf-8")
        before = library.current
        tmp.replace(big)
        assert before is not None and before.corpus.get("big") == version(n - 1)  # the old snapshot is intact
        assert await library.reload_if_changed()
        assert library.current is not None and library.current.corpus.get("big") == version(n)


def test_a_file_still_changing_keeps_its_previous_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file rewritten in place moments ago keeps its old version, without waiting for it: its
    writer may pause for any time mid-file, so only age says the new version is complete."""
    path = tmp_path / "big.md"
    path.write_text(render_article(version(1)), encoding="utf-8")
    old_mtime(path)
    previous = load_corpus(tmp_path)
    text = render_article(version(2))
    path.write_text(text[: len(text) // 2], encoding="utf-8")  # half written, and written just now

    def no_waiting(seconds: float) -> None:
        raise AssertionError("a file with an old version to show is not waited for")

    with monkeypatch.context() as patch:
        patch.setattr(corpus_loading.time, "sleep", no_waiting)
        corpus = load_corpus(tmp_path, settle=0.5, previous=previous)
    assert corpus.get("big") == version(1) and corpus.pending == ("big.md",)
    assert corpus.files == {"big.md": "big"} and not corpus.skipped
    with path.open("a", encoding="utf-8") as f:  # the writer goes on, finishes, and leaves it alone
        f.write(text[len(text) // 2 :])
    old_mtime(path)
    fresh = load_corpus(tmp_path, settle=0.5, previous=corpus)
    assert fresh.get("big") == version(2) and not fresh.pending


def test_a_new_file_still_changing_is_left_for_the_next_reload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "new.md"
    text = render_article(version(1))
    path.write_text(text[:200], encoding="utf-8")
    monkeypatch.setattr(corpus_loading.time, "sleep", lambda seconds: path.write_text(text, encoding="utf-8"))
    corpus = load_corpus(tmp_path, settle=0.5)
    assert corpus.articles == () and corpus.pending == ("new.md",)
    assert [(s.path, s.reason) for s in corpus.skipped] == [("new.md", PENDING_REASON)]


async def test_the_library_reads_a_pending_file_again(corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = corpus_copy / "big.md"
    text = render_article(version(1))
    path.write_text(text[:300], encoding="utf-8")
    library = Library(corpus_copy)
    with monkeypatch.context() as patch:
        patch.setattr(corpus_loading.time, "sleep", lambda seconds: path.write_text(text, encoding="utf-8"))
        await library.start()
    assert library.current is not None and library.current.corpus.get("big") is None
    assert library.changed()  # the pending file's signature entry never matches: it is read again
    old_mtime(path)
    assert await library.reload_if_changed()
    assert library.current.corpus.get("big") == version(1) and not library.changed()


def test_a_file_renamed_into_place_is_read_at_once(tmp_path: Path) -> None:
    """Written elsewhere and moved in: complete however new it is, so no settle wait applies."""
    path = tmp_path / "big.md"
    path.write_text(render_article(version(1)), encoding="utf-8")
    old_mtime(path)
    previous = load_corpus(tmp_path)
    tmp = tmp_path / "big.md.tmp"
    tmp.write_text(render_article(version(2)), encoding="utf-8")
    time.sleep(0.02)  # the rename lands after the write on the file system's clock
    tmp.replace(path)
    fresh = load_corpus(tmp_path, settle=60, previous=previous)
    assert fresh.get("big") == version(2) and not fresh.pending
