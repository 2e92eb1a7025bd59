"""The bad-input checklist (items 10-48) and issue #11's smaller findings, end to end through the
harness where possible: the real server, real signatures, real SQLite, the fake Slack.

Tests marked xfail(strict=True) fail on today's code for the reason given; the lead
removes each marker as its fix lands (a fixed bug then shows as XPASS, which fails).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.harness.fake_slack import Failure
from bot.harness.session import HarnessSession
from tests.helpers import write_article
from tests.hostile.live import LiveHarness, shown
from tests.hostile.markup import live_markup
from tests.hostile.scenarios import has_button, home, read_article_pages
from tests.hostile.slack_rules import repeated_ids


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, seed_corpus_dir: Path) -> Iterator[LiveHarness]:
    """One running bot for the tests that only ask (no files written, no failures programmed)."""
    harness = LiveHarness(seed_corpus_dir, tmp_path_factory.mktemp("checklist") / "db.sqlite3")
    yield harness
    harness.close()


def asked(live: LiveHarness, text: str) -> dict:
    return live.run(ask(live.session, text))


@pytest.fixture
async def harness(corpus_copy: Path, tmp_path: Path) -> AsyncIterator[HarnessSession]:
    async with HarnessSession(corpus_copy, db_path=tmp_path / "db.sqlite3") as session:
        yield session


def article_urls(s: HarnessSession) -> set[str]:
    snapshot = s.service.library.current if s.service else None
    return {a.url for a in snapshot.corpus.articles if a.url} if snapshot else set()


async def ask(s: HarnessSession, text: str) -> dict:
    return await (await s.driver.slash(text)).answer()  # type: ignore[union-attr]


def encoded(text: str) -> str:
    """As Slack delivers typed text in a slash command."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# 11. Huge queries --------------------------------------------------------------------------


def test_a_40000_character_query_is_told_its_real_length(live: LiveHarness) -> None:
    answer = asked(live, ("tariffs china " * 4000)[:40_000])
    text = shown(answer)
    assert "40,000 characters" in text and "4,000 characters long" not in text
    assert answer["response_type"] == "ephemeral" and len(answer["blocks"]) <= 50


# 12-13. Punctuation only; scripts, emoji, normalisation --------------------------------------


@pytest.mark.parametrize("query", ["*_~`>", "```", ">>>", "***", "~~ __ ``", "||", "&amp;&amp;"])
def test_only_mrkdwn_markers_get_no_results_not_an_error(live: LiveHarness, query: str) -> None:
    text = shown(asked(live, query))
    assert ("No articles match" in text or "Type some words to search for" in text) and "went wrong" not in text


@pytest.mark.parametrize("query", ["تعريفات جمركية", "黃仁勳關稅談判", "👩🏽‍💻 tariffs 👍🏿", "tarif\u0301fs", "ｔａｒｉｆｆｓ",
                                   "Ελλάδα δασμοί", "z\u0351\u0352\u0353algo tariffs"])
def test_any_script_is_echoed_faithfully_without_a_crash(live: LiveHarness, query: str) -> None:
    answer = asked(live, query)
    text = shown(answer)
    assert "went wrong" not in text
    assert query in text  # the restated query, exactly as typed (nothing to escape here)


async def test_nfd_and_full_width_queries_match_like_nfc_ascii(corpus_copy: Path, tmp_path: Path) -> None:
    write_article(corpus_copy, "cafe", "Café owners fear tariffs", ["The café association said tariffs hurt."],
                  url="https://cafe.example/1")
    async with HarnessSession(corpus_copy, db_path=tmp_path / "db") as s:
        for query in ("cafe\u0301 association", "café association", "ＣＡＦＥ association", "CAFÉ ASSOCIATION"):
            assert "Café owners fear tariffs" in shown(await ask(s, query)), query


# 14-15. Markup and entities in queries ---------------------------------------------------------


@pytest.mark.parametrize("typed", ["<!channel> tariffs", "<!here>", "<!everyone> china", "<@U123> hi",
                                   "<#C123|general>", "<https://evil.example|Reuters> china"])
def test_markup_in_a_query_is_not_live_in_the_notification_text(live: LiveHarness, typed: str) -> None:
    answer = asked(live, encoded(typed))
    assert not live_markup({"text": answer["text"]}), answer["text"]


def test_entity_encoded_input_is_decoded_once_and_escaped_once_in_blocks(live: LiveHarness) -> None:
    # The user typed the six characters `&lt;!` literally; Slack sends them as `&amp;lt;!`.
    answer = asked(live, encoded("&lt;!here&gt; tariffs"))
    restated = answer["blocks"][0]["text"]["text"]
    assert "*&amp;lt;!here&amp;gt; tariffs*" in restated  # shows the user exactly what they typed
    assert not live_markup(answer["blocks"], allowed_urls=article_urls(live.session))


def test_entity_encoded_input_is_escaped_once_in_the_notification_text(live: LiveHarness) -> None:
    answer = asked(live, encoded("&lt;!here&gt; tariffs"))
    assert "&amp;lt;!here&amp;gt; tariffs" in answer["text"]


# 16. Controls and invisible characters ---------------------------------------------------------


def test_nul_c0_and_bidi_overrides_never_reach_the_answer(live: LiveHarness) -> None:
    answer = asked(live, "tar\x00iffs \x1b[31m\u202echina\u2066")
    everything = str(answer)
    for bad in ("\x00", "\x1b", "\u202e", "\u2066"):
        assert bad not in everything and repr(bad)[1:-1] not in everything


@pytest.mark.parametrize("invisible", ["\u200b", "\u2060"])
def test_zero_width_characters_are_stripped_for_search(live: LiveHarness, invisible: str) -> None:
    plain = shown(asked(live, "tariffs china"))
    hidden = shown(asked(live, f"tar{invisible}iffs chi{invisible}na"))
    assert "Articles 1–5 of" in hidden and "Showing results for" not in hidden
    assert plain.split("Articles 1–5 of")[1][:12] == hidden.split("Articles 1–5 of")[1][:12]


# 19. 429 without Retry-After --------------------------------------------------------------------


async def test_rate_limit_without_retry_after_backs_off_capped_with_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    from slack_sdk.http_retry.request import HttpRequest
    from slack_sdk.http_retry.response import HttpResponse
    from slack_sdk.http_retry.state import RetryState

    from bot.slack import client as client_module

    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    monkeypatch.setattr(client_module.asyncio, "sleep", fake_sleep)
    handler = client_module.RateLimitRetryHandler(max_retry_count=50)
    request = HttpRequest(method="POST", url="https://slack.example/api/chat.postMessage", headers={}, body_params={})
    response = HttpResponse(status_code=429, headers={}, body={"ok": False, "error": "ratelimited"})
    for attempt in range(12):
        state = RetryState(current_attempt=attempt)
        await handler.prepare_for_next_attempt_async(state=state, request=request, response=response)
    assert all(0 < d <= 30.0 for d in slept)  # capped
    assert slept[0] < slept[5]  # backs off
    assert len(set(slept[6:])) > 1  # jittered: capped delays still differ


async def test_rate_limit_without_retry_after_still_posts_exactly_once(harness: HarnessSession) -> None:
    harness.fake.fail(Failure(method="chat.postMessage", error="ratelimited"))
    answer = await ask(harness, "who greer")
    await harness.driver.click(answer["blocks"], "Share in channel")  # type: ignore[union-attr]
    await harness.fake.wait_for(lambda c: len(harness.fake.calls_to("chat.postMessage")) == 2, timeout=15)
    await asyncio.sleep(0.2)
    assert len(harness.fake.channels["C0TRADE"].messages) == 1


# 22. Slow work ---------------------------------------------------------------------------------


async def test_slow_work_is_acked_first_and_answered_through_respond(harness: HarnessSession,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert harness.service is not None
    release = threading.Event()
    real = harness.service.answerer.answer

    def slow(*args: object, **kwargs: object) -> object:
        release.wait(20)  # runs in a worker thread, as answers do
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(harness.service.answerer, "answer", slow)
    interaction = await harness.driver.slash("who greer")  # type: ignore[union-attr]
    assert interaction.ack_status == 200 and interaction.answers() == []  # acked while the work still waits
    release.set()
    assert "Jamieson Greer" in shown(await interaction.answer())


# 33. Corpus unavailable ---------------------------------------------------------------------------


async def test_corpus_unavailable_answer_does_not_show_the_server_path(tmp_path: Path) -> None:
    missing = tmp_path / "srv" / "tradebot-corpus"
    async with HarnessSession(missing, db_path=tmp_path / "db") as s:
        answer = await ask(s, "tariffs")
    assert "unavailable" in answer["text"]
    assert str(tmp_path) not in str(answer) and "tradebot-corpus" not in str(answer)


# 35. De-duplication keeps the path's case ----------------------------------------------------------


async def test_urls_that_differ_only_in_path_case_are_different_articles(corpus_copy: Path, tmp_path: Path) -> None:
    write_article(corpus_copy, "watch-upper", "Video one on zanzibar", ["Zanzibar clove tariffs, part one."],
                  url="https://video.example/watch/AbC")
    write_article(corpus_copy, "watch-lower", "Video two on zanzibar", ["Zanzibar clove tariffs, part two."],
                  url="https://video.example/watch/aBc")
    async with HarnessSession(corpus_copy, db_path=tmp_path / "db") as s:
        text = shown(await ask(s, "zanzibar clove"))
    assert "Video one on zanzibar" in text and "Video two on zanzibar" in text


# 39. Shutdown with an answer in flight -------------------------------------------------------------


async def test_stop_lets_an_answer_in_flight_finish(corpus_copy: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    session = HarnessSession(corpus_copy, db_path=tmp_path / "db")
    await session.__aenter__()
    assert session.service is not None and session.driver is not None
    try:
        release = threading.Event()
        real = session.service.answerer.answer

        def slow(*args: object, **kwargs: object) -> object:
            release.wait(20)
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(session.service.answerer, "answer", slow)
        interaction = await session.driver.slash("who greer")
        stopping = asyncio.create_task(session.service.stop())  # SIGTERM does this
        await asyncio.sleep(0.2)
        assert not stopping.done()  # waits for the answer in flight
        release.set()
        await asyncio.wait_for(stopping, 15)
        assert "Jamieson Greer" in shown(interaction.answers()[0])
    finally:
        await session.driver.close()
        await session.fake.stop()


# 45. Over-long article URLs ---------------------------------------------------------------------------


async def test_a_2800_character_article_url_is_never_cut_inside_a_link(corpus_copy: Path, tmp_path: Path) -> None:
    long_url = "https://news.example/zanzibar?" + "&".join(f"k{i}=v{i}" for i in range(400))
    long_url = long_url[:2800]
    write_article(corpus_copy, "long-url", "Zanzibar clove tariffs with a long link",
                  ["Zanzibar clove tariffs rose sharply today, officials said."], url=long_url,
                  published=dt.date(2031, 1, 1))
    async with HarnessSession(corpus_copy, db_path=tmp_path / "db") as s:
        mark = len(s.fake.calls)
        search = await ask(s, "zanzibar clove")
        await ask(s, "latest")
        await read_article_pages(s, search["blocks"])
        assert s.service is not None
        await s.service.scheduler.run_channel("", "C0TRADE", dt.date(2031, 1, 2))
        calls = s.fake.calls[mark:]
        allowed = article_urls(s)
    assert long_url in allowed  # the article loaded with its URL
    assert {"response_url", "views.open", "chat.postMessage"} <= {c["method"] for c in calls}
    for call in calls:
        # A link is either the whole URL or absent; a cut one is a foreign link or an unclosed `<`.
        found = live_markup(call["params"], allowed_urls=allowed, allowed_users={"U0ALICE"})
        assert not found, (call["method"], [str(f) for f in found])
    assert "Zanzibar clove tariffs with a long link" in shown(search)


# 46. An article of thousands of short paragraphs ---------------------------------------------------------


async def test_every_short_paragraph_is_reachable_in_the_modal_with_its_page_line(corpus_copy: Path,
                                                                                  tmp_path: Path) -> None:
    paragraphs = [f"Zanzibar note {i:04d}." for i in range(1500)]
    write_article(corpus_copy, "many-paras", "Zanzibar clove tariffs in many short notes", paragraphs,
                  url="https://notes.example/1")
    async with HarnessSession(corpus_copy, db_path=tmp_path / "db") as s:
        answer = await ask(s, "zanzibar clove notes")
        views = await read_article_pages(s, answer["blocks"], max_pages=200)
    texts = [shown(v) for v in views]
    assert all(f"Page {n} of {len(views)}" in t for n, t in enumerate(texts, start=1)), "a page lost its page line"
    seen = "\n".join(texts)
    missing = [p for p in paragraphs if p not in seen]
    assert not missing, f"{len(missing)} paragraphs unreachable, e.g. {missing[:3]}"


# 47. A file rewritten in place ------------------------------------------------------------------------------


def article_text(version: str) -> str:
    body = "\n\n".join([f"{version}-START zanzibar."] + [f"{version} paragraph {i} about cloves." for i in range(200)]
                       + [f"{version}-END zanzibar."])
    return (f"---\nid: rewritten\ntitle: Zanzibar {version}\npublisher: Wire\nurl: https://w.example/r\n"
            f"published: 2025-07-01\n---\n{body}\n")



async def test_a_file_rewritten_in_place_is_never_seen_half_written(corpus_copy: Path, tmp_path: Path) -> None:
    path = corpus_copy / "rewritten.md"
    path.write_text(article_text("OLD"), encoding="utf-8")
    async with HarnessSession(corpus_copy, db_path=tmp_path / "db") as s:
        assert s.service is not None
        library = s.service.library
        new = article_text("NEW")
        seen: list[str] = []

        def check() -> None:
            article = library.current.corpus.get("rewritten") if library.current else None
            body = article.body if article else ""
            whole = any(body.startswith(f"{v}-START") and body.endswith(f"{v}-END zanzibar.") for v in ("OLD", "NEW"))
            seen.append(body[:3] if whole else f"HALF ({len(body)} chars)" if article else "MISSING")

        with path.open("w", encoding="utf-8") as f:  # in place: same inode, truncated, then written
            for start in range(0, len(new), len(new) // 4):
                f.write(new[start:start + len(new) // 4])
                f.flush()
                await library.reload_if_changed()  # what the watcher does every few seconds
                check()
                answer = await ask(s, "zanzibar cloves")  # and users keep asking meanwhile
                assert "went wrong" not in shown(answer)
        for _ in range(150):  # once the file is complete and stable (up to 30 s), the new version arrives
            await library.reload_if_changed()
            check()
            if seen[-1] == "NEW":
                break
            await asyncio.sleep(0.2)
    assert all(v in ("OLD", "NEW") for v in seen), seen
    assert seen[-1] == "NEW", seen


# 48. Distinct action ids; a rejected reply -----------------------------------------------------------------


async def test_modal_page_buttons_have_distinct_action_ids(corpus_copy: Path, tmp_path: Path) -> None:
    write_article(corpus_copy, "long-read", "The long read on zanzibar clove tariffs",
                  [f"Part {i}: zanzibar clove tariffs " + "and more detail " * 60 for i in range(30)])
    async with HarnessSession(corpus_copy, db_path=tmp_path / "db") as s:
        answer = await ask(s, "zanzibar clove")
        views = await read_article_pages(s, answer["blocks"], max_pages=2)
    assert len(views) >= 2 and has_button(views[1]["blocks"], "Previous page")
    for view in views:
        assert not repeated_ids(view["blocks"]), repeated_ids(view["blocks"])


def test_every_message_kind_has_distinct_action_and_block_ids(live: LiveHarness) -> None:
    for text in ("trade", "who greer", "latest", "sources", "help", "who wang"):
        answer = asked(live, text)
        assert not repeated_ids(answer["blocks"]), (text, repeated_ids(answer["blocks"]))
    assert not repeated_ids(live.run(home(live.session))["blocks"])


async def test_a_share_slack_rejects_is_logged_and_the_user_gets_an_apology(
        harness: HarnessSession, caplog: pytest.LogCaptureFixture) -> None:
    harness.fake.fail(Failure(method="chat.postMessage", error="invalid_blocks"))
    answer = await ask(harness, "who greer")
    notice = await (await harness.driver.click(answer["blocks"], "Share in channel")).answer()  # type: ignore[union-attr]
    assert "invalid_blocks" in notice["text"] and "refused" in notice["text"]
    assert "invalid_blocks" in caplog.text


async def test_a_modal_slack_rejects_is_logged_and_the_user_gets_an_apology(
        harness: HarnessSession, caplog: pytest.LogCaptureFixture) -> None:
    harness.fake.fail(Failure(method="views.open", error="invalid_blocks"))
    answer = await ask(harness, "soybeans brazil argentina")
    click = await harness.driver.click(answer["blocks"], "Read article")  # type: ignore[union-attr]
    apology = await click.answer()
    assert "went wrong" in apology["text"] and "error id" in apology["text"]
    assert "invalid_blocks" in caplog.text


# Issue #11, smaller findings --------------------------------------------------------------------------------


def test_help_and_home_have_no_angle_bracket_token(live: LiveHarness) -> None:
    help_answer = asked(live, "help")
    home_view = live.run(home(live.session))
    for payload in (help_answer, home_view):
        found = live_markup(payload, allowed_urls=article_urls(live.session))
        assert not found, [str(f) for f in found]
    assert "words" in shown(help_answer)  # the usage is still explained


async def test_a_modal_page_value_that_is_not_a_number_is_handled(harness: HarnessSession,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    answer = await ask(harness, "soybeans brazil argentina")
    [view] = await read_article_pages(harness, answer["blocks"], max_pages=0)
    article_id = view["private_metadata"]
    stored = next(iter(harness.fake.views.values()))
    forged = [{"type": "actions", "block_id": "p", "elements": [
        {"type": "button", "action_id": "trade_modal_page", "text": {"type": "plain_text", "text": "Page"},
         "value": f"{article_id}|²"}]}]
    caplog.set_level(logging.INFO)
    click = await harness.driver.click(forged, "Page", view=stored)  # type: ignore[union-attr]
    await asyncio.sleep(0.3)
    assert click.ack_status == 200
    assert "unhandled error" not in caplog.text and "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
