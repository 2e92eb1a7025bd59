"""Rows that expire (button state, seen keys, OAuth states): pruned now and then, a bounded batch at a time.

Pruning on every write would double the writes; never pruning lets the table grow. A
`Pruner` deletes at most `limit` expired rows after every `every` writes of its process, so
the work per write is bounded and the deletions keep up with any rate of new rows
(`limit` > `every`). Expired rows are invisible to readers anyway (they compare
`expires_at`), so a late prune is only a matter of space.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from bot.store.database import Database, StoreUnavailable

log = logging.getLogger(__name__)


class Pruner:
    def __init__(self, database: Database, table: sa.Table, every: int = 100, limit: int = 1_000) -> None:
        self.db = database
        self.table = table
        self.every = every
        self.limit = limit
        self._writes = 0
        self._lock = threading.Lock()  # writes come from worker threads

    def due(self) -> bool:
        """Count a write: True on every `every`-th one, when the caller should `prune`."""
        with self._lock:
            self._writes += 1
            return self._writes % self.every == 0

    def prune(self, now: float) -> int:
        """Delete up to `limit` rows that expired before `now` (the oldest first); 0 when the
        database is unavailable (a later prune catches up)."""
        key = self.table.primary_key.columns.values()[0]
        expires_at = self.table.c.expires_at
        batch = sa.select(key).where(expires_at < now).order_by(expires_at).limit(self.limit)
        try:
            with self.db.begin() as db:
                return int(db.execute(self.table.delete().where(key.in_(batch))).rowcount)
        except StoreUnavailable as exc:
            log.warning("could not prune expired %s rows: %s", self.table.name, exc)
        except Exception:  # best effort: the write it follows has succeeded
            log.exception("pruning expired %s rows failed", self.table.name)
        return 0
