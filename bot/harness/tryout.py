"""`tradebot try`: run the bot against the fake Slack and show what a user would see."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from bot.harness.driver import Interaction
from bot.harness.render import render_payload
from bot.harness.session import HarnessSession

SETTLE = 0.3  # seconds to let follow-up calls (e.g. a shared post) arrive after a click


def _slash_text(line: str) -> str:
    line = line.strip()
    return line[len("/trade"):].strip() if line.startswith("/trade") else line


async def _after(session: HarnessSession, start: int, interaction: Interaction, timeout: float = 10.0) -> list[dict]:
    """Calls made on behalf of one interaction: its response_url answers and Web API calls."""
    fake = session.fake

    def new_calls() -> list[dict[str, Any]]:
        return [c for c in fake.calls[start:] if c["method"] != "auth.test"]

    await fake.wait_for(lambda c: c in new_calls(), timeout)
    await asyncio.sleep(SETTLE)
    return new_calls()


def _show(calls: list[dict[str, Any]], as_json: bool, out: TextIO) -> None:
    for call in calls:
        if as_json:
            payload = {k: v for k, v in call["params"].items() if k != "response_id"}
            out.write(json.dumps({"via": call["method"], "ok": call.get("ok"), "error": call.get("error"),
                                  "payload": payload}, ensure_ascii=False) + "\n")
        elif not call.get("ok"):
            # What Slack refused never reaches the user: say so instead of showing it.
            why = "".join(f"\n  {line}" for line in call.get("why") or [])
            out.write(f"[{call['method']} refused by Slack: {call.get('error')}]{why}\n\n")
        else:
            label = "" if call["method"] == "response_url" else f"[{call['method']}]\n"
            out.write(label + render_payload(call["params"]) + "\n\n")


def _shown_blocks(calls: list[dict[str, Any]], before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The blocks of the newest answer Slack accepted (what the user can click next)."""
    return next((c["params"].get("blocks") or [] for c in reversed(calls)
                 if c["method"] == "response_url" and c.get("ok")), before)


async def run_try(corpus_dir: Path, commands: list[str], clicks: list[str], as_json: bool,
                  out: TextIO = sys.stdout) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        async with HarnessSession(corpus_dir, db_path=Path(tmp) / "try.sqlite3") as session:
            assert session.driver is not None
            driver = session.driver
            interactive = not commands
            last_blocks: list[dict[str, Any]] = []

            async def send(line: str) -> None:
                nonlocal last_blocks
                start = len(session.fake.calls)
                interaction = await driver.slash(_slash_text(line))
                calls = await _after(session, start, interaction)
                _show(calls, as_json, out)
                last_blocks = _shown_blocks(calls, last_blocks)

            async def click(label: str) -> None:
                nonlocal last_blocks
                start = len(session.fake.calls)
                interaction = await driver.click(last_blocks, label)
                calls = await _after(session, start, interaction)
                _show(calls, as_json, out)
                last_blocks = _shown_blocks(calls, last_blocks)

            if not interactive:
                for line in commands:
                    await send(line)
                for label in clicks:
                    try:
                        await click(label)
                    except LookupError as exc:
                        print(f"error: {exc}", file=sys.stderr)
                        return 2  # a usage error: that button is not on the answer (see bot/cli/main.py)
                return 0
            out.write("tradebot harness: type `/trade ...`, `click <button>`, or `quit`.\n")
            loop = asyncio.get_running_loop()
            while True:
                out.write("> ")
                out.flush()
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line or line.strip() in ("quit", "exit"):
                    return 0
                try:
                    if line.startswith("click "):
                        await click(line[6:].strip())
                    elif line.strip():
                        await send(line)
                except (TimeoutError, LookupError) as exc:
                    out.write(f"error: {exc or 'no answer in time'}\n")
