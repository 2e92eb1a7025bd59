"""The one shape every listener has: ack at once, answer in the background, and on failure
tell the user (an old or malformed button: "that button has expired"; anything else: an
apology with the error id that is in the log)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from bot.slack.deps import Deps
from bot.slack.send import Reply, guarded
from bot.slack.ui.blocks import Message

DEPS_KEY = "tradebot_deps"


def deps_of(context: AsyncBoltContext) -> Deps:
    deps = context[DEPS_KEY]
    assert isinstance(deps, Deps), "register_all() installs the deps middleware"
    return deps


def action_ids(base: str) -> re.Pattern[str]:
    """`base` and `base-SUFFIX`: buttons of one kind in one block need distinct ids
    (`trade_pick-0`, `trade_pick-1`); old messages still carry the bare id."""
    return re.compile(rf"^{re.escape(base)}(-.+)?$")


async def ack_and_answer(deps: Deps, name: str, work: Callable[[], Awaitable[None]], reply: Reply | None, *,
                         ack: AsyncAck | None = None, in_background: bool = True) -> None:
    """Ack (when bolt hands us an `ack`), then run `work`; failures are answered through `reply`.

    Background work waits its turn in `deps.tasks` (at most a few answers hold the
    interpreter at once, so acks are not starved). `in_background=False` is for work that
    must finish before the ack's 3 s are up anyway (views.open needs a fresh trigger_id)."""
    if ack is not None:
        await ack()

    def run() -> Awaitable[None]:
        return guarded(name, work(), reply, expired=deps.answerer.expired)

    if in_background:
        deps.tasks.submit(name, run, reply)  # takes its turn; told "busy" when too many are waiting
    else:
        await run()


def modal_notice(message: Message) -> dict[str, Any]:
    """A short notice shown in place of an article modal's page."""
    return {"type": "modal", "callback_id": "trade_article", "title": {"type": "plain_text", "text": "Article"},
            "close": {"type": "plain_text", "text": "Close"}, "blocks": message.blocks}
