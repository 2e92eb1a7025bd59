"""`tradebot digest` as an operator runs it from cron: a preview, then a post with one bad channel;
and the digest core's imports, which must stay free of Slack and of the harness."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from bot.harness.fake_slack import BOT_TOKEN, FakeSlack
from tests.helpers import write_article

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_TITLE = "<!channel> tariffs on <!here> steel"


def _env(**values: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DIGEST_", "TRADEBOT_"))}
    return {**clean, **values}


def test_preview_prints_article_text_literally_and_no_terminal_escapes(corpus_copy: Path, tmp_path: Path) -> None:
    write_article(corpus_copy, "hostile", HOSTILE_TITLE, ["\x1b[2J<@U1> said steel tariffs\x07 would rise."],
                  publisher="<https://evil.example|Reuters>", url="https://wire.example/h",
                  published=dt.date(2026, 11, 20))
    result = subprocess.run([sys.executable, "-m", "bot", "digest", "--channel", "C0TRADE", "--dry-run"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
                            env=_env(TRADEBOT_CORPUS=str(corpus_copy), TRADEBOT_DB=str(tmp_path / "d.sqlite3")))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "# C0TRADE" and lines[1].startswith("Trade news digest — ")
    assert lines[3:6] == [f"{HOSTILE_TITLE} (https://wire.example/h)", "<https://evil.example|Reuters> · 20 Nov 2026",
                          "[2J<@U1> said steel tariffs would rise."]  # ESC and BEL dropped: inert text
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "In the news: " in result.stdout


def test_post_reports_each_channel_and_fails_only_the_bad_one(corpus_copy: Path, tmp_path: Path) -> None:
    async def scenario() -> tuple[subprocess.CompletedProcess[str], FakeSlack]:
        fake = FakeSlack()
        await fake.start()
        env = _env(SLACK_API_URL=fake.api_url, SLACK_BOT_TOKEN=BOT_TOKEN, DIGEST_CHANNEL="C0TRADE,CNOPE",
                   TRADEBOT_DB=str(tmp_path / "d.sqlite3"), TRADEBOT_CORPUS=str(corpus_copy))
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "digest", "--post", cwd=ROOT, env=env,
                                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await proc.communicate()
        await fake.stop()
        return subprocess.CompletedProcess([], proc.returncode or 0, out.decode(), err.decode()), fake

    result, fake = asyncio.run(scenario())
    assert result.stdout.splitlines() == ["C0TRADE: posted", "CNOPE: failed (channel_not_found)"]
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len([m for m in fake.channels["C0TRADE"].messages if m.get("metadata")]) == 1


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_digest_core_imports_neither_slack_nor_the_harness() -> None:
    files = sorted((ROOT / "bot" / "digest").glob("*.py"))
    assert files
    for path in files:
        bad = {n for n in _imports(path) if n.split(".")[0] in ("slack_sdk", "slack_bolt")
               or n.startswith(("bot.slack", "bot.harness"))}
        assert not bad, f"{path.name} imports {bad}"
    assert not {n for n in _imports(ROOT / "bot" / "cli" / "digest.py") if n.startswith("bot.harness")}
