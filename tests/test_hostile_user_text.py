"""Property: no text a user types can make tradebot ping, mention or link (issue #11).

Hypothesis generates hostile strings (Slack control sequences raw and entity-encoded,
`&<>|`, zero-width and bidi controls, C0 controls, long runs, odd Unicode) and sends
them as queries, `who` names, `source:` values, watch topics (and the daily digest that lists them), @mentions and DMs
through one live harness (real HTTP server, real signatures, fake Slack). Every
button the answer offers is pressed. Then every payload the bot sent (response_url
bodies, chat.postMessage, views.open/update) is scanned by `tests.hostile.markup`,
which knows Slack's rules but not the bot's code. Allowed: the articles' own links
and the sharer's `<@U0CAROL>` in "Shared by".

Settings: `PROPERTY` (see `tests.hostile.strategies.property_settings`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.corpus.ingest import ingest_seeds
from tests.conftest import SEEDS
from tests.hostile import scenarios
from tests.hostile.live import LiveHarness, describe
from tests.hostile.markup import live_markup
from tests.hostile.strategies import entity_encode, hostile_text, property_settings, with_token

PROPERTY = property_settings(30)
_days = itertools.count()
TEXT_BUG = "#11: the top-level `text` (notification fallback) is built from decoded user text, unescaped"

# As Slack delivers it (typed `<` arrives as `&lt;`), or raw as a signed client could send it
# (and as Slack sends real mentions in event text).
delivered = st.builds(lambda text, encode: entity_encode(text) if encode else text,
                      st.one_of(with_token, hostile_text), st.booleans())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHarness]:
    root = tmp_path_factory.mktemp("hostile-user")
    ingest_seeds(SEEDS, root / "corpus")
    harness = LiveHarness(root / "corpus", root / "db.sqlite3")
    yield harness
    harness.close()


def assert_nothing_live(live: LiveHarness, mark: int, *, skip_top_level_text: bool = False) -> None:
    calls = live.sent_since(mark)
    assert calls, "the bot answered nothing"
    urls = live.article_urls()
    findings = []
    for call in calls:
        params = call["params"]
        if skip_top_level_text:
            params = {k: v for k, v in params.items() if k != "text"}
        findings += live_markup(params, allowed_urls=urls, allowed_users={"U0CAROL"})
    assert not findings, describe(findings, calls)


@PROPERTY
@given(text=delivered)
def test_user_text_never_goes_live_in_blocks_or_views(live: LiveHarness, text: str) -> None:
    """Every route at once, blocks and views only (the top-level text is the next tests' concern).

    Each input ends in a plain word, so no route falls back to the help text, whose own
    `<words>` token is a separate failing test (tests/test_hostile_checklist.py)."""
    mark = live.mark()
    live.run(scenarios.slash_and_buttons(live.session, f"tariffs {text}"))
    live.run(scenarios.slash_and_buttons(live.session, f"who {text} zed"))
    live.run(scenarios.slash_and_buttons(live.session, f"source:{text} tariffs"))
    live.run(scenarios.watch_cycle(live.session, f"{text} zed"))
    live.run(scenarios.mention_and_dm(live.session, f"{text} zed"))
    assert_nothing_live(live, mark, skip_top_level_text=True)


@PROPERTY
@given(text=delivered)
@example(text="&lt;!channel&gt; tariffs")
def test_search_and_its_buttons_never_send_live_markup(live: LiveHarness, text: str) -> None:
    mark = live.mark()
    live.run(scenarios.slash_and_buttons(live.session, f"tariffs {text}"))
    assert_nothing_live(live, mark)


@PROPERTY
@given(text=delivered)
@example(text="&lt;@U1&gt;")
def test_no_results_answer_never_sends_live_markup(live: LiveHarness, text: str) -> None:
    mark = live.mark()
    live.run(scenarios.slash_and_buttons(live.session, f"zzqqxx {text}"))
    assert_nothing_live(live, mark)


@PROPERTY
@given(text=delivered)
@example(text="&lt;!channel&gt;")
def test_who_and_who_not_found_never_send_live_markup(live: LiveHarness, text: str) -> None:
    mark = live.mark()
    live.run(scenarios.slash_and_buttons(live.session, f"who {text}"))
    live.run(scenarios.slash_and_buttons(live.session, f"who greer {text}"))
    assert_nothing_live(live, mark)


@PROPERTY
@given(text=delivered)
@example(text="&lt;!here&gt;")
def test_filter_values_never_send_live_markup(live: LiveHarness, text: str) -> None:
    mark = live.mark()
    live.run(scenarios.slash_and_buttons(live.session, f"source:{text} tariffs"))
    live.run(scenarios.slash_and_buttons(live.session, f"tariffs since:{text}"))
    assert_nothing_live(live, mark)


@PROPERTY
@given(text=delivered)
def test_watch_topics_never_send_live_markup(live: LiveHarness, text: str) -> None:
    mark = live.mark()
    day = dt.date(2030, 1, 1) + dt.timedelta(days=next(_days))  # one digest per channel and date
    live.run(scenarios.watch_cycle(live.session, f"{text} zed", digest_day=day))  # a blank topic gets the help
    assert any(c["method"] == "chat.postMessage" for c in live.sent_since(mark)), "no digest was posted"
    assert_nothing_live(live, mark)


@PROPERTY
@given(text=delivered)
@example(text="<!channel> tariffs")
def test_mention_and_dm_replies_never_send_live_markup(live: LiveHarness, text: str) -> None:
    mark = live.mark()
    live.run(scenarios.mention_and_dm(live.session, text))
    live.run(scenarios.mention_and_dm(live.session, f"who {text}"))
    assert_nothing_live(live, mark)
