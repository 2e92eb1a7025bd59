"""Log hygiene: one record is one line, and floods of the same complaint are thinned out.

Request fields (`event_id`, `action_id`, `response_url`, user text) reach log
messages as arguments; a newline in one of them would start a forged log line.
`SafeLogFilter` renders each record's message once and replaces control
characters (C0, C1, DEL, line and paragraph separators, bidi overrides) with
visible escapes, and Slack tokens, install codes and states with `(redacted)`
(slack-sdk's and bolt's debug lines print `oauth.v2.access` answers and redirect
queries). `RateLimitedLog` lets one line per kind through per interval and counts
the rest, so an unauthenticated client cannot fill the disk.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SECRETS = re.compile(  # tokens; a code or state as a dict item ('code': '…', or every item of
    # 'code': ['…', '…'], as a query repeating the parameter gives) or a query's
    r"\b(?:xox[a-z]|xapp)-[0-9A-Za-z-]+"
    r"|(?:(?<='code': ')|(?<='state': '))[^']+"
    r"|(?:(?<='code': \[)|(?<='state': \[))[^\]]+"
    r"|(?<=[?&]code=)[^&\s'\"]+|(?<=[?&]state=)[^&\s'\"]+")


def neutralise(text: str) -> str:
    """`text` with every control character shown as an escape (`\\n`, `\\x1b`, `\\u2028`)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class SafeLogFilter(logging.Filter):
    """Fold a record's arguments into its message and neutralise the result.

    Tracebacks are left alone (they are ours, and multi-line by nature); only
    the message, where request data goes, is made single-line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = _SECRETS.sub("(redacted)", neutralise(message))
        record.args = None
        return True


_FILTER = SafeLogFilter()


def _safe_records(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_safe(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        _FILTER.filter(record)
        return record

    make_safe.tradebot_safe = True  # type: ignore[attr-defined]
    return make_safe


def install_safe_logging(root: logging.Logger | None = None) -> None:
    """Neutralise every log record as it is made, and attach the filter to the root's handlers
    (idempotent).

    A logger's own filters do not see records propagated from child loggers, and a handler
    added later (a library's, a test's) has none of ours: the record factory covers every
    record of every logger (bolt's "unhandled request" warning prints an `action_id`), and
    the handler filters remain for records made before this ran.
    """
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "tradebot_safe", False):
        logging.setLogRecordFactory(_safe_records(factory))
    logger = root or logging.getLogger()
    if not logger.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logger.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


class RateLimitedLog:
    """At most one line per `key` per `interval` seconds; the next line says how many were dropped."""

    def __init__(self, logger: logging.Logger, interval: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._dropped: dict[str, int] = {}
        self._lock = threading.Lock()

    def log(self, level: int, key: str, message: str, *args: object) -> bool:
        """Log `message % args` unless a line for `key` was logged recently; True if logged."""
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                self._dropped[key] = self._dropped.get(key, 0) + 1
                return False
            self._last[key] = now
            dropped = self._dropped.pop(key, 0)
        if dropped:
            self._logger.log(level, message + " (and %d more like it since the last line)", *args, dropped,
                             stacklevel=2)
        else:
            self._logger.log(level, message, *args, stacklevel=2)
        return True
