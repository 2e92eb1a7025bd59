"""The fast merge and assembly build exactly the index today's code builds
(tests/assemble_reference.py): every array with its dtype and bytes, every dict and list,
on generated token runs (odd Unicode, empty runs, dropped articles, delta statistics)."""

from __future__ import annotations

import copy
import datetime as dt
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.corpus import Article
from bot.search import assemble, build
from bot.search.build import Background, Tokens
from tests import assemble_reference as reference

# Terms as the tokeniser could make them and stranger: no whitespace (titles split on it), no newline.
TERM = st.text(st.sampled_from(list("abcz09'.") + ["é", "É", "ß", "ﬁ", "²", "٣", "中", "👩", "\u0301", "\ud800",
                                                   "\x00", "\U0010ffff", "ǅ"]), min_size=1, max_size=6)


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[Tokens], list[np.ndarray], int]:
    """Runs of articles over overlapping vocabularies, and where each article goes (-1: dropped)."""
    pool = draw(st.lists(TERM, min_size=1, max_size=40, unique=True))
    parts: list[Tokens] = []
    for _ in range(draw(st.integers(1, 5))):
        ids: dict[str, int] = {}
        article, para, lengths, terms, titles = [], [], [], [], []
        for a in range(draw(st.integers(0, 5))):
            for p in range(draw(st.integers(0, 4))):
                words = draw(st.lists(st.sampled_from(pool), min_size=0, max_size=9))
                article.append(a)
                para.append(p)
                lengths.append(len(words))
                terms.extend(ids.setdefault(w, len(ids)) for w in words)
            titles.append(" ".join(draw(st.lists(st.sampled_from(pool + ["unseen"]), max_size=4))))
        while len(titles) < max(article, default=-1) + 1:
            titles.append("")

        def ints(values: list[int]) -> np.ndarray:
            return np.asarray(values, dtype=np.int32)

        start = ints(draw(st.lists(st.integers(0, 900), min_size=len(para), max_size=len(para))))
        parts.append(Tokens(list(ids), ints(article), ints(para), start, start + 7, ints(lengths).astype(np.int64),
                            ints(terms), titles))
    sizes = [len(p.titles) for p in parts]
    dropped = draw(st.lists(st.booleans(), min_size=sum(sizes), max_size=sum(sizes)))
    order = draw(st.permutations(range(dropped.count(False))))
    flat: list[int] = []
    kept = iter(order)
    for gone in dropped:
        flat.append(-1 if gone else next(kept))
    positions, at = [], 0
    for size in sizes:
        positions.append(np.asarray(flat[at : at + size], dtype=np.int64))
        at += size
    return parts, positions, len(order)


def articles(n: int) -> tuple[Article, ...]:
    return tuple(Article(id=f"a{i}", title="t", publisher="p", published=dt.date(2025, 1, 1) + dt.timedelta(days=i * 7 % 31),
                         paragraphs=("x",)) for i in range(n))


@st.composite
def backgrounds(draw: st.DrawFn) -> Background | None:
    if draw(st.booleans()):
        return None
    known = draw(st.dictionaries(TERM, st.integers(0, 10_000), max_size=20))
    default = draw(st.integers(0, 3))

    def df(terms: list[str]) -> np.ndarray:
        return np.asarray([known.get(t, default) for t in terms], dtype=np.int32)

    return Background(draw(st.integers(0, 100_000)), draw(st.floats(1.0, 500.0)), df)


def assert_same(want: object, got: object, where: str = "index") -> None:
    """Equal in value, type and dtype; floats bit for bit; dicts in the same order."""
    assert type(want) is type(got), where
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and want.dtype == got.dtype and want.shape == got.shape, where
        if want.dtype == object:
            assert want.tolist() == got.tolist(), where
        else:
            assert want.tobytes() == got.tobytes(), where
    elif isinstance(want, dict):
        assert isinstance(got, dict) and list(want) == list(got), where
        for key, value in want.items():
            assert_same(value, got[key], f"{where}[{key!r}]")
    elif isinstance(want, tuple | list) and any(isinstance(v, np.ndarray) for v in want):
        assert isinstance(got, type(want)) and len(want) == len(got), where
        for i, (a, b) in enumerate(zip(want, got)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert want == got, where


def assert_same_index(want: object, got: object) -> None:
    assert vars(want).keys() == vars(got).keys()
    for name, value in vars(want).items():
        assert_same(value, vars(got)[name], name)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs(), backgrounds(), st.sampled_from([1, 2, 3, 7, 50, 8_000_000]), st.sampled_from([1, 2]),
       st.sampled_from([1, 3, 65536]))
def test_merged_and_assembled_as_today(case: tuple[list[Tokens], list[np.ndarray], int], background: Background | None,
                                       chunk: int, threads: int, chunk_terms: int) -> None:
    parts, positions, n = case
    arts = articles(n)
    want = reference.assemble_index(arts, reference.merge_tokens(copy.deepcopy(parts), positions, n), background)
    with mock.patch.object(build, "PAIR_CHUNK", chunk), mock.patch.object(assemble, "CHUNK_TERMS", chunk_terms):
        merged = build.merge_tokens(copy.deepcopy(parts), positions, n)
        got = build.assemble_index(arts, merged, background, threads=threads)
        # Tokens not made by merge_tokens (a delta's, in first-seen order) are renumbered as before.
        unsorted = reference.merge_tokens(copy.deepcopy(parts), positions, n)
        again = build.assemble_index(arts, unsorted, background, threads=threads)
    assert_same_index(want, got)
    assert_same_index(want, again)


@settings(max_examples=200, deadline=None)
@given(runs())
def test_merged_tokens_hold_the_same_passages(case: tuple[list[Tokens], list[np.ndarray], int]) -> None:
    """The merged runs hold today's passages and token strings; only term ids differ (sorted vocabulary)."""
    parts, positions, n = case
    want = reference.merge_tokens(parts, positions, n)
    got = build.merge_tokens(parts, positions, n)
    for name in ("article", "para", "start", "end", "lengths"):
        assert_same(getattr(want, name), getattr(got, name), name)
    assert got.vocab == sorted(want.vocab) and got.titles == want.titles
    assert got.terms.dtype == want.terms.dtype
    assert [got.vocab[t] for t in got.terms.tolist()] == [want.vocab[t] for t in want.terms.tolist()]
