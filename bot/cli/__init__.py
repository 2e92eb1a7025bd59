"""The `tradebot` command line: thin commands over the library packages."""

from bot.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
