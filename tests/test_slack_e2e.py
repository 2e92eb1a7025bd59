"""End to end through the fake Slack: the same tests over HTTP and over Socket Mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.harness.fake_slack import Failure
from bot.harness.render import render_blocks
from bot.harness.session import HarnessSession
from tests.helpers import add_articles


@pytest.fixture(params=["http", "socket"])
async def harness(request: pytest.FixtureRequest, corpus_copy: Path, tmp_path: Path) -> AsyncIterator[HarnessSession]:
    add_articles(corpus_copy, 8)
    async with HarnessSession(corpus_copy, transport=request.param, db_path=tmp_path / "db.sqlite3") as session:
        yield session


def text_of(payload: dict) -> str:
    return render_blocks(payload["blocks"])


async def test_search_answers_ephemerally_with_linked_results(harness: HarnessSession) -> None:
    interaction = await harness.driver.slash("tariffs china")
    answer = await interaction.answer()
    assert answer["response_type"] == "ephemeral"
    shown = text_of(answer)
    assert "Search: *tariffs china*" in shown
    assert "https://financejumps.com/treasury-secretary-signals-major-us-china-trade-breakthrough" in shown
    assert "*tariff*" in shown and "[Share in channel]" in shown


async def test_who_greer_names_jamieson_greer_and_links_articles(harness: HarnessSession) -> None:
    answer = await (await harness.driver.slash("who greer")).answer()
    shown = text_of(answer)
    assert "Jamieson Greer" in shown and "US Trade Representative" in shown
    assert "https://en.bloomingbit.io/feed/news/90125" in shown


async def test_empty_command_gives_help(harness: HarnessSession) -> None:
    answer = await (await harness.driver.slash("   ")).answer()
    shown = text_of(answer)
    assert "/trade who <name>" in shown.replace("&lt;", "<").replace("&gt;", ">")
    assert "tariffs china" in shown


async def test_more_results_pages_server_side(harness: HarnessSession) -> None:
    answer = await (await harness.driver.slash("trade")).answer()
    assert "Articles 1–5 of" in text_of(answer) and "[More results]" in text_of(answer)
    # The button carries a short key, not the query: paging state stays on the server.
    assert all(len(e["value"]) < 40 for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"])
    page2 = await (await harness.driver.click(answer["blocks"], "More results")).answer()
    assert page2["replace_original"] is True
    assert "Articles 6–" in text_of(page2)


async def test_share_in_channel_posts_once_saying_who_shared(harness: HarnessSession) -> None:
    answer = await (await harness.driver.slash("who lutnick")).answer()
    await harness.driver.click(answer["blocks"], "Share in channel", user="U0BOB")
    call = await harness.fake.wait_for(lambda c: c["method"] == "chat.postMessage")
    assert call["params"]["channel"] == "C0TRADE"
    shown = render_blocks(call["params"]["blocks"])
    assert "Howard Lutnick" in shown and "Shared by @U0BOB" in shown and "[Share in channel]" not in shown


async def test_read_article_opens_a_modal_with_source_link(harness: HarnessSession) -> None:
    answer = await (await harness.driver.slash("soybeans brazil argentina")).answer()
    await harness.driver.click(answer["blocks"], "Read article")
    call = await harness.fake.wait_for(lambda c: c["method"] == "views.open")
    view = call["params"]["view"]
    assert view["type"] == "modal"
    shown = render_blocks(view["blocks"])
    assert "Treasury Secretary Signals Major US-China Trade Breakthrough" in shown
    assert "Read at the source (https://financejumps.com/" in shown
    stored = harness.fake.views[call_result_view_id(harness)]
    submitted = await harness.driver.submit_view(stored)
    assert submitted.ack_status == 200
    assert "clear" in str(submitted.ack_body)


def call_result_view_id(harness: HarnessSession) -> str:
    return next(iter(harness.fake.views))


async def test_app_mention_replies_in_thread(harness: HarnessSession) -> None:
    await harness.driver.mention("who hassett", thread_ts="1700000000.000100")
    call = await harness.fake.wait_for(lambda c: c["method"] == "chat.postMessage")
    assert call["params"]["thread_ts"] == "1700000000.000100"
    assert "Kevin Hassett" in render_blocks(call["params"]["blocks"])


async def test_direct_message_is_answered(harness: HarnessSession) -> None:
    await harness.driver.direct_message("who kato")
    call = await harness.fake.wait_for(lambda c: c["method"] == "chat.postMessage")
    assert call["params"]["channel"] == "D0ALICE"
    assert "Katsunobu Kato" in render_blocks(call["params"]["blocks"])


async def test_app_home_shows_articles_people_and_usage(harness: HarnessSession) -> None:
    await harness.driver.open_home("U0ALICE")
    call = await harness.fake.wait_for(lambda c: c["method"] == "views.publish")
    shown = render_blocks(call["params"]["view"]["blocks"])
    assert "Newest articles" in shown and "Treasury Secretary Signals" in shown
    assert "Top people in the news" in shown and "Scott Bessent" in shown
    assert "/trade who" in shown


async def test_rate_limited_share_is_retried_and_posted_once(harness: HarnessSession) -> None:
    harness.fake.fail(Failure(method="chat.postMessage", error="ratelimited", retry_after=1))
    answer = await (await harness.driver.slash("who greer")).answer()
    await harness.driver.click(answer["blocks"], "Share in channel")
    await harness.fake.wait_for(lambda c: c["method"] == "chat.postMessage" and
                                len(harness.fake.calls_to("chat.postMessage")) == 2, timeout=15)
    assert len(harness.fake.calls_to("chat.postMessage")) == 2  # one refused with 429, one accepted
    assert len(harness.fake.channels["C0TRADE"].messages) == 1


async def test_several_people_match_become_buttons_to_pick_from(corpus_copy: Path, tmp_path: Path) -> None:
    from tests.helpers import write_article

    write_article(corpus_copy, "wang-yi", "Wang Yi meets counterparts",
                  ["Chinese Foreign Minister Wang Yi said the talks were candid."])
    async with HarnessSession(corpus_copy, db_path=tmp_path / "db.sqlite3") as session:
        answer = await (await session.driver.slash("who wang")).answer()
        shown = text_of(answer)
        assert "Several people match" in shown and "[Wang Wentao]" in shown and "[Wang Yi]" in shown
        picked = await (await session.driver.click(answer["blocks"], "Wang Yi")).answer()
    assert picked["replace_original"] is True
    assert "Foreign Minister" in text_of(picked) and "[Share in channel]" in text_of(picked)


async def test_long_article_modal_pages_with_views_update(corpus_copy: Path, tmp_path: Path) -> None:
    from tests.helpers import write_article

    write_article(corpus_copy, "long-read", "The long read on zanzibar clove tariffs",
                  [f"Part {i}: zanzibar clove tariffs " + "and more detail " * 60 for i in range(30)])
    async with HarnessSession(corpus_copy, db_path=tmp_path / "db.sqlite3") as session:
        answer = await (await session.driver.slash("zanzibar clove")).answer()
        await session.driver.click(answer["blocks"], "Read article")
        opened = await session.fake.wait_for(lambda c: c["method"] == "views.open")
        view = next(iter(session.fake.views.values()))
        assert "Page 1 of" in render_blocks(view["blocks"])
        await session.driver.click(view["blocks"], "Next page", view=view)
        updated = await session.fake.wait_for(lambda c: c["method"] == "views.update")
    assert updated["params"]["view_id"] == view["id"]
    assert "Page 2 of" in render_blocks(updated["params"]["view"]["blocks"])
    assert opened["params"]["view"]["type"] == "modal"
