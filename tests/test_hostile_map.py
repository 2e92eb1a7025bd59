"""tests/bad_input_map.md names a test (or says why not) for every checklist item, and every
test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "tests" / "bad_input_map.md"
TEST_RE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
ITEMS = range(1, 57)


def rows() -> dict[int, str]:
    out: dict[int, str] = {}
    for line in MAP.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| (\d+) \|", line)
        if match:
            number = int(match.group(1))
            assert number not in out, f"item {number} appears twice"
            out[number] = line
    return out


def test_every_item_has_a_row_with_tests_or_a_reason() -> None:
    table = rows()
    assert sorted(table) == list(ITEMS)
    for number, line in table.items():
        assert TEST_RE.search(line) or "not covered" in line, f"item {number} names no test and gives no reason"


def test_every_named_test_exists() -> None:
    missing = []
    for path, name in TEST_RE.findall(MAP.read_text(encoding="utf-8")):
        source = ROOT / path
        if not source.exists() or not re.search(rf"^(async )?def {name}\(", source.read_text(encoding="utf-8"), re.M):
            missing.append(f"{path}::{name}")
    assert not missing, missing
