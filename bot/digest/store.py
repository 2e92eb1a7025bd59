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
    instant INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, topic_key));
CREATE TABLE IF NOT EXISTS digests (
    channel TEXT NOT NULL, local_date TEXT NOT NULL, status TEXT NOT NULL, claim TEXT,
    claimed_at TEXT, ts TEXT, error TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, local_date));
CREATE TABLE IF NOT EXISTS sent_articles (
    channel TEXT NOT NULL, article_id TEXT NOT NULL, local_date TEXT NOT NULL,
    PRIMARY KEY (channel, article_id));
CREATE TABLE IF NOT EXISTS alerts (
    channel TEXT NOT NULL, article_id TEXT NOT NULL, topic TEXT NOT NULL, status TEXT NOT NULL,
    claimed_at TEXT NOT NULL, ts TEXT, error TEXT,
    PRIMARY KEY (channel, article_id));
"""
ALERT_CLAIMED, ALERT_POSTED, ALERT_FAILED = "claimed", "posted", "failed"


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
                self._add_missing_columns()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.02 + random.random() * 0.08)

    def _add_missing_columns(self) -> None:
        """A database from before instant watches has no `instant` column: add it (existing watches
        stay digest-only). Two processes may race here; the loser's "duplicate column" is harmless."""
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(watches)")}
        if "instant" not in columns:
            try:
                self._db.execute("ALTER TABLE watches ADD COLUMN instant INTEGER NOT NULL DEFAULT 0")
            except sqlite3.OperationalError as exc:
                if "duplicate column" not in str(exc):
                    raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Watch lists (the `ChannelPrefs` the answers use) ----------------------

    def watch(self, channel: str, topic: str, instant: bool = False) -> bool:
        """Add a watch, or switch an existing one to `instant`; False when nothing changed."""
        key = normalize_text(topic.strip())
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO watches (channel, topic, topic_key, created, instant) VALUES (?, ?, ?, ?, ?)",
                (channel, topic.strip(), key, self.clock.now().isoformat(), int(instant)))
            if cur.rowcount == 1:
                return True
            cur = self._db.execute("UPDATE watches SET instant = ? WHERE channel = ? AND topic_key = ? AND instant != ?",
                                   (int(instant), channel, key, int(instant)))
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

    def watches(self, channel: str) -> list[tuple[str, bool]]:
        """(topic, instant) per watch of a channel, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT topic, instant FROM watches WHERE channel = ? ORDER BY created", (channel,))
            return [(r["topic"], bool(r["instant"])) for r in rows]

    def instant_watches(self) -> list[tuple[str, str]]:
        """(channel, topic) of every instant watch."""
        with self._lock:
            rows = self._db.execute("SELECT channel, topic FROM watches WHERE instant = 1 ORDER BY channel, created")
            return [(r["channel"], r["topic"]) for r in rows]

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

    # Instant alerts: one post per (channel, article), sharing the digest's sent-articles key -------

    def claim_alert(self, channel: str, article_id: str, topic: str, now: dt.datetime,
                    stale_after: dt.timedelta) -> bool | None:
        """Claim (channel, article) for an alert: False for a new claim, True for a stale claim taken
        over (the caller reconciles with the channel before posting), None when the article was
        already sent there (by an alert or a digest) or another process holds a fresh claim."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                alert = self._db.execute("SELECT status, claimed_at FROM alerts WHERE channel = ? AND article_id = ?",
                                         (channel, article_id)).fetchone()
                sent = self._db.execute("SELECT 1 FROM sent_articles WHERE channel = ? AND article_id = ?",
                                        (channel, article_id)).fetchone()
                result: bool | None = None
                if alert is None and sent is None:
                    self._db.execute("INSERT INTO sent_articles VALUES (?, ?, ?)",
                                     (channel, article_id, now.date().isoformat()))
                    self._db.execute("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                                     (channel, article_id, topic, ALERT_CLAIMED, now.isoformat()))
                    result = False
                elif (alert is not None and alert["status"] == ALERT_CLAIMED
                      and now - dt.datetime.fromisoformat(alert["claimed_at"]) > stale_after):
                    self._db.execute("UPDATE alerts SET claimed_at = ? WHERE channel = ? AND article_id = ?",
                                     (now.isoformat(), channel, article_id))
                    result = True
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return result

    def finish_alert(self, channel: str, article_id: str, ts: str | None, error: str | None = None) -> None:
        """Record the post's ts; a refused post (`error`) gives the article back to the digest."""
        with self._lock:
            self._db.execute("UPDATE alerts SET status = ?, ts = ?, error = ? WHERE channel = ? AND article_id = ?",
                             (ALERT_FAILED if error else ALERT_POSTED, ts, error, channel, article_id))
            if error:
                self._db.execute("DELETE FROM sent_articles WHERE channel = ? AND article_id = ?",
                                 (channel, article_id))

    def pending_alerts(self) -> list[tuple[str, str, str]]:
        """(channel, article_id, topic) of alerts claimed but never recorded (a crash, a broken connection)."""
        with self._lock:
            rows = self._db.execute("SELECT channel, article_id, topic FROM alerts WHERE status = ? "
                                    "ORDER BY claimed_at", (ALERT_CLAIMED,))
            return [(r["channel"], r["article_id"], r["topic"]) for r in rows]
