"""The fast read of corpus files gives exactly what the old read gave (`tests.corpus_reference`,
a verbatim copy of it): the same article, field by field, or the same error; the same identity keys.

Files are generated: valid articles, odd Unicode (controls, bidi, zero-width and joiners,
NFKC- and case-changing letters, odd whitespace, CRLF, BOM, tabs, NBSP), bad front matter,
bad dates, bad URLs, empty and huge bodies, and arbitrary bytes."""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.corpus import Article, files
from bot.corpus.dedupe import identity_keys, utf8_fingerprint
from bot.corpus.files import MAX_FILE_BYTES, _read_to_end, decode_article, parse_article, read_file
from bot.corpus.model import pack_body, packed_as_is
from bot.corpus.text import plain_utf8, spaced_words, strip_controls
from tests import corpus_reference as ref

FIELDS = ("id", "title", "publisher", "url", "published", "source_file", "body_utf8")
PROPERTY = settings(max_examples=400, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

ODD = ("\t", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\x7f", "\x9b", "\xa0", "\u1680", "\u2009", "\u2028",
       "\u2029", "\u3000", "\u200b", "\u200c", "\u200d", "\u202e", "\u2066", "\ufeff", "\u00ad", "\u061c", "\u2060",
       "\ue000", "\u0378", "\U0010ffff", "\ufffd", "ﬁ", "ß", "İ", "\u212a", "Σ", "ς", "\u2126", "é", "e\u0301",
       "ＴＡＲＩＦＦＳ", "①", "👨\u200d👩\u200d👧", "ب\u200cب", "क्\u200dष", "“", "”", "’", "—", "…", "黃仁勳")
WORDS = ("Tariffs", "rise", "on", "China", "Greer's", "“productive,”", "U.S.", "2.25%", "rare-earth", "a", "I")
clean_word = st.sampled_from(WORDS + ("“We", "said.”", "—", "café", "Straße", "ÉLAN"))  # (cased non-ASCII)
odd_word = st.one_of(st.sampled_from(ODD), st.builds(lambda w, o: w + o, st.sampled_from(WORDS), st.sampled_from(ODD)),
                     st.text(st.characters(codec="utf-8"), min_size=1, max_size=6))
clean_paragraph = st.lists(clean_word, min_size=1, max_size=12).map(" ".join)
odd_paragraph = st.builds(lambda words, sep: sep.join(words), st.lists(st.one_of(clean_word, odd_word), max_size=10),
                          st.sampled_from((" ", "  ", "\t", " \xa0", "\u2009", "\n", " \n")))
BREAKS = ("\n\n", "\n", "\n\n\n", "\n \n", " \n\n", "\n\n ", "\r\n\r\n", "\n\u2028\n", "\n\t\n", "\n\x0c\n")
ENDS = ("", "\n", "\n\n", " ", "  \n", "\r\n", "\u200b\n")
clean_body = st.builds(lambda ps, end: "\n\n".join(ps) + end, st.lists(clean_paragraph, min_size=1, max_size=6),
                       st.sampled_from(("\n", "", "\n\n", " \n")))
odd_body = st.builds(lambda start, ps, breaks, end: start + "".join(p + b for p, b in zip(ps, breaks)) + end,
                     st.sampled_from(ENDS), st.lists(st.one_of(clean_paragraph, odd_paragraph), max_size=6),
                     st.lists(st.sampled_from(BREAKS), min_size=6, max_size=6), st.sampled_from(ENDS))

# Printable text but not single-spaced: the byte checks must send it down the full path.
uneven_body = st.lists(st.one_of(clean_word, st.sampled_from((" ", "  ", "\n", "\n\n", "\n\n\n", " \n", "\n "))),
                       min_size=1, max_size=14).map("".join)
GOOD = {
    "id": ("story-1", "a", "x" * 120, '"quoted-id"'),
    "title": ("Tariffs rise", "“Tariffs” rise — again", "x" * 500, "ﬁnal ß\xa0two  spaces", '"A: b"', "'single'",
              "Tariffs\u200brise\u202e", "ب\u200c\u200c a", "①\u3000ＴＡＲＩＦＦＳ", "Title\ttab"),
    "publisher": ("Wire", "Taipei Times", "é", "x" * 200),
    "url": ("https://news.example/a?utm_source=x&b=1#frag", "http://WWW.Example.com/", "''", '"https://ex.example/q"',
            "https://ex.example/ü?q=ß"),
    "published": ("2025-05-01", "'2025-05-01'", "20250501", "2025-W01-1", " 2025-05-01"),
    "source_file": ("feed/a.html", "'x'"),
    "paragraphs": ("x",), "body_utf8": ("x",), "Title": ("Shouting",), "extra": ("kept out",),
}
BAD = {
    "id": ("x" * 121, "Not An Id!", "-x", "Ab", "“id”", "[a, b]", "12", "''"),
    "title": ("x" * 501, "  ", '"  "', '"\\u200b"', "A: b", "[a, b]", "123", "Title #tag", "null", "'unclosed"),
    "publisher": ("x" * 201, '""', "true", "\u200d", "~"),
    "url": ("ftp://x.example/", "https://", "javascript:alert(1)", "https://ex.example/a b", "https://[::1",
            "example.com/x", "https://ex.example/<x>", "https://ex.example/\u200b", "~", "1"),
    "published": ("2025-13-45", "2025-02-30", "2025-05-01T00:00:00", "not a date", "2025-05-01 10:00:00", "[2025]", "2025", "''"),
    "source_file": ("[1]", "2"),
}
OPTIONAL = ("id", "url", "source_file", "paragraphs", "body_utf8", "Title", "extra")


def field_lines(draw: st.DrawFn) -> list[str]:
    """Mostly valid front matter (required fields, some optional ones); often one field is bad or missing."""
    keys = ["title", "publisher", "published"] + draw(st.lists(st.sampled_from(OPTIONAL), max_size=4, unique=True))
    values = {key: draw(st.sampled_from(GOOD[key])) for key in draw(st.permutations(keys))}
    spoil = draw(st.sampled_from((*[None] * 6, *BAD, "drop")))
    if spoil == "drop":
        values.pop(draw(st.sampled_from(sorted(values))))
    elif spoil is not None:
        values[spoil] = draw(st.sampled_from(BAD[spoil]))
    return [f"{key}: {value}" for key, value in values.items()]


good_front = st.builds(lambda lines, open_, close: f"{open_}\n" + "\n".join(lines) + f"\n{close}\n",
                       st.composite(field_lines)(), st.sampled_from(("---", "---", "--- ", "---\t")),
                       st.sampled_from(("---", "---", "--- ")))
odd_front = st.sampled_from(("", "---\n- a\n- list\n---\n", "---\nid: t\n\ttitle: T\n---\n", "---\n---\n",
                             "--\nid: x\n--\n", "---\ntitle: 'unclosed\n---\n", "---\npublished: 2025-13-45\n---\n"))
front = st.integers(0, 9).flatmap(lambda n: odd_front if n == 0 else good_front)  # (one_of would dedupe repeats)
article_text = st.builds(lambda bom, head, body, crlf: bom + (head + body).replace("\n", "\r\n") if crlf else
                         bom + head + body, st.sampled_from(("", "", "\ufeff")), front,
                         st.one_of(clean_body, odd_body, uneven_body), st.sampled_from((False, False, True)))
article_bytes = article_text.map(lambda t: t.encode("utf-8"))
damaged_bytes = st.one_of(st.builds(lambda t, cut: t.encode("utf-8")[:cut], article_text, st.integers(0, 400)),
                          article_text.map(lambda t: t.encode("utf-16")), st.binary(max_size=300))
file_bytes = st.integers(0, 9).flatmap(lambda n: damaged_bytes if n == 0 else article_bytes)


def outcome(article: object) -> tuple[tuple[str, type, object], ...]:
    return tuple((name, type(getattr(article, name)), getattr(article, name)) for name in FIELDS)


def new_keys(article: Article, packed: str | None) -> object:
    """The keys the reader gives (told what the parse knew of the body); the same without being told."""
    keys = identity_keys(article, packed)
    assert identity_keys(article) == keys
    return keys


def new_read(raw: bytes, fallback_id: str = "from-name") -> object:
    try:
        article, packed = decode_article(raw, fallback_id=fallback_id)
    except ValueError as exc:
        return "error", str(exc)
    return outcome(article), new_keys(article, packed)


def old_read(raw: bytes, fallback_id: str = "from-name") -> object:
    try:
        article = ref.ref_decode_article(raw, fallback_id=fallback_id)
    except ValueError as exc:
        return "error", str(exc)
    return outcome(article), ref.ref_identity_keys(article)


@PROPERTY
@given(file_bytes)
@example("---\ntitle: T\npublisher: W\npublished: 2025-05-01\n---\nب\u200c\u200c a\n".encode())
@example(b"---\ntitle: T\npublisher: W\npublished: 2025-05-01\n---\na\n\n\n\nb\n")
@example(b"\xef\xbb\xbf---\r\ntitle: T\r\npublisher: W\r\npublished: 2025-05-01\r\n---\r\nOne.\r\n\r\nTwo.\r\n")
def test_a_file_reads_exactly_as_before(raw: bytes) -> None:
    assert new_read(raw) == old_read(raw)


@PROPERTY
@given(st.builds(lambda head, body: head + body, front, st.text(max_size=80)))
def test_parsed_text_with_surrogates_and_anything_else_is_as_before(text: str) -> None:
    def parse(fn: object, text: str) -> object:
        try:
            return outcome(fn(text, fallback_id="x"))  # type: ignore[operator]
        except ValueError as exc:
            return str(exc)
    assert parse(parse_article, text) == parse(ref.ref_parse_article, text)


@pytest.mark.parametrize("body", ["Tariffs “rise” again. " * 150_000 + "\n", "a\tb " * 300_000 + "\n\n\n\nc\n"])
def test_a_huge_body_reads_as_before(body: str) -> None:
    raw = ("---\ntitle: T\npublisher: W\npublished: 2025-05-01\n---\n" + body).encode()
    assert len(raw) > MAX_FILE_BYTES // 4
    assert new_read(raw) == old_read(raw)


@PROPERTY
@given(st.text(st.characters(codec="utf-8")) | uneven_body | st.lists(
    st.one_of(odd_word, clean_word, st.sampled_from(BREAKS + ENDS))).map("".join))
@example("Tariffs\nrise\non")

def test_the_fingerprint_of_utf8_is_that_of_its_text(text: str) -> None:
    assert utf8_fingerprint(text.encode()) == ref.ref_text_fingerprint(text)


@PROPERTY
@given(st.one_of(clean_body, odd_body, uneven_body, st.text(st.characters(codec="utf-8"))))
@example("Ünïcode “café” ΣΑΣ. İ\n\nﬁnal ß")
@example("a\n\nb")
def test_the_fingerprint_of_a_body_the_parse_kept_as_is_is_that_of_its_text(text: str) -> None:
    """Told what `packed_as_is` found (no checks made again), the fingerprint is the same."""
    found = packed_as_is(text.encode())
    if found is not None:
        body, others = found
        assert utf8_fingerprint(body, others) == ref.ref_text_fingerprint(body.decode()) == utf8_fingerprint(body)


def test_the_keys_of_an_article_opened_from_the_saved_index_are_those_of_its_text() -> None:
    """Its body is a memoryview of the mapped file (`bot.library.saved`), not bytes."""
    article = Article(id="a", title="T", publisher="W", url="https://www.Ex.example/a/", published=dt.date(2025, 5, 1),
                      body_utf8=pack_body(["Tariffs “rise”,  ΣΑΣ", "again."]))
    object.__setattr__(article, "body_utf8", memoryview(bytes(article.body_utf8)))
    assert identity_keys(article) == ref.ref_identity_keys(article)


@PROPERTY
@given(st.text(st.sampled_from("ab \n")) | st.text(st.sampled_from("ab \n\tç\xa0\x1c\u200b")))
@example("a\nb\nc")

def test_the_byte_checks_mean_what_they_say(text: str) -> None:
    data = text.encode()
    plain = all(c.isprintable() or c == "\n" for c in text)
    assert (plain_utf8(data) is not None) == plain
    if plain:
        assert plain_utf8(data) == "".join(c for c in text if ord(c) > 127)
        paragraphs = text.split("\n\n")
        normal = all(p and " ".join(p.split()) == p for p in paragraphs)
        assert spaced_words(data) == (" ".join(paragraphs).encode() if normal else None)


def test_printable_characters_are_never_stripped_nor_whitespace_but_space() -> None:
    """What the byte checks rest on, for every code point of this Python's Unicode database."""
    printable = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isprintable())
    assert strip_controls(printable) == printable
    assert [c for c in printable if c.isspace()] == [" "]
    assert "\n" not in printable and strip_controls("\n") == "\n"


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file_bytes)
def test_a_file_on_disk_reads_as_before(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "Some-Story.md"
    path.write_bytes(raw)
    read = read_file(path)
    assert ref.ref_read_raw(path) == raw
    if read.article is None:
        assert old_read(raw, "some-story") == ("error", read.error)
    else:
        assert old_read(raw, "some-story") == (outcome(read.article), new_keys(read.article, read.packed))


@pytest.mark.parametrize("size", [0, 1, 4096, 65_537, MAX_FILE_BYTES - 1, MAX_FILE_BYTES, MAX_FILE_BYTES + 1])
def test_files_of_every_size_read_as_before(tmp_path: Path, size: int) -> None:
    head = b"---\ntitle: T\npublisher: W\npublished: 2025-05-01\n---\n"
    raw = (head + b"word " * size)[:size]
    path = tmp_path / "f.md"
    path.write_bytes(raw)
    read = read_file(path)
    expected = old_read(ref.ref_read_raw(path), "f")
    if size > MAX_FILE_BYTES:
        assert read.error is not None and read.error.startswith("file too large")
    elif read.article is None:
        assert expected == ("error", read.error)
    else:
        assert expected == (outcome(read.article), new_keys(read.article, read.packed))


@pytest.mark.parametrize("limit", [MAX_FILE_BYTES, 10])
def test_a_directory_named_like_an_article_cannot_be_read_whatever_its_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setattr(files, "MAX_FILE_BYTES", limit)  # 10: the directory is "larger" than a file may be
    (tmp_path / "dir.md").mkdir()
    with pytest.raises(IsADirectoryError) as old:
        ref.ref_read_raw(tmp_path / "dir.md")
    with pytest.raises(IsADirectoryError) as new:
        read_file(tmp_path / "dir.md")
    assert (new.value.errno, new.value.strerror) == (old.value.errno, old.value.strerror)


@pytest.mark.parametrize(("size", "expect", "limit"), [(0, 1, 10), (70_000, 1, 200_000), (70_000, 5, 1000),
                                                       (300_000, 100_000, 300_001), (300_000, 300_001, 300_000)])
def test_reading_to_the_end_is_a_buffered_read_of_the_limit(size: int, expect: int, limit: int) -> None:
    """Also when the size known beforehand is wrong (as for a pipe): then it reads on."""
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    read_fd, write_fd = os.pipe()

    def write() -> None:
        try:
            with open(write_fd, "wb") as pipe:
                pipe.write(data)
        except BrokenPipeError:  # the reader stopped at its limit
            pass

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert _read_to_end(read_fd, expect, limit) == data[:limit]
    finally:
        os.close(read_fd)
        writer.join()
