"""Listener registration, in the bolt starter-template style: one module per kind of Slack
input, each with `register(app)` and top-level callbacks. What they need (`Deps`) reaches
them through bolt's context, put there by one middleware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.slack.deps import Deps
from bot.slack.listeners import actions, commands, events, installs, shortcuts, views
from bot.slack.listeners.answer import DEPS_KEY


def register_all(app: AsyncApp, deps: Deps) -> None:
    async def provide_deps(context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]) -> None:  # noqa: A002
        context[DEPS_KEY] = deps
        await next()

    app.use(provide_deps)
    for kind in (commands, actions, events, views, shortcuts, installs):
        kind.register(app)
