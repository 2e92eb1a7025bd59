"""SQLite state for watch lists and digests: the (channel, date) claim that makes a post happen once.

WAL mode and `BEGIN IMMEDIATE` make the claim atomic across processes, so two
bots started at once still produce one post. It returns records and plain topics;
how a channel or a result is shown is the renderer's business.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from bot.common.clock import Clock, SystemClock
from bot.corpus.text import normalize_text
from bot.digest.records import DigestRecord, SlotStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    channel TEXT NOT NULL, topic TEXT NOT NULL, topic_key TEXT NOT NULL, created TEXT NOT NULL,
    PRIMARY KEY (channel, topic_key));
CREATE TABLE IF NOT EXISTS digests (
    channel TEXT NOT NULL, local_date TEXT NOT NULL, status TEXT NOT NULL, claim TEXT,
    claimed_at TEXT, ts TEXT, error TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, local_date));
CREATE TABLE IF NOT EXISTS sent_articles (
    channel TEXT NOT NULL, article_id TEXT NOT NULL, local_date TEXT NOT NULL,
    PRIMARY KEY (channel, article_id));
"""


class DigestStore:
    def __init__(self, path: Path, clock: Clock | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.clock = clock or SystemClock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._initialise()

    def _initialise(self, attempts: int = 50) -> None:
        """WAL mode and the schema. When two processes open a new database at once, SQLite can
        refuse the switch to WAL with "database is locked" without waiting (its busy handler is
        skipped to avoid a deadlock), so that one case is retried after a short pause."""
        for attempt in range(attempts):
            try:
                self._db.execute("PRAGMA busy_timeout=30000")
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.executescript(SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.02 + random.random() * 0.08)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Watch lists (the `ChannelPrefs` the answers use) ----------------------

    def watch(self, channel: str, topic: str) -> bool:
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO watches VALUES (?, ?, ?, ?)",
                (channel, topic.strip(), normalize_text(topic.strip()), self.clock.now().isoformat()))
            return cur.rowcount == 1

    def unwatch(self, channel: str, topic: str) -> bool:
        with self._lock:
            cur = self._db.execute("DELETE FROM watches WHERE channel = ? AND topic_key = ?",
                                   (channel, normalize_text(topic.strip())))
            return cur.rowcount == 1

    def watching(self, channel: str) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT topic FROM watches WHERE channel = ? ORDER BY created", (channel,))
            return [r["topic"] for r in rows]

    # Digest claims ---------------------------------------------------------

    def get(self, channel: str, local_date: dt.date) -> DigestRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM digests WHERE channel = ? AND local_date = ?",
                                   (channel, local_date.isoformat())).fetchone()
        return DigestRecord(**dict(row)) if row else None

    def claim(self, channel: str, local_date: dt.date, now: dt.datetime,
              stale_after: dt.timedelta) -> tuple[str, bool] | None:
        """Take the (channel, date) slot: (claim token, took over a stale claim), or None if
        another process holds or finished it.

        A claim older than `stale_after` whose holder never recorded a result is
        taken over; the caller must reconcile with the channel before posting again.
        """
        token: str | None = uuid.uuid4().hex
        takeover = False
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT status, claimed_at FROM digests WHERE channel = ? AND local_date = ?",
                                       (channel, local_date.isoformat())).fetchone()
                if row is None:
                    self._db.execute(
                        "INSERT INTO digests VALUES (?, ?, ?, ?, ?, NULL, NULL, ?)",
                        (channel, local_date.isoformat(), str(SlotStatus.CLAIMED), token, now.isoformat(),
                         now.isoformat()))
                elif row["status"] == SlotStatus.CLAIMED and now - dt.datetime.fromisoformat(row["claimed_at"]) > stale_after:
                    self._db.execute(
                        "UPDATE digests SET claim = ?, claimed_at = ?, updated_at = ? WHERE channel = ? AND local_date = ?",
                        (token, now.isoformat(), now.isoformat(), channel, local_date.isoformat()))
                    takeover = True
                else:
                    token = None
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return (token, takeover) if token else None

    def finish(self, channel: str, local_date: dt.date, claim: str | None, status: SlotStatus, now: dt.datetime,
               ts: str | None = None, error: str | None = None) -> None:
        """Record the outcome; `claim=None` writes a row that was never claimed (a skipped slot)."""
        with self._lock:
            if claim is None:
                self._db.execute(
                    "INSERT OR IGNORE INTO digests VALUES (?, ?, ?, NULL, NULL, ?, ?, ?)",
                    (channel, local_date.isoformat(), str(status), ts, error, now.isoformat()))
            else:
                self._db.execute(
                    "UPDATE digests SET status = ?, ts = ?, error = ?, updated_at = ? "
                    "WHERE channel = ? AND local_date = ? AND claim = ?",
                    (str(status), ts, error, now.isoformat(), channel, local_date.isoformat(), claim))

    def last_results(self, channel: str | None = None) -> list[DigestRecord]:
        """The latest slot per channel (or of one channel): what `/trade digest status` shows."""
        query = ("SELECT d.* FROM digests d JOIN (SELECT channel, MAX(local_date) AS local_date FROM digests "
                 "GROUP BY channel) m USING (channel, local_date)")
        params: tuple[str, ...] = ()
        if channel:
            query += " WHERE d.channel = ?"
            params = (channel,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY d.channel", params).fetchall()
        return [DigestRecord(**dict(r)) for r in rows]

    # What each channel has already been sent -------------------------------

    def sent_ids(self, channel: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT article_id FROM sent_articles WHERE channel = ?", (channel,))
            return {r["article_id"] for r in rows}

    def mark_sent(self, channel: str, article_ids: list[str], local_date: dt.date) -> None:
        with self._lock:
            self._db.executemany("INSERT OR IGNORE INTO sent_articles VALUES (?, ?, ?)",
                                 [(channel, a, local_date.isoformat()) for a in article_ids])
