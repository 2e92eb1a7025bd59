"""`tradebot digest`: today's digest outside the scheduler (e.g. from cron), previewed or posted.

The preview is `bot.cli.digest_text` (terminal text from the typed `Digest`); `--json`
prints the Block Kit payload Slack would get; `--post` posts exactly once per channel and day.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt

from bot.cli.digest_text import format_digest, plain
from bot.cli.errors import CliError, Exit
from bot.cli.output import print_json
from bot.cli.registry import Command, Subparsers, add_corpus_option
from bot.common.clock import SystemClock
from bot.digest.records import DigestOutcome
from bot.digest.scheduler import DigestScheduler, compose_digest
from bot.digest.store import DigestStore
from bot.library import Library
from bot.settings import Settings
from bot.store import open_database


async def run_digest_command(settings: Settings, *, channel: str | None, post: bool, as_json: bool) -> int:
    channels = [channel] if channel else settings.digest_channels
    if not channels:
        raise CliError("no channel: set DIGEST_CHANNEL or pass --channel")
    if post and settings.slack_bot_token is None:
        raise CliError("SLACK_BOT_TOKEN is not set; --post needs it")
    library = Library(settings.corpus_dir)
    if library.load() is None:
        raise CliError(f"{library.error}; digest skipped")
    clock = SystemClock()
    database = open_database(settings.resolved_database_url)
    store = DigestStore(database, clock)
    today = clock.now().astimezone(settings.zone).date()
    try:
        if post:
            return await _post(settings, library, store, clock, channels, today)
        from bot.slack.ui.digest import digest_message

        for name in channels:
            digest = compose_digest(library, store, "", name, today, settings.digest_max_items)
            assert digest is not None  # the library has loaded
            if as_json:
                print_json({"channel": name, "date": today.isoformat(), **digest_message(digest).payload()})
            else:
                print(f"# {plain(name)}\n{format_digest(digest)}\n")
    finally:
        database.close()
    return Exit.OK


async def _post(settings: Settings, library: Library, store: DigestStore, clock: SystemClock,
                channels: list[str], today: dt.date) -> int:
    from bot.slack.client import make_client
    from bot.slack.credentials import reveal
    from bot.slack.digest import SlackDigestSender
    from bot.slack.workspaces import SingleWorkspace

    client = make_client(reveal(settings.slack_bot_token), settings.slack_api_url)
    scheduler = DigestScheduler(settings, library, store, SlackDigestSender(SingleWorkspace(client)), clock)
    failed = []
    for name in channels:
        outcome = await scheduler.run_channel("", name, today)
        record = store.get("", name, today)
        why = f" ({record.error})" if outcome is DigestOutcome.FAILED and record and record.error else ""
        print(f"{plain(name)}: {outcome}{why}")
        if outcome is DigestOutcome.FAILED:
            failed.append(plain(name))
    if failed:
        raise CliError(f"the digest was not posted to {', '.join(failed)}", Exit.FAILED)
    return Exit.OK


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(run_digest_command(settings, channel=args.channel, post=args.post, as_json=args.json))


def register(sub: Subparsers) -> dict[str, Command]:
    p = sub.add_parser("digest", help="build the daily digest now (dry run by default), or --post it")
    p.add_argument("--channel", help="only this channel (default: DIGEST_CHANNEL)")
    p.add_argument("--post", action="store_true", help="post it to Slack (exactly once per channel and day)")
    p.add_argument("--dry-run", action="store_true", help="print it without posting (the default)")
    p.add_argument("--json", action="store_true", help="print the Block Kit payload as JSON")
    add_corpus_option(p)
    return {"digest": Command(cmd_digest)}
