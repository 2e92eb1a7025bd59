"""`tradebot ingest` and `tradebot corpus`: captures into articles, and what the corpus holds."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from bot.cli.errors import CliError, Exit
from bot.cli.registry import Command, Subparsers, add_corpus_option
from bot.corpus import load_corpus
from bot.settings import Settings


def _source_date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise CliError(f"--published must be a date like 2025-06-01, not {text!r}") from None


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.corpus.ingest import CaptureSource, ingest_file, ingest_seeds

    corpus_dir = settings.corpus_dir
    if args.paths:
        source = CaptureSource(title=args.title, publisher=args.publisher, url=args.url,
                               published=_source_date(args.published))
        reports = [ingest_file(Path(p), source, corpus_dir) for p in args.paths]
    else:
        if not settings.seeds_dir.is_dir():
            raise CliError(f"seeds directory not found: {settings.seeds_dir}")
        reports = ingest_seeds(settings.seeds_dir, corpus_dir)
    failed = 0
    for r in reports:
        if r.error:
            failed += 1
            print(f"{r.source_file}: SKIPPED ({r.error})")
        else:
            state = "written" if r.written else "unchanged"
            print(f"{r.source_file} -> {r.article_id}.md ({state}): kept {r.kept} paragraphs, "
                  f"dropped {r.dropped} furniture lines, {r.teasers} teaser paragraphs")
    print(f"{len(reports) - failed} articles in {corpus_dir}/, {failed} captures skipped")
    if failed and failed == len(reports):
        raise CliError(f"no capture could be ingested ({failed} skipped)", Exit.FAILED)
    return Exit.OK


def cmd_corpus(args: argparse.Namespace, settings: Settings) -> int:
    corpus = load_corpus(settings.corpus_dir)
    for a in corpus.articles:
        print(f"{a.published}  {a.publisher[:28]:<28}  {len(a.paragraphs):>3} ¶  {a.id}\n{'':12}{a.title}")
    for s in corpus.skipped:
        print(f"SKIPPED {s.path}: {s.reason}")
    print(f"{len(corpus.articles)} articles loaded, {len(corpus.skipped)} files skipped")
    return Exit.OK


def register(sub: Subparsers) -> dict[str, Command]:
    p = sub.add_parser("ingest", help="turn page captures into clean corpus articles")
    p.add_argument("paths", nargs="*", help="raw text captures to add (default: every capture in --seeds)")
    p.add_argument("--seeds", help="directory of captures with sources.json (default: TRADEBOT_SEEDS, else seeds/)")
    add_corpus_option(p)
    p.add_argument("--title", help="headline, when the capture has none")
    p.add_argument("--publisher", help="publisher name")
    p.add_argument("--url", help="source URL")
    p.add_argument("--published", help="publication date, YYYY-MM-DD")

    p = sub.add_parser("corpus", help="list the loaded articles and any skipped files")
    add_corpus_option(p)
    return {"ingest": Command(cmd_ingest), "corpus": Command(cmd_corpus)}
