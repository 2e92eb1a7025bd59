"""Several `tradebot run` replicas on one PostgreSQL: any replica answers any request, posts happen once.

Real processes (`python -m bot run`, HTTP mode), a real PostgreSQL schema of their own, and one
fake Slack; the test sends each request to the replica it names, as a load balancer would
(`tests/replicas.py`). Skipped, saying so, when `TRADEBOT_TEST_DATABASE_URL` is not set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.answers.compose import EXPIRED
from bot.digest.records import SlotStatus
from bot.digest.store import DigestStore
from bot.harness.driver import Driver
from bot.harness.fake_slack import TEAM, Failure, FakeSlack
from bot.harness.render import render_blocks
from bot.slack.digest import DIGEST_EVENT
from bot.store import Database, open_database
from bot.store.database import database_url
from tests.databases import fresh_postgres_schema
from tests.helpers import add_articles
from tests.replicas import Cluster, Replica

pytestmark = pytest.mark.asyncio(loop_scope="module")

FORM = "application/x-www-form-urlencoded"
ZONE = "America/New_York"  # the digest's time zone: not UTC, so local dates are really local


@pytest.fixture(scope="module")
def corpus(seed_corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds plus enough tariff articles for a "More results" button; every replica reads this one directory."""
    target = tmp_path_factory.mktemp("replicas") / "corpus"
    shutil.copytree(seed_corpus_dir, target)
    add_articles(target, 8)
    return target


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    """Replicas `a` and `b` on one schema, started once for the request tests below."""
    with fresh_postgres_schema() as url:
        async with Cluster(tmp_path_factory.mktemp("pair"), corpus, url) as cluster:
            await cluster.start("a", "b")
            await asyncio.gather(*(people_ready(cluster, r) for r in cluster.replicas.values()))
            yield cluster


async def people_ready(cluster: Cluster, replica: Replica, timeout: float = 60.0) -> None:
    """Until the replica's people directory answers (it is built after search; /health counts articles)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = await ask(cluster.driver(replica), "who greer", user="U0CAROL")
        if "Jamieson Greer" in render_blocks(answer["blocks"]):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"replica {replica.name} never knew who Greer is:\n{replica.tail()}")


async def ask(driver: Driver, text: str, user: str = "U0ALICE") -> dict[str, Any]:
    """`/trade text` sent to the driver's replica; the answer `user` now sees in C0TRADE."""
    await (await driver.slash(text, user=user)).answer(timeout=20)
    shown = driver.fake.ephemeral_for(user, "C0TRADE")
    assert shown, f"{user} sees no answer to /trade {text}"
    return dict(shown[-1])


async def click(driver: Driver, message: dict[str, Any], label: str, user: str = "U0ALICE") -> dict[str, Any]:
    """Press `label` on `message` through the driver's replica; the message as `user` then sees it."""
    await (await driver.click(message["blocks"], label, user=user)).answer(timeout=20)
    [now] = [m for m in driver.fake.ephemeral_for(user, "C0TRADE") if m["ts"] == message["ts"]]
    return dict(now)


def buttons(message: dict[str, Any], action_prefix: str) -> list[str]:
    return [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
            if str(e.get("action_id", "")).startswith(action_prefix)]


def assert_clean(fake: FakeSlack) -> None:
    """Slack refused nothing it was not told to, and no answer pinged anyone."""
    assert [(c["method"], c.get("error")) for c in fake.rejections()] == []
    assert [(c["method"], c["notified"]) for c in fake.notifications()] == []


# One answer, any replica ------------------------------------------------------------------------


async def test_more_results_and_pick_a_person_work_on_the_other_replica(pair: Cluster) -> None:
    a, b = pair.driver(pair.replicas["a"]), pair.driver(pair.replicas["b"])
    answer = await ask(a, "trade")
    assert "Articles 1–5 of" in render_blocks(answer["blocks"])
    paged = await click(b, answer, "More results")
    assert "Articles 6–" in render_blocks(paged["blocks"]), render_blocks(paged["blocks"])

    choice = await ask(a, "who kat")
    names = buttons(choice, "trade_pick")
    assert len(names) >= 2 and "Several people match" in render_blocks(choice["blocks"])
    picked = await click(b, choice, names[1])
    shown = render_blocks(picked["blocks"])
    assert names[1] in shown and EXPIRED not in shown and "[Share in channel]" in shown
    assert_clean(pair.fake)


async def test_a_watch_added_on_one_replica_is_listed_by_the_other(pair: Cluster) -> None:
    a, b = pair.driver(pair.replicas["a"]), pair.driver(pair.replicas["b"])
    added = await ask(a, "watch soybean tariffs", user="U0BOB")
    assert "Now watching *soybean tariffs*" in render_blocks(added["blocks"])
    listed = await ask(b, "watching", user="U0BOB")
    assert "soybean tariffs" in render_blocks(listed["blocks"])
    await ask(b, "unwatch soybean tariffs", user="U0BOB")
    assert "soybean tariffs" not in render_blocks((await ask(a, "watching", user="U0BOB"))["blocks"])


# Replays and redeliveries ------------------------------------------------------------------------


def answers_to(fake: FakeSlack, response_url: str) -> list[dict[str, Any]]:
    rid = response_url.rsplit("/", 1)[-1]
    return [c for c in fake.calls if c["method"] == "response_url" and c["params"].get("response_id") == rid]


async def test_a_signed_command_replayed_to_the_other_replica_has_no_second_effect(pair: Cluster) -> None:
    a, b = pair.driver(pair.replicas["a"]), pair.driver(pair.replicas["b"])
    response_url = pair.fake.new_response_url()
    body = urlencode({"command": "/trade", "text": "watch replayed topic", "user_id": "U0ALICE",
                      "channel_id": "C0TRADE", "team_id": TEAM, "response_url": response_url, "trigger_id": "1.2"})
    headers = a.sign(body)
    assert (await a.post_raw(body, headers, FORM))[0] == 200
    await pair.fake.wait_for(lambda c: answers_to(pair.fake, response_url) != [], timeout=20)
    assert (await b.post_raw(body, headers, FORM))[0] == 200  # the same bytes, the same signature
    later = await ask(b, "unwatch replayed topic")  # answered after the replay: b has handled it by now
    assert "replayed topic" in render_blocks(later["blocks"])
    assert len(answers_to(pair.fake, response_url)) == 1
    # Had the replay run, it would have watched the topic again.
    assert "replayed topic" not in render_blocks((await ask(a, "watching"))["blocks"])


async def test_an_event_redelivered_to_the_other_replica_is_processed_once(pair: Cluster) -> None:
    a, b = pair.driver(pair.replicas["a"]), pair.driver(pair.replicas["b"])
    said = pair.fake.state.user_says("C0TRADE", "U0ALICE", "<@UTRADEBOT> who greer")
    event = {"type": "event_callback", "event_id": f"Ev{said['ts'].replace('.', '')}", "team_id": TEAM,
             "api_app_id": "A0TRADEBOT", "event_time": int(time.time()),
             "event": {"type": "app_mention", "user": "U0ALICE", "text": said["text"], "ts": said["ts"],
                       "channel": "C0TRADE", "event_ts": said["ts"]}}
    body = json.dumps(event)
    assert (await a.post_raw(body, a.sign(body), "application/json"))[0] == 200
    # Slack's retry: the same event, signed again (another timestamp), to whichever replica.
    retry = {**b.sign(body, int(time.time()) - 1), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await b.post_raw(body, retry, "application/json"))[0] == 200

    def replies() -> list[dict[str, Any]]:
        return [c for c in pair.fake.calls_to("chat.postMessage") if c["params"].get("thread_ts") == said["ts"]]

    await pair.fake.wait_for(lambda c: replies() != [], timeout=20)
    await ask(b, "help")  # b answers later requests, so it has long finished with the retry
    await ask(a, "help")
    assert len(replies()) == 1


# Restarts ----------------------------------------------------------------------------------------


async def test_a_restart_loses_no_button_state(pair: Cluster) -> None:
    a = pair.driver(pair.replicas["a"])
    answer = await ask(a, "trade", user="U0BOB")
    choice = await ask(a, "who kat", user="U0BOB")
    await pair.replicas["a"].kill()  # no shutdown code: the state must already be in the database
    b = pair.driver(pair.replicas["b"])
    names = buttons(choice, "trade_pick")
    picked = await click(b, choice, names[0], user="U0BOB")
    assert names[0] in render_blocks(picked["blocks"]) and EXPIRED not in render_blocks(picked["blocks"])

    pair.replicas["a"].start()  # a new process, on a new port
    await pair.replicas["a"].wait_loaded()
    paged = await click(pair.driver(pair.replicas["a"]), answer, "More results", user="U0BOB")
    assert "Articles 6–" in render_blocks(paged["blocks"])
    assert_clean(pair.fake)


# The digest: one post, however many replicas are due ---------------------------------------------


@pytest.fixture
def ledger_url() -> Iterator[str]:
    with fresh_postgres_schema() as url:
        yield url


def ledger(url: str) -> tuple[Database, DigestStore]:
    database = open_database(database_url(Path("unused"), url))
    return database, DigestStore(database)


def digest_settings(**extra: str) -> dict[str, str]:
    """The digest due now: DIGEST_TIME is this minute in DIGEST_TZ, so every replica is due at start."""
    now = dt.datetime.now(ZoneInfo(ZONE))
    return {"DIGEST_ENABLED": "true", "DIGEST_CHANNEL": "C0TRADE", "DIGEST_TZ": ZONE,
            "DIGEST_TIME": now.strftime("%H:%M"), **extra}


def digest_posts(fake: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in fake.channel_messages("C0TRADE") if (m.get("metadata") or {}).get("event_type") == DIGEST_EVENT]


async def test_three_replicas_due_at_once_post_the_digest_once(corpus: Path, tmp_path: Path, ledger_url: str) -> None:
    async with Cluster(tmp_path, corpus, ledger_url, **digest_settings()) as cluster:
        # Slack takes its time over the first post, so the others find the claim held, not finished.
        cluster.fake.fail(Failure("chat.postMessage", delay=8.0))
        replicas = await cluster.start("a", "b", "c")
        logs = await asyncio.gather(*(r.wait_log(lambda t: "digest posted to C0TRADE" in t
                                                 or "another process holds the claim" in t) for r in replicas))
        assert sum("digest posted to C0TRADE" in log for log in logs) == 1, logs
        assert [c["ok"] for c in cluster.fake.calls_to("chat.postMessage")] == [True]
        [post] = digest_posts(cluster.fake)
        database, store = ledger(ledger_url)
        try:
            [record] = store.last_results("")
            assert record.status == SlotStatus.POSTED and record.ts == post["ts"]
        finally:
            database.close()
        assert_clean(cluster.fake)


async def kill_holding_the_claim(cluster: Cluster, store: DigestStore, failure: Failure,
                                 holding: str) -> dt.datetime:
    """Start replica `a` with `failure` programmed for its post, SIGKILL it once its log says `holding`
    (or, with no such text, once its post has reached Slack); returns when it claimed the slot."""
    cluster.fake.fail(failure)
    [a] = await cluster.start("a")
    if holding:
        await a.wait_log(lambda t: holding in t)
    else:
        deadline = time.monotonic() + 30
        while cluster.fake.failures and time.monotonic() < deadline:  # taken when the request arrives
            await asyncio.sleep(0.02)
        assert not cluster.fake.failures, f"replica a never posted:\n{a.tail()}"
    await a.kill()
    [record] = store.last_results("")
    assert record.status == SlotStatus.CLAIMED and record.claimed_at is not None, record
    return record.claimed_at


async def taken_over(cluster: Cluster, claimed_at: dt.datetime, timeout_s: float) -> Replica:
    """Start replica `b` once the dead claim is stale, and wait for it to settle the slot."""
    await asyncio.sleep(max(0.0, (claimed_at + dt.timedelta(seconds=timeout_s + 0.5) - dt.datetime.now(dt.UTC))
                            .total_seconds()))
    [b] = await cluster.start("b")
    await b.wait_log(lambda t: "digest posted to C0TRADE" in t)
    return b


@pytest.mark.parametrize("when", ["before Slack took the post", "after Slack took the post"])
async def test_a_replica_killed_holding_the_digest_claim_is_taken_over_without_a_second_post(
        corpus: Path, tmp_path: Path, ledger_url: str, when: str) -> None:
    timeout_s = 2.0
    settings = digest_settings(TRADEBOT_DIGEST_CLAIM_TIMEOUT_SECONDS=str(timeout_s))
    database, store = ledger(ledger_url)
    try:
        async with Cluster(tmp_path, corpus, ledger_url, **settings) as cluster:
            if when == "before Slack took the post":  # killed while its post hangs; Slack then drops it
                failure, holding = Failure("chat.postMessage", delay=3.0, error="internal_error"), ""
            else:  # Slack posted it, the answer never arrived: `a` holds the claim to reconcile later
                failure, holding = Failure("chat.postMessage", after_success=True), "will reconcile and retry"
            claimed_at = await kill_holding_the_claim(cluster, store, failure, holding)
            b = await taken_over(cluster, claimed_at, timeout_s)
            await asyncio.sleep(3.5 if not holding else 0)  # the dropped post's delay has surely run out
            [post] = digest_posts(cluster.fake)
            [record] = store.last_results("")
            assert record.status == SlotStatus.POSTED and record.ts == post["ts"]
            if holding:
                assert "was already posted" in b.since_start()  # found in the channel, not posted again
            assert [c for c in cluster.fake.rejections() if not c.get("programmed")] == []
    finally:
        database.close()
