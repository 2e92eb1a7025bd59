"""Progress reporting for long index builds: a bar on a terminal, log lines in a service."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TextIO

Progress = Callable[[int, int], None]


def log_progress(logger: logging.Logger, label: str) -> Progress:
    """Log at every tenth of the way (a service's log is not a terminal)."""
    last = [-1]

    def report(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth != last[0] and total >= 5000:
            last[0] = tenth
            logger.info("%s: %d%% (%d of %d)", label, tenth * 10, done, total)

    return report


def bar_progress(label: str, stream: TextIO = sys.stderr, width: int = 30) -> Progress | None:
    """A one-line progress bar, or None when the stream is not a terminal."""
    if not stream.isatty():
        return None

    def report(done: int, total: int) -> None:
        filled = width * done // max(total, 1)
        stream.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return report
