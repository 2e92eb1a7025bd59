"""The fake Slack refuses what Slack refuses, with Slack's error bodies, and no more than that."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.harness.fake_slack import BOT_TOKEN, FakeSlack
from bot.harness.validation import message_rejection, view_rejection

ROOT = Path(__file__).resolve().parent.parent


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(label: str, action_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id, **extra}


def actions(*elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements), **extra}


def modal(blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": "Article"}, "blocks": blocks, **extra}


@pytest.fixture
async def slack() -> AsyncIterator[tuple[FakeSlack, AsyncWebClient]]:
    fake = FakeSlack()
    await fake.start()
    yield fake, AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    await fake.stop()


async def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        await call
    return dict(caught.value.response.data)


async def test_repeated_action_id_in_one_block_is_invalid_blocks_with_slacks_pointer(slack: tuple) -> None:
    fake, client = slack
    blocks = [section("Several people match"), actions(button("Wang Yi", "trade_pick"), button("Wang Wentao", "trade_pick"))]
    body = await refusal(client.chat_postMessage(channel="C0TRADE", text="pick", blocks=blocks))
    assert body["error"] == "invalid_blocks"
    assert body["response_metadata"]["messages"] == [
        "[ERROR] duplicate action_id: trade_pick [json-pointer:/blocks/1/elements/1/action_id]"]
    assert body["errors"] == ["duplicate action_id: trade_pick [json-pointer:/blocks/1/elements/1/action_id]"]
    assert fake.channel_messages("C0TRADE") == []  # nothing reached the channel


async def test_distinct_action_ids_and_the_same_id_in_two_blocks_are_fine(slack: tuple) -> None:
    fake, client = slack
    blocks = [actions(button("Previous", "trade_modal_page-prev"), button("Next", "trade_modal_page-next")),
              actions(button("Share", "trade_share"), block_id="b2"), actions(button("Share", "trade_share"))]
    await client.chat_postMessage(channel="C0TRADE", text="ok", blocks=blocks)
    assert [m["text"] for m in fake.channel_messages("C0TRADE")] == ["ok"]


@pytest.mark.parametrize("blocks, pointer, message", [
    ([section("a", block_id="x"), section("b", block_id="x")], "/blocks/1/block_id", "duplicate block_id: x"),
    ([{"type": "header", "text": {"type": "mrkdwn", "text": "*Title*"}}], "/blocks/0/text/type",
     "unsupported type: mrkdwn"),
    ([{"type": "bogus"}], "/blocks/0/type", "unsupported type: bogus"),
    ([section("x", accessory=button("Open", "open", url="javascript:alert(1)"))], "/blocks/0/accessory/url",
     "must be a valid http(s) URL of at most 3000 characters"),
    ([actions(button("Open", "open", url="https://"))], "/blocks/0/elements/0/url",
     "must be a valid http(s) URL of at most 3000 characters"),
    ([section("")], "/blocks/0/text/text", "must be more than 0 characters"),
    ([{"type": "section"}], "/blocks/0", "must provide either text or fields"),
    ([section("x" * 3001)], "/blocks/0/text/text", "must be less than 3001 characters"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}], "/blocks/0/fields/0/text",
     "must be less than 2001 characters"),
    ([actions(button("x" * 76, "a"))], "/blocks/0/elements/0/text/text", "must be less than 76 characters"),
    ([actions()], "/blocks/0/elements", "must provide between 1 and 25 items"),
    ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11}], "/blocks/0/elements",
     "must provide between 1 and 10 items"),
    ([actions(button("a", "a", block_id="b"))], "/blocks/0/elements/0", "invalid additional property: block_id"),
    ([{"type": "input", "label": {"type": "plain_text", "text": "x"},
       "element": {"type": "plain_text_input", "action_id": "i"}}], "/blocks/0/type", "unsupported type: input"),
    ([section("x")] * 51, "/blocks", "no more than 50 items allowed"),
])
def test_block_rules_slack_enforces_and_sdk_models_miss(blocks: list, pointer: str, message: str) -> None:
    refused = message_rejection({"text": "fallback", "blocks": blocks})
    assert refused is not None and refused["error"] == "invalid_blocks"
    assert f"[ERROR] {message} [json-pointer:{pointer}]" in refused["response_metadata"]["messages"]


def test_limits_slack_does_not_have_are_not_invented() -> None:
    # 40,000 characters of text is truncated by Slack, not refused; no documented total for block text.
    assert message_rejection({"text": "x" * 45_000}) is None
    assert message_rejection({"text": "t", "blocks": [section("x" * 2900) for _ in range(20)]}) is None
    assert message_rejection({"text": "", "blocks": []})["error"] == "no_text"


async def test_long_text_is_stored_truncated_at_forty_thousand(slack: tuple) -> None:
    fake, client = slack
    await client.chat_postMessage(channel="C0TRADE", text="y" * 45_000)
    [message] = fake.channel_messages("C0TRADE")
    assert len(message["text"]) == 40_000


@pytest.mark.parametrize("view, pointer, message", [
    (modal([section("x")] * 101), "/view/blocks", "no more than 100 items allowed"),
    (modal([section("x")], private_metadata="m" * 3001), "/view/private_metadata", "must be less than 3001 characters"),
    ({**modal([section("x")]), "title": {"type": "plain_text", "text": "T" * 25}}, "/view/title/text",
     "must be less than 25 characters"),
    (modal([actions(button("Previous page", "trade_modal_page"), button("Next page", "trade_modal_page"))]),
     "/view/blocks/0/elements/1/action_id", "duplicate action_id: trade_modal_page"),
    (modal([section("x")], colour="red"), "/view", "invalid additional property: colour"),
])
def test_view_rules_answer_invalid_arguments_like_slack(view: dict, pointer: str, message: str) -> None:
    refused = view_rejection(view)
    assert refused is not None and refused["error"] == "invalid_arguments"
    assert f"[ERROR] {message} [json-pointer:{pointer}]" in refused["response_metadata"]["messages"]


def test_a_full_modal_and_home_within_limits_pass() -> None:
    assert view_rejection(modal([section(f"p{i}") for i in range(100)], private_metadata="m" * 3000)) is None
    assert view_rejection({"type": "home", "blocks": [section("x")] * 100}) is None


async def test_views_publish_refuses_an_oversized_home_and_keeps_the_old_one(slack: tuple) -> None:
    fake, client = slack
    await client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [section("v1")]})
    body = await refusal(client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": [section("x")] * 101}))
    assert body["error"] == "invalid_arguments"
    assert fake.home["U0ALICE"]["blocks"] == [section("v1")]


def test_tradebot_fake_slack_answers_invalid_blocks_missing_scope_and_used_triggers() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bot", "fake-slack"], cwd=ROOT, stdout=subprocess.PIPE, text=True)

    def call(method: str, args: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(f"{url}/api/{method}", data=json.dumps(args).encode(), headers={
            "Authorization": f"Bearer {BOT_TOKEN}", "Content-Type": "application/json"})
        return dict(json.load(urllib.request.urlopen(request)))

    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        repeated = [actions(button("A", "trade_pick"), button("B", "trade_pick"))]
        assert call("chat.postMessage", {"channel": "C0TRADE", "text": "x", "blocks": repeated})["error"] == "invalid_blocks"
        refused = call("conversations.info", {"channel": "C0TRADE"})
        assert refused["error"] == "missing_scope" and refused["needed"] == "channels:read"
        assert "chat:write" in refused["provided"].split(",")
        trigger = json.load(urllib.request.urlopen(urllib.request.Request(
            f"{url}/_interaction", data=b'{"user": "U0ALICE"}', headers={"Content-Type": "application/json"})))
        view = modal([section("x")])
        assert call("views.open", {"trigger_id": trigger["trigger_id"], "view": view})["ok"] is True
        assert call("views.open", {"trigger_id": trigger["trigger_id"], "view": view})["error"] == "exchanged_trigger_id"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
