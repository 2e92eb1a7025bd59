"""Feed state in the bot's database, with SQLAlchemy Core: feeds and their cache headers and
status, entries already seen, and the other outlets that carried a story ("also reported by").

The database is a URL (`sqlite:///.tradebot/tradebot.sqlite3` by default, the digest's file), so a
move to PostgreSQL is a change of URL. Tables are created on start.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

metadata = sa.MetaData()

feeds = sa.Table(
    "feeds", metadata,
    sa.Column("url", sa.String(2000), primary_key=True),
    sa.Column("title", sa.String(500)),
    sa.Column("added_at", sa.DateTime, nullable=False),
    sa.Column("added_by", sa.String(100)),
    sa.Column("interval_s", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("etag", sa.String(500)),
    sa.Column("last_modified", sa.String(100)),
    sa.Column("next_poll_at", sa.DateTime),
    sa.Column("last_attempt_at", sa.DateTime),
    sa.Column("last_success_at", sa.DateTime),
    sa.Column("last_error", sa.String(1000)),
    sa.Column("last_status", sa.String(1000)),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("articles_added", sa.Integer, nullable=False, default=0),
)

entries_seen = sa.Table(
    "feed_entries", metadata,
    sa.Column("feed_url", sa.String(2000), primary_key=True),
    sa.Column("entry_key", sa.String(500), primary_key=True),
    sa.Column("article_id", sa.String(120)),
    sa.Column("outcome", sa.String(500), nullable=False),
    sa.Column("seen_at", sa.DateTime, nullable=False),
)

also_reported = sa.Table(
    "also_reported", metadata,
    sa.Column("article_id", sa.String(120), primary_key=True),
    sa.Column("url", sa.String(2000), primary_key=True),
    sa.Column("publisher", sa.String(200), nullable=False),
    sa.Column("title", sa.String(500)),
    sa.Column("seen_at", sa.DateTime, nullable=False),
)


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


def database_url(db_path: Path, url: str | None = None) -> str:
    if url:
        return url
    db_path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{db_path}"


class FeedStore:
    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # Feeds -------------------------------------------------------------------

    def add_feed(self, url: str, *, interval_s: int, now: dt.datetime, added_by: str | None = None) -> bool:
        """False when the feed is already followed (a stopped one is started again)."""
        with self.engine.begin() as db:
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
        with self.engine.begin() as db:
            gone = db.execute(feeds.delete().where(feeds.c.url == url)).rowcount
            db.execute(entries_seen.delete().where(entries_seen.c.feed_url == url))
        return bool(gone)

    def feeds(self) -> list[FeedRecord]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(feeds).order_by(feeds.c.added_at, feeds.c.url)).mappings()
            return [FeedRecord(**_aware(dict(r))) for r in rows]

    def get(self, url: str) -> FeedRecord | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(feeds).where(feeds.c.url == url)).mappings().first()
        return FeedRecord(**_aware(dict(row))) if row else None

    def due(self, now: dt.datetime) -> list[FeedRecord]:
        return [f for f in self.feeds() if f.active and (f.next_poll_at is None or f.next_poll_at <= now)]

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
        with self.engine.begin() as db:
            db.execute(feeds.update().where(feeds.c.url == url).values(**values))

    # Entries -----------------------------------------------------------------

    def seen_keys(self, feed_url: str) -> set[str]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(entries_seen.c.entry_key).where(entries_seen.c.feed_url == feed_url))
            return {r.entry_key for r in rows}

    def mark_seen(self, feed_url: str, key: str, *, outcome: str, article_id: str | None, now: dt.datetime) -> None:
        with self.engine.begin() as db:
            exists = db.execute(sa.select(entries_seen.c.entry_key).where(
                entries_seen.c.feed_url == feed_url, entries_seen.c.entry_key == key)).first()
            if exists is None:
                db.execute(entries_seen.insert().values(feed_url=feed_url, entry_key=key, article_id=article_id,
                                                        outcome=outcome[:500], seen_at=_naive(now)))

    # Also reported by --------------------------------------------------------

    def add_other_outlet(self, article_id: str, outlet: OtherOutlet, now: dt.datetime) -> None:
        with self.engine.begin() as db:
            exists = db.execute(sa.select(also_reported.c.url).where(
                also_reported.c.article_id == article_id, also_reported.c.url == outlet.url)).first()
            if exists is None:
                db.execute(also_reported.insert().values(article_id=article_id, seen_at=_naive(now),
                                                         **outlet.model_dump()))

    def also_reported_by(self, article_id: str) -> list[OtherOutlet]:
        """The other outlets of an article's story, first seen first."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(also_reported).where(also_reported.c.article_id == article_id)
                              .order_by(also_reported.c.seen_at, also_reported.c.url)).mappings()
            return [OtherOutlet(publisher=r["publisher"], url=r["url"], title=r["title"]) for r in rows]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
