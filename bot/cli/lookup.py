"""`tradebot search`, `who` and `people`: the answers `/trade` gives, as terminal text or JSON."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.errors import CliError, Exit
from bot.cli.output import print_json
from bot.cli.registry import Command, Subparsers, add_corpus_option, positive_int
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.library import Snapshot
    from bot.people import PeopleDirectory


def _snapshot(settings: Settings, *, with_people: bool) -> Snapshot:
    """From the saved index (`TRADEBOT_INDEX_CACHE`) when it matches the corpus, else built."""
    from bot.common.progress import bar_progress
    from bot.library import open_snapshot

    return open_snapshot(settings.corpus_dir, settings.index_cache_dir, with_people=with_people,
                         progress=bar_progress("indexing"), workers=settings.build_workers)


def _people(settings: Settings) -> PeopleDirectory:
    directory = _snapshot(settings, with_people=True).people
    assert directory is not None  # asked for with_people
    return directory


def _queries(args: argparse.Namespace) -> list[str]:
    queries = [args.query] if args.query is not None else []
    if args.queries_file:
        try:
            text = Path(args.queries_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read --queries-file {args.queries_file}: {exc}") from None
        queries += text.splitlines()
    if not queries:
        raise CliError("give a QUERY or --queries-file")
    return queries


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answers import compose
    from bot.cli.render import render_answer

    queries = _queries(args)  # before the index load: a usage error should not wait for it
    engine = _snapshot(settings, with_people=False).search
    for query in queries:
        response = engine.search(query, limit=args.limit)
        if args.json:
            print_json(response.model_dump(mode="json"))
        else:
            print(render_answer(compose.search_page(response, key=None)) + "\n")
    return Exit.OK


def cmd_who(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answers import persons
    from bot.cli.render import render_answer

    people = _people(settings)
    matches = people.lookup(args.name)
    if args.json:
        print_json({"query": args.name, "matches": [m.person.to_json() for m in matches]})
        return Exit.OK
    if not matches:
        print(render_answer(persons.person_not_found(args.name, people.suggest(args.name))))
        return Exit.OK
    for match in matches:  # a terminal has no buttons to pick with: every match's card
        print(render_answer(persons.person_card(args.name, match.person, key=None)) + "\n")
    return Exit.OK


def cmd_people(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.render import format_people

    people = _people(settings).people
    if args.json:
        print_json({"people": [p.to_json() for p in people]})
    else:
        print(format_people(people))
    return Exit.OK


def register(sub: Subparsers) -> dict[str, Command]:
    p = sub.add_parser("search", help="search the corpus")
    p.add_argument("query", nargs="?", help='e.g. "tariffs china" or "\\"rare earths\\" -nvidia since:2025-06-01"')
    p.add_argument("--limit", type=positive_int, default=5, help="articles to show (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON object per query")
    p.add_argument("--queries-file", help="run one query per line with a single index load")
    add_corpus_option(p)

    p = sub.add_parser("who", help="who is someone in the news")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    add_corpus_option(p)

    p = sub.add_parser("people", help="everyone in the news, most mentioned first")
    p.add_argument("--json", action="store_true")
    add_corpus_option(p)
    return {"search": Command(cmd_search), "who": Command(cmd_who), "people": Command(cmd_people)}
