"""Buttons through the harness: every kind answers to `BASE` and `BASE-SUFFIX` action ids, and a
signed click whose value does not parse is told the button has expired (never an exception)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.harness.session import HarnessSession
from tests.helpers import add_articles, write_article

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one harness for the module: clicks are independent


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def s(seed_corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[HarnessSession]:
    corpus = tmp_path_factory.mktemp("buttons-corpus")
    for article in seed_corpus_dir.glob("*.md"):
        (corpus / article.name).write_bytes(article.read_bytes())
    add_articles(corpus, 12)  # enough tariff articles for a "More results" button
    write_article(corpus, "long-read", "Tariffs explained at length",
                  [f"Paragraph {i} about tariffs and the trade talks, told at some length." * 4 for i in range(80)],
                  url="https://wire.example/long")
    async with HarnessSession(corpus, transport="http", db_path=corpus.parent / "db.sqlite3") as session:
        yield session


async def next_call(s: HarnessSession, method: str, since: int) -> dict[str, Any]:
    """The first `method` call recorded after the first `since` calls."""
    return await s.fake.wait_for(lambda c: c["method"] == method and s.fake.calls.index(c) >= since)


def with_suffix(blocks: list[dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    """The same blocks with every button's action_id turned into `BASE-suffix`, as the renderer now may."""
    blocks = copy.deepcopy(blocks)
    for block in blocks:
        elements = list(block.get("elements") or []) + ([block["accessory"]] if "accessory" in block else [])
        for element in elements:
            if element.get("type") == "button":
                element["action_id"] = f"{element['action_id']}-{suffix}"
    return blocks


def one_button(label: str, action_id: str, value: Any) -> list[dict[str, Any]]:
    return [{"type": "actions", "block_id": "b1", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id, "value": value}]}]


async def open_article(s: HarnessSession) -> dict[str, Any]:
    answer = await (await s.driver.slash("tariffs explained at length")).answer()
    since = len(s.fake.calls)
    click = await s.driver.click(with_suffix(answer["blocks"], "3"), "Read article", forged=True)
    assert click.ack_status == 200
    await next_call(s, "views.open", since)
    return list(s.fake.views.values())[-1]


async def test_more_results_with_a_suffixed_id(s: HarnessSession) -> None:
    answer = await (await s.driver.slash("tariffs")).answer()
    click = await s.driver.click(with_suffix(answer["blocks"], "x"), "More results", forged=True)
    assert click.ack_status == 200
    assert "Search:" in (await click.answer())["text"]


async def test_share_with_a_suffixed_id(s: HarnessSession) -> None:
    answer = await (await s.driver.slash("who greer")).answer()
    since = len(s.fake.calls)
    click = await s.driver.click(with_suffix(answer["blocks"], "0"), "Share in channel", forged=True)
    assert click.ack_status == 200
    call = await next_call(s, "chat.postMessage", since)
    assert "Greer" in call["params"]["text"]


async def test_read_article_and_turn_the_page_with_suffixed_ids(s: HarnessSession) -> None:
    view = await open_article(s)
    since = len(s.fake.calls)
    click = await s.driver.click(with_suffix(view["blocks"], "next"), "Next page", view=view, forged=True)
    assert click.ack_status == 200
    call = await next_call(s, "views.update", since)
    assert "Paragraph" in str(call["params"]["view"])


async def test_pick_with_a_suffixed_id_is_routed(s: HarnessSession) -> None:
    click = await s.driver.click(one_button("Jamieson Greer", "trade_pick-1", "no-such-key|1"), "Jamieson Greer", forged=True)
    assert click.ack_status == 200
    assert "That button has expired" in (await click.answer())["text"]


@pytest.mark.parametrize("action_id", ["trade_pickle", "trade_pick_1", "xtrade_more", "trade_share-"])
async def test_ids_that_only_look_alike_are_not_ours(s: HarnessSession, action_id: str) -> None:
    click = await s.driver.click(one_button("B", action_id, "k|1"), "B", forged=True)
    assert click.ack_status == 404  # bolt: no listener; nothing answered


@pytest.mark.parametrize("index", ["²", "١", "-1", "", "9" * 30])
async def test_a_pick_whose_value_does_not_parse_says_the_button_expired(s: HarnessSession, index: str) -> None:
    # A live key (a who-answer's), so only the index is wrong: "²".isdigit() is True and int("²") raises.
    answer = await (await s.driver.slash("who greer")).answer()
    key = next(e["value"] for b in answer["blocks"] if b.get("type") == "actions" for e in b["elements"])
    click = await s.driver.click(one_button("Someone", "trade_pick", f"{key}|{index}"), "Someone", forged=True)
    answer = await click.answer()
    assert "That button has expired" in answer["text"] and "error id" not in answer["text"]


@pytest.mark.parametrize("value", [{"nested": "dict"}, 12, None, ["a"]])
async def test_a_button_value_that_is_not_a_string_says_the_button_expired(s: HarnessSession, value: Any) -> None:
    click = await s.driver.click(one_button("More results", "trade_more", value), "More results", forged=True)
    assert "That button has expired" in (await click.answer())["text"]


@pytest.mark.parametrize("page", ["²", "x", "-1", "1.5", ""])
async def test_a_modal_page_that_is_not_a_number_says_the_button_expired(s: HarnessSession, page: str) -> None:
    view = await open_article(s)
    since = len(s.fake.calls)
    click = await s.driver.click(one_button("Next page", "trade_modal_page", f"long-read|{page}"), "Next page",
                                 view=view, forged=True)
    assert click.ack_status == 200
    call = await next_call(s, "views.update", since)
    assert "That button has expired" in str(call["params"]["view"])


async def test_a_modal_page_of_an_article_that_is_gone_says_so(s: HarnessSession) -> None:
    view = await open_article(s)
    since = len(s.fake.calls)
    click = await s.driver.click(one_button("Next page", "trade_modal_page-next", "gone-article|1"), "Next page",
                                 view=view, forged=True)
    assert click.ack_status == 200
    call = await next_call(s, "views.update", since)
    assert "no longer in the corpus" in str(call["params"]["view"])
