"""Values nobody tuned for, on both engines: NUL bytes, lone surrogates, strings longer than
their column. PostgreSQL refuses NUL in text and raises on a VARCHAR(n) overflow, where SQLite
stores either as given; the state layer must give the same answer on both (never an error),
and a value written must be found again by the same value."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from bot.answers.commands import Search, Watch, parse_command
from bot.answers.state import AnswerStore, StoredAnswer
from bot.common.clock import FakeClock
from bot.digest.store import DigestStore
from bot.feeds.parse import _entry_key
from bot.feeds.store import FeedStore, OtherOutlet
from bot.slack.dedupe import RecentKeys
from bot.store import Database, open_database
from bot.store.installations import InstallationRecords, OAuthStates
from bot.store.schema import Bounded, metadata, watches
from tests.databases import fresh_postgres_schema, postgres_base_url

NOW = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)
LONG_TOPIC = "\ufdfa" * 100  # 100 characters that NFKC makes 1,800 (the topic key's column holds 400)


@pytest.fixture
def store(database: Database) -> DigestStore:
    return DigestStore(database, FakeClock(NOW))


def test_every_bounded_text_column_uses_the_one_bounded_type() -> None:
    """A plain VARCHAR(n) would raise on PostgreSQL for a value SQLite takes: none is left."""
    plain = [f"{t.name}.{c.name}" for t in metadata.tables.values() for c in t.columns
             if isinstance(c.type, sa.String) and not isinstance(c.type, sa.Text)]
    assert plain == []
    assert all(isinstance(c.type, (Bounded, sa.Text, sa.Integer, sa.Float, sa.DateTime, sa.Boolean))
               for t in metadata.tables.values() for c in t.columns)


def test_a_topic_with_a_nul_byte_is_watched_and_unwatched(store: DigestStore) -> None:
    assert store.watch("", "C1", "steel\x00 tariffs")
    assert store.watching("", "C1") == ["steel tariffs"]
    assert store.unwatch("", "C1", "steel\x00 tariffs")
    assert store.watching("", "C1") == []


def test_a_topic_whose_key_outgrows_its_column_is_watched_found_and_unwatched(store: DigestStore) -> None:
    command = parse_command("watch " + LONG_TOPIC)
    assert isinstance(command, Watch) and command.topic == LONG_TOPIC
    assert store.watch("", "C1", command.topic)
    assert not store.watch("", "C1", command.topic)  # the same key: already watched
    similar = LONG_TOPIC[:-1] + "x"  # the same first 1,782 key characters: still another topic
    assert store.watch("", "C1", similar)
    assert store.watching("", "C1") == [LONG_TOPIC, similar]
    assert store.unwatch("", "C1", LONG_TOPIC)
    assert store.watching("", "C1") == [similar]


def test_a_lone_surrogate_is_stored_not_an_error(store: DigestStore) -> None:
    assert store.watch("", "C1", "a\ud800b")  # json.loads gives these for "\\ud800"
    assert store.watching("", "C1") == ["a\ufffdb"]


def test_ids_longer_than_their_column_are_cut_the_same_way_on_both_engines(store: DigestStore) -> None:
    assert store.subscribe("", "C" * 100, "U" * 100)
    assert store.subscribed() == [("", "C" * 40)]
    assert not store.subscribe("", "C" * 41)  # the same row, once cut


def test_a_forged_button_key_finds_nothing(database: Database) -> None:
    answers = AnswerStore(database)
    key = answers.put(StoredAnswer(Search("tariffs"), "U1", "C1"))
    for forged in ("\x00", "x" * 2000, "\ud800", "é" * 2000, key[:-1] + "\ud800"):
        assert answers.get(forged) is None
    assert answers.get(key) == answers.get(key + "\x00") is not None  # a NUL is no part of any value


async def test_a_seen_key_with_a_nul_byte_is_shared_and_the_database_stays_in_use(database: Database) -> None:
    one, other = RecentKeys(database=database), RecentKeys(database=database)
    assert await one.first_time("event:Ev\x001")
    assert not await other.first_time("event:Ev\x001")  # another process: the row was written
    assert one._retry_at is None  # noqa: SLF001 (not taken for an outage)


def test_odd_oauth_states_and_team_ids_find_nothing(database: Database) -> None:
    states = OAuthStates(database)
    for forged in ("\x00", "a" * 10_000, "\ud800", ""):
        assert not states.consume(forged)
    records = InstallationRecords(database)
    assert records.find("T\x00") is None
    assert not records.delete("T" * 500)


def test_a_feed_with_odd_etags_titles_and_entry_keys_is_recorded(database: Database) -> None:
    feeds = FeedStore(database)
    url = "https://example.com/feed.xml"
    assert feeds.add_feed(url, interval_s=600, now=NOW)
    feeds.record_poll(url, now=NOW, next_poll_at=NOW + dt.timedelta(minutes=10), ok=True, status="ok\x00",
                      title="T\x00" * 400, etag='"' + "e" * 900 + '"', last_modified="M" * 300)
    record = feeds.get(url)
    assert record is not None and record.failures == 0
    key = _entry_key("guid\x00with nul", None, None, "")
    feeds.mark_seen(url, key, outcome="added", article_id=None, now=NOW)
    assert key in feeds.seen_keys(url)  # what the poller compares: no re-ingesting every poll
    feeds.add_other_outlet("a1", OtherOutlet(publisher="P\x00" * 150, url="https://x.example/" + "p" * 2100,
                                             title="t"), NOW)
    assert len(feeds.also_reported_by("a1")) == 1


def test_rows_are_what_the_engines_agree_on(store: DigestStore, database: Database) -> None:
    store.watch("", "C1", LONG_TOPIC)
    with database.begin() as db:
        key = db.execute(sa.select(watches.c.topic_key)).scalar_one()
    assert len(key) == 400 and "\x00" not in key


def test_connections_the_server_dropped_are_replaced_without_an_error() -> None:
    """A PostgreSQL restart (or a failover, or an idle timeout) ends every pooled connection: the
    next transaction gets a new one (pool_pre_ping) instead of raising StoreUnavailable."""
    with fresh_postgres_schema() as url:
        database = open_database(url)
        try:
            store = DigestStore(database, FakeClock(NOW))
            assert store.watch("", "C1", "steel")
            admin = sa.create_engine(postgres_base_url() or "", isolation_level="AUTOCOMMIT", poolclass=NullPool)
            with admin.connect() as db:
                ended = db.execute(sa.text("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                                           "pg_stat_activity WHERE application_name = :name) AS t"),
                                   {"name": sa.make_url(url).query["application_name"]}).scalar()
            admin.dispose()
            assert ended and ended >= 1
            assert store.watching("", "C1") == ["steel"]  # no StoreUnavailable, no restart of ours
            assert store.watch("", "C1", "soybeans")
        finally:
            database.close()
