"""Search benchmark: tradebot vs the naive design vs tantivy, on the same synthetic corpus.

    python -m benchmarks.search_bench --sizes 1000 10000 100000 [--corpus misspelt]

For each size: build time, saved-index load time, resident memory, p50/p95/p99 query
latency over a mix where half the queries carry a typo, and precision@5 (the share
of the top 5 articles that contain every intended query term); then `who` latency
against the former scan over every person. `--corpus misspelt` misspells one word
in 5,000 of the corpus text, as real news has slips, so typo precision is measured
where a rare misspelling sits beside the common word a query meant. Ratios are against
tradebot measured in the same run, since the machine is shared and noisy; tradebot and
tantivy take turns on each query (`--rounds` times over the mix) so that a burst of
load from neighbours hits both alike.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks import who_bench
from benchmarks.synth import generate
from bot.corpus import corpus_signature
from bot.corpus.text import STOPWORDS
from bot.library import Snapshot, save_snapshot, with_people_added
from bot.library.memory import settle_memory
from bot.library.workers import MIN_FILES_FOR_WORKERS, load_and_index
from bot.search import SearchEngine
from bot.search.build import passage_terms
from bot.search.expand import typo_budget
from bot.search.index import SearchIndex

NAIVE_BUDGET_S = 2.0
MISSPELL_RATE = 1 / 5000  # `--corpus misspelt`: words misspelt in the corpus text
ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 1e6
    except ImportError:  # Linux fallback
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1e3


@dataclass
class Query:
    text: str
    intended: list[str]  # the terms a correct result must contain (before any typo)
    typo: bool


@dataclass
class Result:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    precision: list[float] = field(default_factory=list)
    typo_precision: list[float] = field(default_factory=list)
    note: str = ""

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


def add_typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "sub", "insert"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    letter = rng.choice("aeioulnrst")
    return word[:i] + letter + word[i + 1:] if kind == "sub" else word[:i] + letter + word[i:]


def make_queries(index: SearchIndex, n: int, seed: int = 11) -> list[Query]:
    """Two-term queries taken from real passages; half get one typo in a long term."""
    rng = random.Random(seed)
    queries: list[Query] = []
    while len(queries) < n:
        passage = rng.randrange(index.passage_count)
        words = [w for w in dict.fromkeys(passage_terms(index.passage_text(passage)))
                 if w.isalpha() and len(w) >= 5 and w not in STOPWORDS]
        if len(words) < 2:
            continue
        intended = rng.sample(words, 2)
        typo = len(queries) % 2 == 1
        shown = list(intended)
        if typo:
            k = max(range(2), key=lambda j: len(shown[j]))
            shown[k] = add_typo(shown[k], rng)
        queries.append(Query(" ".join(shown), intended, typo))
    return queries


def relevant(index: SearchIndex, article_ids: list[str], terms: list[str], by_id: dict[str, int]) -> int:
    hits = 0
    for article_id in article_ids:
        article = index.articles[by_id[article_id]]
        words = set(passage_terms(article.body))
        hits += all(t in words for t in terms)
    return hits


def count_relevant(index: SearchIndex, terms: list[str]) -> int:
    sets = []
    for t in terms:
        term_id = index.term_id(t)
        if term_id is None:
            return 0
        passages, _ = index.levels(term_id)
        sets.append(set(index.passage_article[passages].tolist()))
    return len(set.intersection(*sets))


def _score(result: Result, query: Query, ids: list[str], index: SearchIndex, by_id: dict[str, int]) -> None:
    expected = min(5, count_relevant(index, query.intended))
    if expected:
        p = relevant(index, ids, query.intended, by_id) / expected
        result.precision.append(p)
        if query.typo:
            result.typo_precision.append(p)


def run_engine(name: str, search: Callable[[str], list[str]], queries: list[Query], index: SearchIndex,
               by_id: dict[str, int], limit_s: float | None = None) -> Result:
    """One engine alone, stopping once a query takes over `limit_s` (the naive design)."""
    result = Result(name)
    for query in queries:
        t0 = time.perf_counter()
        ids = search(query.text)[:5]
        elapsed = time.perf_counter() - t0
        result.latencies_ms.append(elapsed * 1000)
        _score(result, query, ids, index, by_id)
        if limit_s is not None and elapsed > limit_s:
            result.note = f"stopped after {len(result.latencies_ms)} queries: one took {elapsed:.1f}s"
            break
    return result


def run_interleaved(searches: dict[str, Callable[[str], list[str]]], queries: list[Query], index: SearchIndex,
                    by_id: dict[str, int], rounds: int) -> list[Result]:
    """Engines take turns on each query (first turn alternating), `rounds` times over the mix:
    a burst of load from the machine's neighbours then hits them alike, and ratios stay fair."""
    results = {name: Result(name) for name in searches}
    names = list(searches)
    for name in names:
        searches[name](queries[0].text)  # warm-up
    for round_no in range(rounds):
        for q_no, query in enumerate(queries):
            order = names if (q_no + round_no) % 2 == 0 else names[::-1]
            for name in order:
                t0 = time.perf_counter()
                ids = searches[name](query.text)[:5]
                results[name].latencies_ms.append((time.perf_counter() - t0) * 1000)
                if round_no == 0:
                    _score(results[name], query, ids, index, by_id)
    return list(results.values())


def naive_search(index: SearchIndex) -> Callable[[str], list[str]]:
    from rapidfuzz import fuzz, process

    texts = [index.passage_text(i) for i in range(index.passage_count)]

    def search(q: str) -> list[str]:
        found = process.extract(q, texts, scorer=fuzz.token_set_ratio, limit=50)
        out: list[str] = []
        for _, _, position in found:
            article_id = index.articles[index.passage_article[position]].id
            if article_id not in out:
                out.append(article_id)
        return out

    return search


def tantivy_search(index: SearchIndex, path: Path) -> tuple[Callable[[str], list[str]], float]:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=False)
    builder.add_text_field("article", stored=True, tokenizer_name="raw")
    schema = builder.build()
    started = time.perf_counter()
    tindex = tantivy.Index(schema, path=str(path))
    writer = tindex.writer(heap_size=256_000_000, num_threads=2)
    for i in range(index.passage_count):
        writer.add_document(tantivy.Document(body=index.passage_text(i),
                                             article=index.articles[index.passage_article[i]].id))
    writer.commit()
    writer.wait_merging_threads()
    tindex.reload()
    build_s = time.perf_counter() - started
    searcher = tindex.searcher()

    def search(q: str) -> list[str]:
        from bot.corpus.text import terms

        clauses = []
        for term in terms(q):
            budget = typo_budget(term)
            query = (tantivy.Query.fuzzy_term_query(schema, "body", term, distance=budget, transposition_cost_one=True)
                     if budget else tantivy.Query.term_query(schema, "body", term))
            clauses.append((tantivy.Occur.Should, query))
        hits = searcher.search(tantivy.Query.boolean_query(clauses), 50).hits
        out: list[str] = []
        for _, address in hits:
            article_id = searcher.doc(address)["article"][0]
            if article_id not in out:
                out.append(article_id)
        return out

    return search, build_s


def rss_parts_mb() -> tuple[float, float]:
    """(anonymous, file-backed) resident memory: pages of a memory-mapped saved index are file-backed,
    shared by every process that maps it and reclaimable by the OS."""
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return tuple(int(fields[k].split()[0]) / 1e3 for k in ("RssAnon", "RssFile"))  # type: ignore[return-value]


def restarted(cache: Path, corpus_dir: Path) -> dict[str, float]:
    """Open the saved index in a new process, as a restarted bot does: seconds until search is ready,
    then until its people directory is read too, a first query, and the process's RSS at each step."""
    code = ("import sys, time, json; from pathlib import Path; from bot.library import load_saved; "
            "from bot.library.saved import saved_people; from bot.corpus import corpus_signature; "
            "from benchmarks.search_bench import rss_mb, rss_parts_mb; "
            "t = time.perf_counter(); sig = corpus_signature(Path(sys.argv[2])); "
            "s = load_saved(Path(sys.argv[1]), sig, with_people=False); assert s is not None; "
            "ready = time.perf_counter() - t; rss_ready = rss_mb(); anon_ready, file_ready = rss_parts_mb(); "
            "t = time.perf_counter(); s.search.search('tariffs china'); first = time.perf_counter() - t; "
            "t = time.perf_counter(); p = saved_people(Path(sys.argv[1]), sig); assert p is not None; "
            "people = time.perf_counter() - t; anon, file = rss_parts_mb(); "
            "print(json.dumps(dict(ready_s=ready, rss_ready=rss_ready, anon_ready=anon_ready, file_ready=file_ready, "
            "first_query_s=first, people_s=people, rss=rss_mb(), anon=anon, file=file)))")
    out = subprocess.run([sys.executable, "-c", code, str(cache), str(corpus_dir)], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.splitlines()[-1]
    return dict(json.loads(out))


FRESH_PREFIX = "zz-bench-fresh-"  # articles the fresh-article step adds to the corpus, and removes


def fresh_articles(snapshot: Snapshot, corpus_dir: Path, n: int = 10) -> tuple[float, float]:
    """Seconds until `n` new article files are searchable through a delta index (no rebuild), and
    until their deletion is; the corpus directory is left as it was."""
    from bot.corpus import Article, render_article
    from bot.library.fresh import DeltaState, apply_changes

    state = DeltaState()
    state.urls_of(snapshot.search.index)  # (the bot does this once per main index)
    rng = random.Random()
    words = ["".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(12)) for _ in range(n)]  # in no corpus
    paths = [corpus_dir / f"{FRESH_PREFIX}{w}.md" for w in words]
    try:
        t0 = time.perf_counter()
        for word, path in zip(words, paths):
            article = Article(id=path.stem, title=f"Quokka exporters weigh {word} tariffs", publisher="Bench Wire",
                              url=f"https://bench.example/{word}", published=dt.date.today(),
                              paragraphs=[f"Exporters of {word} said new tariffs would hit them hard."])  # type: ignore[call-arg]
            path.write_text(render_article(article), encoding="utf-8")
        added = apply_changes(snapshot, corpus_dir, state)
        assert added is not None and all(added.search.search(w).results for w in words)
        add_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for path in paths:
            path.unlink()
        removed = apply_changes(added, corpus_dir, state)
        assert removed is not None and not any(removed.search.search(w).results for w in words)
        return add_s, time.perf_counter() - t0
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


@dataclass
class Options:
    n_queries: int
    with_tantivy: bool
    with_naive: bool
    workers: int
    rounds: int
    misspelt: bool
    who_queries: int
    who_scan_seconds: float


def bench_size(size: int, data_dir: Path, opts: Options) -> None:
    n_queries, with_tantivy, with_naive, workers, rounds = (opts.n_queries, opts.with_tantivy, opts.with_naive,
                                                             opts.workers, opts.rounds)
    name = f"{size}-misspelt" if opts.misspelt else str(size)
    for leftover in (data_dir / name).glob(f"{FRESH_PREFIX}*.md"):  # from a run that was killed
        leftover.unlink()
    corpus_dir = generate(ROOT / "corpus", data_dir / name, size, misspell_rate=MISSPELL_RATE if opts.misspelt else 0.0)
    gc.collect()
    rss0 = rss_mb()
    t0 = time.perf_counter()
    corpus, index = load_and_index(corpus_dir, workers=workers)
    ready_s = time.perf_counter() - t0
    engine = SearchEngine(index)
    rss_search = rss_mb() - rss0
    peak_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # (this process: not its workers)
    snapshot = Snapshot(corpus, engine, None, corpus_signature(corpus_dir), ready_s)
    t0 = time.perf_counter()
    snapshot = with_people_added(snapshot, corpus_dir)
    people_s = time.perf_counter() - t0
    settle_memory()
    rss_all = rss_mb()
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        save_snapshot(Path(cache), snapshot)
        save_s = time.perf_counter() - t0
        again = restarted(Path(cache), corpus_dir)
        saved_mb = sum(f.stat().st_size for f in Path(cache).rglob("*") if f.is_file()) / 1e6
    kind = f", one word in {round(1 / MISSPELL_RATE):,} misspelt" if opts.misspelt else ""
    print(f"\n=== {size:,} articles{kind}: {index.passage_count:,} passages, {len(index.vocab):,} distinct terms")
    processes = f"{workers} processes" if workers > 1 and size >= MIN_FILES_FOR_WORKERS else "1 process"
    print(f"tradebot: ready to search in {ready_s:.1f}s (load + index, {processes}), RSS +{rss_search:.0f} MB (peak {peak_build:.0f} MB); "
          f"people directory +{people_s:.1f}s, process RSS {rss_all:.0f} MB; save {save_s:.1f}s ({saved_mb:.0f} MB)")
    print(f"restart from the saved index (a new process): search ready in {again['ready_s']:.2f}s, RSS "
          f"{again['rss_ready']:.0f} MB ({again['anon_ready']:.0f} anonymous + {again['file_ready']:.0f} mapped); "
          f"first query {again['first_query_s'] * 1000:.0f} ms; people read +{again['people_s']:.2f}s, RSS "
          f"{again['rss']:.0f} MB ({again['anon']:.0f} + {again['file']:.0f} mapped)")
    add_s, remove_s = fresh_articles(snapshot, corpus_dir)
    print(f"fresh articles: 10 new files searchable after {add_s:.2f}s, their deletion after {remove_s:.2f}s "
          "(a delta index beside the main one, no rebuild)")
    by_id = {a.id: i for i, a in enumerate(index.articles)}
    queries = make_queries(index, n_queries)
    searches: dict[str, Callable[[str], list[str]]] = {
        "tradebot": lambda q: [h.article_id for h in engine.search(q).results]}
    notes: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tdir:
        if with_tantivy:
            try:
                searches["tantivy"], build_s = tantivy_search(index, Path(tdir))
                notes["tantivy"] = f"index build {build_s:.1f}s"
            except ImportError:
                notes["tantivy"] = "skipped: pip install -e '.[bench]'"
        results = run_interleaved(searches, queries, index, by_id, rounds)
    for result in results:
        result.note = notes.get(result.name, "")
    if with_tantivy and "tantivy" not in searches:
        results.append(Result("tantivy", note=notes["tantivy"]))
    if with_naive:
        search = naive_search(index)
        t0 = time.perf_counter()
        search(queries[0].text)
        first = time.perf_counter() - t0
        if first > NAIVE_BUDGET_S:
            results.append(Result("naive", note=f"skipped: one query took {first:.1f}s (> {NAIVE_BUDGET_S:.0f}s)"))
        else:
            results.append(run_engine("naive", search, queries[: max(20, n_queries // 5)], index, by_id, NAIVE_BUDGET_S))
    base = results[0]
    print(f"{'engine':<9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p99 vs tradebot':>16} "
          f"{'P@5 all':>8} {'P@5 typo':>9}  note")
    for r in results:
        if not r.latencies_ms:
            print(f"{r.name:<9} {'-':>8} {'-':>8} {'-':>8} {'-':>16} {'-':>8} {'-':>9}  {r.note}")
            continue
        ratio = r.pct(99) / base.pct(99)
        print(f"{r.name:<9} {r.pct(50):>8.1f} {r.pct(95):>8.1f} {r.pct(99):>8.1f} {ratio:>15.1f}x "
              f"{statistics.mean(r.precision or [0]):>8.2f} {statistics.mean(r.typo_precision or [0]):>9.2f}  {r.note}")
    if snapshot.people is not None and opts.who_queries:
        who_bench.report(snapshot.people, opts.who_queries, rounds, opts.who_scan_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="times over the query mix (latency samples)")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TRADEBOT_BENCH_DATA", "bench-data")))
    parser.add_argument("--no-tantivy", action="store_true")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 4),
                        help="processes that load and tokenise (the bot's TRADEBOT_BUILD_WORKERS)")
    parser.add_argument("--corpus", choices=["clean", "misspelt"], default="clean",
                        help=f"misspelt: one word in {round(1 / MISSPELL_RATE):,} of the text misspelt")
    parser.add_argument("--who-queries", type=int, default=300, help="`who` lookups timed (0: none)")
    parser.add_argument("--who-scan-seconds", type=float, default=10.0,
                        help="time given to the former scan over every person (0: skip it)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; corpus cache in {args.data}/")
    opts = Options(args.queries, not args.no_tantivy, not args.no_naive, args.workers, args.rounds,
                   args.corpus == "misspelt", args.who_queries, args.who_scan_seconds)
    for size in args.sizes:
        bench_size(size, args.data, opts)


if __name__ == "__main__":
    main()
