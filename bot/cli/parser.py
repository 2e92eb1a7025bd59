"""The `tradebot` argument parser and its command table, assembled from each command module."""

from __future__ import annotations

import argparse

from bot.cli import corpus, db, digest, feeds, lookup, serve
from bot.cli.registry import Command

MODULES = (corpus, lookup, serve, digest, feeds, db)  # the order `tradebot --help` lists them in


def _build() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(prog="tradebot", description="Trade-negotiation news in Slack.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands: dict[str, Command] = {}
    for module in MODULES:
        commands.update(module.register(sub))
    return parser, commands


def build_parser() -> argparse.ArgumentParser:
    return _build()[0]


COMMANDS: dict[str, Command] = _build()[1]
