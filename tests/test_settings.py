"""Settings: validated once, errors name the variable; the harness's are isolated from the
developer's `.env` and environment; one clock moves button-state expiry in tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.answers.commands import parse_command
from bot.answers.state import AnswerStore, StoredAnswer
from bot.common.clock import FakeClock
from bot.harness.driver import Driver
from bot.harness.fake_slack import BOT_TOKEN, FakeSlack
from bot.harness.session import HarnessSession
from bot.settings import SettingsError, isolated_settings, load_settings
from bot.store import open_database

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def developer_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A developer's checkout: a `.env` with a broken zone and a real-looking token, and exports."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DIGEST_TZ=Mars/Olympus\nSLACK_BOT_TOKEN=xoxb-real-looking-token\n",
                                   encoding="utf-8")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "the-developers-real-secret")
    monkeypatch.setenv("DIGEST_ENABLED", "true")
    return tmp_path


def test_load_settings_names_each_bad_variable_on_one_line(developer_env: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "not-an-app-token-s3cret")
    with pytest.raises(SettingsError) as exc:
        load_settings()
    message = str(exc.value)
    assert "\n" not in message and "DIGEST_TZ: unknown time zone" in message
    assert "SLACK_APP_TOKEN: must start with xapp-" in message and "s3cret" not in message
    assert "Value error" not in message


def test_isolated_settings_ignore_env_file_and_environment(developer_env: Path) -> None:
    settings = isolated_settings(corpus_dir=developer_env / "corpus")
    assert settings.digest_tz == "UTC" and settings.slack_bot_token is None
    assert settings.slack_signing_secret is None and settings.digest_enabled is False
    with pytest.raises(SettingsError, match="DIGEST_MAX_ITEMS"):
        isolated_settings(digest_max_items=0)  # still validated


async def test_a_harness_session_does_not_pick_up_the_developers_settings(developer_env: Path,
                                                                          seed_corpus_dir: Path) -> None:
    async with HarnessSession(seed_corpus_dir, db_path=developer_env / "h.sqlite3") as session:
        assert session.service is not None and session.driver is not None
        settings = session.service.settings
        assert settings.digest_tz == "UTC" and not settings.digest_enabled
        assert settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value() == BOT_TOKEN
        answer = await (await session.driver.slash("tariffs china")).answer()
        assert "Search" in str(answer)


async def test_a_harness_session_validates_its_overrides(tmp_path: Path, seed_corpus_dir: Path) -> None:
    session = HarnessSession(seed_corpus_dir, db_path=tmp_path / "h.sqlite3", digest_tz="Mars/Olympus")
    with pytest.raises(SettingsError, match="DIGEST_TZ"):
        await session.__aenter__()
    await session.fake.stop()


def test_button_state_expires_by_the_injected_clock(tmp_path: Path) -> None:
    """Wall time, which every replica sharing the database agrees on (one process's monotonic
    clock would not): the key lives `ttl` seconds of the injected clock."""
    clock = FakeClock(START)
    store = AnswerStore(open_database(f"sqlite:///{tmp_path / 'state.sqlite3'}"), clock=clock, ttl=3600)
    key = store.put(StoredAnswer(parse_command("tariffs china"), user="U1", channel="C1"))
    clock.advance(minutes=59)
    assert store.get(key) is not None
    clock.advance(minutes=2)
    assert store.get(key) is None


def test_fake_clock_monotonic_moves_forward_only() -> None:
    clock = FakeClock(START)
    clock.advance(seconds=90)
    clock.set(START)
    clock.set(START + dt.timedelta(seconds=100))
    assert clock.monotonic() == 190 and clock.now() == START + dt.timedelta(seconds=100)


def test_the_driver_signs_requests_at_its_clocks_time() -> None:
    driver = Driver(FakeSlack(), "http", None, "secret", clock=FakeClock(START))
    assert driver.sign("body")["X-Slack-Request-Timestamp"] == str(int(START.timestamp()))


@pytest.mark.parametrize("url", ["mysql://tradebot:s3cret@db/tradebot", "not a url at all", "://s3cret@"])
def test_a_database_url_tradebot_cannot_use_is_one_line_naming_the_variable_not_the_password(url: str) -> None:
    with pytest.raises(SettingsError) as caught:
        isolated_settings(TRADEBOT_DATABASE_URL=url)
    assert "TRADEBOT_DATABASE_URL" in str(caught.value) and "s3cret" not in str(caught.value)


def test_bare_postgresql_urls_get_the_installed_driver() -> None:
    for url in ("postgresql://tradebot@db/tradebot", "postgres://tradebot@db/tradebot"):
        assert isolated_settings(TRADEBOT_DATABASE_URL=url).resolved_database_url == \
            "postgresql+psycopg://tradebot@db/tradebot"
