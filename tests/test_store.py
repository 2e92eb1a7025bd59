"""The state layer on both engines (SQLite file, PostgreSQL schema): watch lists, digest channels,
claims and alerts kept per workspace, claims that exactly one of many threads or processes wins,
and feed state."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from bot.common.clock import FakeClock
from bot.digest.records import SlotStatus
from bot.digest.store import DigestStore
from bot.feeds.store import FeedStore, OtherOutlet
from bot.store import Database, open_database
from bot.store.schema import metadata
from tests import racers
from tests.databases import fresh_postgres_schema

DAY = racers.DAY
NOW = racers.NOW
STALE = racers.STALE


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def store(database: Database, clock: FakeClock) -> DigestStore:
    return DigestStore(database, clock)


# The test database itself -------------------------------------------------------------------

def test_postgres_tables_land_in_the_tests_own_schema_and_not_in_public() -> None:
    with fresh_postgres_schema() as url:
        schema = sa.make_url(url).query["application_name"]
        database = open_database(url)
        try:
            DigestStore(database).watch("T0MINE-" + str(schema), "C1", "steel")
            with database.begin() as db:
                assert db.execute(sa.text("SELECT current_schema()")).scalar() == schema
                tables = set(db.execute(sa.text("SELECT table_name FROM information_schema.tables "
                                                "WHERE table_schema = :s"), {"s": schema}).scalars())
                assert tables == set(metadata.tables)
                assert db.execute(sa.text(f"SELECT count(*) FROM {schema}.watches")).scalar() == 1
                if db.execute(sa.text("SELECT to_regclass('public.watches')")).scalar() is not None:
                    mine = db.execute(sa.text("SELECT count(*) FROM public.watches WHERE team_id = :t"),
                                      {"t": "T0MINE-" + str(schema)}).scalar()
                    assert mine == 0
        finally:
            database.close()
    with fresh_postgres_schema() as other, sa.create_engine(other).connect() as db:
        gone = db.execute(sa.text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema}).scalar()
    assert gone == 0


def test_a_leaked_connection_does_not_keep_the_schema_alive() -> None:
    with fresh_postgres_schema() as url:
        database = open_database(url)
        leaked = database.engine.connect()
        leaked.begin()
        leaked.execute(sa.text("SELECT count(*) FROM watches"))  # holds a lock on the table
    assert leaked.closed is False  # still open when the schema was dropped
    leaked.invalidate()  # its server side is gone: drop it without the rollback a close would try
    database.close()


# Watch lists and digest channels --------------------------------------------------------------

def test_watch_lists(store: DigestStore, clock: FakeClock) -> None:
    assert store.watch("", "C1", "Steel tariffs") is True
    assert store.watch("", "C1", "  steel TARIFFS ") is False  # the same topic, written differently
    clock.advance(seconds=1)
    assert store.watch("", "C1", "soybeans", instant=True) is True
    assert store.watches("", "C1") == [("Steel tariffs", False), ("soybeans", True)]
    assert store.watch("", "C1", "steel tariffs", instant=True) is True  # switched to instant
    assert store.watch("", "C1", "steel tariffs", instant=True) is False
    assert store.instant_watches() == [("", "C1", "Steel tariffs"), ("", "C1", "soybeans")]
    assert store.unwatch("", "C1", "STEEL tariffs") is True
    assert store.unwatch("", "C1", "steel tariffs") is False
    assert store.watching("", "C1") == ["soybeans"]
    assert store.watching("", "C2") == []


def test_digest_channels(store: DigestStore, clock: FakeClock) -> None:
    assert store.subscribe("", "C1", "U1") is True
    assert store.subscribe("", "C1", "U2") is False
    clock.advance(seconds=1)
    assert store.subscribe("T2", "C2") is True
    assert store.subscribed() == [("", "C1"), ("T2", "C2")]
    assert store.unsubscribe("", "C1") is True
    assert store.unsubscribe("", "C1") is False
    assert store.subscribed() == [("T2", "C2")]


def test_forget_team_drops_its_watches_and_channels_but_keeps_the_ledger(store: DigestStore) -> None:
    for team in ("T1", "T2"):
        store.watch(team, "C1", "steel", instant=True)
        store.subscribe(team, "C1")
        claim = store.claim(team, "C1", DAY, NOW, STALE)
        assert claim is not None
        store.finish(team, "C1", DAY, claim[0], SlotStatus.POSTED, NOW, ts="1.1")
    store.forget_team("T1")
    assert store.watching("T1", "C1") == [] and store.watching("T2", "C1") == ["steel"]
    assert store.subscribed() == [("T2", "C1")]
    assert store.instant_watches() == [("T2", "C1", "steel")]
    assert store.claim("T1", "C1", DAY, NOW, STALE) is None  # a reinstall the same day does not post again
    record = store.get("T1", "C1", DAY)
    assert record is not None and record.status == SlotStatus.POSTED


def test_the_same_channel_id_in_two_workspaces_stays_apart(store: DigestStore) -> None:
    store.watch("T1", "C0SAME", "steel")
    store.watch("T2", "C0SAME", "soybeans", instant=True)
    assert store.watching("T1", "C0SAME") == ["steel"] and store.watching("T2", "C0SAME") == ["soybeans"]
    assert store.unwatch("T1", "C0SAME", "soybeans") is False

    first, second = store.claim("T1", "C0SAME", DAY, NOW, STALE), store.claim("T2", "C0SAME", DAY, NOW, STALE)
    assert first is not None and second is not None and first[0] != second[0]
    store.finish("T1", "C0SAME", DAY, first[0], SlotStatus.POSTED, NOW, ts="1.1")
    assert store.get("T2", "C0SAME", DAY).status == SlotStatus.CLAIMED  # type: ignore[union-attr]
    assert [r.ts for r in store.last_results("T1")] == ["1.1"]
    assert [r.status for r in store.last_results("T2")] == [SlotStatus.CLAIMED]
    assert store.last_results("T3") == []

    store.mark_sent("T1", "C0SAME", ["a1", "a2"], DAY)
    assert store.sent_ids("T1", "C0SAME") == {"a1", "a2"} and store.sent_ids("T2", "C0SAME") == set()
    assert store.claim_alert("T1", "C0SAME", "a1", "steel", NOW, STALE) is None  # the digest had it
    assert store.claim_alert("T2", "C0SAME", "a1", "steel", NOW, STALE) is False  # new in T2
    assert store.pending_alerts() == [("T2", "C0SAME", "a1", "steel")]


# Digest claims --------------------------------------------------------------------------------

def test_claim_finish_and_stale_takeover(store: DigestStore) -> None:
    claim = store.claim("", "C1", DAY, NOW, STALE)
    assert claim is not None and claim[1] is False
    assert store.claim("", "C1", DAY, NOW + STALE, STALE) is None  # fresh: held by the first
    later = NOW + STALE + dt.timedelta(seconds=1)
    taken = store.claim("", "C1", DAY, later, STALE)
    assert taken is not None and taken[1] is True and taken[0] != claim[0]
    store.finish("", "C1", DAY, claim[0], SlotStatus.POSTED, later, ts="9.9")  # the old holder woke up: ignored
    record = store.get("", "C1", DAY)
    assert record is not None and record.status == SlotStatus.CLAIMED and record.claim == taken[0]
    store.finish("", "C1", DAY, taken[0], SlotStatus.POSTED, later, ts="1.2")
    assert store.claim("", "C1", DAY, later + dt.timedelta(days=1), STALE) is None  # posted is final
    record = store.get("", "C1", DAY)
    assert record is not None and record.ts == "1.2" and record.claimed_at == later


def test_a_skipped_slot_is_recorded_without_a_claim(store: DigestStore) -> None:
    store.finish("", "C1", DAY, None, SlotStatus.SKIPPED, NOW, error="missed")
    assert store.claim("", "C1", DAY, NOW, STALE) is None
    store.finish("", "C1", DAY + dt.timedelta(days=1), None, SlotStatus.FAILED, NOW, error="channel_not_found")
    [latest] = store.last_results("", "C1")
    assert latest.local_date == DAY + dt.timedelta(days=1) and latest.error == "channel_not_found"


# Instant alerts -------------------------------------------------------------------------------

def test_alert_claims(store: DigestStore) -> None:
    assert store.claim_alert("", "C1", "a1", "steel", NOW, STALE) is False
    assert store.claim_alert("", "C1", "a1", "steel", NOW, STALE) is None
    assert store.sent_ids("", "C1") == {"a1"}  # the digest will not list it again
    assert store.pending_alerts() == [("", "C1", "a1", "steel")]
    later = NOW + STALE + dt.timedelta(seconds=1)
    assert store.claim_alert("", "C1", "a1", "steel", later, STALE) is True  # stale: taken over
    assert store.claim_alert("", "C1", "a1", "steel", later, STALE) is None
    store.finish_alert("", "C1", "a1", "5.5")
    assert store.pending_alerts() == []
    assert store.claim_alert("", "C1", "a1", "steel", later + dt.timedelta(days=1), STALE) is None

    assert store.claim_alert("", "C1", "a2", "steel", NOW, STALE) is False
    store.finish_alert("", "C1", "a2", None, error="not_in_channel")
    assert store.sent_ids("", "C1") == {"a1"}  # refused: given back to the digest
    assert store.claim_alert("", "C1", "a2", "steel", later, STALE) is None  # but never alerted again


# Races: exactly one winner ----------------------------------------------------------------------

def race_threads(database: Database, n: int, now: dt.datetime) -> list[list[tuple[Any, Any]]]:
    """`n` threads, each with its own store on the one database, make the same claims at once."""
    barrier = threading.Barrier(n)

    def racer() -> list[tuple[Any, Any]]:
        store = DigestStore(database)
        outcomes = []
        for i in range(racers.ROUNDS):
            barrier.wait(timeout=60)
            outcomes.append(racers.claims(store, i, now))
        return outcomes

    with ThreadPoolExecutor(n) as pool:
        return [f.result() for f in [pool.submit(racer) for _ in range(n)]]


def assert_one_winner_per_round(runs: list[list[tuple[Any, Any]]], took_over: bool) -> None:
    for i in range(racers.ROUNDS):
        digests = [run[i][0] for run in runs]
        alerts = [run[i][1] for run in runs]
        won = [d for d in digests if d is not None]
        assert len(won) == 1, (i, digests)
        assert won[0][1] is took_over
        assert alerts.count(took_over) == 1 and alerts.count(None) == len(runs) - 1, (i, alerts)


def hold_stale_claims(database: Database) -> None:
    """A process claimed every round's digest slot and alert an hour ago, then died."""
    dead = DigestStore(database)
    for i in range(racers.ROUNDS):
        digest, alert = racers.claims(dead, i, NOW - dt.timedelta(hours=1))
        assert digest is not None and digest[1] is False and alert is False


def test_threads_racing_for_claims_have_one_winner_each(database: Database) -> None:
    assert_one_winner_per_round(race_threads(database, 8, NOW), took_over=False)


def test_threads_racing_for_stale_claims_take_each_over_once(database: Database) -> None:
    hold_stale_claims(database)
    assert_one_winner_per_round(race_threads(database, 8, NOW), took_over=True)


def test_processes_racing_for_claims_have_one_winner_each(database: Database, database_url: str) -> None:
    assert_one_winner_per_round(racers.run_processes("claims", database_url, 3), took_over=False)


def test_processes_racing_for_stale_claims_take_each_over_once(database: Database, database_url: str) -> None:
    hold_stale_claims(database)
    assert_one_winner_per_round(racers.run_processes("claims", database_url, 3), took_over=True)


# Feed state -------------------------------------------------------------------------------------

def test_feed_store(database: Database) -> None:
    feeds = FeedStore(database)
    url = "https://wire.example/feed.xml"
    assert feeds.add_feed(url, interval_s=900, now=NOW, added_by="U1") is True
    assert feeds.add_feed(url, interval_s=900, now=NOW) is False
    [record] = feeds.feeds()
    assert (record.url, record.added_by, record.active, record.failures) == (url, "U1", True, 0)
    assert record.added_at == NOW and record.next_poll_at == NOW  # aware UTC, as written
    assert [f.url for f in feeds.due(NOW)] == [url]

    later = NOW + dt.timedelta(minutes=15)
    feeds.record_poll(url, now=NOW, next_poll_at=later, ok=True, status="3 new", added=3, title="Wire",
                      etag='"abc"', last_modified="Mon, 23 Nov 2026 08:00:00 GMT")
    feeds.record_poll(url, now=later, next_poll_at=later + dt.timedelta(hours=1), ok=False, status="HTTP 503", added=0)
    record = feeds.get(url)  # type: ignore[assignment]
    assert record is not None
    assert (record.title, record.etag, record.articles_added, record.failures) == ("Wire", '"abc"', 3, 1)
    assert record.last_success_at == NOW and record.last_error == "HTTP 503"
    assert feeds.due(later) == [] and len(feeds.due(later + dt.timedelta(hours=1))) == 1

    feeds.record_poll(url, now=later, next_poll_at=later, ok=False, status="HTTP 410", stop=True)
    assert feeds.get(url).active is False and feeds.due(later) == []  # type: ignore[union-attr]
    assert feeds.add_feed(url, interval_s=900, now=later) is True  # a stopped feed starts again
    assert feeds.get(url).failures == 0  # type: ignore[union-attr]

    feeds.mark_seen(url, "guid-1", outcome="added", article_id="a1", now=NOW)
    feeds.mark_seen(url, "guid-1", outcome="added again", article_id="a1", now=later)  # kept once
    feeds.mark_seen(url, "guid-2", outcome="not about trade", article_id=None, now=NOW)
    assert feeds.seen_keys(url) == {"guid-1", "guid-2"}

    first = OtherOutlet(publisher="Other Wire", url="https://other.example/1", title="Same story")
    second = OtherOutlet(publisher="Third", url="https://third.example/1", title=None)
    feeds.add_other_outlet("a1", second, later)
    feeds.add_other_outlet("a1", first, NOW)
    feeds.add_other_outlet("a1", first, later)  # the same outlet once
    assert feeds.also_reported_by("a1") == [first, second]
    assert feeds.also_reported_by("a2") == []

    assert feeds.remove_feed(url) is True and feeds.remove_feed(url) is False
    assert feeds.feeds() == [] and feeds.seen_keys(url) == set()


def test_replicas_claim_each_due_feed_once(database: Database, database_url: str) -> None:
    """Two processes' stores on one database: a due feed is polled by one of them; the lease ends
    (a replica died mid-poll) and it is due again; the poll's own result sets the next time."""
    url = "https://wire.example/feed.xml"
    one, other = FeedStore(database), FeedStore(open_database(database_url))
    try:
        one.add_feed(url, interval_s=900, now=NOW)
        lease = dt.timedelta(minutes=10)
        assert [f.url for f in one.claim_due(NOW, lease)] == [url]
        assert other.claim_due(NOW, lease) == [] and one.claim_due(NOW + dt.timedelta(minutes=9), lease) == []
        [again] = other.claim_due(NOW + dt.timedelta(minutes=11), lease)  # the first poller never reported
        assert again.url == url
        other.record_poll(url, now=NOW, next_poll_at=NOW + dt.timedelta(minutes=15), ok=True, status="ok")
        assert one.claim_due(NOW + dt.timedelta(minutes=14), lease) == []
        assert len(one.claim_due(NOW + dt.timedelta(minutes=15), lease)) == 1
    finally:
        other.db.close()


def test_expired_oauth_states_are_pruned_as_installs_go_on(database: Database) -> None:
    from bot.store.installations import OAuthStates
    from bot.store.schema import oauth_states

    clock = FakeClock(NOW)
    states = OAuthStates(database, lifetime=600, clock=clock)
    old = [states.issue() for _ in range(10)]
    clock.advance(minutes=11)  # those have expired
    fresh = [states.issue() for _ in range(90)]  # the 100th issue prunes
    with database.begin() as db:
        left = {row.state for row in db.execute(sa.select(oauth_states.c.state))}
    assert left == set(fresh) and not set(old) & left
    assert states.consume(fresh[0]) and not states.consume(old[0])
