"""Button state in the shared database: kept across restarts and processes, per workspace,
expiring after a day, and never a crash for a row that does not decode. Each test runs on
SQLite and on PostgreSQL (a fresh schema; skipped, saying why, without a server)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answers import compose
from bot.answers.answerer import Answerer
from bot.answers.commands import Command, Search, Who
from bot.answers.models import Notice, PersonCard, PersonChoices, SearchPage
from bot.answers.state import AnswerStore, StoredAnswer, command_from_json, command_to_json
from bot.common.clock import FakeClock
from bot.library import Library
from bot.store import Database, open_database
from bot.store.expiry import Pruner
from bot.store.schema import button_state

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def library(seed_corpus_dir: Path) -> Library:
    library = Library(seed_corpus_dir)
    library.load()
    return library


def buttons(answer: Any) -> dict[str, str]:
    """label -> value of every button in a typed answer."""
    found: dict[str, str] = {}
    for part in answer.parts:
        for button in getattr(part, "buttons", ()):
            found[button.label] = button.value
        button = getattr(part, "button", None)
        if button is not None:
            found.setdefault(button.label, button.value)
    return found


# The JSON form of a command -------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=()), max_size=300)  # surrogates and controls included


def _command_strategy(kind: type) -> st.SearchStrategy[Any]:
    hints = get_type_hints(kind)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in dataclasses.fields(kind):
        hint = hints[field.name]
        if hint is str:
            fields[field.name] = TEXT
        elif hint == str | None:
            fields[field.name] = st.none() | TEXT
        else:
            fields[field.name] = st.from_type(hint)
    return st.builds(kind, **fields)


COMMANDS = st.one_of(*(_command_strategy(kind) for kind in get_args(Command)))  # every kind, new ones too


@settings(max_examples=400, deadline=None)
@given(COMMANDS)
def test_any_command_round_trips_through_its_json_form(command: Command) -> None:
    text = command_to_json(command)
    assert text.isascii()  # stored as given by either engine, whatever the user typed
    assert command_from_json(text) == command


@pytest.mark.parametrize("text", [
    "", "{", "null", "[]", '"Search"', '{"kind": "Search"}', '{"kind": "Nope", "fields": {}}',
    '{"kind": "Search", "fields": {"query": 5}}', '{"kind": "Search", "fields": []}',
    '{"kind": ["Search"], "fields": {}}', '{"kind": "Who", "fields": {}}', "[" * 100_000,
])
def test_garbled_json_is_no_command(text: str) -> None:
    assert command_from_json(text) is None


# The store -------------------------------------------------------------------------------


def test_a_stored_answer_comes_back_with_its_team_user_and_channel(database: Database) -> None:
    store = AnswerStore(database, FakeClock(START))
    stored = StoredAnswer(Search("tariffs china", offset=5), user="U1", channel="C1", team="T1")
    key = store.put(stored)
    assert len(key) < 40 and store.get(key) == stored
    dm = StoredAnswer(Who("greer"), user="U2", channel=None)
    assert store.get(store.put(dm)) == dm
    assert store.get("no-such-key") is None and store.get("x" * 2000) is None


def test_state_expires_after_a_day_by_the_clock(database: Database) -> None:
    clock = FakeClock(START)
    store = AnswerStore(database, clock)
    key = store.put(StoredAnswer(Search("tariffs"), user="U1", channel="C1"))
    clock.advance(hours=23, minutes=59)
    assert store.get(key) is not None
    clock.advance(minutes=2)
    assert store.get(key) is None


def test_a_row_that_does_not_decode_is_expired_not_an_error(database: Database,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    store = AnswerStore(database, FakeClock(START))
    key = store.put(StoredAnswer(Search("tariffs"), user="U1", channel="C1"))
    for garbled in ("{", '{"kind": "Teleport", "fields": {}}', '{"kind": "Search", "fields": {"offset": 1}}'):
        with database.begin() as db:
            db.execute(button_state.update().where(button_state.c.key == key).values(command=garbled))
        assert store.get(key) is None
    assert "does not decode" in caplog.text


def test_state_survives_a_restart_and_is_seen_by_another_process(database_url: str) -> None:
    """Two `Database` objects are two connection pools, as two processes (or a restarted one) have."""
    first = open_database(database_url)
    stored = StoredAnswer(Search("rare earths"), user="U1", channel="C1")
    key = AnswerStore(first, FakeClock(START)).put(stored)
    first.close()
    second = open_database(database_url)
    try:
        assert AnswerStore(second, FakeClock(START)).get(key) == stored
    finally:
        second.close()


def test_expired_rows_are_pruned_now_and_then_a_bounded_batch_at_a_time(database: Database) -> None:
    clock = FakeClock(START)
    store = AnswerStore(database, clock, ttl=60)
    for _ in range(25):
        store.put(StoredAnswer(Search("old"), user="U1", channel="C1"))
    clock.advance(minutes=2)
    store.pruner = Pruner(database, button_state, every=10, limit=7)

    def rows() -> int:
        with database.begin() as db:
            return int(db.execute(sa.select(sa.func.count()).select_from(button_state)).scalar_one())

    fresh = [store.put(StoredAnswer(Search("new"), user="U1", channel="C1")) for _ in range(9)]
    assert rows() == 34  # no prune on the first nine puts
    fresh.append(store.put(StoredAnswer(Search("new"), user="U1", channel="C1")))
    assert rows() == 35 - 7  # the tenth pruned seven expired rows, no more
    assert [store.pruner.prune(clock.now().timestamp()) for _ in range(4)] == [7, 7, 4, 0]
    assert all(store.get(key) is not None for key in fresh)


# The answerer's buttons --------------------------------------------------------------


def test_a_click_with_a_key_from_another_team_is_expired(library: Library, database: Database) -> None:
    answerer = Answerer(library, AnswerStore(database, FakeClock(START)))
    page = answerer.answer(Search("trade"), user="U1", channel="C1", team="T1")
    assert isinstance(page, SearchPage)
    key = buttons(page)[compose.SHARE]  # the same key is behind "More results"
    for team in ("T2", ""):
        assert answerer.more(key, team) == compose.expired()
        assert answerer.share(key, "U1", team) == compose.expired()
    assert isinstance(answerer.more(key, "T1"), SearchPage)
    choices = answerer.answer(Who("kat"), user="U1", channel="C1", team="T1")
    assert isinstance(choices, PersonChoices)
    pick = next(value for label, value in buttons(choices).items() if "|" in value)
    assert answerer.pick(pick, "U1", "T2") == compose.expired()
    assert isinstance(answerer.pick(pick, "U1", "T1"), PersonCard)


def test_answers_that_need_no_state_store_none(library: Library, database: Database) -> None:
    answerer = Answerer(library, AnswerStore(database, FakeClock(START)))
    for text in ("latest 3", "sources", "help", "who nobodyatall"):
        answerer.answer_text(text, user="U1", channel="C1")
    with database.begin() as db:
        assert db.execute(sa.select(sa.func.count()).select_from(button_state)).scalar_one() == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=COMMANDS, team=st.sampled_from(["", "T0HARNESS", "E123ABC"]))
def test_any_command_round_trips_through_the_database(database: Database, command: Command, team: str) -> None:
    store = AnswerStore(database, FakeClock(START))
    stored = StoredAnswer(command, user="U0ALICE", channel="C0TRADE", team=team)
    assert store.get(store.put(stored)) == stored


def test_a_notice_is_what_a_down_store_gives_not_a_crash(library: Library, tmp_path: Path) -> None:
    """The cheapest real outage: a SQLite path that cannot be opened (a directory)."""
    (tmp_path / "gone.sqlite3").mkdir()
    answerer = Answerer(library, AnswerStore(Database(f"sqlite:///{tmp_path / 'gone.sqlite3'}")))
    assert answerer.more("k", "") == compose.store_unavailable()
    assert answerer.pick("k|0", "U1") == compose.store_unavailable()
    assert answerer.share("k", "U1") == compose.store_unavailable()
    page = answerer.answer(Search("tariffs china"), user="U1", channel="C1")
    assert isinstance(page, SearchPage) and page.shown
    assert set(buttons(page)) == {compose.READ}  # reading needs no state; sharing and paging do
    assert compose.BUTTONS_UNAVAILABLE in str(page.parts[-1])
    card = answerer.answer(Who("greer"), user="U1", channel="C1")
    assert isinstance(card, PersonCard) and buttons(card) == {}
    choices = answerer.answer(Who("kat"), user="U1", channel="C1")
    assert isinstance(choices, PersonChoices) and buttons(choices) == {} and len(choices.names) >= 2
    assert isinstance(answerer.answer_text("latest 2", user="U1", channel="C1"), type(compose.latest([])))
    assert not isinstance(answerer.answer_text("sources", user="U1", channel="C1"), Notice)


def test_the_state_benchmark_runs(database: Database) -> None:
    from benchmarks.state_bench import measure

    lines = measure(database, 5)
    assert len(lines) == 3 and all("p99" in line and "(n=5)" in line for line in lines)
