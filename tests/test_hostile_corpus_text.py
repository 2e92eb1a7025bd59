"""Property: no article text and no people.yml entry can make tradebot ping, mention or link (#11).

Each example writes one hostile article (title, publisher, URL, body) and a
people.yml entry with a hostile role, organisation and alias into a small
corpus, lets the running bot reload it, and drives every answer that shows
corpus text: search (+ Share, More results, Read article and its pages),
`latest`, `sources`, `who` (the person card, and a choice of two people with the
pick buttons), help, the App Home tab, an
@mention reply and the daily digest. Every payload sent is scanned by
`tests.hostile.markup`; only the articles' own (validated) URLs may be linked.

Settings: `PROPERTY` (see `tests.hostile.strategies.property_settings`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
from hypothesis import event, example, given

from tests.helpers import write_article
from tests.hostile import scenarios
from tests.hostile.corpus_files import HostileArticle, hostile_articles, write_hostile
from tests.hostile.live import LiveHarness, describe
from tests.hostile.markup import live_markup
from tests.hostile.strategies import property_settings

PROPERTY = property_settings(12)
_numbers = itertools.count(1)
PLAIN = HostileArticle(title="<!here> Tariffs rise", publisher="<https://evil.example|Reuters>",
                       url="https://news.example/plain", paragraphs=["<!channel> read this <@U0EVIL>"],
                       role="<!everyone> Minister", organization="<#C0EVIL>", alias="<!subteam^S1>")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHarness]:
    root = tmp_path_factory.mktemp("hostile-corpus")
    corpus = root / "corpus"
    corpus.mkdir()
    write_article(corpus, "calm", "Calm tariff news", ["Officials met to discuss tariffs and trade."],
                  url="https://calm.example/1")
    harness = LiveHarness(corpus, root / "db.sqlite3", reload_interval=3600.0)
    yield harness
    harness.close()


def load(live: LiveHarness, article: HostileArticle) -> int:
    n = next(_numbers)
    corpus = live.session.corpus_dir
    for old in corpus.glob("hostile-*.md"):
        old.unlink()
    article_id = write_hostile(corpus, n, article)
    library = live.session.service.library
    live.run(library.reload_if_changed())  # type: ignore[union-attr]
    # A small change is a delta, and `who` answers from the previous directory (the previous
    # example's article and its link) until the people update after it is in: wait for that too.
    live.run(library.people_settled())  # type: ignore[union-attr]
    snapshot = library.current  # type: ignore[union-attr]
    event("article loaded" if snapshot and snapshot.corpus.get(article_id) else "article refused by the loader")
    return n


def drive_everything(live: LiveHarness, article: HostileArticle, n: int) -> None:
    s = live.session
    for text in (article.marker, "latest", "sources", f"who {article.person}", "who zed", "help"):
        answer = live.run(scenarios.slash_and_buttons(s, text))
        if text == "who zed":
            event("who zed offered a choice" if scenarios.has_button(answer.get("blocks") or [], f"Zed Quuy{n}")
                  else "who zed answered directly")
    live.run(scenarios.home(s))
    live.run(scenarios.mention_and_dm(s, article.marker))
    live.run(scenarios.digest(s, dt.date(2030, 1, 1) + dt.timedelta(days=n)))


def findings(live: LiveHarness, mark: int, *, skip_top_level_text: bool) -> list:
    urls = live.article_urls()
    out = []
    for call in live.sent_since(mark):
        params = call["params"]
        if skip_top_level_text:
            params = {k: v for k, v in params.items() if k != "text"}
        # The help text's own `<words>` token is tests/test_hostile_checklist.py's concern.
        out += [f for f in live_markup(params, allowed_urls=urls, allowed_users={"U0CAROL"}) if f.token != "<words>"]
    return out


@PROPERTY
@given(article=hostile_articles)
@example(article=PLAIN)
def test_corpus_text_never_goes_live_in_blocks_or_views(live: LiveHarness, article: HostileArticle) -> None:
    n = load(live, article)
    mark = live.mark()
    drive_everything(live, article, n)
    found = findings(live, mark, skip_top_level_text=True)
    assert not found, describe(found, live.sent_since(mark))


@PROPERTY
@given(article=hostile_articles)
@example(article=PLAIN)
def test_corpus_text_never_goes_live_anywhere(live: LiveHarness, article: HostileArticle) -> None:
    n = load(live, article)
    mark = live.mark()
    drive_everything(live, article, n)
    found = findings(live, mark, skip_top_level_text=False)
    assert not found, describe(found, live.sent_since(mark))
