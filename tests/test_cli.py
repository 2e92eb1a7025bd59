"""The command line: settings errors name the variable; fake-slack and digest work as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DIGEST_", "TRADEBOT_"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**clean, **(env or {})}, timeout=timeout, check=False)


def test_run_without_tokens_names_the_missing_variable() -> None:
    result = run("run")
    assert result.returncode != 0 and "SLACK_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_http_mode_without_signing_secret_names_it() -> None:
    result = run("run", env={"SLACK_BOT_TOKEN": "xoxb-1", "TRADEBOT_MODE": "http"})
    assert result.returncode != 0 and "SLACK_SIGNING_SECRET" in result.stderr


def test_malformed_token_names_the_variable_and_hides_the_value() -> None:
    result = run("run", env={"SLACK_BOT_TOKEN": "not-a-token-secret123", "SLACK_APP_TOKEN": "xapp-1"})
    assert result.returncode != 0 and "SLACK_BOT_TOKEN" in result.stderr
    assert "secret123" not in result.stderr


def test_bad_digest_time_zone_is_explained() -> None:
    result = run("digest", "--channel", "C1", env={"DIGEST_TZ": "Mars/Olympus"})
    assert result.returncode != 0 and "DIGEST_TZ" in result.stderr and "IANA" in result.stderr


def test_digest_dry_run_prints_the_rendered_digest(tmp_path: Path) -> None:
    result = run("digest", "--channel", "C0TRADE", "--dry-run", env={"TRADEBOT_DB": str(tmp_path / "d.sqlite3")})
    assert result.returncode == 0, result.stderr
    assert "Trade news digest" in result.stdout and "Treasury Secretary Signals" in result.stdout
    as_json = run("digest", "--channel", "C0TRADE", "--json", env={"TRADEBOT_DB": str(tmp_path / "d.sqlite3")})
    payload = json.loads(as_json.stdout)
    assert payload["channel"] == "C0TRADE" and payload["blocks"][0]["type"] == "header"


def test_corpus_missing_is_a_clear_error(tmp_path: Path) -> None:
    result = run("search", "tariffs", "--corpus", str(tmp_path / "nope"))
    assert result.returncode == 2 and "corpus directory not found" in result.stderr


def test_search_json_and_queries_file(tmp_path: Path) -> None:
    queries = tmp_path / "q.txt"
    queries.write_text("tariffs china\nbessnt\n\n", encoding="utf-8")
    result = run("search", "--queries-file", str(queries), "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["tariffs china", "bessnt", ""]
    assert lines[1]["corrected"] == "bessent"
    first = lines[0]["results"][0]
    assert set(first) >= {"article_id", "title", "publisher", "url", "published", "snippet", "passage", "score"}
    assert "*" not in first["snippet"]


def test_fake_slack_serves_calls_and_failures() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bot", "fake-slack"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[-1]
        request = urllib.request.Request(f"{url}/_fail", data=json.dumps({"method": "auth.test", "error": "ratelimited",
                                                                          "retry_after": 1}).encode(),
                                         headers={"Content-Type": "application/json"})
        assert json.load(urllib.request.urlopen(request))["ok"] is True
        call = urllib.request.Request(f"{url}/api/auth.test", data=b"", headers={"Authorization": "Bearer xoxb-harness-0000"})
        try:
            urllib.request.urlopen(call)
            raise AssertionError("expected a 429")
        except urllib.error.HTTPError as exc:
            assert exc.code == 429 and exc.headers["Retry-After"] == "1"
        assert json.load(urllib.request.urlopen(call))["user_id"] == "UTRADEBOT"
        calls = json.load(urllib.request.urlopen(f"{url}/_calls"))
        assert [c["method"] for c in calls] == ["auth.test", "auth.test"]
        assert json.load(urllib.request.urlopen(f"{url}/_calls?since=1")) == calls[1:]
        assert json.load(urllib.request.urlopen(f"{url}/_calls?since=9")) == []
        for bad in ("-1", "x", "1e3", "\u00b2"):
            try:
                urllib.request.urlopen(f"{url}/_calls?since={urllib.parse.quote(bad)}")
                raise AssertionError(f"expected a 400 for since={bad!r}")
            except urllib.error.HTTPError as exc:
                assert exc.code == 400
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_try_json_prints_payloads() -> None:
    result = run("try", "/trade who greer", "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["via"] == "response_url" and "Jamieson Greer" in json.dumps(lines[0]["payload"])
