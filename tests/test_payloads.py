"""The payload models read the shapes Slack really sends (recorded in tests/data/slack_payloads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.slack.payloads import (
    ButtonClick,
    HomeOpened,
    MalformedPayload,
    MessageEvent,
    ModalPage,
    PersonPick,
    SlashCommand,
    ViewSubmission,
    origin_of,
    parse,
    parse_body,
    view_of,
)

DATA = Path(__file__).parent / "data" / "slack_payloads"


def recorded(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_slash_command_form_as_slack_sends_it() -> None:
    body = parse_body((DATA / "slash_command.form").read_text(), "application/x-www-form-urlencoded")
    slash = parse(SlashCommand, body)
    assert (slash.command, slash.text, slash.user, slash.channel) == ("/trade", "tariffs china", "U2147483697",
                                                                       "C2147483705")
    assert slash.response_url == "https://hooks.slack.com/commands/1234/5678"
    assert slash.trigger_id == "13345224609.738474920.8088930838d88f008e0"


def test_button_in_a_message() -> None:
    click = parse(ButtonClick, recorded("block_actions_message.json"))
    assert (click.action_id, click.value, click.user, click.channel) == ("trade_more", "Zk3mQ9x_aB2c",
                                                                          "U2147483697", "C2147483705")
    assert click.response_url == "https://hooks.slack.com/actions/T0001/1234567890/abcdefghijkl"
    assert click.view_id is None


def test_button_in_a_modal() -> None:
    payload = recorded("block_actions_modal.json")
    click = parse(ButtonClick, payload)
    assert (click.view_id, click.view_hash, click.channel) == ("V0PKB1ZFV", "1548426417.HxJ3tK9q", None)
    page = ModalPage.from_value(click.value)
    assert (page.article_id, page.page) == ("2025-06-10-us-semiconductors-for-rare-earths-from-china", 1)
    assert view_of(payload) == "V0PKB1ZFV"


def test_view_submission() -> None:
    submission = parse(ViewSubmission, recorded("view_submission.json"))
    assert (submission.callback_id, submission.user) == ("trade_article", "U2147483697")


def test_app_mention_loses_the_leading_mention() -> None:
    event = parse(MessageEvent, recorded("app_mention.json")["event"])
    assert (event.text, event.user, event.channel, event.ts) == ("who greer", "U061F7AUR", "C2147483705",
                                                                 "1515449522.000016")
    assert not event.from_a_person_in_a_dm


def test_direct_message() -> None:
    event = parse(MessageEvent, recorded("message_im.json")["event"])
    assert event.from_a_person_in_a_dm and event.text == "latest 3" and event.channel == "D024BE91L"
    edited = parse(MessageEvent, {**recorded("message_im.json")["event"], "subtype": "message_changed"})
    assert not edited.from_a_person_in_a_dm


def test_app_home_opened() -> None:
    home = parse(HomeOpened, recorded("app_home_opened.json")["event"])
    assert (home.user, home.tab) == ("U2147483697", "home")


@pytest.mark.parametrize("name", ["app_mention.json", "message_im.json", "app_home_opened.json",
                                  "block_actions_message.json", "view_submission.json"])
def test_every_recorded_json_payload_passes_the_guard(name: str) -> None:
    raw = (DATA / name).read_text()
    if name.startswith(("block", "view")):
        from urllib.parse import urlencode

        assert parse_body(urlencode({"payload": raw}), "application/x-www-form-urlencoded") == json.loads(raw)
    else:
        assert parse_body(raw, "application/json") == json.loads(raw)


def test_a_command_whose_text_says_payload_is_still_a_command() -> None:
    # bolt's own parser takes any form body containing "payload" for an interactive payload
    body = parse_body("command=%2Ftrade&text=payload+tariffs&user_id=U1", "application/x-www-form-urlencoded")
    assert body is not None and parse(SlashCommand, body).text == "payload tariffs"


@pytest.mark.parametrize("body, ctype", [
    ("[1,2,3]", "application/json"), ("[1,2,3]", "application/x-www-form-urlencoded"),
    ("payload=null", "application/x-www-form-urlencoded"), ("payload=%5B%5D", "application/x-www-form-urlencoded"),
    ("payload=%7B%7D", "application/x-www-form-urlencoded"), ("payload=%7Bbad", "application/x-www-form-urlencoded"),
    ('{"type": "event_callback", "event_id": 7, "event": {"type": "app_mention"}}', "application/json"),
    ('{"type": "event_callback", "event_id": "Ev1", "event": "app_mention"}', "application/json"),
    ('{"type": "event_callback", "event_id": "Ev1", "event": {"type": null}}', "application/json"),
    ('{"type": "url_verification"}', "application/json"),
    ("token=x&team_id=T1", "application/x-www-form-urlencoded"), ("", "application/x-www-form-urlencoded"),
])
def test_signed_bodies_that_are_not_slack_payloads_are_refused(body: str, ctype: str) -> None:
    assert parse_body(body, ctype) is None


@pytest.mark.parametrize("value", ["id|²", "id|", "id|-1", "id|1.5", "id|١", "|3", "no-bar", "id|" + "9" * 40])
def test_malformed_page_and_pick_values_raise_malformed_payload(value: str) -> None:
    with pytest.raises(MalformedPayload):
        ModalPage.from_value(value)
    with pytest.raises(MalformedPayload):
        PersonPick.from_value(value)


def test_a_click_whose_value_is_not_a_string_is_malformed() -> None:
    payload = recorded("block_actions_message.json")
    payload["actions"][0]["value"] = {"nested": True}
    with pytest.raises(MalformedPayload, match="actions.0.value"):
        parse(ButtonClick, payload)


def test_ids_that_could_break_out_of_a_mention_are_dropped() -> None:
    payload = recorded("block_actions_message.json")
    payload["user"]["id"] = "U1> <!channel"
    payload["channel"]["id"] = "C1\n"
    click = parse(ButtonClick, payload)
    assert (click.user, click.channel) == ("unknown", None)


def test_the_origin_of_any_payload_is_read_leniently() -> None:
    form = parse_body((DATA / "slash_command.form").read_text(), "application/x-www-form-urlencoded")
    assert (origin_of(form).user, origin_of(form).channel) == ("U2147483697", "C2147483705")
    modal = origin_of(recorded("block_actions_modal.json"))
    assert (modal.user, modal.channel) == ("U2147483697", None)
    assert origin_of({"user": "not a dict", "channel_id": 5}).user == "unknown"
    assert origin_of([1, 2]).channel is None
