"""Slack's rules on state in the fake: scopes, trigger_ids, response_urls, ephemeral posts, DMs, mentions."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.common.clock import FakeClock
from bot.harness.fake_slack import BOT_TOKEN, FakeSlack
from bot.harness.slack_state import MessageRef

MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Article"},
         "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Page 1"}}]}


class Rig:
    def __init__(self, fake: FakeSlack, clock: FakeClock) -> None:
        self.fake, self.clock = fake, clock
        self.client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
        self.http = aiohttp.ClientSession()

    async def respond(self, url: str, payload: dict[str, Any]) -> tuple[int, str]:
        async with self.http.post(url, json=payload) as response:
            return response.status, await response.text()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    clock = FakeClock(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC))
    fake = FakeSlack(clock=clock)
    await fake.start()
    rig = Rig(fake, clock)
    yield rig
    await rig.http.close()
    await fake.stop()


async def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        await call
    return dict(caught.value.response.data)


def text(message: str) -> dict[str, Any]:
    return {"text": message, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": message}}]}


# Scopes ------------------------------------------------------------------------------


@pytest.mark.parametrize("method, args, needed", [
    ("conversations_info", {"channel": "C0TRADE"}, "channels:read"),
    ("conversations_open", {"users": "U0ALICE"}, "im:write"),
    ("users_info", {"user": "U0ALICE"}, "users:read"),
])
async def test_a_method_the_manifest_does_not_allow_is_missing_scope(rig: Rig, method: str, args: dict,
                                                                     needed: str) -> None:
    body = await error_of(getattr(rig.client, method)(**args))
    assert body["error"] == "missing_scope" and body["needed"] == needed
    assert set(body["provided"].split(",")) == set(rig.fake.scopes)


async def test_history_of_a_private_channel_needs_groups_history() -> None:
    fake = FakeSlack(scopes=frozenset({"chat:write", "channels:history"}))
    await fake.start()
    try:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
        fake.channels["C0PRIVATE"].is_member = True
        body = await error_of(client.conversations_history(channel="C0PRIVATE", include_all_metadata=True))
        assert (body["error"], body["needed"]) == ("missing_scope", "groups:history")
        assert (await client.conversations_history(channel="C0TRADE"))["ok"]
    finally:
        await fake.stop()


async def test_public_channel_post_without_joining_needs_chat_write_public() -> None:
    fake = FakeSlack(scopes=frozenset({"chat:write"}))
    await fake.start()
    try:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
        assert (await error_of(client.chat_postMessage(channel="C0PUBLIC", text="hi")))["error"] == "not_in_channel"
    finally:
        await fake.stop()


# trigger_id --------------------------------------------------------------------------


async def test_views_open_with_a_trigger_older_than_three_seconds_is_expired(rig: Rig) -> None:
    trigger = rig.fake.new_trigger_id("U0ALICE")
    rig.clock.advance(seconds=3.5)
    assert (await error_of(rig.client.views_open(trigger_id=trigger, view=MODAL)))["error"] == "expired_trigger_id"
    assert rig.fake.views == {}


async def test_a_trigger_opens_one_view_only_and_made_up_ones_none(rig: Rig) -> None:
    trigger = rig.fake.new_trigger_id("U0ALICE")
    rig.clock.advance(seconds=2.9)
    opened = await rig.client.views_open(trigger_id=trigger, view=MODAL)
    assert opened["view"]["id"] in rig.fake.views
    assert (await error_of(rig.client.views_open(trigger_id=trigger, view=MODAL)))["error"] == "exchanged_trigger_id"
    assert (await error_of(rig.client.views_open(trigger_id="123.456.abc", view=MODAL)))["error"] == "invalid_trigger_id"


# response_url ------------------------------------------------------------------------


async def test_response_url_answers_are_ephemeral_then_replaced_then_deleted(rig: Rig) -> None:
    url = rig.fake.new_response_url("C0TRADE", "U0ALICE")
    assert (await rig.respond(url, {**text("page 1"), "response_type": "ephemeral"}))[0] == 200
    assert [m["text"] for m in rig.fake.ephemeral_for("U0ALICE", "C0TRADE")] == ["page 1"]
    assert rig.fake.ephemeral_for("U0BOB", "C0TRADE") == [] and rig.fake.channel_messages("C0TRADE") == []
    assert (await rig.respond(url, {**text("page 2"), "replace_original": True}))[0] == 200
    assert [m["text"] for m in rig.fake.ephemeral_for("U0ALICE", "C0TRADE")] == ["page 2"]
    assert (await rig.respond(url, {"delete_original": True}))[0] == 200
    assert rig.fake.ephemeral_for("U0ALICE", "C0TRADE") == []


async def test_in_channel_answer_appears_in_the_channel_and_a_button_replaces_its_message(rig: Rig) -> None:
    command = rig.fake.new_response_url("C0TRADE", "U0ALICE")
    await rig.respond(command, {**text("for everyone"), "response_type": "in_channel"})
    [posted] = rig.fake.channel_messages("C0TRADE")
    assert posted["text"] == "for everyone" and rig.fake.ephemeral_for("U0ALICE", "C0TRADE") == []
    click = rig.fake.new_response_url("C0TRADE", "U0BOB", MessageRef("C0TRADE", posted["ts"]))
    await rig.respond(click, {**text("edited"), "replace_original": True})
    assert [m["text"] for m in rig.fake.channel_messages("C0TRADE")] == ["edited"]
    assert rig.fake.channel_messages("C0TRADE")[0]["ts"] == posted["ts"]


async def test_response_url_is_used_up_after_five_answers(rig: Rig) -> None:
    url = rig.fake.new_response_url()
    statuses = [(await rig.respond(url, text(f"answer {i}")))[0] for i in range(6)]
    assert statuses == [200] * 5 + [404]
    assert (await rig.respond(url, text("late")))[1] == "expired_url"


async def test_response_url_expires_after_thirty_minutes(rig: Rig) -> None:
    url = rig.fake.new_response_url()
    rig.clock.advance(minutes=29)
    assert (await rig.respond(url, text("in time")))[0] == 200
    rig.clock.advance(minutes=2)
    assert await rig.respond(url, text("too late")) == (404, "expired_url")
    assert [c["ok"] for c in rig.fake.calls_to("response_url")] == [True, False]


async def test_response_url_refuses_invalid_blocks_and_shows_nothing(rig: Rig) -> None:
    url = rig.fake.new_response_url()
    bad = {"text": "x", "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "*x*"}}]}
    status, body = await rig.respond(url, bad)
    assert status == 400 and '"invalid_blocks"' in body
    assert rig.fake.ephemeral_for("U0ALICE", "C0TRADE") == []
    assert [c["error"] for c in rig.fake.rejections()] == ["invalid_blocks"]


# Ephemeral posts and DMs -------------------------------------------------------------------


async def test_post_ephemeral_needs_a_user_who_is_in_the_channel(rig: Rig) -> None:
    assert (await error_of(rig.client.chat_postEphemeral(channel="C0TRADE", user="U0NOBODY", text="x")))["error"] \
        == "user_not_in_channel"
    assert (await error_of(rig.client.api_call("chat.postEphemeral", json={"channel": "C0TRADE", "text": "x"})))[
        "error"] == "invalid_arguments"
    await rig.client.chat_postEphemeral(channel="C0TRADE", user="U0BOB", text="only bob")
    assert [m["text"] for m in rig.fake.ephemeral_for("U0BOB", "C0TRADE")] == ["only bob"]
    assert rig.fake.channel_messages("C0TRADE") == []


async def test_dm_channels_exist_only_once_opened(rig: Rig) -> None:
    assert (await error_of(rig.client.chat_postMessage(channel="D0ALICE", text="hi")))["error"] == "channel_not_found"
    channel = rig.fake.open_dm("U0ALICE")
    await rig.client.chat_postMessage(channel=channel, text="hi")
    assert [m["text"] for m in rig.fake.channel_messages(channel)] == ["hi"]


async def test_history_lists_top_level_messages_and_metadata_only_when_asked(rig: Rig) -> None:
    meta = {"event_type": "tradebot_digest", "event_payload": {"date": "2026-12-01"}}
    parent = await rig.client.chat_postMessage(channel="C0TRADE", text="digest", metadata=meta)
    await rig.client.chat_postMessage(channel="C0TRADE", text="reply", thread_ts=parent["ts"])
    plain = await rig.client.conversations_history(channel="C0TRADE")
    assert [m["text"] for m in plain["messages"]] == ["digest"] and "metadata" not in plain["messages"][0]
    full = await rig.client.conversations_history(channel="C0TRADE", include_all_metadata=True)
    assert full["messages"][0]["metadata"] == meta
    assert [m["text"] for m in rig.fake.thread("C0TRADE", parent["ts"])] == ["reply"]


# Mentions ------------------------------------------------------------------------------


@pytest.mark.parametrize("payload, expected", [
    ({"text": "hi <!channel> and <!here|here>"}, ["@channel", "@here"]),
    ({"text": "x", "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "<!everyone>"}]}]},
     ["@everyone"]),
    ({"text": "x", "blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "<!subteam^S0ABC|@team>"}]}]},
     ["subteam:S0ABC"]),
    ({"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "by <@U0BOB>"}}]}, ["U0BOB"]),
    ({"text": "@here soon", "link_names": True}, ["@here"]),
    ({"text": "&lt;!channel&gt; @here", "blocks": [
        {"type": "section", "text": {"type": "plain_text", "text": "<!channel>"}}]}, []),
])
async def test_posts_record_whom_they_notify(rig: Rig, payload: dict, expected: list[str]) -> None:
    await rig.client.chat_postMessage(channel="C0TRADE", **payload)
    [call] = rig.fake.calls_to("chat.postMessage")
    assert call["notified"] == expected
    assert rig.fake.channel_messages("C0TRADE")[0]["notified"] == expected
    assert (rig.fake.notifications() == []) is (expected == [])
