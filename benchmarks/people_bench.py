"""People directory benchmark: the first build in its worker process, then the updates a feed makes.

    python -m benchmarks.people_bench --articles 30000 --new 20

On a copy (hard links) of the synthetic corpus of `--articles`: the directory built from scratch
in this process (the way every build went before the worker kept per-article results), the first
build in the worker process (`PeopleWorker`, as the bot does it), then `--new` new articles added,
then `--new` existing articles changed, each followed by the worker's update, then one more
article once the worker has ended idle (a new worker takes up what it kept). Per step: wall time
(articles sent and the directory unpickled in parts included; loading the corpus not), how many
articles the worker read, and whether the directory equals one built from scratch.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.synth import Generator, generate
from bot.corpus import corpus_signature, load_corpus, render_article
from bot.library.people import PeopleWorker
from bot.people import PeopleDirectory, build_directory

ROOT = Path(__file__).resolve().parent.parent


def same(a: PeopleDirectory, b: PeopleDirectory) -> str:
    return "yes" if [p.to_json() for p in a.people] == [p.to_json() for p in b.people] else "NO"


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=30_000)
    parser.add_argument("--new", type=int, default=20, help="articles added, then articles changed")
    parser.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 4),
                        help="helper processes for the first build (TRADEBOT_BUILD_WORKERS)")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TRADEBOT_BENCH_DATA", "bench-data")))
    args = parser.parse_args()
    source = generate(ROOT / "corpus", (args.data / str(args.articles)).resolve(), args.articles)
    work = Path(tempfile.mkdtemp(prefix="people-", dir=args.data.resolve()))
    corpus_dir = work / "corpus"
    corpus_dir.mkdir()
    for path in source.glob("*.md"):
        os.link(path, corpus_dir / path.name)
    worker = PeopleWorker(helpers=args.workers)
    rows: list[tuple[str, float, int | str, str]] = []
    try:
        corpus = load_corpus(corpus_dir)
        t0 = time.perf_counter()
        scratch = build_directory(corpus)
        rows.append(("from scratch, in this process", time.perf_counter() - t0, len(corpus.articles), "-"))
        t0 = time.perf_counter()
        first = worker.build(corpus, corpus_signature(corpus_dir), corpus_dir / "people.yml", files=corpus_dir)
        rows.append(("first build, worker", time.perf_counter() - t0, worker.read, same(first, scratch)))
        generator = Generator(ROOT / "corpus", args.articles + args.new + 1)
        for i in range(args.articles, args.articles + args.new):
            add_one(corpus_dir, generator, i)
        rows.append(step(worker, corpus_dir, f"{args.new} articles added"))
        for path in sorted(corpus_dir.glob("*.md"))[: args.new]:
            text = path.read_text(encoding="utf-8")
            path.unlink()  # a new file: its hard-linked original in bench-data stays as it was
            path.write_text(text + "\nUS Trade Representative Jamieson Greer said the talks would go on.\n",
                            encoding="utf-8")
        rows.append(step(worker, corpus_dir, f"{args.new} articles changed"))
        worker.idle_seconds = 1.0  # the bot's worker ends after IDLE_SECONDS without work, its results kept
        worker.keep(work / "people-worker.pickle")
        t0 = time.perf_counter()
        while worker.running and time.perf_counter() - t0 < 300:
            time.sleep(0.1)
        rows.append(("(idle worker ended, results kept)", time.perf_counter() - t0, 0, "-"))
        add_one(corpus_dir, generator, args.articles + args.new)
        rows.append(step(worker, corpus_dir, "1 article added, new worker"))
    finally:
        worker.close()
        shutil.rmtree(work, ignore_errors=True)
    print(f"people directory, {args.articles:,} articles ({os.cpu_count()} cores):")
    print(f"{'':<34}{'seconds':>8} {'articles read':>14} {'same as from scratch':>21}")
    for name, seconds, read, equal in rows:
        print(f"{name:<34}{seconds:>8.1f} {read:>14} {equal:>21}")


def add_one(corpus_dir: Path, generator: Generator, i: int) -> None:
    article = generator.article(i)
    (corpus_dir / f"{article.id}.md").write_text(render_article(article), encoding="utf-8")


def step(worker: PeopleWorker, corpus_dir: Path, name: str) -> tuple[str, float, int, str]:
    corpus = load_corpus(corpus_dir)
    t0 = time.perf_counter()
    updated = worker.build(corpus, corpus_signature(corpus_dir), corpus_dir / "people.yml", files=corpus_dir)
    took = time.perf_counter() - t0
    return (f"update: {name}", took, worker.read, same(updated, build_directory(corpus)))


if __name__ == "__main__":
    main()
