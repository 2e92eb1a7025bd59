"""The benchmark keeps working: a tiny run in the suite, a real one under `-m slow`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.search_bench import add_typo, make_queries
from benchmarks.synth import generate
from bot.corpus import load_corpus
from bot.search import build_index

ROOT = Path(__file__).resolve().parent.parent


def test_generator_is_deterministic_and_loads(tmp_path: Path) -> None:
    a = generate(ROOT / "corpus", tmp_path / "a", 50)
    b = generate(ROOT / "corpus", tmp_path / "b", 50)
    files = sorted(p.name for p in a.glob("*.md"))
    assert len(files) == 50
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    corpus = load_corpus(a)
    assert len(corpus.articles) == 50 and not corpus.skipped
    queries = make_queries(build_index(corpus), 10)
    assert len(queries) == 10 and sum(q.typo for q in queries) == 5


def test_typos_are_one_edit() -> None:
    import random

    from rapidfuzz.distance import OSA

    rng = random.Random(1)
    assert all(OSA.distance(w, add_typo(w, rng)) <= 1 for w in ["tariffs", "bessent", "semiconductor"] * 20)


def run_bench(tmp_path: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "benchmarks.search_bench", "--data", str(tmp_path), *args],
                            capture_output=True, text=True, cwd=ROOT, check=True, timeout=600)
    return result.stdout


def test_tiny_benchmark_prints_figures(tmp_path: Path) -> None:
    out = run_bench(tmp_path, "--sizes", "200", "--queries", "20", "--no-tantivy")
    assert "200 articles" in out and "tradebot" in out and "naive" in out and "p99" in out


@pytest.mark.slow
def test_benchmark_with_tantivy(tmp_path: Path) -> None:
    pytest.importorskip("tantivy")
    out = run_bench(tmp_path, "--sizes", "1000", "--queries", "100")
    assert "tantivy" in out and "skipped" not in out.split("tantivy", 1)[1].splitlines()[0]
