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
    out = run_bench(tmp_path, "--sizes", "200", "--queries", "20", "--no-tantivy", "--who-queries", "30",
                    "--who-scan-seconds", "1")
    assert "200 articles" in out and "tradebot" in out and "naive" in out and "p99" in out
    assert "restart from the saved index" in out and "fresh articles: 10 new files searchable" in out
    who = out.split("who over", 1)[1].splitlines()
    assert [line.split()[0] for line in who[2:4]] == ["index", "scan"]


def test_start_benchmark_prints_build_and_restart_figures(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "benchmarks.start_bench", "--data", str(tmp_path), "--articles",
                             "150", "--restarts", "1"], capture_output=True, text=True, cwd=ROOT, check=True, timeout=600)
    assert "this: from scratch search ready" in result.stdout and "this: restart: search ready" in result.stdout
    assert "anonymous" in result.stdout and "file-backed" in result.stdout


def test_misspelt_corpus_differs_from_the_clean_one_by_slips(tmp_path: Path) -> None:
    import random

    from rapidfuzz.distance import OSA

    from benchmarks.synth import misspell

    rng = random.Random(2)
    slips = [(w, misspell(w, rng)) for w in ["tariffs", "hassett", "currency", "geneva", "earths"] * 40]
    assert all(1 <= OSA.distance(w, s) <= 2 and s[0] == w[0] for w, s in slips)
    assert any(s in {"tarrifs", "tarifs"} for _, s in slips)  # doubled letters dropped or moved
    clean = generate(ROOT / "corpus", tmp_path / "clean", 40)
    slipped = generate(ROOT / "corpus", tmp_path / "slipped", 40, misspell_rate=0.01)
    a, b = load_corpus(clean).articles, load_corpus(slipped).articles
    words_a = [w for x in a for w in x.body.split()]
    words_b = [w for x in b for w in x.body.split()]
    assert len(words_a) == len(words_b)
    changed = sum(x != y for x, y in zip(words_a, words_b))
    assert 0.002 * len(words_a) < changed < 0.02 * len(words_a)


@pytest.mark.slow
def test_benchmark_with_tantivy(tmp_path: Path) -> None:
    pytest.importorskip("tantivy")
    out = run_bench(tmp_path, "--sizes", "1000", "--queries", "100")
    assert "tantivy" in out and "skipped" not in out.split("tantivy", 1)[1].splitlines()[0]
