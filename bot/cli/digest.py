"""`tradebot digest`: build (and with --post, post) today's digest outside the scheduler, e.g. from cron."""

from __future__ import annotations

import json
import sys

from bot.common.clock import SystemClock
from bot.digest.scheduler import DigestScheduler
from bot.digest.store import DigestStore
from bot.harness.render import render_blocks
from bot.library import Library
from bot.settings import Settings
from bot.slack.client import make_client


async def run_digest_command(settings: Settings, *, channel: str | None, post: bool, as_json: bool) -> int:
    channels = [channel] if channel else settings.digest_channels
    if not channels:
        print("error: no channel: set DIGEST_CHANNEL or pass --channel", file=sys.stderr)
        return 2
    library = Library(settings.corpus_dir)
    if library.load() is None:
        print(f"error: {library.error}; digest skipped", file=sys.stderr)
        return 2
    store = DigestStore(settings.db_path)
    clock = SystemClock()
    client = None
    if post:
        if settings.slack_bot_token is None:
            print("error: SLACK_BOT_TOKEN is not set; --post needs it", file=sys.stderr)
            return 2
        client = make_client(settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else "",
                             settings.slack_api_url)
    scheduler = DigestScheduler(settings, library, store, client, clock)
    today = clock.now().astimezone(settings.zone).date()
    status = 0
    try:
        for name in channels:
            if post:
                outcome = await scheduler.run_channel(name, today)
                print(f"{name}: {outcome}")
                status |= 1 if outcome.startswith("failed") else 0
                continue
            composed = scheduler.compose(name, today)
            assert composed is not None
            message, _ = composed
            if as_json:
                print(json.dumps({"channel": name, "date": today.isoformat(), **message.payload()}, ensure_ascii=False))
            else:
                print(f"# {name}\n{render_blocks(message.blocks)}\n")
    finally:
        store.close()
    return status
