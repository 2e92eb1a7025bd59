"""The people benchmark keeps working: a small synthetic corpus, built in the worker, updated twice, then
once more by a new worker after the first ended idle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_small_run_prints_the_table_and_every_update_matches_a_fresh_build(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "benchmarks.people_bench", "--articles", "600", "--new", "5",
                             "--data", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith(("first build", "update:"))]
    assert len(rows) == 4 and all(row.split()[-1] == "yes" for row in rows), result.stdout
    assert not list(tmp_path.glob("people-*")), "the work directory is removed"
