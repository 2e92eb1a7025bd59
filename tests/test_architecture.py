"""The layout is a promise: a Slack-free core, and only wiring at the top of `bot/`.

These tests read the source, so a stray import fails the build instead of creeping in.
"""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
SLACK_LIBRARIES = ("slack_sdk", "slack_bolt")
# Only the Slack layer, the harness (a fake Slack) and the service wiring may speak to Slack.
MAY_IMPORT_SLACK = ("slack", "harness", "service.py")
TOP_LEVEL_MODULES = {"__init__.py", "__main__.py", "settings.py", "service.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_the_slack_layer_harness_and_wiring_import_slack_libraries() -> None:
    offenders = []
    for path in sorted(BOT.rglob("*.py")):
        relative = path.relative_to(BOT)
        if relative.parts[0] in MAY_IMPORT_SLACK:
            continue
        bad = sorted(m for m in imported_modules(path) if m.split(".")[0] in SLACK_LIBRARIES)
        if bad:
            offenders.append(f"{relative}: {', '.join(bad)}")
    assert not offenders, "Slack imported outside bot/slack, bot/harness and bot/service.py:\n" + "\n".join(offenders)


def test_the_core_does_not_reach_into_the_slack_layer_or_the_harness() -> None:
    offenders = []
    for path in sorted(BOT.rglob("*.py")):
        relative = path.relative_to(BOT)
        if relative.parts[0] in MAY_IMPORT_SLACK or relative.parts[0] == "cli":
            continue
        bad = sorted(m for m in imported_modules(path) if m.startswith(("bot.slack", "bot.harness")))
        if bad:
            offenders.append(f"{relative}: {', '.join(bad)}")
    assert not offenders, "core modules importing the Slack layer or the harness:\n" + "\n".join(offenders)


def test_the_top_of_bot_holds_only_wiring_and_packages() -> None:
    modules = {p.name for p in BOT.glob("*.py")}
    assert modules <= TOP_LEVEL_MODULES, sorted(modules - TOP_LEVEL_MODULES)
    packages = {p.name for p in BOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert {"corpus", "search", "people", "library", "answers", "digest", "slack", "harness", "cli"} <= packages


def test_the_cli_does_not_import_the_harness_except_for_its_own_commands() -> None:
    """`tradebot try` and `fake-slack` are the harness's own commands; nothing else in the CLI needs it."""
    allowed = {"serve.py"}  # imports the harness lazily, inside the try / fake-slack commands only
    offenders = [p.name for p in sorted((BOT / "cli").glob("*.py"))
                 if p.name not in allowed and any(m.startswith("bot.harness") for m in imported_modules(p))]
    assert not offenders
