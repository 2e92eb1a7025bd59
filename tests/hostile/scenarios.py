"""Every answer kind, driven through the harness as a user would, as single coroutines.

Each returns nothing; the caller inspects everything the bot sent meanwhile
(`LiveHarness.findings(mark)`). Buttons are pressed when the answer has them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from bot.harness.driver import find_button
from bot.harness.session import HarnessSession
from tests.hostile.live import SHARER

WAIT = 10.0


def has_button(blocks: list[dict[str, Any]], label: str) -> bool:
    try:
        find_button(blocks, label)
    except LookupError:
        return False
    return True


async def _posted_after(s: HarnessSession, method: str, count: int) -> dict[str, Any]:
    await s.fake.wait_for(lambda c: len(s.fake.calls_to(method)) > count, WAIT)
    return s.fake.calls_to(method)[count]


async def slash_and_buttons(s: HarnessSession, text: str) -> dict[str, Any]:
    """`/trade text`, then every button the answer offers: Share, More results, Read article
    (and the modal's Next page), pick a person. Returns the first answer."""
    driver = s.driver
    assert driver is not None
    # The asker is the sharer: in Slack only the asker sees (and can press) an ephemeral answer's buttons.
    answer = await (await driver.slash(text, user=SHARER)).answer(timeout=WAIT)
    blocks = answer.get("blocks") or []
    if has_button(blocks, "Share in channel"):
        count = len(s.fake.calls_to("chat.postMessage"))
        click = await driver.click(blocks, "Share in channel", user=SHARER)
        await asyncio.wait_for(_first_of(s, click, count), WAIT)
    if has_button(blocks, "More results"):
        await (await driver.click(blocks, "More results", user=SHARER)).answer(timeout=WAIT)
    if has_button(blocks, "Read article"):
        await read_article_pages(s, blocks, user=SHARER)
    for label in _pick_labels(blocks):
        await (await driver.click(blocks, label, user=SHARER)).answer(timeout=WAIT)
        break
    return answer


async def _first_of(s: HarnessSession, click: Any, posts_before: int) -> None:
    """A share ends in a channel post, or in an answer on the click's response_url."""
    while len(s.fake.calls_to("chat.postMessage")) <= posts_before and not click.answers():
        await asyncio.sleep(0.01)


def _pick_labels(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"]["text"] for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])
            if str(e.get("action_id", "")).startswith("trade_pick")]


async def read_article_pages(s: HarnessSession, blocks: list[dict[str, Any]], max_pages: int = 3,
                             user: str = "U0ALICE") -> list[dict]:
    """Press Read article, then Next page up to `max_pages` times; returns the views shown."""
    driver = s.driver
    assert driver is not None
    opened = len(s.fake.calls_to("views.open"))
    await driver.click(blocks, "Read article", user=user)
    call = await _posted_after(s, "views.open", opened)
    view_id = next((vid for vid, v in s.fake.views.items() if v.get("blocks") == call["params"]["view"]["blocks"]),
                   None)
    shown = [call["params"]["view"]]
    for _ in range(max_pages):
        view = s.fake.views.get(view_id) if view_id else None
        if view is None or not has_button(view["blocks"], "Next page"):
            break
        updates = len(s.fake.calls_to("views.update"))
        await driver.click(view["blocks"], "Next page", view=view, user=user)
        shown.append((await _posted_after(s, "views.update", updates))["params"]["view"])
    return shown


async def mention_and_dm(s: HarnessSession, text: str) -> None:
    driver = s.driver
    assert driver is not None
    for send in (driver.mention, driver.direct_message):
        count = len(s.fake.calls_to("chat.postMessage"))
        await send(text)
        await _posted_after(s, "chat.postMessage", count)


async def watch_cycle(s: HarnessSession, topic: str, digest_day: dt.date | None = None) -> None:
    """watch, watching, (the digest that lists the topic), unwatch."""
    for command in (f"watch {topic}", "watching"):
        await (await s.driver.slash(command)).answer(timeout=WAIT)  # type: ignore[union-attr]
    if digest_day is not None:
        await digest(s, digest_day)
    await (await s.driver.slash(f"unwatch {topic}")).answer(timeout=WAIT)  # type: ignore[union-attr]


async def home(s: HarnessSession) -> dict[str, Any]:
    count = len(s.fake.calls_to("views.publish"))
    await s.driver.open_home()  # type: ignore[union-attr]
    return (await _posted_after(s, "views.publish", count))["params"]["view"]


async def digest(s: HarnessSession, day: dt.date) -> str:
    assert s.service is not None
    return await s.service.scheduler.run_channel("", "C0TRADE", day)
