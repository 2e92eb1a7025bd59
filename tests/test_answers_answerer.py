"""The answerer returns typed answers in its own words; the Slack facade renders them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.answers import compose
from bot.answers.answerer import Answerer
from bot.answers.models import Notice, PersonCard, SearchPage
from bot.harness.render import render_payload
from bot.library import Library
from bot.slack.ui.presenter import SlackAnswers
from tests.state_helpers import answer_store


@pytest.fixture(scope="module")
def answers(seed_corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> SlackAnswers:
    library = Library(seed_corpus_dir)
    library.load()
    return SlackAnswers(Answerer(library, answer_store(tmp_path_factory.mktemp("state"))))


def test_the_core_returns_typed_answers(answers: SlackAnswers) -> None:
    core = answers.answerer
    page = core.answer_text("tariffs china", user="U1", channel="C1")
    assert isinstance(page, SearchPage) and page.shown and page.query == "tariffs china"
    card = core.answer_text("who greer", user="U1", channel="C1")
    assert isinstance(card, PersonCard) and card.name == "Jamieson Greer"
    assert isinstance(core.expired(), Notice) and core.expired().text == compose.EXPIRED


@pytest.mark.parametrize("size", [4_000, 40_000])
def test_a_long_query_is_told_its_real_length_and_the_real_limit(answers: SlackAnswers, size: int) -> None:
    message = answers.answer_text(("tariffs china " * size)[:size], user="U1", channel="C1")
    shown = render_payload(message.payload())
    assert f"Your query was {size:,} characters long; I searched its first 500." in shown


def test_the_unavailable_answer_does_not_show_server_paths(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    library = Library(tmp_path / "secret-dir" / "corpus")
    library.load()
    caplog.set_level(logging.ERROR)
    message = SlackAnswers(Answerer(library, answer_store(tmp_path / "state"))).answer_text("tariffs", user="U1", channel="C1")
    assert "unavailable" in message.text and "secret-dir" not in str(message.payload())
    assert "secret-dir" in caplog.text


def test_page_buttons_that_do_not_parse_are_expired_not_errors(answers: SlackAnswers) -> None:
    article_id = answers.answerer.library.current.corpus.articles[0].id
    assert answers.page_view(f"{article_id}|0") is not None
    for value in (f"{article_id}|²", "nope|1", "", "|", f"{article_id}|1|2"):
        assert answers.page_view(value) is None
    assert "expired" in answers.pick("k|²", "U1").text


def test_share_is_in_channel_and_names_who_shared(answers: SlackAnswers) -> None:
    message = answers.answer_text("tariffs", user="U1", channel="C1")
    key = message.blocks[-1]["elements"][0]["value"]
    shared = answers.share(key, "U2")
    assert shared.in_channel and "Shared by <@U2>." in str(shared.blocks)
    assert all(b["type"] != "actions" for b in shared.blocks)


def test_share_failures_are_explained_in_the_cores_words(answers: SlackAnswers) -> None:
    assert "/invite @tradebot" in answers.share_failed("not_in_channel").text
    assert "Check the channel" in answers.share_failed("connection_lost").text
    assert "&lt;!here&gt;" in answers.share_failed("<!here>").text
