"""`tradebot digest`: today's digest outside the scheduler (e.g. from cron), previewed or posted.

The preview renders the same typed `Digest` the Slack message is made from, as plain
terminal text; `--json` prints the Block Kit payload Slack would get.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence

from bot.common.clock import SystemClock
from bot.corpus.text import strip_controls
from bot.digest.content import Digest, DigestItem, WatchedTopic
from bot.digest.records import DigestOutcome
from bot.digest.scheduler import DigestScheduler, compose_digest
from bot.digest.store import DigestStore
from bot.library import Library
from bot.settings import Settings
from bot.slack.client import make_client
from bot.slack.digest import SlackDigestSender
from bot.slack.ui.digest import digest_message


def _plain(text: str) -> str:
    """Terminal-safe: no control characters (no escape sequences from an article reach the terminal)."""
    return strip_controls(text)


def _marked(snippet: str, spans: Sequence[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        if start >= last:
            out += [snippet[last:start], "**", snippet[start:end], "**"]
            last = end
    return _plain("".join(out) + snippet[last:])


def _titled(title: str, url: str | None) -> str:
    return _plain(title) + (f" ({_plain(url)})" if url else "")


def _item(item: DigestItem) -> list[str]:
    lines = [_titled(item.title, item.url), f"{_plain(item.publisher)} · {item.published:%d %b %Y}"]
    if item.lead:
        lines.append(_plain(item.lead))
    if item.also:
        lines.append("Also reported by " + ", ".join(_titled(s.publisher, s.url) for s in item.also))
    return lines


def _topic(topic: WatchedTopic) -> list[str]:
    head = f"Watching “{_plain(topic.topic)}”:"
    if not topic.hits:
        return [f"{head} nothing new."]
    return [head, *(f"• {_titled(h.title, h.url)}: {_marked(h.snippet, h.highlights)}" for h in topic.hits)]


def format_digest(digest: Digest) -> str:
    """The digest as terminal text, in the order and with the content of the Slack message."""
    title = f"Trade news digest — {digest.local_date:%A %d %B %Y}"
    lines = [title, "=" * len(title)]
    for item in digest.items:
        lines += [*_item(item), ""]
    if not digest.items:
        lines += ["Nothing new in the corpus since the last digest.", ""]
    if digest.more:
        lines += [f"…and {digest.more} more. Use `/trade latest 20` to see them.", ""]
    if digest.people:
        lines += ["In the news: " + ", ".join(_plain(p.name) + (f" ({_plain(p.role)})" if p.role else "")
                                               for p in digest.people), ""]
    for topic in digest.topics:
        lines += [*_topic(topic), ""]
    return "\n".join(lines).rstrip()


async def run_digest_command(settings: Settings, *, channel: str | None, post: bool, as_json: bool) -> int:
    channels = [channel] if channel else settings.digest_channels
    if not channels:
        print("error: no channel: set DIGEST_CHANNEL or pass --channel", file=sys.stderr)
        return 2
    if post and settings.slack_bot_token is None:
        print("error: SLACK_BOT_TOKEN is not set; --post needs it", file=sys.stderr)
        return 2
    library = Library(settings.corpus_dir)
    if library.load() is None:
        print(f"error: {library.error}; digest skipped", file=sys.stderr)
        return 2
    clock = SystemClock()
    store = DigestStore(settings.db_path, clock)
    today = clock.now().astimezone(settings.zone).date()
    try:
        if post:
            return await _post(settings, library, store, clock, channels, today)
        for name in channels:
            digest = compose_digest(library, store, name, today, settings.digest_max_items)
            assert digest is not None  # the library has loaded
            if as_json:
                payload = digest_message(digest).payload()
                print(json.dumps({"channel": name, "date": today.isoformat(), **payload}, ensure_ascii=False))
            else:
                print(f"# {_plain(name)}\n{format_digest(digest)}\n")
    finally:
        store.close()
    return 0


async def _post(settings: Settings, library: Library, store: DigestStore, clock: SystemClock,
                channels: list[str], today: dt.date) -> int:
    assert settings.slack_bot_token is not None  # checked before the corpus was loaded
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    scheduler = DigestScheduler(settings, library, store, SlackDigestSender(client), clock)
    status = 0
    for name in channels:
        outcome = await scheduler.run_channel(name, today)
        record = store.get(name, today)
        why = f" ({record.error})" if outcome is DigestOutcome.FAILED and record and record.error else ""
        print(f"{_plain(name)}: {outcome}{why}")
        status |= 1 if outcome is DigestOutcome.FAILED else 0
    return status
