"""The load benchmark keeps working: the real `tradebot run` and `tradebot fake-slack`, a tiny corpus, a small burst."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from benchmarks.load_bench import PATTERN, command_mix, pct

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^(burst \(fresh build\)|burst|sequential)\s+(\d+)((?:\s+\S+){11})", re.MULTILINE)


def test_mix_has_every_kind_of_command_and_is_deterministic() -> None:
    mix = command_mix(20, ["Ana Bell", "greer"])
    assert mix == command_mix(20, ["Ana Bell", "greer"]) and len(mix) == 20
    assert {t.split()[0] for t in mix} >= {"who", "latest", "sources"}
    assert sum(t.startswith("who ") for t in mix) == 2 * PATTERN.count("W")
    assert any(t in ("tarrifs china", "rare erths", "exprot controls", "reciprocal tarrifs") for t in mix)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 51)]
    assert pct(values, 50) == 25 and pct(values, 99) == 50 and pct([7.0], 99) == 7


def test_tiny_run_prints_the_table_and_loses_no_answer(seed_corpus_dir: Path, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "benchmarks.load_bench", "--corpus", str(seed_corpus_dir),
                             "--data", str(tmp_path), "--burst", "10", "--seconds", "0.5", "--no-stop-during-build",
                             "--ready-timeout", "60"],
                            capture_output=True, text=True, cwd=ROOT, timeout=180)
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ack p50" in out and "ans p50" in out and "SIGTERM to exit" in out and "ready in" in out
    assert re.search(r"peak \d+ MB \(\d+ anonymous; bot \d+\) while building from scratch, .* from 5 s after its "
                     r"search save to its people save, \d+ MB", out), out
    rows = {m.group(1): [m.group(2), *m.group(3).split()] for m in ROW.finditer(out)}
    assert set(rows) == {"burst (fresh build)", "burst", "sequential"}, out
    for name, cells in rows.items():
        assert cells[0] == "10" and cells[7] == "0", f"{name}: lost answers\n{out}"
        assert cells[10] == "0", f"{name}: Slack refused answers or the bot failed\n{out}"
    assert not list(tmp_path.glob("load-*")), "the work directory is removed"
