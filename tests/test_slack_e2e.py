"""End to end through the strict fake Slack, over HTTP and over Socket Mode.

Each test asserts what a user would see (the channel, their own ephemeral
answers, the open modal), that Slack refused nothing, and that no answer
notifies anyone. Tests marked `xfail(strict=True, reason="bot bug: ...")` fail
only because the renderer sends what Slack refuses; they pass once it is fixed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.harness.driver import Interaction
from bot.harness.fake_slack import Failure
from bot.harness.render import render_blocks
from bot.harness.session import HarnessSession
from tests.helpers import add_articles, write_article

DUPLICATE_PICK = "bot bug: the people-choice actions block repeats action_id trade_pick (Slack: invalid_blocks)"
DUPLICATE_PAGE = "bot bug: middle modal pages repeat action_id trade_modal_page (Slack: invalid_arguments)"
LIVE_FALLBACK = "bot bug: the fallback `text` echoes the query unescaped, so a typed <!channel> becomes a live mention"


LONG_READ = [f"Part {i}: zanzibar clove tariffs " + "and more detail " * 60 for i in range(31)]
assert sum(map(len, LONG_READ)) >= 30_000


@pytest.fixture(params=["http", "socket"])
async def harness(request: pytest.FixtureRequest, corpus_copy: Path, tmp_path: Path) -> AsyncIterator[HarnessSession]:
    add_articles(corpus_copy, 8)
    write_article(corpus_copy, "long-read", "The long read on zanzibar clove tariffs", LONG_READ)
    async with HarnessSession(corpus_copy, transport=request.param, db_path=tmp_path / "db.sqlite3") as session:
        yield session


def fake(harness: HarnessSession) -> Any:
    return harness.fake


def driver(harness: HarnessSession) -> Any:
    assert harness.driver is not None
    return harness.driver


def assert_clean(harness: HarnessSession) -> None:
    """Slack accepted every call, and no answer pinged anyone."""
    assert [(c["method"], c.get("error")) for c in fake(harness).rejections()] == []
    assert [(c["method"], c["notified"]) for c in fake(harness).notifications()] == []


async def ask(harness: HarnessSession, text: str, user: str = "U0ALICE") -> dict[str, Any]:
    """Run `/trade text` and return the answer `user` now sees in C0TRADE."""
    await (await driver(harness).slash(text, user=user)).answer()
    shown = fake(harness).ephemeral_for(user, "C0TRADE")
    assert shown, f"{user} sees no answer to /trade {text}"
    return dict(shown[-1])


async def click(harness: HarnessSession, message: dict[str, Any], label: str, user: str = "U0ALICE") -> Interaction:
    interaction: Interaction = await driver(harness).click(message["blocks"], label, user=user)
    return interaction


# Answers ------------------------------------------------------------------------------


async def test_search_answers_only_the_asker_with_linked_results(harness: HarnessSession) -> None:
    shown = render_blocks((await ask(harness, "tariffs china"))["blocks"])
    assert "Search: *tariffs china*" in shown
    assert "https://financejumps.com/treasury-secretary-signals-major-us-china-trade-breakthrough" in shown
    assert "*tariff*" in shown and "[Share in channel]" in shown
    assert fake(harness).ephemeral_for("U0BOB", "C0TRADE") == [] and fake(harness).channel_messages("C0TRADE") == []
    assert_clean(harness)


ANSWERS = [("who greer", "Jamieson Greer"), ("   ", "/trade who <name>"), ("help", "tariffs china"),
           ("latest 3", "Read article"), ("sources", "articles"), ("watch rare earths", "Now watching *rare earths*"),
           ("watching", "rare earths"), ("unwatch rare earths", "rare earths"), ("watching", "watches no topics"),
           ("digest status", "digest"), ("who nobodyatall", "No one called"), ("zzzqqqxxx", "No articles match")]


async def test_every_answer_kind_is_accepted_and_notifies_nobody(harness: HarnessSession) -> None:
    for command, expected in ANSWERS:
        answer = await ask(harness, command)
        assert expected.lower() in (render_blocks(answer["blocks"]) + answer["text"]).lower(), command
    assert len(fake(harness).ephemeral_for("U0ALICE", "C0TRADE")) == len(ANSWERS)
    assert_clean(harness)


async def test_more_results_replaces_the_answer_in_place(harness: HarnessSession) -> None:
    answer = await ask(harness, "trade")
    assert "Articles 1–5 of" in render_blocks(answer["blocks"])
    # The button carries a short key, not the query: paging state stays on the server.
    assert all(len(e["value"]) < 40 for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"])
    await (await click(harness, answer, "More results")).answer()
    [shown] = fake(harness).ephemeral_for("U0ALICE", "C0TRADE")
    assert "Articles 6–" in render_blocks(shown["blocks"]) and shown["ts"] == answer["ts"]
    assert_clean(harness)


async def test_share_posts_once_in_the_channel_saying_who_shared(harness: HarnessSession) -> None:
    answer = await ask(harness, "who lutnick", user="U0BOB")
    await click(harness, answer, "Share in channel", user="U0BOB")
    await fake(harness).wait_for(lambda c: c["method"] == "chat.postMessage")
    [post] = fake(harness).channel_messages("C0TRADE")
    shown = render_blocks(post["blocks"])
    assert "Howard Lutnick" in shown and "Shared by @U0BOB" in shown and "[Share in channel]" not in shown
    assert [m["text"] for m in fake(harness).ephemeral_for("U0BOB", "C0TRADE")] == [answer["text"]]
    # The attribution mentions the sharer (and only them); nobody else is pinged.
    assert [(c["method"], c["notified"]) for c in fake(harness).notifications()] == [("chat.postMessage", ["U0BOB"])]
    assert fake(harness).rejections() == []


async def test_sharing_a_query_that_spells_a_mention_pings_nobody(harness: HarnessSession) -> None:
    # Slack delivers a typed `<!channel>` entity-encoded; shared, it must stay text, not page the channel.
    answer = await ask(harness, "&lt;!channel&gt; tariffs china")
    await click(harness, answer, "Share in channel")
    await fake(harness).wait_for(lambda c: c["method"] == "chat.postMessage")
    assert [c["notified"] for c in fake(harness).notifications()] == [["U0ALICE"]]  # the attribution only


async def test_nobody_can_click_a_button_on_someone_elses_ephemeral_answer(harness: HarnessSession) -> None:
    answer = await ask(harness, "who greer", user="U0ALICE")
    with pytest.raises(LookupError, match="U0BOB"):
        await click(harness, answer, "Share in channel", user="U0BOB")


async def test_read_article_opens_a_modal_with_source_link(harness: HarnessSession) -> None:
    answer = await ask(harness, "soybeans brazil argentina")
    await click(harness, answer, "Read article")
    call = await fake(harness).wait_for(lambda c: c["method"] == "views.open")
    assert call["ok"], call.get("error")
    [view] = fake(harness).views.values()
    shown = render_blocks(view["blocks"])
    assert "Treasury Secretary Signals Major US-China Trade Breakthrough" in shown
    assert "Read at the source (https://financejumps.com/" in shown
    submitted = await driver(harness).submit_view(view)
    assert submitted.ack_status == 200 and "clear" in str(submitted.ack_body)
    assert_clean(harness)


async def test_every_page_of_a_thirty_thousand_character_article_opens(harness: HarnessSession) -> None:
    answer = await ask(harness, "zanzibar clove")
    await click(harness, answer, "Read article")
    await fake(harness).wait_for(lambda c: c["method"] == "views.open")
    [view] = fake(harness).views.values()
    total = int(render_blocks(view["blocks"]).split("Page 1 of ")[1].split()[0].strip("._*"))
    assert total >= 3
    seen = [1]
    while "[Next page]" in render_blocks(view["blocks"]):
        updates = len(fake(harness).calls_to("views.update"))
        await driver(harness).click(view["blocks"], "Next page", view=view)
        await fake(harness).wait_for(lambda c, n=updates: len(fake(harness).calls_to("views.update")) > n)
        call = fake(harness).calls_to("views.update")[-1]
        assert call["ok"], f"page {seen[-1] + 1}: {call.get('error')}"
        view = fake(harness).views[view["id"]]
        seen.append(seen[-1] + 1)
        assert f"Page {seen[-1]} of {total}" in render_blocks(view["blocks"])
    assert seen == list(range(1, total + 1))
    assert "Part 30" in render_blocks(view["blocks"])
    assert_clean(harness)


async def test_who_kat_offers_each_match_and_each_pick_replaces_the_choice(harness: HarnessSession) -> None:
    choice = await ask(harness, "who kat")
    names = [e["text"]["text"] for b in choice["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(names) >= 2 and "Several people match" in render_blocks(choice["blocks"])
    for name in names:
        choice = await ask(harness, "who kat")
        await (await click(harness, choice, name)).answer()
        shown = fake(harness).ephemeral_for("U0ALICE", "C0TRADE")[-1]
        assert shown["ts"] == choice["ts"] and name in render_blocks(shown["blocks"])
        assert "[Share in channel]" in render_blocks(shown["blocks"])
    assert_clean(harness)


# Events -------------------------------------------------------------------------------


async def test_app_mention_replies_in_its_thread(harness: HarnessSession) -> None:
    await driver(harness).mention("who hassett", thread_ts="1700000000.000100")
    call = await fake(harness).wait_for(lambda c: c["method"] == "chat.postMessage")
    assert call["ok"], call.get("error")
    [question, reply] = fake(harness).thread("C0TRADE", "1700000000.000100")
    assert question["user"] == "U0ALICE" and reply["user"] == "UTRADEBOT"
    assert "Kevin Hassett" in render_blocks(reply["blocks"])
    assert_clean(harness)


async def test_direct_message_is_answered_in_the_dm(harness: HarnessSession) -> None:
    await driver(harness).direct_message("who kato")
    await fake(harness).wait_for(lambda c: c["method"] == "chat.postMessage")
    dm = fake(harness).open_dm("U0ALICE")
    [question, reply] = fake(harness).channel_messages(dm)
    assert question["text"] == "who kato" and "Katsunobu Kato" in render_blocks(reply["blocks"])
    assert_clean(harness)


async def test_app_home_shows_articles_people_and_usage(harness: HarnessSession) -> None:
    await driver(harness).open_home("U0ALICE")
    call = await fake(harness).wait_for(lambda c: c["method"] == "views.publish")
    assert call["ok"], call.get("error")
    shown = render_blocks(fake(harness).home["U0ALICE"]["blocks"])
    assert "Newest articles" in shown and "Treasury Secretary Signals" in shown
    assert "Top people in the news" in shown and "Scott Bessent" in shown and "/trade who" in shown
    assert_clean(harness)


# Faults -------------------------------------------------------------------------------


async def test_rate_limited_share_is_retried_and_posted_once(harness: HarnessSession) -> None:
    fake(harness).fail(Failure(method="chat.postMessage", error="ratelimited", retry_after=1))
    answer = await ask(harness, "who greer")
    await click(harness, answer, "Share in channel")
    await fake(harness).wait_for(lambda c: c["method"] == "chat.postMessage" and c["ok"], timeout=15)
    assert len(fake(harness).calls_to("chat.postMessage")) == 2  # one refused with 429, one accepted
    assert len(fake(harness).channel_messages("C0TRADE")) == 1
    assert fake(harness).rejections() == []


async def test_socket_mode_redelivered_mention_is_answered_once(seed_corpus_dir: Path, tmp_path: Path) -> None:
    async with HarnessSession(seed_corpus_dir, transport="socket", db_path=tmp_path / "db.sqlite3") as session:
        said = session.fake.state.user_says("C0TRADE", "U0ALICE", "<@UTRADEBOT> who greer")
        event = {"type": "event_callback", "event_id": "Ev0REDELIVERED", "team_id": "T0HARNESS",
                 "api_app_id": "A0TRADEBOT", "event": {"type": "app_mention", "user": "U0ALICE", "text": said["text"],
                                                       "ts": said["ts"], "channel": "C0TRADE"}}
        for _ in range(2):  # Slack delivers again when it did not get the first ack in time
            await session.fake.deliver("events_api", event)
        await session.fake.wait_for(lambda c: c["method"] == "chat.postMessage")
        await (await session.driver.slash("help")).answer()  # later work is done: a second reply would be in
        replies = [m for m in session.fake.thread("C0TRADE", said["ts"]) if m["user"] == "UTRADEBOT"]
    assert len(replies) == 1
