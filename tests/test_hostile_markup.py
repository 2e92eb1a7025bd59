"""The live-markup detector itself: it must see every live sequence and no harmless one."""

from __future__ import annotations

import pytest

from tests.hostile.markup import is_live, live_markup, scan_text

ARTICLE = "https://news.example/a?x=1&y=2"


@pytest.mark.parametrize("text, kind", [
    ("<!channel>", "special"), ("<!here>", "special"), ("<!everyone>", "special"),
    ("<!subteam^S0123|@team>", "special"), ("hi <!here|here> there", "special"),
    ("<@U123>", "user"), ("<@W0ABC|bob>", "user"), ("<#C123>", "channel"), ("<#C123|general>", "channel"),
    ("<https://evil.example|Reuters>", "link"), ("<https://evil.example>", "link"),
    ("<mailto:a@b.example|mail>", "link"), ("<javascript:alert(1)|x>", "link"),
    ("<https://news.example/a|cut in half", "unclosed"), ("a < b", "unclosed"),
])
def test_each_live_sequence_is_found_with_its_kind(text: str, kind: str) -> None:
    [finding] = scan_text(text)
    assert finding.kind == kind and finding.token.startswith("<")


@pytest.mark.parametrize("text", [
    "&lt;!channel&gt;", "&lt;@U123&gt; and &lt;#C1&gt;", "&amp;lt;!here&amp;gt;", "&lt;https://evil.example|Reuters&gt;",
    "plain words, a > b, 5 &gt; 3", "*bold* _it_ ~s~ `code` >quote", "!channel @here #general", "",
])
def test_escaped_and_plain_text_is_harmless(text: str) -> None:
    assert not is_live(text)


def test_allowed_article_links_and_users_pass_but_others_do_not() -> None:
    allowed = {"allowed_urls": {ARTICLE}, "allowed_users": {"U0CAROL"}}
    assert not is_live(f"<{ARTICLE}|Title> shared by <@U0CAROL>", **allowed)
    assert not is_live("<https://news.example/a?x=1&amp;y=2|Title>", **allowed)  # entity-encoded & in the URL
    assert is_live(f"<{ARTICLE}x|Title>", **allowed)
    assert is_live("<@U0OTHER>", **allowed)
    assert is_live(f"<{ARTICLE}|Title <!here>>", **allowed)  # a live token nested in a label


def test_several_findings_in_one_string_are_all_reported() -> None:
    kinds = [f.kind for f in scan_text("<!here> then <@U1> then <#C1> then <https://e.example|x> <tail")]
    assert kinds == ["special", "user", "channel", "link", "unclosed"]


def test_every_string_of_a_payload_is_walked_with_its_path() -> None:
    payload = {
        "text": "Search: <!channel> tariffs",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "fine &lt;!here&gt;"},
             "accessory": {"type": "button", "text": {"type": "plain_text", "text": "<!here>"}, "value": "<!here>"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "<@U999>"}]},
        ],
        "attachments": [{"fallback": "<#C1>", "pretext": "x"}],
        "view": {"type": "modal", "title": {"type": "plain_text", "text": "T"},
                 "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<https://evil.example|R>"}}]},
    }
    found = {(f.kind, f.path) for f in live_markup(payload)}
    assert found == {("special", "text"), ("user", "blocks[1].elements[0].text"),
                     ("channel", "attachments[0].fallback"), ("link", "view.blocks[0].text.text")}
    # plain_text and data fields are not parsed by Slack, but can be inspected on request
    strict = {(f.field, f.path) for f in live_markup(payload, kinds=("mrkdwn", "plain_text", "data"))}
    assert ("plain_text", "blocks[0].accessory.text.text") in strict and ("data", "blocks[0].accessory.value") in strict


def test_metadata_is_data_not_shown_text() -> None:
    payload = {"text": "ok", "metadata": {"event_type": "x", "event_payload": {"date": "<!here>"}}}
    assert live_markup(payload) == []
    assert [f.field for f in live_markup(payload, kinds=("data",))] == ["data"]
