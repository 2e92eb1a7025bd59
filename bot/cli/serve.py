"""`tradebot run`, `try` and `fake-slack`: the Slack app for real, against the fake, or the fake alone."""

from __future__ import annotations

import argparse
import asyncio
import logging

from bot.cli.errors import CliError, Exit
from bot.cli.registry import Command, Subparsers, add_corpus_option
from bot.settings import Settings


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.service import BotService
    from bot.store import StoreUnavailable
    from bot.store.migrations import SchemaTooNew

    settings.require_slack()  # before anything starts: the missing variable, named
    logging.getLogger().setLevel(settings.log_level.upper())
    try:
        asyncio.run(BotService(settings).run_forever())
    except OSError as exc:  # e.g. the port is taken, Slack unreachable at start
        raise CliError(f"tradebot run stopped: {exc}", Exit.FAILED) from None
    except SchemaTooNew as exc:  # migrations run on start: a newer tradebot upgraded this database
        raise CliError(f"tradebot run stopped: {exc}", Exit.FAILED) from None
    except StoreUnavailable as exc:
        raise CliError(f"tradebot run stopped: cannot reach the database: {exc}", Exit.FAILED) from None
    return Exit.OK


def cmd_try(args: argparse.Namespace, settings: Settings) -> int:
    """Only the corpus comes from the settings: the harness session builds its own, isolated ones."""
    from bot.harness.tryout import run_try

    if not settings.corpus_dir.is_dir():  # a mistyped --corpus, as `tradebot search` reports it
        raise CliError(f"corpus directory not found: {settings.corpus_dir}")
    logging.getLogger().setLevel(logging.ERROR)
    return asyncio.run(run_try(settings.corpus_dir, [args.text] if args.text else [], args.click, args.json))


def cmd_fake_slack(args: argparse.Namespace, settings: Settings) -> int:
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
    except OSError as exc:
        raise CliError(f"cannot serve on port {args.port}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        pass  # the way to stop it
    return Exit.OK


def register(sub: Subparsers) -> dict[str, Command]:
    sub.add_parser("run", help="run the Slack app (Socket Mode or HTTP, from the settings)")

    p = sub.add_parser("try", help="try the bot locally against a fake Slack (no tokens needed)")
    p.add_argument("text", nargs="?", metavar="COMMAND",
                   help='e.g. "/trade tariffs china"; none for an interactive prompt')
    p.add_argument("--click", action="append", default=[], metavar="BUTTON", help="press a button in the last answer")
    p.add_argument("--json", action="store_true", help="print the raw payloads that reached the fake Slack")
    add_corpus_option(p)

    p = sub.add_parser("fake-slack", help="run the fake Slack alone, for a separately started `tradebot run`")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    return {"run": Command(cmd_run), "try": Command(cmd_try),
            "fake-slack": Command(cmd_fake_slack, reads_settings=False)}
