""""Also reported by": the other outlets of a story under search results and article cards."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answers import compose
from bot.corpus import Article
from bot.feeds.store import OtherOutlet
from bot.harness.render import render_blocks
from bot.slack.ui.blocks import render_message
from tests.test_feeds_server import PublisherSite, serve_site
from tests.test_slack_feeds_commands import ask, assert_clean, session


@pytest.fixture
def site() -> Iterator[PublisherSite]:
    yield from serve_site()


async def test_search_results_and_cards_name_the_other_outlets(
        site: PublisherSite, corpus_copy: Path, tmp_path: Path) -> None:
    async with session(corpus_copy, tmp_path) as harness:
        await ask(harness, f"feeds add {site.base}/feed.xml")
        await ask(harness, f"feeds add {site.base}/courier.xml")
        assert harness.service is not None
        feeds = harness.service.feeds
        await feeds.ingester.poll_all(feeds.store.feeds())
        library = harness.service.library

        async def loaded() -> None:  # the watcher reloads the corpus within TRADEBOT_RELOAD_SECONDS
            while not any("truce" in a.title for a in (library.current.corpus.articles if library.current else ())):
                await asyncio.sleep(0.1)

        await asyncio.wait_for(loaded(), 30)
        results = await ask(harness, "tariff truce 90 days")
        card = await ask(harness, f"add {site.base}/courier/truce")  # the wire copy: already there
        assert_clean(harness)
    assert "Also reported by" in results and "Already in tradebot" in card and "Also reported by" in card
    outlets = {"Harbour Times", "Coastal Courier"}
    assert any(f"Also reported by {name}" in results for name in outlets)
    assert site.base in results.split("Also reported by", 1)[1]  # the other outlet is linked


def test_other_outlets_are_escaped_capped_and_linked_only_when_safe() -> None:
    article = Article(id="a1", title="Truce", publisher="Harbour Times", url="https://harbour.example/truce",
                      published=dt.date(2025, 6, 10), paragraphs=("Negotiators agreed on Tuesday.",))
    outlets = [OtherOutlet(publisher="<!channel> Wire", url="javascript:alert(1)", title=None),
               OtherOutlet(publisher="Pipe | Post", url="https://pipe.example/x", title=None),
               *(OtherOutlet(publisher=f"Outlet {i}", url=f"https://o{i}.example/", title=None) for i in range(6))]
    message = render_message(compose.article_card(article, also=outlets))
    text = str(message.blocks)
    assert "&lt;!channel&gt; Wire" in text and "<!channel>" not in text and "javascript:" not in text
    assert "<https://pipe.example/x|Pipe ¦ Post>" in text
    assert "Outlet 2" in text and "Outlet 3" not in text  # at most five others
    assert "Also reported by" in render_blocks(message.blocks)
