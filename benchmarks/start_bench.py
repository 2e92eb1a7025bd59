"""Start benchmark: build from scratch, save, restart from the saved index; this code against another.

    python -m benchmarks.start_bench --articles 100000 [--base DIR] [--restarts 2]

Each step runs in a fresh process (`python -m benchmarks.start_bench --step ...`): a build
(search with 2 worker processes, the people directory, settled memory, the save) and then
`--restarts` restarts from that save, reporting when search is ready, when the people directory
is ready too, the process's RSS (anonymous and file-backed: a memory-mapped saved index is
file-backed, shared page cache) and the first query. With `--base`, a checkout of another
commit (for example `git archive <commit> | tar -x -C DIR`) is measured the same way in the same
run, builds first and then restarts taking turns, so that a busy machine slows both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _rss() -> dict[str, float]:
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return {k: int(fields[k].split()[0]) / 1e3 for k in ("VmRSS", "RssAnon", "RssFile")}


def build_step(corpus: Path, cache: Path, workers: int) -> dict[str, Any]:
    """In a fresh process: build, people, settle, save (works with the pickle format too)."""
    from bot.corpus import corpus_signature
    from bot.library import Snapshot, save_snapshot, with_people_added
    from bot.library.memory import settle_memory
    from bot.library.workers import load_and_index
    from bot.search import SearchEngine

    peak = [0.0]

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], _rss()["VmRSS"])
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    corpus_loaded, index = load_and_index(corpus, workers=workers)
    snapshot = Snapshot(corpus_loaded, SearchEngine(index), None, corpus_signature(corpus), 0.0)
    out["search_s"], out["peak_search_mb"] = time.perf_counter() - t0, peak[0]
    t0 = time.perf_counter()
    snapshot = with_people_added(snapshot, corpus)
    out["people_s"] = time.perf_counter() - t0
    settle_memory()
    out["settled_mb"] = _rss()["VmRSS"]
    t0 = time.perf_counter()
    save_snapshot(cache, snapshot)
    out["save_s"] = time.perf_counter() - t0
    out["saved_mb"] = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file()) / 1e6
    out["peak_mb"] = peak[0]
    return out


def restart_step(corpus: Path, cache: Path) -> dict[str, Any]:
    """In a fresh process: open the save as a restarted bot does (search first, then people)."""
    from bot.corpus import corpus_signature
    from bot.library import load_saved
    from bot.library.memory import settle_memory

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    signature = corpus_signature(corpus)
    try:
        from bot.library.saved import saved_people  # the memory-mapped format: people are read apart
    except ImportError:  # the pickle format: everything at once
        snapshot = load_saved(cache, signature)
        out["search_s"] = out["all_s"] = time.perf_counter() - t0
    else:
        snapshot = load_saved(cache, signature, with_people=False)
        out["search_s"] = time.perf_counter() - t0
        assert saved_people(cache, signature) is not None
        out["all_s"] = time.perf_counter() - t0
    assert snapshot is not None
    settle_memory()
    out["rss"] = _rss()
    t0 = time.perf_counter()
    snapshot.search.search("tariffs china")
    out["first_query_ms"] = (time.perf_counter() - t0) * 1000
    return out


def _run(code: Path, step: str, corpus: Path, cache: Path, workers: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code)}  # `code`'s bot package, this script
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--step", step, "--corpus", str(corpus),
                          "--cache", str(cache), "--workers", str(workers)], capture_output=True, text=True,
                         check=True, env=env, cwd=tempfile.gettempdir()).stdout.splitlines()[-1]
    return dict(json.loads(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000, help="synthetic corpus size")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TRADEBOT_BENCH_DATA", "bench-data")))
    parser.add_argument("--base", type=Path, help="another checkout (its bot/ package) to measure in the same run")
    parser.add_argument("--restarts", type=int, default=2, help="restarts from each save")
    parser.add_argument("--workers", type=int, default=2, help="build processes")
    parser.add_argument("--step", choices=["build", "restart"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:  # one step, in its own process
        result = (build_step(args.corpus, args.cache, args.workers) if args.step == "build"
                  else restart_step(args.corpus, args.cache))
        print(json.dumps(result))
        return
    from benchmarks.synth import generate

    corpus = generate(ROOT / "corpus", (args.data / str(args.articles)).resolve(), args.articles)
    codes = {"this": ROOT, **({"base": args.base.resolve()} if args.base else {})}
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; corpus {corpus}")
    with tempfile.TemporaryDirectory() as tmp:
        caches = {name: Path(tmp) / name for name in codes}
        builds = {name: _run(code, "build", corpus, caches[name], args.workers) for name, code in codes.items()}
        restarts: dict[str, list[dict[str, Any]]] = {name: [] for name in codes}
        for _ in range(args.restarts):
            for name, code in codes.items():
                restarts[name].append(_run(code, "restart", corpus, caches[name], args.workers))
    for name in codes:
        b = builds[name]
        print(f"{name}: from scratch search ready {b['search_s']:.1f}s (peak RSS {b['peak_search_mb']:.0f} MB), "
              f"people +{b['people_s']:.1f}s, settled {b['settled_mb']:.0f} MB, save {b['save_s']:.1f}s "
              f"({b['saved_mb']:.0f} MB)")
        for r in restarts[name]:
            rss = r["rss"]
            print(f"{name}: restart: search ready {r['search_s']:.2f}s, people too {r['all_s']:.2f}s; RSS "
                  f"{rss['VmRSS']:.0f} MB ({rss['RssAnon']:.0f} anonymous + {rss['RssFile']:.0f} file-backed); "
                  f"first query {r['first_query_ms']:.0f} ms")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
