"""The daily digest: a fake clock, the fake Slack, and a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.common.clock import FakeClock
from bot.digest.content import build_digest, group_stories
from bot.digest.records import DigestOutcome, SlotStatus
from bot.digest.scheduler import DigestScheduler, latest_due_slot
from bot.digest.store import DigestStore
from bot.harness.fake_slack import BOT_TOKEN, Failure, FakeSlack
from bot.harness.render import render_blocks
from bot.library import Library
from bot.settings import isolated_settings
from bot.slack.client import make_client
from bot.slack.digest import SlackDigestSender, digest_metadata
from bot.slack.ui.digest import digest_message
from bot.slack.workspaces import SingleWorkspace
from bot.store import open_database
from tests.helpers import add_articles, write_article

LONDON = ZoneInfo("Europe/London")


def local(*args: int, zone: ZoneInfo = LONDON) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    await slack.start()
    yield slack
    await slack.stop()


class Rig:
    """Builds schedulers that share one corpus, one SQLite file and one fake Slack."""

    def __init__(self, corpus: Path, db: Path, fake: FakeSlack, clock: FakeClock, **settings: object) -> None:
        self.library = Library(corpus)
        self.library.load()
        self.db, self.fake, self.clock = db, fake, clock
        values = {"digest_channels": ["C0TRADE"], "digest_time": dt.time(8, 0), "digest_tz": "Europe/London",
                  "digest_grace_hours": 6.0, "digest_enabled": True, "digest_skip_empty": False,
                  "digest_max_items": 8, **settings}
        self.settings = isolated_settings(**values)
        self.stores: list[DigestStore] = []

    def scheduler(self, token: str = BOT_TOKEN) -> DigestScheduler:
        store = DigestStore(open_database(f"sqlite:///{self.db}"))  # a restarted or second process
        self.stores.append(store)
        sender = SlackDigestSender(SingleWorkspace(make_client(token, self.fake.api_url)))
        return DigestScheduler(self.settings, self.library, store, sender, self.clock)

    def posts(self, channel: str = "C0TRADE") -> list[dict]:
        return [m for m in self.fake.channels[channel].messages if m.get("metadata")]

    def close(self) -> None:
        for store in self.stores:
            store.db.close()


@pytest.fixture
def rig(corpus_copy: Path, tmp_path: Path, fake: FakeSlack) -> Rig:
    rig = Rig(corpus_copy, tmp_path / "digest.sqlite3", fake, FakeClock(local(2026, 11, 23, 7, 0)))
    yield rig
    rig.close()


async def test_normal_day_posts_once_at_the_local_time(rig: Rig) -> None:
    scheduler = rig.scheduler()
    assert await scheduler.tick() == {}  # 07:00, not yet
    rig.clock.set(local(2026, 11, 23, 8, 0, 5))
    assert await scheduler.tick() == {"C0TRADE": DigestOutcome.POSTED}
    rig.clock.advance(minutes=30)
    assert await scheduler.tick() == {}
    [post] = rig.posts()
    assert post["metadata"] == digest_metadata("C0TRADE", dt.date(2026, 11, 23))
    shown = render_blocks(post["blocks"])
    assert "Trade news digest — Monday 23 November 2026" in shown
    assert "Treasury Secretary Signals Major US-China Trade Breakthrough" in shown and "In the news:" in shown


async def test_restart_after_posting_does_not_post_again(rig: Rig) -> None:
    rig.clock.set(local(2026, 11, 23, 8, 1))
    assert (await rig.scheduler().tick())["C0TRADE"] is DigestOutcome.POSTED
    assert await rig.scheduler().tick() == {}  # a fresh process on the same database
    assert len(rig.posts()) == 1
    assert rig.scheduler().store.get("", "C0TRADE", dt.date(2026, 11, 23)).ts == rig.posts()[0]["ts"]


async def test_crash_between_post_and_record_is_reconciled_not_reposted(rig: Rig) -> None:
    rig.clock.set(local(2026, 11, 23, 8, 1))
    crashed = rig.scheduler()
    claim = crashed.store.claim("", "C0TRADE", dt.date(2026, 11, 23), rig.clock.now(), dt.timedelta(minutes=3))
    assert claim is not None
    await crashed.sender.post("", "C0TRADE", crashed.compose("", "C0TRADE", dt.date(2026, 11, 23)))
    # ... and the process dies before recording the ts. A new one starts:
    restarted = rig.scheduler()
    assert await restarted.tick() == {"C0TRADE": DigestOutcome.BUSY}  # the claim is fresh: maybe still in flight
    rig.clock.advance(minutes=4)
    assert await restarted.tick() == {"C0TRADE": DigestOutcome.POSTED}  # took over, found our post in history
    assert len(rig.posts()) == 1
    assert restarted.store.get("", "C0TRADE", dt.date(2026, 11, 23)).status is SlotStatus.POSTED


async def test_crash_after_claim_before_post_posts_once_later(rig: Rig) -> None:
    rig.clock.set(local(2026, 11, 23, 8, 1))
    rig.scheduler().store.claim("", "C0TRADE", dt.date(2026, 11, 23), rig.clock.now(), dt.timedelta(minutes=3))
    restarted = rig.scheduler()
    rig.clock.advance(minutes=4)
    assert await restarted.tick() == {"C0TRADE": DigestOutcome.POSTED}
    assert len(rig.posts()) == 1


async def test_two_concurrent_posters_produce_one_post(rig: Rig) -> None:
    rig.clock.set(local(2026, 11, 23, 8, 0, 1))
    outcomes = await asyncio.gather(*(rig.scheduler().tick() for _ in range(4)))
    assert [o.get("C0TRADE") for o in outcomes].count(DigestOutcome.POSTED) == 1  # the others: busy, or done
    assert len(rig.posts()) == 1


def test_two_processes_started_at_once_post_once(corpus_copy: Path, tmp_path: Path) -> None:
    async def scenario() -> int:
        fake = FakeSlack()
        await fake.start()
        env = {**os.environ, "SLACK_API_URL": fake.api_url, "SLACK_BOT_TOKEN": BOT_TOKEN,
               "TRADEBOT_DB": str(tmp_path / "shared.sqlite3"), "DIGEST_CHANNEL": "C0TRADE",
               "TRADEBOT_CORPUS": str(corpus_copy)}
        cmd = [sys.executable, "-m", "bot", "digest", "--post"]
        procs = [await asyncio.create_subprocess_exec(*cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        outputs = [b"\n".join(await p.communicate()).decode() for p in procs]
        await fake.stop()
        assert all(p.returncode == 0 for p in procs), outputs
        return len([m for m in fake.channels["C0TRADE"].messages if m.get("metadata")])

    assert asyncio.run(scenario()) == 1


async def test_missed_slot_inside_grace_catches_up_once(rig: Rig) -> None:
    rig.clock.set(local(2026, 11, 23, 11, 30))  # the bot was down at 08:00
    scheduler = rig.scheduler()
    assert await scheduler.tick() == {"C0TRADE": DigestOutcome.POSTED}
    assert await scheduler.tick() == {}
    assert len(rig.posts()) == 1


async def test_missed_slot_beyond_grace_is_skipped_and_logged(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    rig.clock.set(local(2026, 11, 22, 8, 1))
    scheduler = rig.scheduler()
    assert await scheduler.tick() == {"C0TRADE": DigestOutcome.POSTED}
    rig.clock.set(local(2026, 11, 23, 14, 1))  # down from before 08:00 until after the grace window
    assert await scheduler.tick() == {"C0TRADE": DigestOutcome.SKIPPED_MISSED}
    assert await scheduler.tick() == {}
    assert len(rig.posts()) == 1 and "grace window" in caplog.text
    rig.clock.set(local(2026, 11, 24, 8, 0, 1))
    assert await scheduler.tick() == {"C0TRADE": DigestOutcome.POSTED}  # the next day is normal again


async def test_run_across_midnight_is_keyed_by_the_scheduled_date(corpus_copy: Path, tmp_path: Path,
                                                                  fake: FakeSlack) -> None:
    rig = Rig(corpus_copy, tmp_path / "d.sqlite3", fake, FakeClock(local(2026, 11, 23, 0, 0, 1)),
              digest_time=dt.time(23, 59, 59))
    scheduler = rig.scheduler()
    assert await scheduler.tick() == {"C0TRADE": DigestOutcome.POSTED}
    assert rig.posts()[0]["metadata"]["event_payload"]["date"] == "2026-11-22"
    rig.close()


@pytest.mark.parametrize("start, end, expected_dates", [
    # Spring forward: 01:30 does not exist on 29 March 2026 in London.
    (dt.datetime(2026, 3, 28, 0, 0), dt.datetime(2026, 3, 30, 6, 0), ["2026-03-28", "2026-03-29", "2026-03-30"]),
    # Fall back: 01:30 happens twice on 25 October 2026.
    (dt.datetime(2026, 10, 24, 0, 0), dt.datetime(2026, 10, 26, 6, 0), ["2026-10-24", "2026-10-25", "2026-10-26"]),
])
async def test_dst_days_get_exactly_one_digest(corpus_copy: Path, tmp_path: Path, fake: FakeSlack,
                                               start: dt.datetime, end: dt.datetime, expected_dates: list[str]) -> None:
    rig = Rig(corpus_copy, tmp_path / "dst.sqlite3", fake, FakeClock(start.replace(tzinfo=dt.UTC)),
              digest_time=dt.time(1, 30))
    scheduler = rig.scheduler()
    end_utc = end.replace(tzinfo=dt.UTC)
    while rig.clock.now() < end_utc:
        await scheduler.tick()
        rig.clock.advance(minutes=10)
    dates = [m["metadata"]["event_payload"]["date"] for m in rig.posts()]
    assert dates == expected_dates
    rig.close()


def test_slot_math_on_dst_days() -> None:
    spring_day, spring = latest_due_slot(dt.datetime(2026, 3, 29, 5, tzinfo=dt.UTC), dt.time(1, 30), LONDON)
    assert spring_day == dt.date(2026, 3, 29)
    fall_day, fall = latest_due_slot(dt.datetime(2026, 10, 25, 5, tzinfo=dt.UTC), dt.time(1, 30), LONDON)
    assert fall_day == dt.date(2026, 10, 25) and fall == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)


async def test_rate_limited_post_waits_and_posts_once(rig: Rig) -> None:
    rig.fake.fail(Failure(method="chat.postMessage", error="ratelimited", retry_after=1))
    rig.clock.set(local(2026, 11, 23, 8, 1))
    assert await rig.scheduler().tick() == {"C0TRADE": DigestOutcome.POSTED}
    assert len(rig.fake.calls_to("chat.postMessage")) == 2 and len(rig.posts()) == 1


async def test_connection_reset_after_slack_accepted_does_not_post_twice(rig: Rig) -> None:
    rig.fake.fail(Failure(method="chat.postMessage", after_success=True))
    rig.clock.set(local(2026, 11, 23, 8, 1))
    scheduler = rig.scheduler()
    assert await scheduler.tick() == {"C0TRADE": DigestOutcome.PENDING}
    assert len(rig.posts()) == 1  # Slack did post
    rig.clock.advance(minutes=4)
    assert await scheduler.tick() == {"C0TRADE": DigestOutcome.POSTED}  # reconciled from history
    assert len(rig.posts()) == 1


async def test_not_in_public_channel_joins_and_retries(rig: Rig) -> None:
    rig.settings.digest_channels = ["C0PUBLIC"]
    rig.fake.fail(Failure(method="chat.postMessage", error="not_in_channel"))
    rig.clock.set(local(2026, 11, 23, 8, 1))
    assert await rig.scheduler().tick() == {"C0PUBLIC": DigestOutcome.POSTED}
    assert rig.fake.calls_to("conversations.join") and len(rig.posts("C0PUBLIC")) == 1


@pytest.mark.parametrize("channel, error", [("C0PRIVATE", "method_not_supported_for_channel_type"),
                                            ("CNOPE", "channel_not_found"), ("C0ARCHIVED", "is_archived")])
async def test_channel_errors_fail_that_channel_only(rig: Rig, channel: str, error: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    rig.settings.digest_channels = [channel, "C0TRADE"]
    rig.clock.set(local(2026, 11, 23, 8, 1))
    scheduler = rig.scheduler()
    outcomes = await scheduler.tick()
    assert outcomes == {channel: DigestOutcome.FAILED, "C0TRADE": DigestOutcome.POSTED}
    assert error in caplog.text
    record = scheduler.store.get("", channel, dt.date(2026, 11, 23))
    assert record.status is SlotStatus.FAILED and record.error == error
    assert await scheduler.tick() == {}  # no crash loop: the day is marked failed


async def test_invalid_auth_is_a_clear_failure(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    rig.clock.set(local(2026, 11, 23, 8, 1))
    assert await rig.scheduler(token="xoxb-revoked").tick() == {"C0TRADE": DigestOutcome.FAILED}
    assert len(rig.fake.calls_to("chat.postMessage")) <= 1 and "invalid_auth" in caplog.text
    assert rig.stores[-1].get("", "C0TRADE", dt.date(2026, 11, 23)).error == "invalid_auth"


async def test_empty_day_says_nothing_new_or_skips(rig: Rig) -> None:
    rig.clock.set(local(2026, 11, 23, 8, 1))
    await rig.scheduler().tick()
    rig.clock.set(local(2026, 11, 24, 8, 1))
    assert await rig.scheduler().tick() == {"C0TRADE": DigestOutcome.POSTED}
    assert "Nothing new" in render_blocks(rig.posts()[-1]["blocks"])
    rig.settings.digest_skip_empty = True
    rig.clock.set(local(2026, 11, 25, 8, 1))
    assert await rig.scheduler().tick() == {"C0TRADE": DigestOutcome.SKIPPED_EMPTY}
    assert len(rig.posts()) == 2


async def test_corpus_unavailable_skips_with_a_log_line(tmp_path: Path, fake: FakeSlack,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    rig = Rig(tmp_path / "missing", tmp_path / "d.sqlite3", fake, FakeClock(local(2026, 11, 23, 8, 1)))
    assert await rig.scheduler().tick() == {"C0TRADE": DigestOutcome.SKIPPED_NO_CORPUS}
    assert rig.posts() == [] and "corpus unavailable" in caplog.text
    rig.close()


async def test_second_digest_lists_only_new_articles_and_watched_topics(rig: Rig) -> None:
    rig.clock.set(local(2026, 11, 23, 8, 1))
    scheduler = rig.scheduler()
    await scheduler.tick()
    scheduler.store.watch("", "C0TRADE", "steel tariffs")
    add_articles(rig.library.corpus_dir, 12)
    await rig.library.reload_if_changed()
    rig.clock.set(local(2026, 11, 24, 8, 1))
    await scheduler.tick()
    shown = render_blocks(rig.posts()[-1]["blocks"])
    assert "Bessent" not in shown.split("In the news")[0]  # old articles are not repeated
    assert "Trade officials weigh" in shown and "and 4 more" in shown
    assert "Watching “steel tariffs”" in shown and "*steel*" in shown


def test_same_story_from_several_outlets_is_grouped(corpus_copy: Path) -> None:
    a = write_article(corpus_copy, "a", "US and China agree to extend tariff truce", ["Body A."], publisher="AFP",
                      url="https://afp.example/a", published=dt.date(2025, 8, 1))
    b = write_article(corpus_copy, "b", "US, China agree to extend tariff truce by 90 days", ["Body B."],
                      publisher="Reuters", url="https://reuters.example/b", published=dt.date(2025, 8, 1))
    c = write_article(corpus_copy, "c", "Japan election result", ["Body C."], publisher="AFP",
                      published=dt.date(2025, 8, 2))
    groups = group_stories([a, b, c])
    assert [len(g.articles) for g in groups] == [1, 2]
    library = Library(corpus_copy)
    snap = library.load()
    digest = build_digest(local_date=dt.date(2025, 8, 3), new_articles=[a, b, c], people=snap.people,
                          search=snap.search, topics=[])
    assert digest.items[1].publisher == "Reuters" and [s.publisher for s in digest.items[1].also] == ["AFP"]
    assert "Also reported by <https://" in str(digest_message(digest).blocks)


async def test_watch_commands_and_digest_status_through_slack(corpus_copy: Path, tmp_path: Path) -> None:
    from bot.harness.session import HarnessSession

    async with HarnessSession(corpus_copy, db_path=tmp_path / "w.sqlite3") as s:
        assert "Now watching *rare earths*" in (await (await s.driver.slash("watch rare earths")).answer())["text"]
        assert "Already watching" in (await (await s.driver.slash("watch Rare Earths")).answer())["text"]
        assert "rare earths" in (await (await s.driver.slash("watching")).answer())["text"]
        assert "No longer watching" in (await (await s.driver.slash("unwatch rare earths")).answer())["text"]
        assert "watches no topics" in (await (await s.driver.slash("watching")).answer())["text"]
        s.service.store.finish("", "C0TRADE", dt.date(2026, 11, 22), None, SlotStatus.FAILED,
                               local(2026, 11, 22, 8, 0), error="channel_not_found")
        status = (await (await s.driver.slash("digest status")).answer())["text"]
        assert "<#C0TRADE>" in status and "channel_not_found" in status


@pytest.mark.parametrize("stop_after", [0.1, 0.3])  # Slack answers the post after 0.4 s
async def test_a_digest_cut_off_by_shutdown_is_posted_once_after_restart(rig: Rig, stop_after: float) -> None:
    """Item 39: SIGTERM cancels the scheduler while chat.postMessage is in flight (before Slack
    answers, or after Slack posted but before the ts was recorded). The next process posts once."""
    rig.clock.set(local(2026, 11, 23, 8, 1))
    rig.fake.fail(Failure(method="chat.postMessage", delay=0.4))
    doomed = asyncio.create_task(rig.scheduler().tick())
    await asyncio.sleep(stop_after)
    doomed.cancel()  # what BotService.stop does to its background tasks
    with contextlib.suppress(asyncio.CancelledError):
        await doomed
    await asyncio.sleep(0.6)  # whatever Slack was doing with the request has finished
    restarted = rig.scheduler()
    rig.clock.advance(minutes=4)  # past the claim's timeout: the claim is taken over and reconciled
    assert await restarted.tick() == {"C0TRADE": DigestOutcome.POSTED}
    assert len(rig.posts()) == 1
    assert await restarted.tick() == {}


async def test_a_channel_that_asked_with_digest_on_gets_it_until_digest_off(rig: Rig) -> None:
    rig.settings.digest_channels = []  # nothing configured: only the channel that asked
    scheduler = rig.scheduler()
    assert scheduler.store.subscribe("", "C0TRADE", "U0ALICE") is True
    assert scheduler.store.subscribe("", "C0TRADE", "U0ALICE") is False
    rig.clock.set(local(2026, 11, 23, 8, 1))
    assert await scheduler.tick() == {"C0TRADE": DigestOutcome.POSTED}
    assert scheduler.store.unsubscribe("", "C0TRADE") is True
    rig.clock.set(local(2026, 11, 24, 8, 1))
    assert await scheduler.tick() == {}
    assert len(rig.posts()) == 1
