"""Work off the event loop in daemon threads: a process told to stop (SIGTERM) must not wait
for a build of minutes to finish, as it would for `asyncio.to_thread`'s executor threads."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def _deliver(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.done():  # cancelled meanwhile: nobody wants the result
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]  # None only with an error


async def off_loop(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`asyncio.to_thread`, but in a daemon thread that the process does not wait for at exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def work() -> None:
        try:
            outcome = functools.partial(_deliver, future, func(*args, **kwargs), None)
        except BaseException as exc:  # handed to the awaiting coroutine
            outcome = functools.partial(_deliver, future, None, exc)
        try:
            loop.call_soon_threadsafe(outcome)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    threading.Thread(target=work, name=f"library-{getattr(func, '__name__', 'work')}", daemon=True).start()
    return await future
