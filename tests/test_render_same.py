"""`tradebot search`/`who` and `tradebot try` show the same words for the same answer."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.harness.tryout import run_try


async def tried(corpus: Path, command: str) -> str:
    out = io.StringIO()
    assert await run_try(corpus, [command], [], False, out=out) == 0
    return out.getvalue().strip()


def printed(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out.strip()


async def test_a_search_with_no_match_reads_the_same(seed_corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = printed(capsys, "search", "qxzvvj wqqpx", "--corpus", str(seed_corpus_dir))
    assert "No articles match." in cli
    assert await tried(seed_corpus_dir, "/trade qxzvvj wqqpx") == cli


async def test_a_who_card_reads_the_same(seed_corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = printed(capsys, "who", "greer", "--corpus", str(seed_corpus_dir))
    assert "Who is *greer*" in cli and "*Jamieson Greer*" in cli and "(https://" in cli
    shown = await tried(seed_corpus_dir, "/trade who greer")
    assert shown == cli + "\n[Share in channel]"  # the terminal has no buttons to press


async def test_who_not_found_reads_the_same(seed_corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = printed(capsys, "who", "Zebulon Quux", "--corpus", str(seed_corpus_dir))
    assert cli.startswith("No one called *Zebulon Quux* appears in the articles.")
    assert await tried(seed_corpus_dir, "/trade who Zebulon Quux") == cli
