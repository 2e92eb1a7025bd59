"""The CLI's one error type and exit-code table (documented in `bot.cli.main`)."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FAILED = 1  # the work ran and failed: nothing ingested, every feed failed, Slack refused the post
    USAGE = 2  # the request cannot be carried out as given: fix the arguments, the settings or the input named
    STOP_FORCED = 70  # `tradebot run` still stopping 9.5 s after SIGTERM, so it exited anyway
    INTERRUPTED = 130  # Ctrl-C


class CliError(Exception):
    """Stops a command with one `error: …` line on stderr and its exit code."""

    def __init__(self, message: str, code: Exit = Exit.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
