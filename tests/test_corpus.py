"""Loading the corpus: bad files are skipped with a reason, the rest loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.corpus import CorpusUnavailable, load_corpus

GOOD = "---\nid: {id}\ntitle: {title}\npublisher: Wire\nurl: {url}\npublished: 2025-05-01\n---\n{body}\n"


def write(directory: Path, name: str, text: str | bytes) -> None:
    path = directory / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def test_malformed_files_are_skipped_with_reasons(corpus_copy: Path) -> None:
    write(corpus_copy, "no-front.md", "just text\n")
    write(corpus_copy, "bad-yaml.md", "---\ntitle: [unclosed\n---\nbody\n")
    write(corpus_copy, "no-title.md", "---\nid: no-title\npublisher: X\npublished: 2025-01-01\n---\nbody\n")
    write(corpus_copy, "bad-date.md", "---\nid: bad-date\ntitle: T\npublisher: X\npublished: 2025-13-45\n---\nbody\n")
    write(corpus_copy, "latin1.md", "---\nid: latin1\ntitle: Caf\xe9\npublisher: X\npublished: 2025-01-01\n---\nbody\n".encode("latin-1"))
    write(corpus_copy, "binary.md", b"\x00\x01\x02garbage")
    write(corpus_copy, "empty-body.md", "---\nid: empty-body\ntitle: T\npublisher: X\npublished: 2025-01-01\n---\n\n")
    write(corpus_copy, "truncated.md", "---\nid: truncated\ntitle: T\npubl")
    write(corpus_copy, "js-url.md", GOOD.format(id="js-url", title="T", url="javascript:alert(1)", body="x"))
    corpus = load_corpus(corpus_copy)
    assert len(corpus.articles) == 5
    reasons = {s.path: s.reason for s in corpus.skipped}
    assert set(reasons) == {"no-front.md", "bad-yaml.md", "no-title.md", "bad-date.md", "latin1.md", "binary.md",
                            "empty-body.md", "truncated.md", "js-url.md"}
    assert "front matter" in reasons["no-front.md"]
    assert "title" in reasons["no-title.md"]
    assert "date" in reasons["bad-date.md"]
    assert "UTF-8" in reasons["latin1.md"]
    assert "binary" in reasons["binary.md"]
    assert "empty body" in reasons["empty-body.md"]
    assert "http" in reasons["js-url.md"]


def test_bom_is_accepted(tmp_path: Path) -> None:
    write(tmp_path, "bom.md", "\ufeff" + GOOD.format(id="bom", title="T", url="https://x.example/a", body="Body."))
    assert [a.id for a in load_corpus(tmp_path).articles] == ["bom"]


def test_duplicates_appear_once(tmp_path: Path) -> None:
    write(tmp_path, "a.md", GOOD.format(id="a", title="A", url="https://News.example/story/?utm_source=x", body="One text."))
    write(tmp_path, "b.md", GOOD.format(id="b", title="B", url="https://news.example/story", body="Other text."))
    write(tmp_path, "c.md", GOOD.format(id="c", title="C", url="https://news.example/other", body="One   text."))
    write(tmp_path, "d.md", GOOD.format(id="a", title="D", url="https://news.example/d", body="Fourth."))
    corpus = load_corpus(tmp_path)
    assert [a.id for a in corpus.articles] == ["a"]
    assert all("duplicate of a.md" in s.reason for s in corpus.skipped)


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusUnavailable, match="not found"):
        load_corpus(tmp_path / "nope")


def test_title_with_slack_markup_is_kept_as_text(tmp_path: Path) -> None:
    write(tmp_path, "m.md", GOOD.format(id="m", title="'<!here> | tariffs'", url="https://x.example/m", body="B."))
    assert load_corpus(tmp_path).articles[0].title == "<!here> | tariffs"
