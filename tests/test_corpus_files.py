"""Corrupt and odd corpus files: each is skipped with a reason a person can act on, the rest
loads (item 34); a missing corpus is reported without the server's path (item 33)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.answers.answerer import Answerer
from bot.corpus import CorpusUnavailable, load_corpus
from bot.corpus.files import MAX_FILE_BYTES
from bot.library import Library
from tests.state_helpers import answer_store

GOOD = "---\nid: {id}\ntitle: Title {id}\npublisher: Wire\npublished: 2025-05-01\n---\nBody of {id}, with café.\n"

CORRUPT: dict[str, tuple[bytes, str]] = {
    "utf16.md": (GOOD.format(id="utf16").encode("utf-16"), "not UTF-8 (a UTF-16 byte order mark)"),
    "cut-in-a-character.md": (GOOD.format(id="cut").encode("utf-8")[:-3], "not UTF-8"),
    "cut-in-front-matter.md": (GOOD.format(id="cut2").encode("utf-8")[:30], "no front matter block"),
    "only-front-matter.md": (b"---\nid: only\ntitle: T\npublisher: W\npublished: 2025-01-01\n---\n", "empty body"),
    "list-title.md": (b"---\ntitle: [a, b]\npublisher: W\npublished: 2025-01-01\n---\nBody.\n", "title:"),
    "not-a-mapping.md": (b"---\n- just\n- a list\n---\nBody.\n", "not a mapping"),
    "bad-id.md": (b"---\nid: Not An Id!\ntitle: T\npublisher: W\npublished: 2025-01-01\n---\nBody.\n", "id:"),
    "no-date.md": (b"---\nid: no-date\ntitle: T\npublisher: W\n---\nBody.\n", "published:"),
    "nul-in-body.md": (GOOD.format(id="nul").encode("utf-8") + b"\x00\x00", "binary"),
    "too-big.md": (GOOD.format(id="big").encode("utf-8") + b"x" * (MAX_FILE_BYTES + 1), "file too large"),
    "yaml-tab.md": (b"---\nid: t\n\ttitle: T\n---\nBody.\n", "not valid YAML"),
}


def test_each_corrupt_file_is_skipped_with_its_reason(tmp_path: Path) -> None:
    for name, (data, _) in CORRUPT.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "good.md").write_text(GOOD.format(id="good"), encoding="utf-8")
    (tmp_path / "bom.md").write_bytes(b"\xef\xbb\xbf" + GOOD.format(id="bom").encode("utf-8"))
    (tmp_path / "crlf.md").write_bytes(GOOD.format(id="crlf").replace("\n", "\r\n").encode("utf-8"))
    (tmp_path / "a-directory.md").mkdir()
    corpus = load_corpus(tmp_path)
    assert sorted(a.id for a in corpus.articles) == ["bom", "crlf", "good"]
    reasons = {s.path: s.reason for s in corpus.skipped}
    assert set(reasons) == set(CORRUPT) | {"a-directory.md"}
    for name, (_, reason) in CORRUPT.items():
        assert reason in reasons[name], (name, reasons[name])
    assert reasons["a-directory.md"] == "cannot be read (Is a directory)"
    assert not any(str(tmp_path) in reason for reason in reasons.values())  # no server paths in reasons


def test_an_odd_file_name_cannot_forge_a_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "evil\nERROR forged.md").write_text("no front matter", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.corpus"):
        load_corpus(tmp_path)
    [record] = caplog.records
    assert "\n" not in record.getMessage() and "evil\\nERROR forged.md" in record.getMessage()


def test_a_missing_corpus_is_unavailable_with_the_path_in_the_log_only(tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    missing = tmp_path / "srv" / "tradebot" / "corpus"
    with pytest.raises(CorpusUnavailable) as raised:
        load_corpus(missing)
    assert raised.value.reason == "corpus directory not found" and str(missing) in str(raised.value)
    library = Library(missing)
    with caplog.at_level(logging.ERROR, logger="bot.library"):
        assert library.load() is None
    assert library.error == "corpus directory not found"
    assert str(missing) in caplog.text  # the operator finds the path in the log
    message = Answerer(library, answer_store(tmp_path / "state")).answer_text("tariffs", user="U1", channel="C1")
    shown = str(message.model_dump()) if hasattr(message, "model_dump") else repr(message)
    assert "unavailable" in message.text and str(tmp_path) not in shown and "srv" not in shown


def test_a_file_where_the_corpus_should_be_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "corpus").write_text("not a directory", encoding="utf-8")
    with pytest.raises(CorpusUnavailable, match="not a directory"):
        load_corpus(tmp_path / "corpus")
