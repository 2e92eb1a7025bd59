"""What a subcommand is: a handler given the parsed arguments and the process's settings."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]
Subparsers = Any  # argparse's _SubParsersAction (private), as `add_subparsers()` returns it


@dataclass(frozen=True)
class Command:
    run: Handler
    reads_settings: bool = True  # False: the command is given defaults and never reads the environment


def add_corpus_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", help="corpus directory (default: TRADEBOT_CORPUS, else corpus/)")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
