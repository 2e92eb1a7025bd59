"""`tradebot` command line: parses arguments and calls the library; no logic of its own."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.corpus import CorpusUnavailable, load_corpus
from bot.settings import SettingsError, load_settings

if TYPE_CHECKING:
    from bot.library import Snapshot
    from bot.people import PeopleDirectory

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    def register(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = func
        return func

    return register


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str))


def _corpus_dir(args: argparse.Namespace) -> Path:
    return Path(args.corpus) if getattr(args, "corpus", None) else load_settings().corpus_dir


@command("ingest")
def cmd_ingest(args: argparse.Namespace) -> int:
    from bot.corpus.ingest import CaptureSource, ingest_file, ingest_seeds

    corpus_dir = _corpus_dir(args)
    if args.paths:
        published = dt.date.fromisoformat(args.published) if args.published else None
        source = CaptureSource(title=args.title, publisher=args.publisher, url=args.url, published=published)
        reports = [ingest_file(Path(p), source, corpus_dir) for p in args.paths]
    else:
        seeds = Path(args.seeds) if args.seeds else load_settings().seeds_dir
        if not seeds.is_dir():
            print(f"error: seeds directory not found: {seeds}", file=sys.stderr)
            return 2
        reports = ingest_seeds(seeds, corpus_dir)
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
    return 1 if failed and failed == len(reports) else 0


@command("corpus")
def cmd_corpus(args: argparse.Namespace) -> int:
    corpus = load_corpus(_corpus_dir(args))
    for a in corpus.articles:
        print(f"{a.published}  {a.publisher[:28]:<28}  {len(a.paragraphs):>3} ¶  {a.id}\n{'':12}{a.title}")
    for s in corpus.skipped:
        print(f"SKIPPED {s.path}: {s.reason}")
    print(f"{len(corpus.articles)} articles loaded, {len(corpus.skipped)} files skipped")
    return 0


def _snapshot(args: argparse.Namespace, *, with_people: bool) -> Snapshot:
    """From the saved index (`TRADEBOT_INDEX_CACHE`) when it matches the corpus, else built."""
    from bot.common.progress import bar_progress
    from bot.library import open_snapshot

    settings = load_settings()
    corpus_dir = Path(args.corpus) if getattr(args, "corpus", None) else settings.corpus_dir
    return open_snapshot(corpus_dir, settings.index_cache_dir, with_people=with_people,
                         progress=bar_progress("indexing"), workers=settings.build_workers)


def _people(args: argparse.Namespace) -> PeopleDirectory:
    directory = _snapshot(args, with_people=True).people
    assert directory is not None  # asked for with_people
    return directory


@command("search")
def cmd_search(args: argparse.Namespace) -> int:
    from bot.answers import compose
    from bot.cli.render import render_answer

    engine = _snapshot(args, with_people=False).search
    queries = [args.query] if args.query is not None else []
    if args.queries_file:
        queries += [line.rstrip("\n") for line in Path(args.queries_file).read_text(encoding="utf-8").splitlines()]
    if not queries:
        print("error: give a QUERY or --queries-file", file=sys.stderr)
        return 2
    for query in queries:
        response = engine.search(query, limit=args.limit)
        if args.json:
            _print_json(response.model_dump(mode="json"))
        else:
            print(render_answer(compose.search_page(response, key=None)) + "\n")
    return 0


@command("who")
def cmd_who(args: argparse.Namespace) -> int:
    from bot.answers import persons
    from bot.cli.render import render_answer

    people = _people(args)
    matches = people.lookup(args.name)
    if args.json:
        _print_json({"query": args.name, "matches": [m.person.to_json() for m in matches]})
        return 0
    if not matches:
        print(render_answer(persons.person_not_found(args.name, people.suggest(args.name))))
        return 0
    for match in matches:  # a terminal has no buttons to pick with: every match's card
        print(render_answer(persons.person_card(args.name, match.person, key=None)) + "\n")
    return 0


@command("people")
def cmd_people(args: argparse.Namespace) -> int:
    from bot.cli.render import format_people

    people = _people(args).people
    if args.json:
        _print_json({"people": [p.to_json() for p in people]})
        return 0
    print(format_people(people))
    return 0


@command("run")
def cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    from bot.service import BotService

    settings = load_settings()
    settings.require_slack()
    logging.getLogger().setLevel(settings.log_level.upper())
    asyncio.run(BotService(settings).run_forever())
    return 0


@command("try")
def cmd_try(args: argparse.Namespace) -> int:
    import asyncio

    from bot.harness.tryout import run_try

    logging.getLogger().setLevel(logging.ERROR)
    return asyncio.run(run_try(_corpus_dir(args), [args.text] if args.text else [], args.click, args.json))


@command("fake-slack")
def cmd_fake_slack(args: argparse.Namespace) -> int:
    import asyncio

    from bot.harness.fake_slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack

    async def serve() -> None:
        fake = FakeSlack()
        await fake.start(port=args.port)
        print(f"fake Slack at {fake.url}\n  SLACK_API_URL={fake.api_url}\n  SLACK_BOT_TOKEN={BOT_TOKEN}\n"
              f"  SLACK_APP_TOKEN={APP_TOKEN}\n  SLACK_SIGNING_SECRET={SIGNING_SECRET}\n"
              f"  recorded calls: GET {fake.url}/_calls; program a failure: POST {fake.url}/_fail", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0


@command("digest")
def cmd_digest(args: argparse.Namespace) -> int:
    import asyncio

    from bot.cli.digest import run_digest_command

    settings = load_settings()
    if args.corpus:
        settings.corpus_dir = Path(args.corpus)
    return asyncio.run(run_digest_command(settings, channel=args.channel, post=args.post, as_json=args.json))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradebot", description="Trade-negotiation news in Slack.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="turn page captures into clean corpus articles")
    p.add_argument("paths", nargs="*", help="raw text captures to add (default: every capture in --seeds)")
    p.add_argument("--seeds", help="directory of captures with sources.json (default: seeds/)")
    p.add_argument("--corpus", help="corpus directory (default: corpus/)")
    p.add_argument("--title", help="headline, when the capture has none")
    p.add_argument("--publisher", help="publisher name")
    p.add_argument("--url", help="source URL")
    p.add_argument("--published", help="publication date, YYYY-MM-DD")

    p = sub.add_parser("corpus", help="list the loaded articles and any skipped files")
    p.add_argument("--corpus", help="corpus directory (default: corpus/)")

    p = sub.add_parser("search", help="search the corpus")
    p.add_argument("query", nargs="?", help='e.g. "tariffs china" or "\\"rare earths\\" -nvidia since:2025-06-01"')
    p.add_argument("--limit", type=int, default=5, help="articles to show (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON object per query")
    p.add_argument("--queries-file", help="run one query per line with a single index load")
    p.add_argument("--corpus", help="corpus directory (default: corpus/)")

    p = sub.add_parser("who", help="who is someone in the news")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.add_argument("--corpus", help="corpus directory (default: corpus/)")

    p = sub.add_parser("people", help="everyone in the news, most mentioned first")
    p.add_argument("--json", action="store_true")
    p.add_argument("--corpus", help="corpus directory (default: corpus/)")

    sub.add_parser("run", help="run the Slack app (Socket Mode or HTTP, from the settings)")

    p = sub.add_parser("try", help="try the bot locally against a fake Slack (no tokens needed)")
    p.add_argument("text", nargs="?", metavar="COMMAND",
                   help='e.g. "/trade tariffs china"; none for an interactive prompt')
    p.add_argument("--click", action="append", default=[], metavar="BUTTON", help="press a button in the last answer")
    p.add_argument("--json", action="store_true", help="print the raw payloads that reached the fake Slack")
    p.add_argument("--corpus", help="corpus directory (default: corpus/)")

    p = sub.add_parser("fake-slack", help="run the fake Slack alone, for a separately started `tradebot run`")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")

    p = sub.add_parser("digest", help="build the daily digest now (dry run by default), or --post it")
    p.add_argument("--channel", help="only this channel (default: DIGEST_CHANNEL)")
    p.add_argument("--post", action="store_true", help="post it to Slack (exactly once per channel and day)")
    p.add_argument("--dry-run", action="store_true", help="print it without posting (the default)")
    p.add_argument("--json", action="store_true", help="print the Block Kit payload as JSON")
    p.add_argument("--corpus", help="corpus directory (default: corpus/)")
    from bot.cli.feeds import register as register_feeds
    COMMANDS.update(register_feeds(sub))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except (CorpusUnavailable, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
