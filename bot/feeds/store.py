"""Feed state in the bot's database, with SQLAlchemy Core: feeds and their cache headers and
status, entries already seen, and the other outlets that carried a story ("also reported by").

The tables live in `bot.store.schema` with all the bot's state (SQLite by default, PostgreSQL by
`TRADEBOT_DATABASE_URL`), created and upgraded by `bot.store.migrations`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from bot.store import Database
from bot.store.schema import also_reported, feeds
from bot.store.schema import feed_entries as entries_seen


class FeedRecord(BaseModel):
    url: str
    title: str | None
    added_at: dt.datetime
    added_by: str | None
    interval_s: int
    active: bool
    etag: str | None
    last_modified: str | None
    next_poll_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_error: str | None
    last_status: str | None
    failures: int
    articles_added: int


class OtherOutlet(BaseModel):
    """Another outlet that carried the same story: shown as "also reported by" under the article."""

    publisher: str
    url: str
    title: str | None


def _naive(when: dt.datetime | None) -> dt.datetime | None:
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when is not None else None


def _aware(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.replace(tzinfo=dt.UTC) if isinstance(v, dt.datetime) else v for k, v in row.items()}


class FeedStore:
    def __init__(self, database: Database) -> None:
        self.db = database  # `begin()` gives a transaction; a dead database raises StoreUnavailable

    # Feeds -------------------------------------------------------------------

    def add_feed(self, url: str, *, interval_s: int, now: dt.datetime, added_by: str | None = None) -> bool:
        """False when the feed is already followed (a stopped one is started again)."""
        with self.db.begin() as db:
            row = db.execute(sa.select(feeds.c.active).where(feeds.c.url == url)).first()
            if row is not None:
                if not row.active:
                    db.execute(feeds.update().where(feeds.c.url == url).values(
                        active=True, failures=0, next_poll_at=_naive(now), last_status="restarted"))
                    return True
                return False
            db.execute(feeds.insert().values(url=url, added_at=_naive(now), added_by=added_by, interval_s=interval_s,
                                             active=True, failures=0, articles_added=0, next_poll_at=_naive(now)))
            return True

    def remove_feed(self, url: str) -> bool:
        with self.db.begin() as db:
            gone = db.execute(feeds.delete().where(feeds.c.url == url)).rowcount
            db.execute(entries_seen.delete().where(entries_seen.c.feed_url == url))
        return bool(gone)

    def feeds(self) -> list[FeedRecord]:
        with self.db.begin() as db:
            rows = db.execute(sa.select(feeds).order_by(feeds.c.added_at, feeds.c.url)).mappings()
            return [FeedRecord(**_aware(dict(r))) for r in rows]

    def get(self, url: str) -> FeedRecord | None:
        with self.db.begin() as db:
            row = db.execute(sa.select(feeds).where(feeds.c.url == url)).mappings().first()
        return FeedRecord(**_aware(dict(row))) if row else None

    def due(self, now: dt.datetime) -> list[FeedRecord]:
        return [f for f in self.feeds() if f.active and (f.next_poll_at is None or f.next_poll_at <= now)]

    def claim_due(self, now: dt.datetime, lease: dt.timedelta) -> list[FeedRecord]:
        """The due feeds this process polls: each is leased (its next poll moved `lease` ahead) by
        one conditional UPDATE, so replicas on one database never poll a feed twice; the poll's
        result then sets the real next time, and a process that dies mid-poll frees it at lease end."""
        claimed = []
        for record in self.due(now):
            with self.db.begin() as db:
                won = db.execute(feeds.update().where(
                    feeds.c.url == record.url, feeds.c.active.is_(True),
                    sa.or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= _naive(now)),
                ).values(next_poll_at=_naive(now + lease))).rowcount
            if won == 1:
                claimed.append(record)
        return claimed

    def record_poll(self, url: str, *, now: dt.datetime, next_poll_at: dt.datetime, ok: bool, status: str,
                    added: int = 0, title: str | None = None, etag: str | None = None,
                    last_modified: str | None = None, stop: bool = False) -> None:
        values: dict[str, Any] = {"last_attempt_at": _naive(now), "next_poll_at": _naive(next_poll_at),
                                  "last_status": status[:1000], "articles_added": feeds.c.articles_added + added}
        if ok:
            values |= {"last_success_at": _naive(now), "failures": 0, "etag": etag, "last_modified": last_modified}
            if title:
                values["title"] = title[:500]
        else:
            values |= {"last_error": status[:1000], "failures": feeds.c.failures + 1}
        if stop:
            values["active"] = False
        with self.db.begin() as db:
            db.execute(feeds.update().where(feeds.c.url == url).values(**values))

    # Entries -----------------------------------------------------------------

    def seen_keys(self, feed_url: str) -> set[str]:
        with self.db.begin() as db:
            rows = db.execute(sa.select(entries_seen.c.entry_key).where(entries_seen.c.feed_url == feed_url))
            return {r.entry_key for r in rows}

    def mark_seen(self, feed_url: str, key: str, *, outcome: str, article_id: str | None, now: dt.datetime) -> None:
        with self.db.begin() as db:
            exists = db.execute(sa.select(entries_seen.c.entry_key).where(
                entries_seen.c.feed_url == feed_url, entries_seen.c.entry_key == key)).first()
            if exists is None:
                db.execute(entries_seen.insert().values(feed_url=feed_url, entry_key=key, article_id=article_id,
                                                        outcome=outcome[:500], seen_at=_naive(now)))

    # Also reported by --------------------------------------------------------

    def add_other_outlet(self, article_id: str, outlet: OtherOutlet, now: dt.datetime) -> None:
        with self.db.begin() as db:
            exists = db.execute(sa.select(also_reported.c.url).where(
                also_reported.c.article_id == article_id, also_reported.c.url == outlet.url)).first()
            if exists is None:
                db.execute(also_reported.insert().values(article_id=article_id, seen_at=_naive(now),
                                                         **outlet.model_dump()))

    def also_reported_by(self, article_id: str) -> list[OtherOutlet]:
        """The other outlets of an article's story, first seen first."""
        with self.db.begin() as db:
            rows = db.execute(sa.select(also_reported).where(also_reported.c.article_id == article_id)
                              .order_by(also_reported.c.seen_at, also_reported.c.url)).mappings()
            return [OtherOutlet(publisher=r["publisher"], url=r["url"], title=r["title"]) for r in rows]

