"""`tradebot feeds add|list|remove`, `tradebot fetch` and `tradebot add`: the feed machinery from
the command line. Results go to stdout (`--json` for scripts), progress to stderr; a refused
URL or feed is a usage error (exit 2), a fetch where every feed failed exits 1."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.errors import CliError, Exit
from bot.cli.output import print_json
from bot.cli.registry import Command, Subparsers, add_corpus_option
from bot.feeds.models import AddRefused, EntryOutcome, FeedReport
from bot.feeds.safety import UnsafeURL
from bot.settings import Settings

if TYPE_CHECKING:  # the feed service pulls in the page extractor: loaded only by these commands
    from bot.feeds.service import FeedService
    from bot.feeds.store import FeedRecord


def _service(settings: Settings) -> FeedService:
    from bot.feeds.service import FeedService

    return FeedService(settings)


def _outcome_line(o: EntryOutcome) -> str:
    if o.status == "added":
        note = f" [{o.reason}]" if o.reason else ""
        return f"  added   {o.published}  {o.publisher}: {o.title}  ({o.url}) -> {o.article_id}.md{note}"
    return f"  skipped {o.title or o.url or '(entry)'}: {o.reason}"


def _status_of(record: FeedRecord) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude={"etag", "last_modified"})


def cmd_feeds(args: argparse.Namespace, settings: Settings) -> int:
    service = _service(settings)
    try:
        if args.feeds_command == "add":
            try:
                added = service.add_feed(args.url, every_minutes=args.every)
            except (UnsafeURL, AddRefused) as exc:
                raise CliError(str(exc)) from None
            print(f"following {args.url}" if added else f"already following {args.url}")
            return Exit.OK
        if args.feeds_command == "remove":
            if not service.remove_feed(args.url):
                raise CliError(f"not following {args.url} (see `tradebot feeds list`)")
            print(f"stopped following {args.url}")
            return Exit.OK
        from bot.feeds.service import feed_label

        records = service.store.feeds()
        if args.json:
            print_json({"feeds": [_status_of(r) for r in records]})
            return Exit.OK
        if not records:
            print("no feeds yet: `tradebot feeds add URL`")
        for r in records:
            state = "active" if r.active else "stopped"
            success = f"{r.last_success_at:%Y-%m-%d %H:%M} UTC" if r.last_success_at else "never"
            print(f"{r.url}\n  {feed_label(r)} · {state} · every {r.interval_s // 60} min · last success {success}"
                  f" · {r.articles_added} articles added\n  status: {r.last_status or 'not polled yet'}"
                  + (f"\n  last error: {r.last_error}" if r.last_error and r.last_error != r.last_status else ""))
        return Exit.OK
    finally:
        asyncio.run(service.close())


async def _fetch(service: FeedService, as_json: bool) -> int:
    records = [r for r in service.store.feeds() if r.active]
    waiting = {r.url: when for r in records if (when := service.pending_retry(r)) is not None}
    to_poll = [r for r in records if r.url not in waiting]
    if not records:
        print("no feeds to poll: `tradebot feeds add URL`", file=sys.stderr)

    def progress(report: FeedReport, done: int, total: int) -> None:
        print(f"[{done}/{total}] {report.feed_url}: {report.status}", file=sys.stderr, flush=True)

    if to_poll:
        print(f"polling {len(to_poll)} feed{'s' * (len(to_poll) != 1)}…", file=sys.stderr, flush=True)
    try:
        reports = await service.ingester.poll_all(to_poll, on_done=progress)
    finally:
        await service.close()
    for url, when in waiting.items():
        reports.append(FeedReport(feed_url=url, ok=False, status=f"backing off until {when:%Y-%m-%d %H:%M} UTC "
                                  "(after failures or a Retry-After); not polled", next_poll_at=when))
    if as_json:
        print_json({"feeds": [r.model_dump(mode="json") for r in reports],
                     "added": sum(len(r.added) for r in reports), "skipped": sum(len(r.skipped) for r in reports)})
    else:
        for report in reports:
            print(f"{report.feed_url}: {report.status}")
            for outcome in [*report.added, *report.skipped]:
                print(_outcome_line(outcome))
        print(f"{sum(len(r.added) for r in reports)} articles added from {len(reports)} feeds")
    if reports and not any(r.ok for r in reports):
        raise CliError(f"no feed could be polled ({len(reports)} failed or backing off)", Exit.FAILED)
    return Exit.OK


def cmd_fetch(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_fetch(_service(settings), args.json))


async def _add(service: FeedService, url: str, as_json: bool) -> int:
    try:
        if sys.stderr.isatty():
            print(f"fetching {url}…", file=sys.stderr, flush=True)
        outcome = await service.ingester.add_url(url.strip())
    except (UnsafeURL, AddRefused) as exc:  # refused: a URL that may not or cannot be added
        raise CliError(str(exc)) from None
    finally:
        await service.close()
    if as_json:
        print_json(outcome.model_dump(mode="json"))
    else:
        print(_outcome_line(outcome).strip())
    return Exit.OK


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_add(_service(settings), args.url, args.json))


def register(sub: Subparsers) -> dict[str, Command]:
    """Add the parsers to `tradebot`'s subcommands; returns the handlers by command name."""
    p = sub.add_parser("feeds", help="follow news feeds (RSS, Atom, JSON Feed): add, list, remove")
    feeds_sub = p.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    q = feeds_sub.add_parser("add", help="follow a feed")
    q.add_argument("url")
    q.add_argument("--every", type=float, metavar="MINUTES",
                   help="polling interval for this feed (default TRADEBOT_FEED_INTERVAL_MINUTES)")
    q = feeds_sub.add_parser("remove", help="stop following a feed")
    q.add_argument("url")
    q = feeds_sub.add_parser("list", help="the feeds with their status")
    q.add_argument("--json", action="store_true")

    p = sub.add_parser("fetch", help="poll every feed once and add new articles to the corpus")
    p.add_argument("--json", action="store_true", help="print what was added and skipped as JSON")
    add_corpus_option(p)

    p = sub.add_parser("add", help="fetch one article page and add it to the corpus")
    p.add_argument("url")
    p.add_argument("--json", action="store_true")
    add_corpus_option(p)
    return {"feeds": Command(cmd_feeds), "fetch": Command(cmd_fetch), "add": Command(cmd_add)}
