"""The article order the bot sends its people worker, packed flat (#14: pickling 100k tuples held
the interpreter lock for ~200 ms, and every ack waited): it comes back exactly as it went."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.library.people_tasks import pack_order, unpack_order

ids = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)
names = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30)
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
orders = st.lists(st.tuples(ids, st.tuples(names, int64, int64)), max_size=40)


@given(orders)
def test_the_order_comes_back_as_it_went(order: list[tuple[str, tuple[str, int, int]]]) -> None:
    assert unpack_order(pack_order(order)) == order


def test_articles_without_a_file_keep_their_empty_name() -> None:
    order = [("a", ("", -5, 739000)), ("b", ("b.md", 10, 1_700_000_000_000_000_000)), ("c", ("", 0, 0))]
    assert unpack_order(pack_order(order)) == order
    assert unpack_order(pack_order([])) == []
