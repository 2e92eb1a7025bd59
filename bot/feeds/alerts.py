"""Instant watch alerts: a new article matching an instant watch is posted to that channel once.

Order, as for the digest (`bot.digest.delivery`): claim (channel, article) in the digest
store's sent-articles table (so the digest will not repeat it) -> post, marked with
metadata naming the article -> record the ts. A claim left by a run that died, or by a post
whose connection broke, is taken over once stale: the sender first looks for our post in the
channel, and posts only if it is not there. A refused post gives the article back to the digest.
Slack-free: the sender (`bot.slack.alerts`) is given by the service wiring.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Protocol

from bot.answers import compose
from bot.answers.compose import AlsoReported
from bot.answers.models import Answer, Strong
from bot.answers.text import truncate
from bot.common.clock import Clock, SystemClock
from bot.corpus import Article
from bot.digest.delivery import SendRefused, SendUncertain
from bot.digest.store import DigestStore
from bot.feeds.models import EntryOutcome
from bot.library import Library, Snapshot

log = logging.getLogger(__name__)

SEARCHED = 100  # results searched per topic for the new articles among them
PER_ROUND = 10  # alerts per watch per poll round; more would flood the channel (the digest has the rest)


class AlertSender(Protocol):
    async def find_alert(self, team: str, channel: str, article_id: str) -> str | None:
        """The ts of our alert for this article already in the channel, if there is one."""
        ...

    async def post_alert(self, team: str, channel: str, article_id: str, answer: Answer) -> str:
        """Post the alert (marked as ours for this article) and return its ts."""
        ...


def alert_answer(article: Article, topic: str, also: AlsoReported | None = None) -> Answer:
    return compose.article_card(article, also=also(article.id) if also else (),
                                heading=("New on ", Strong(truncate(topic, compose.QUERY_CHARS))))


class InstantAlerts:
    def __init__(self, library: Library, store: DigestStore, sender: AlertSender, *, stale_after: dt.timedelta,
                 clock: Clock | None = None, also_reported_by: AlsoReported | None = None, wait_s: float = 30.0,
                 step_s: float = 0.2) -> None:
        self.library = library
        self.store = store
        self.sender = sender
        self.stale_after = stale_after  # the digest's claim timeout (`TRADEBOT_DIGEST_CLAIM_TIMEOUT_SECONDS`)
        self.clock = clock or SystemClock()
        self.also_reported_by = also_reported_by
        self.wait_s = wait_s  # how long to wait for the library to load new articles
        self.step_s = step_s

    async def on_added(self, outcomes: list[EntryOutcome]) -> None:
        """The poller's hook: alert instant watches about the articles it just added."""
        await self.reconcile()
        new_ids = {o.article_id for o in outcomes if o.status == "added" and o.article_id}
        watches = await asyncio.to_thread(self.store.instant_watches)
        if not new_ids or not watches:
            return
        snapshot = await self._loaded(new_ids)
        if snapshot is None:
            log.warning("instant alerts: the corpus did not load %d new articles in time; "
                        "they go to the digest", len(new_ids))
            return
        for team, channel, topic in watches:
            for article in self._matches(snapshot, topic, new_ids):
                await self._deliver(team, channel, article, topic, takeover=False)

    async def reconcile(self) -> None:
        """Finish alerts a crashed run or a broken connection left claimed but unrecorded."""
        snapshot = self.library.current
        for team, channel, article_id, topic in await asyncio.to_thread(self.store.pending_alerts):
            article = snapshot.corpus.get(article_id) if snapshot else None
            if article is not None:
                await self._deliver(team, channel, article, topic, takeover=True)

    async def _loaded(self, ids: set[str]) -> Snapshot | None:
        """The library's snapshot once it holds `ids` (the watcher reloads within seconds), bounded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_s
        while True:
            snapshot = self.library.current
            if snapshot is not None and all(snapshot.corpus.get(i) is not None for i in ids):
                return snapshot
            if loop.time() >= deadline:
                return snapshot if snapshot is not None and any(snapshot.corpus.get(i) for i in ids) else None
            await asyncio.sleep(self.step_s)

    def _matches(self, snapshot: Snapshot, topic: str, ids: set[str]) -> Sequence[Article]:
        hits = [h for h in snapshot.search.search(topic, limit=SEARCHED).results if h.article_id in ids]
        articles = [snapshot.corpus.get(h.article_id) for h in hits[:PER_ROUND]]
        return [a for a in articles if a is not None]

    async def _deliver(self, team: str, channel: str, article: Article, topic: str, *, takeover: bool) -> None:
        claimed = await asyncio.to_thread(self.store.claim_alert, team, channel, article.id, topic, self.clock.now(),
                                          self.stale_after)
        if claimed is None:
            return  # sent already (alert or digest), or another run is posting it
        try:
            ts = await self.sender.find_alert(team, channel, article.id) if claimed else None
            if not ts:
                ts = await self.sender.post_alert(team, channel, article.id, alert_answer(article, topic, self.also_reported_by))
        except SendRefused as exc:
            log.error("instant alert for %s in %s refused: %s", article.id, channel, exc.error)
            await asyncio.to_thread(self.store.finish_alert, team, channel, article.id, None, exc.error)
            return
        except SendUncertain as exc:
            log.warning("instant alert for %s in %s: %s; will reconcile", article.id, channel, exc)
            return
        await asyncio.to_thread(self.store.finish_alert, team, channel, article.id, ts)
        log.info("instant alert for %s posted to %s (ts %s)", article.id, channel, ts)
