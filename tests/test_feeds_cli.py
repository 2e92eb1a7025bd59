"""The issue's "Done when", as a user types it: feeds add, fetch --json twice, add, feeds list/remove."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.corpus import load_corpus
from tests.test_feeds_server import PublisherSite, serve_site


@pytest.fixture
def site() -> Iterator[PublisherSite]:
    yield from serve_site()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # a fresh clone: no .env, default corpus/ and .tradebot/ paths
    for name in ("TRADEBOT_DB", "TRADEBOT_CORPUS", "TRADEBOT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRADEBOT_ALLOW_PRIVATE_URLS", "true")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_feeds_add_then_fetch_adds_articles_and_a_second_fetch_adds_nothing(
        site: PublisherSite, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = site.base + "/feed.xml"
    assert run(capsys, "feeds", "add", feed)[:2] == (0, f"following {feed}\n")

    code, out, err = run(capsys, "fetch", "--json")
    assert code == 0 and "[1/1]" in err  # progress on stderr, JSON alone on stdout
    result = json.loads(out)
    assert result["added"] == 3
    added = {a["title"]: a for a in result["feeds"][0]["added"]}
    truce = added["US and China agree to extend tariff truce by 90 days"]
    assert truce["publisher"] == "Harbour Times" and truce["url"] == site.base + "/2025/06/10/tariff-truce"
    assert truce["published"] == "2025-06-10" and truce["author"] == "Mei Lin" and truce["source"] == "page"
    article = load_corpus(workdir / "corpus").get(truce["article_id"])
    assert article is not None and article.lead.startswith("Negotiators from Washington and Beijing")
    assert "Comment number" not in article.body and "Section 3" not in article.body

    code, out, _ = run(capsys, "fetch", "--json")
    again = json.loads(out)
    assert code == 0 and again["added"] == 0 and again["feeds"][0]["status"] == "not modified (304)"
    assert site.requests_to("/feed.xml")[-1]["If-None-Match"]

    code, out, _ = run(capsys, "feeds", "list", "--json")
    [status] = json.loads(out)["feeds"]
    assert status["articles_added"] == 3 and status["last_success_at"] and status["active"]
    code, out, _ = run(capsys, "feeds", "list")
    assert "Harbour Times – Trade · active · every 15 min" in out and "3 articles added" in out

    assert run(capsys, "feeds", "add", site.base + "/feed.json", "--every", "60")[0] == 0
    assert "every 60 min" in run(capsys, "feeds", "list")[1]
    assert run(capsys, "feeds", "remove", feed)[0] == 0
    code, _, err = run(capsys, "feeds", "remove", feed)
    assert code == 2 and err.startswith("error: not following")


def test_add_one_page_and_refusals(site: PublisherSite, workdir: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, "add", site.base + "/og-only", "--json")
    added = json.loads(out)
    assert code == 0 and added["status"] == "added" and added["publisher"] == "Lantern Wire"

    code, out, err = run(capsys, "add", site.base + "/2025/06/12/paywalled")
    assert code == 2 and out == "" and err.count("\n") == 1 and "paywall or login page" in err

    code, out, err = run(capsys, "add", "file:///etc/passwd")
    assert code == 2 and "only http(s)" in err

    monkeypatch.delenv("TRADEBOT_ALLOW_PRIVATE_URLS")
    code, out, err = run(capsys, "add", site.base + "/2025/06/11/rare-earths")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "127.0.0.1 is a loopback address" in err and "TRADEBOT_ALLOW_PRIVATE_URLS=true" in err
    code, _, err = run(capsys, "feeds", "add", "http://169.254.169.254/latest/meta-data/")
    assert code == 2 and "cloud metadata" in err and "TRADEBOT_ALLOW_PRIVATE_URLS" in err
    assert not site.requests_to("/2025/06/11/rare-earths")


def test_fetch_reports_failing_feeds_and_exits_non_zero_when_all_fail(
        site: PublisherSite, workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "feeds", "add", site.base + "/missing")
    code, out, err = run(capsys, "fetch")
    assert code == 1 and f"{site.base}/missing: 404 Not Found" in out
    code, out, _ = run(capsys, "fetch")  # backing off: not polled again at once
    assert code == 1 and "backing off until" in out and len(site.requests_to("/missing")) == 1
