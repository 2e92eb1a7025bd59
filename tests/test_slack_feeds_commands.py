"""`/trade add`, `/trade feeds` and the *Add to tradebot* shortcut, end to end through the strict fake
Slack, against a publisher site on 127.0.0.1 (see test_feeds_server.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.answers.commands import AddPage, Feeds, Help, Search, Watch, parse_command
from bot.harness.driver import Interaction
from bot.harness.render import render_blocks
from bot.harness.session import HarnessSession
from tests.test_feeds_server import PublisherSite, serve_site

RARE = "/2025/06/11/rare-earths"
RARE_TITLE = "Rare earth exports resume after licence backlog clears"


@pytest.fixture
def site() -> Iterator[PublisherSite]:
    yield from serve_site()


def session(corpus: Path, tmp_path: Path, transport: Any = "http", **settings: Any) -> HarnessSession:
    values: dict[str, Any] = {"allow_private_urls": True, "feeds_enabled": False, "reload_interval": 0.2,
                              "fetch_timeout": 5.0, **settings}
    return HarnessSession(corpus, transport=transport, db_path=tmp_path / "db.sqlite3", **values)


async def ask(harness: HarnessSession, text: str, user: str = "U0ALICE") -> str:
    """`/trade text`, and what `user` now sees, rendered."""
    assert harness.driver is not None
    await (await harness.driver.slash(text, user=user)).answer(timeout=20)
    shown = harness.fake.ephemeral_for(user, "C0TRADE")
    assert shown, f"no answer to /trade {text}"
    return render_blocks(shown[-1]["blocks"])


def assert_clean(harness: HarnessSession) -> None:
    assert [(c["method"], c.get("error")) for c in harness.fake.rejections()] == []
    assert [(c["method"], c["notified"]) for c in harness.fake.notifications()] == []


async def test_add_a_page_answers_with_its_card_then_says_it_is_already_there(
        site: PublisherSite, corpus_copy: Path, tmp_path: Path) -> None:
    async with session(corpus_copy, tmp_path) as harness:
        card = await ask(harness, f"add {site.base}{RARE}")
        again = await ask(harness, f"add <{site.base}{RARE}/|the same story>")  # Slack's link markup, unwrapped
        assert_clean(harness)
    assert "Added to tradebot" in card and RARE_TITLE in card and "Harbour Times" in card and "11 Jun 2025" in card
    assert f"{site.base}{RARE}" in card  # the title links to the article
    assert "Shipments of rare earth magnets from China" in card  # the lead
    assert "Already in tradebot" in again and RARE_TITLE in again
    assert len([p for p in corpus_copy.glob("*.md") if "rare-earth-exports-resume" in p.name]) == 1


async def test_add_refuses_private_addresses_without_the_setting_and_other_schemes(
        site: PublisherSite, corpus_copy: Path, tmp_path: Path) -> None:
    async with session(corpus_copy, tmp_path, allow_private_urls=False) as harness:
        private = await ask(harness, f"add {site.base}{RARE}")
        metadata = await ask(harness, "add http://169.254.169.254/latest/meta-data/")
        scheme = await ask(harness, "add file:///etc/passwd")
        missing = await ask(harness, "add")
        hostile = await ask(harness, "add <!channel> <https://evil.example|x>")
        assert_clean(harness)  # the refusal quotes what was typed, literally
    assert "couldn't add" in private and "TRADEBOT_ALLOW_PRIVATE_URLS" in private
    assert "TRADEBOT_ALLOW_PRIVATE_URLS" in metadata
    assert "only http(s)" in scheme
    assert "/trade add https://" in missing
    assert "couldn't add" in hostile
    assert site.requests_to(RARE) == []  # nothing was fetched
    assert not any("rare-earth-exports-resume" in p.name for p in corpus_copy.glob("*.md"))


async def test_a_page_that_cannot_be_fetched_is_a_clear_notice(
        site: PublisherSite, corpus_copy: Path, tmp_path: Path) -> None:
    async with session(corpus_copy, tmp_path) as harness:
        shown = await ask(harness, f"add {site.base}/missing")
        assert_clean(harness)
    assert "couldn't add" in shown and "404" in shown


async def test_feeds_are_listed_by_all_and_changed_only_by_editors(
        site: PublisherSite, corpus_copy: Path, tmp_path: Path) -> None:
    feed = f"{site.base}/feed.xml"
    async with session(corpus_copy, tmp_path, feed_editors=["U0EDITOR"]) as harness:
        empty = await ask(harness, "feeds")
        refused = await ask(harness, f"feeds add {feed}")
        added = await ask(harness, f"feeds add <{feed}>", user="U0EDITOR")
        twice = await ask(harness, f"feeds add {feed}", user="U0EDITOR")
        listed = await ask(harness, "feeds")
        not_removed = await ask(harness, f"feeds remove {feed}")
        removed = await ask(harness, f"feeds remove {feed}", user="U0EDITOR")
        after = await ask(harness, "feeds")
        unsafe = await ask(harness, "feeds add gopher://example.com/feed", user="U0EDITOR")
        assert_clean(harness)
    assert "follows no feeds yet" in empty
    assert "Only the feed editors" in refused and "TRADEBOT_FEED_EDITORS" in refused
    assert "Now following" in added and "Already following" in twice
    assert feed in listed and "active" in listed and "last success never" in listed and "0 articles added" in listed
    assert "Only the feed editors" in not_removed
    assert "No longer following" in removed and "follows no feeds yet" in after
    assert "only http(s)" in unsafe


async def test_everyone_may_change_feeds_when_no_editors_are_set(
        site: PublisherSite, corpus_copy: Path, tmp_path: Path) -> None:
    async with session(corpus_copy, tmp_path) as harness:
        added = await ask(harness, f"feeds add {site.base}/feed.xml", user="U0BOB")
        assert harness.service is not None
        [report] = await harness.service.feeds.ingester.poll_all(harness.service.feeds.store.feeds())
        listed = await ask(harness, "feeds")
        assert_clean(harness)
    assert "Now following" in added and report.ok
    assert "last success" in listed and "last success never" not in listed and "3 articles added" in listed


def shortcut_payload(response_url: str, message: dict[str, Any], user: str = "U0ALICE") -> dict[str, Any]:
    return {"type": "message_action", "callback_id": "add_to_tradebot", "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "team": {"id": "T0HARNESS", "domain": "harness"}, "api_app_id": "A0TRADEBOT", "token": "deprecated",
            "user": {"id": user, "username": user.lower(), "team_id": "T0HARNESS"},
            "channel": {"id": "C0TRADE", "name": "trade-news"}, "message_ts": message["ts"],
            "message": message, "response_url": response_url}


async def run_shortcut(harness: HarnessSession, message: dict[str, Any]) -> str:
    assert harness.driver is not None
    url = harness.fake.new_response_url("C0TRADE", "U0ALICE")
    interaction = Interaction(harness.fake, url, "unused", channel="C0TRADE", user="U0ALICE")
    interaction.ack_status, interaction.ack_body = await harness.driver._send(
        "interactive", shortcut_payload(url, message))
    assert interaction.ack_status == 200
    await interaction.answer(timeout=20)
    return render_blocks(harness.fake.ephemeral_for("U0ALICE", "C0TRADE")[-1]["blocks"])


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_the_message_shortcut_adds_the_first_link_of_a_message(
        site: PublisherSite, corpus_copy: Path, tmp_path: Path, transport: str) -> None:
    page = f"{site.base}{RARE}"
    rich = {"type": "message", "user": "U0BOB", "ts": "1749600000.000100",
            "text": f"see <{page}|this> and <{site.base}/og-only>",
            "blocks": [{"type": "rich_text", "block_id": "r1", "elements": [{"type": "rich_text_section", "elements": [
                {"type": "text", "text": "see "}, {"type": "link", "url": page, "text": "this"},
                {"type": "text", "text": " and "}, {"type": "link", "url": f"{site.base}/og-only"}]}]}]}
    text_only = {"type": "message", "user": "U0BOB", "ts": "1749600000.000200",
                 "text": f"older client: <{site.base}/stories/eu-steel?a=1&amp;b=2>"}
    no_link = {"type": "message", "user": "U0BOB", "ts": "1749600000.000300", "text": "no link here, <!channel>"}
    async with session(corpus_copy, tmp_path, transport) as harness:
        first = await run_shortcut(harness, rich)
        second = await run_shortcut(harness, text_only)
        none = await run_shortcut(harness, no_link)
        assert_clean(harness)
    assert "Added to tradebot" in first and RARE_TITLE in first
    assert "EU weighs retaliatory duties on US steel" in second
    assert [h for p, h in site.requests if p == "/stories/eu-steel"]  # the &amp; was decoded before fetching
    assert "no link to add" in none
    assert site.requests_to("/og-only") == []  # only the first link


def test_the_manifest_declares_the_message_shortcut_with_no_new_scope() -> None:
    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[1] / "manifest.yml").read_text(encoding="utf-8"))
    [shortcut] = manifest["features"]["shortcuts"]
    assert shortcut == {"name": "Add to tradebot", "type": "message", "callback_id": "add_to_tradebot",
                        "description": shortcut["description"]}
    assert len(shortcut["description"]) <= 80 and len(shortcut["name"]) <= 24
    assert "links:read" not in manifest["oauth_config"]["scopes"]["bot"]
    assert json.dumps(manifest).count("add_to_tradebot") == 1


@pytest.mark.parametrize(("text", "command"), [
    ("add https://news.example/a", AddPage("https://news.example/a")),
    ("add <https://news.example/a?x=1&amp;y=2|the story>", AddPage("https://news.example/a?x=1&y=2")),
    ("add <https://news.example/a>", AddPage("https://news.example/a")),
    ("feeds", Feeds()), ("feeds list", Feeds()),
    ("feeds add <https://news.example/feed.xml>", Feeds("add", "https://news.example/feed.xml")),
    ("feeds REMOVE https://news.example/feed.xml", Feeds("remove", "https://news.example/feed.xml")),
    ("watch rare earths --instant", Watch("rare earths", instant=True)),
    ("watch --instant rare earths", Watch("rare earths", instant=True)),
    ("watch rare earths", Watch("rare earths")),
    ("aid china", Search("aid china")),  # never guessed from a typo: "add" fetches
    ("feed tariffs", Search("feed tariffs")),
])
def test_add_feeds_and_instant_watches_parse(text: str, command: object) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize("text", ["add", "feeds add", "feeds remove", "feeds tariffs", "watch --instant"])
def test_incomplete_feed_commands_get_help_with_an_example(text: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, Help) and parsed.note and "/trade" in parsed.note


async def test_help_lists_the_new_subcommands(corpus_copy: Path, tmp_path: Path) -> None:
    async with session(corpus_copy, tmp_path) as harness:
        shown = await ask(harness, "help")
        assert_clean(harness)
    assert "/trade add <url>" in shown and "/trade feeds [add|remove <url>]" in shown and "--instant" in shown


async def test_a_mention_or_a_dm_adds_a_page_too(site: PublisherSite, corpus_copy: Path, tmp_path: Path) -> None:
    async with session(corpus_copy, tmp_path) as harness:
        assert harness.driver is not None
        await harness.driver.mention(f"add <{site.base}{RARE}>")  # Slack wraps a pasted link
        post = await harness.fake.wait_for(lambda c: c["method"] == "chat.postMessage", timeout=20)
        assert "Added to tradebot" in render_blocks(post["params"]["blocks"])
        count = len(harness.fake.calls_to("chat.postMessage"))
        await harness.driver.direct_message(f"add {site.base}{RARE}")
        await harness.fake.wait_for(lambda c: len(harness.fake.calls_to("chat.postMessage")) > count, timeout=20)
        reply = harness.fake.calls_to("chat.postMessage")[count]
        assert "Already in tradebot" in render_blocks(reply["params"]["blocks"])
        assert_clean(harness)
