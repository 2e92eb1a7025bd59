"""Server-side state behind buttons: a button value holds a short key, not the query.

Slack caps a button value at 2,000 characters; a query plus paging state can be
longer, and the value is visible to the client. Keys expire after a day.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

from bot.answers.commands import Command
from bot.common.clock import Clock, SystemClock


@dataclass(frozen=True)
class StoredAnswer:
    command: Command
    user: str
    channel: str | None
    team: str = ""  # the workspace; a click from another one finds nothing


class AnswerStore:
    def __init__(self, ttl: float = 86_400, capacity: int = 20_000, clock: Clock | None = None) -> None:
        self._items: OrderedDict[str, tuple[float, StoredAnswer]] = OrderedDict()
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock or SystemClock()  # ages by its monotonic reading
        self._lock = threading.Lock()  # answers are computed in worker threads

    def put(self, answer: StoredAnswer) -> str:
        key = secrets.token_urlsafe(9)
        with self._lock:
            self._items[key] = (self._clock.monotonic(), answer)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return key

    def get(self, key: str) -> StoredAnswer | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            created, answer = item
            if self._clock.monotonic() - created > self._ttl:
                del self._items[key]
                return None
            return answer
