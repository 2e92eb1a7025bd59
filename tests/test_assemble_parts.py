"""The pieces of the fast index assembly against the plain Python they replace: sorting words
as bytes, letter masks, typo buckets, hash lookups (collisions forced), ranges of terms."""

from __future__ import annotations

import threading
import time
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.search import assemble
from bot.search.assemble import CHUNK_TERMS, term_ranges
from bot.search.index import _first_key, letter_mask
from bot.search.runs import PREFIX, sorted_distinct
from bot.search.stream import TokenPassages, shared, spread, term_counts
from bot.search.vocab import Lookup, letter_masks, title_words, vocab_buckets

ODD = list("abz09'.") + ["é", "ß", "²", "中", "👩", "\u0301", "\ud800", "\udfff", "\ue000", "\x00", "\x01", "\U0010ffff"]
# Words alike in their first PREFIX bytes and longer, or padded with NULs, which the bytes must not confuse.
STEMS = ["", "a" * (PREFIX - 1), "a" * PREFIX, "a" * (PREFIX - 2) + "\x00", "\x00" * PREFIX, "é" * (PREFIX // 2),
         "中" * 5, "👩" * 4, "ab\ud800" * 3]
WORD = st.builds(lambda stem, tail: stem + tail, st.sampled_from(STEMS), st.text(st.sampled_from(ODD), max_size=5))


@settings(max_examples=500, deadline=None)
@given(st.lists(WORD, max_size=60), st.booleans())
def test_sorted_distinct_is_sorted_set(words: list[str], newline: bool) -> None:
    if newline and words:
        words[0] += "\nx"  # (the bytes path splits on newlines: such words go to Python)
    distinct, inverse = sorted_distinct(words)
    assert distinct == sorted(set(words))
    assert inverse.dtype == np.int64 and [distinct[i] for i in inverse.tolist()] == words


@given(st.lists(st.text(st.sampled_from(ODD + ["A", "Z", "5", "٣", "ǅ"]), max_size=6), max_size=30))
def test_letter_masks_match_one_at_a_time(terms: list[str]) -> None:
    masks = letter_masks(terms)
    assert masks.dtype == np.uint32 and masks.tolist() == [letter_mask(t) for t in terms]


@settings(max_examples=300, deadline=None)
@given(st.lists(WORD, max_size=60))
def test_buckets_are_those_a_loop_makes(words: list[str]) -> None:
    vocab = sorted(set(words))
    masks = letter_masks(vocab)
    expected: dict[tuple[str, int], list[int]] = {}
    for term_id, term in enumerate(vocab):
        expected.setdefault((_first_key(term), len(term)), []).append(term_id)
    got = vocab_buckets(vocab, masks)
    assert list(got) == list(expected)
    for key, ids in expected.items():
        words_of, ids_of, masks_of = got[key]
        assert words_of.dtype == object and words_of.tolist() == [vocab[i] for i in ids]
        assert ids_of.dtype == np.int32 and ids_of.tolist() == ids
        assert masks_of.dtype == np.uint32 and masks_of.tolist() == masks[ids].tolist()


class Clash(str):
    """A string whose hash is another's: what a 64-bit hash collision would look like."""

    def __hash__(self) -> int:
        return 7


@given(st.lists(WORD, max_size=30, unique=True), st.lists(WORD, max_size=30), st.booleans())
def test_lookup_finds_what_a_dict_finds(vocab: list[str], words: list[str], clash: bool) -> None:
    if clash:  # terms sharing a hash (a dict then), or a word that is no term sharing one's hash
        vocab = [Clash(t) if i % 2 else t for i, t in enumerate(vocab)]
        words = [Clash(w) for w in words]
    ids = dict(zip(vocab, range(len(vocab))))
    got = Lookup(vocab).ids(words)
    assert got.dtype == np.int64 and got.tolist() == [ids.get(w, -1) for w in words]


def test_a_word_sharing_a_terms_hash_is_not_taken_for_it() -> None:
    lookup = Lookup(["alpha", Clash("beta")])
    assert lookup.table is None  # one term with that hash: found by hash, then compared
    assert lookup.ids([Clash("gamma"), Clash("beta"), "alpha", "delta"]).tolist() == [-1, 1, 0, -1]


@given(st.lists(st.integers(0, 30), max_size=200), st.integers(1, 40), st.sampled_from([1, 2, 7, CHUNK_TERMS]))
def test_term_ranges_cover_every_term_within_the_limits(counts: list[int], chunk: int, most: int) -> None:
    array = np.asarray(counts, dtype=np.int64)
    with mock.patch.object(assemble, "CHUNK_TERMS", most):
        ranges = term_ranges(array, chunk)
    assert [lo for lo, _ in ranges] == ([0] + [hi for _, hi in ranges])[: len(ranges)]
    assert (ranges[-1][1] if ranges else 0) == len(counts)
    for lo, hi in ranges:
        assert 0 < hi - lo <= most and (hi - lo == 1 or array[lo:hi].sum() <= chunk)
        assert hi == len(counts) or hi - lo == most or array[lo : hi + 1].sum() > chunk  # as long as allowed


def test_term_counts_are_bincount() -> None:
    terms = np.random.default_rng(5).integers(0, 1000, 100_003).astype(np.int32)
    assert np.array_equal(term_counts(terms, 1200, step=4096), np.bincount(terms, minlength=1200))
    assert term_counts(np.zeros(0, np.int32), 3).tolist() == [0, 0, 0]


@given(st.lists(st.integers(0, 4), max_size=40))
def test_spread_is_repeat(counts: list[int]) -> None:
    array = np.asarray(counts, dtype=np.int64)
    got = spread(array, int(array.sum()))
    assert got.dtype == np.int32 and got.tolist() == np.repeat(np.arange(len(counts)), array).tolist()


@given(st.lists(st.text(st.sampled_from(["a", "é", " ", "\t", "\u00a0", "\x1f", "\u2028", "\n", "中"]),
                        max_size=8), max_size=12))
def test_title_words_are_each_titles_split(titles: list[str]) -> None:
    words, counts = title_words(titles)
    assert words == [w for t in titles for w in t.split()]
    assert counts.dtype == np.int64 and counts.tolist() == [len(t.split()) for t in titles]


def test_title_words_of_plain_titles() -> None:
    assert title_words(["tariffs rise", "", "china"])[1].tolist() == [2, 0, 1]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0, 1, 2, 3, 63, 64, 65, 130]), max_size=40), st.data())
def test_token_passages_are_repeat(lengths: list[int], data: st.DataObject) -> None:
    array = np.asarray(lengths, dtype=np.int64)
    total = int(array.sum())
    want = np.repeat(np.arange(len(lengths), dtype=np.int32), array)
    at = np.asarray(sorted(data.draw(st.sets(st.integers(0, max(total - 1, 0)), max_size=50))) if total else [],
                    dtype=np.int64)
    with mock.patch("bot.search.stream.STEP", data.draw(st.sampled_from([1, 7, 1 << 20]))):
        passages = TokenPassages(array, total)
        got = passages.of(at)
    assert got.dtype == np.int32 and got.tolist() == want[at].tolist()
    assert passages.every().tolist() == want.tolist()


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_shared_work_comes_back_in_order_and_raises(threads: int) -> None:
    seen: set[int] = set()

    def work(item: int) -> int:
        seen.add(threading.get_ident())
        time.sleep(0.002)
        return item * item

    assert shared(work, list(range(20)), threads) == [i * i for i in range(20)]
    assert shared(work, [], threads) == []
    assert threading.get_ident() in seen  # the calling thread takes its share

    def broken(item: int) -> int:
        if item == 5:
            raise ValueError("five")
        return item

    with pytest.raises(ValueError, match="five"):
        shared(broken, list(range(10)), threads)
