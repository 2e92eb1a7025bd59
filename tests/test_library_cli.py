"""`tradebot search`, `who` and `people` start from the saved index when it matches the corpus (#14)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.helpers import write_article


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "index"
    monkeypatch.setenv("TRADEBOT_INDEX_CACHE", str(directory))
    return directory


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out.splitlines()[-1])


def test_who_saves_the_index_and_search_then_starts_from_it(corpus_copy: Path, cache: Path,
                                                           capsys: pytest.CaptureFixture[str],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bot.library"):
        who = run_json(capsys, "who", "greer", "--json", "--corpus", str(corpus_copy))
        assert who["matches"] and "saved index" not in caplog.text
        [saved] = cache.glob("index-*")  # people built: the complete snapshot is saved
        assert (saved / "people.pickle").exists()
        caplog.clear()
        search = run_json(capsys, "search", "tariffs", "--json", "--corpus", str(corpus_copy))
        assert search["results"] and "loaded from the saved index" in caplog.text
        caplog.clear()
        people = run_json(capsys, "people", "--json", "--corpus", str(corpus_copy))
        assert people["people"] and "loaded from the saved index" in caplog.text


def test_a_changed_corpus_is_built_again_and_search_builds_no_people(corpus_copy: Path, cache: Path,
                                                                    capsys: pytest.CaptureFixture[str],
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    run_json(capsys, "who", "greer", "--json", "--corpus", str(corpus_copy))
    write_article(corpus_copy, "zanzibar", "Zanzibar clove tariffs", ["Zanzibar raised clove tariffs."])
    with caplog.at_level(logging.INFO, logger="bot.library"):
        search = run_json(capsys, "search", "zanzibar", "--json", "--corpus", str(corpus_copy))
    assert [r["article_id"] for r in search["results"]] == ["zanzibar"]
    assert "loaded from the saved index" not in caplog.text  # (the old save is opened, not used)
    [saved] = cache.glob("index-*")  # search alone saves the search index alone, for the new corpus state
    assert not (saved / "people.pickle").exists()
    with caplog.at_level(logging.INFO, logger="bot.library"):
        who = run_json(capsys, "who", "zanzibar", "--json", "--corpus", str(corpus_copy))
    assert "loaded from the saved index" in caplog.text  # search from the save; only people were built
    assert who is not None and (saved / "people.pickle").exists()
