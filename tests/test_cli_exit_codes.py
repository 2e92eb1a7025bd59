"""Every command's main error paths: one `error:` line on stderr and the documented exit code
(0 done, 1 the work failed, 2 the request cannot be carried out as given; see `bot.cli.main`)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.cli import main

Run = Callable[..., tuple[int, str, str]]
USAGE, FAILED = 2, 1


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """`main(argv)` in a fresh directory with none of the developer's Slack/digest/tradebot variables."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith(("SLACK_", "DIGEST_", "TRADEBOT_"))]:
        monkeypatch.delenv(name)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return int(code), out, err

    return run


def one_error(err: str, *words: str) -> bool:
    return err.startswith("error: ") and err.count("\n") == 1 and all(w in err for w in words)


def test_ingest_missing_seeds_is_usage_and_nothing_ingested_is_failure(cli: Run, tmp_path: Path) -> None:
    code, _, err = cli("ingest", "--seeds", str(tmp_path / "no-seeds"))
    assert code == USAGE and one_error(err, "seeds directory not found")
    code, out, err = cli("ingest", str(tmp_path / "missing.txt"), "--corpus", str(tmp_path / "c"))
    assert code == FAILED and "SKIPPED" in out and one_error(err, "no capture could be ingested")
    code, _, err = cli("ingest", str(tmp_path / "missing.txt"), "--published", "June 1st")
    assert code == USAGE and one_error(err, "--published", "2025-06-01")


@pytest.mark.parametrize("command", [["corpus"], ["search", "tariffs"], ["who", "greer"], ["people"],
                                     ["try", "/trade tariffs"], ["digest", "--channel", "C1"]])
def test_a_missing_corpus_is_a_usage_error_for_every_command_that_reads_it(cli: Run, tmp_path: Path,
                                                                           command: list[str]) -> None:
    code, out, err = cli(*command, "--corpus", str(tmp_path / "nope"))
    assert code == USAGE and one_error(err, "corpus directory not found") and "Traceback" not in out + err


def test_search_without_queries_or_with_an_unreadable_file_is_usage(cli: Run, tmp_path: Path) -> None:
    assert one_error(cli("search")[2], "give a QUERY")
    code, _, err = cli("search", "--queries-file", str(tmp_path / "none.txt"))
    assert code == USAGE and one_error(err, "cannot read --queries-file")


def test_argument_errors_exit_2_from_argparse(cli: Run) -> None:
    with pytest.raises(SystemExit) as exc:
        cli("search", "tariffs", "--limit", "0")
    assert exc.value.code == USAGE
    with pytest.raises(SystemExit) as exc:
        cli("no-such-command")
    assert exc.value.code == USAGE


def test_run_without_tokens_is_usage_naming_the_variable(cli: Run) -> None:
    code, _, err = cli("run")
    assert code == USAGE and one_error(err, "SLACK_BOT_TOKEN")


def test_a_bad_env_file_stops_a_command_with_the_variable_named(cli: Run, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DIGEST_MAX_ITEMS=lots\nSLACK_BOT_TOKEN=leaked-secret-123\n", encoding="utf-8")
    code, _, err = cli("corpus")
    assert code == USAGE and one_error(err, "DIGEST_MAX_ITEMS", "SLACK_BOT_TOKEN", "xoxb-")
    assert "leaked-secret-123" not in err


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_fake_slack_on_a_taken_port_is_usage_and_reads_no_settings(cli: Run, tmp_path: Path,
                                                                   taken_port: int) -> None:
    (tmp_path / ".env").write_text("DIGEST_TZ=Mars/Olympus\n", encoding="utf-8")  # not its business
    code, _, err = cli("fake-slack", "--port", str(taken_port))
    assert code == USAGE and one_error(err, f"port {taken_port}") and "DIGEST_TZ" not in err


def test_digest_usage_errors(cli: Run, seed_corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = cli("digest", "--corpus", str(seed_corpus_dir))
    assert code == USAGE and one_error(err, "DIGEST_CHANNEL", "--channel")
    code, _, err = cli("digest", "--post", "--channel", "C1", "--corpus", str(seed_corpus_dir))
    assert code == USAGE and one_error(err, "SLACK_BOT_TOKEN", "--post")
    monkeypatch.setenv("DIGEST_TZ", "Mars/Olympus")
    code, _, err = cli("digest", "--channel", "C1", "--corpus", str(seed_corpus_dir))
    assert code == USAGE and one_error(err, "DIGEST_TZ", "IANA")


def test_feed_commands_refusals_are_usage_and_an_empty_fetch_is_fine(cli: Run) -> None:
    code, _, err = cli("feeds", "remove", "https://news.example/feed.xml")
    assert code == USAGE and one_error(err, "not following")
    code, _, err = cli("feeds", "add", "file:///etc/passwd")
    assert code == USAGE and one_error(err, "only http(s)")
    code, _, err = cli("add", "http://127.0.0.1/article")
    assert code == USAGE and one_error(err, "loopback", "TRADEBOT_ALLOW_PRIVATE_URLS")
    code, out, _ = cli("fetch", "--json")
    assert code == 0 and '"added": 0' in out


def test_settings_are_loaded_once_per_command(cli: Run, seed_corpus_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.settings

    calls: list[dict[str, object]] = []
    build = bot.settings._validated

    def counted(cls: type[bot.settings.Settings], overrides: dict[str, object]) -> bot.settings.Settings:
        calls.append(overrides)
        return build(cls, overrides)

    monkeypatch.setattr(bot.settings, "_validated", counted)
    for argv in (["corpus"], ["digest", "--channel", "C1"], ["feeds", "list"], ["fetch"]):
        calls.clear()
        code, _, err = cli(*argv, *(["--corpus", str(seed_corpus_dir)] if argv[0] != "feeds" else []))
        assert code == 0, err
        assert len(calls) == 1, argv
    assert calls == [{"corpus_dir": str(seed_corpus_dir)}]


def test_run_that_cannot_listen_is_a_failure(cli: Run, monkeypatch: pytest.MonkeyPatch, taken_port: int,
                                             seed_corpus_dir: Path, tmp_path: Path) -> None:
    for name, value in {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "TRADEBOT_MODE": "http",
                        "HOST": "127.0.0.1", "PORT": str(taken_port), "SLACK_API_URL": "http://127.0.0.1:9/api/",
                        "TRADEBOT_DB": str(tmp_path / "db.sqlite3")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TRADEBOT_CORPUS", str(seed_corpus_dir))
    code, _, err = cli("run")
    assert code == FAILED and "error: tradebot run stopped" in err and "address already in use" in err
