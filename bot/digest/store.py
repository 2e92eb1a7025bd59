"""Watch lists, digest channels and the digest ledger: the claims that make a post happen once.

Every row is keyed by workspace (`team`, "" for the single workspace of `SLACK_BOT_TOKEN`)
and channel. A claim is an `INSERT … ON CONFLICT DO NOTHING` (whoever inserts the row
owns the slot) or a conditional `UPDATE` taking over a stale claim (whoever changes the
row owns it), so any number of processes on one database post once, on SQLite and on
PostgreSQL alike. It returns records and plain topics; how they are shown is the renderer's.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from bot.common.clock import Clock, SystemClock
from bot.corpus.text import normalize_text
from bot.digest.records import DigestRecord, SlotStatus
from bot.store import Database
from bot.store.schema import alerts, digest_channels, digests, sent_articles, watches

ALERT_CLAIMED, ALERT_POSTED, ALERT_FAILED = "claimed", "posted", "failed"


def _slot(team: str, channel: str, local_date: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(digests.c.team_id == team, digests.c.channel == channel,
                   digests.c.local_date == local_date.isoformat())


def _alert(team: str, channel: str, article_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(alerts.c.team_id == team, alerts.c.channel == channel, alerts.c.article_id == article_id)


class DigestStore:
    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self.db = database
        self.clock = clock or SystemClock()

    # Watch lists (the `ChannelPrefs` the answers use) ----------------------

    def watch(self, team: str, channel: str, topic: str, instant: bool = False) -> bool:
        """Add a watch, or switch an existing one to `instant`; False when nothing changed."""
        key = normalize_text(topic.strip())
        with self.db.begin() as db:
            added = db.execute(self.db.insert_ignore(watches).values(
                team_id=team, channel=channel, topic=topic.strip(), topic_key=key,
                created=self.clock.now().isoformat(), instant=int(instant))).rowcount
            if added == 1:
                return True
            changed = db.execute(watches.update().where(
                watches.c.team_id == team, watches.c.channel == channel, watches.c.topic_key == key,
                watches.c.instant != int(instant)).values(instant=int(instant))).rowcount
            return changed == 1

    def unwatch(self, team: str, channel: str, topic: str) -> bool:
        with self.db.begin() as db:
            return db.execute(watches.delete().where(
                watches.c.team_id == team, watches.c.channel == channel,
                watches.c.topic_key == normalize_text(topic.strip()))).rowcount == 1

    def watching(self, team: str, channel: str) -> list[str]:
        return [topic for topic, _ in self.watches(team, channel)]

    def watches(self, team: str, channel: str) -> list[tuple[str, bool]]:
        """(topic, instant) per watch of a channel, oldest first."""
        with self.db.begin() as db:
            rows = db.execute(sa.select(watches.c.topic, watches.c.instant).where(
                watches.c.team_id == team, watches.c.channel == channel).order_by(watches.c.created))
            return [(r.topic, bool(r.instant)) for r in rows]

    def instant_watches(self) -> list[tuple[str, str, str]]:
        """(team, channel, topic) of every instant watch."""
        with self.db.begin() as db:
            rows = db.execute(sa.select(watches.c.team_id, watches.c.channel, watches.c.topic)
                              .where(watches.c.instant == 1)
                              .order_by(watches.c.team_id, watches.c.channel, watches.c.created))
            return [(r.team_id, r.channel, r.topic) for r in rows]

    # Channels that asked for the digest (beside DIGEST_CHANNEL) ----------------

    def subscribe(self, team: str, channel: str, user: str | None = None) -> bool:
        """`/trade digest on`: False when the channel already gets it."""
        with self.db.begin() as db:
            return db.execute(self.db.insert_ignore(digest_channels).values(
                team_id=team, channel=channel, added_by=user,
                added_at=self.clock.now().isoformat())).rowcount == 1

    def unsubscribe(self, team: str, channel: str) -> bool:
        with self.db.begin() as db:
            return db.execute(digest_channels.delete().where(
                digest_channels.c.team_id == team, digest_channels.c.channel == channel)).rowcount == 1

    def subscribed(self) -> list[tuple[str, str]]:
        """(team, channel) of every channel that asked for the digest."""
        with self.db.begin() as db:
            rows = db.execute(sa.select(digest_channels.c.team_id, digest_channels.c.channel)
                              .order_by(digest_channels.c.team_id, digest_channels.c.added_at))
            return [(r.team_id, r.channel) for r in rows]

    def forget_team(self, team: str) -> None:
        """An uninstalled workspace: its watches and digest channels go (the ledger stays, so a
        reinstall on the same day does not post twice)."""
        with self.db.begin() as db:
            db.execute(watches.delete().where(watches.c.team_id == team))
            db.execute(digest_channels.delete().where(digest_channels.c.team_id == team))

    # Digest claims ---------------------------------------------------------

    def get(self, team: str, channel: str, local_date: dt.date) -> DigestRecord | None:
        with self.db.begin() as db:
            row = db.execute(sa.select(digests).where(_slot(team, channel, local_date))).mappings().first()
        return DigestRecord(**dict(row)) if row else None

    def claim(self, team: str, channel: str, local_date: dt.date, now: dt.datetime,
              stale_after: dt.timedelta) -> tuple[str, bool] | None:
        """Take the slot: (claim token, took over a stale claim), or None if another process
        holds or finished it.

        A claim older than `stale_after` whose holder never recorded a result is
        taken over; the caller must reconcile with the channel before posting again.
        """
        token = uuid.uuid4().hex
        with self.db.begin() as db:
            inserted = db.execute(self.db.insert_ignore(digests).values(
                team_id=team, channel=channel, local_date=local_date.isoformat(), status=str(SlotStatus.CLAIMED),
                claim=token, claimed_at=now.isoformat(), updated_at=now.isoformat())).rowcount
            if inserted == 1:
                return token, False
            row = db.execute(sa.select(digests.c.status, digests.c.claim, digests.c.claimed_at)
                             .where(_slot(team, channel, local_date))).first()
            if (row is None or row.status != SlotStatus.CLAIMED or row.claimed_at is None
                    or now - dt.datetime.fromisoformat(row.claimed_at) <= stale_after):
                return None
            taken = db.execute(digests.update().where(
                _slot(team, channel, local_date), digests.c.status == str(SlotStatus.CLAIMED),
                digests.c.claim == row.claim).values(
                claim=token, claimed_at=now.isoformat(), updated_at=now.isoformat())).rowcount
        return (token, True) if taken == 1 else None

    def finish(self, team: str, channel: str, local_date: dt.date, claim: str | None, status: SlotStatus,
               now: dt.datetime, ts: str | None = None, error: str | None = None) -> None:
        """Record the outcome; `claim=None` writes a row that was never claimed (a skipped slot)."""
        with self.db.begin() as db:
            if claim is None:
                db.execute(self.db.insert_ignore(digests).values(
                    team_id=team, channel=channel, local_date=local_date.isoformat(), status=str(status),
                    ts=ts, error=error, updated_at=now.isoformat()))
            else:
                db.execute(digests.update().where(_slot(team, channel, local_date), digests.c.claim == claim)
                           .values(status=str(status), ts=ts, error=error, updated_at=now.isoformat()))

    def last_results(self, team: str, channel: str | None = None) -> list[DigestRecord]:
        """The latest slot per channel of a workspace (or of one channel): `/trade digest status`."""
        latest = (sa.select(digests.c.channel, sa.func.max(digests.c.local_date).label("local_date"))
                  .where(digests.c.team_id == team).group_by(digests.c.channel).subquery())
        query = (sa.select(digests).join(latest, sa.and_(digests.c.channel == latest.c.channel,
                                                         digests.c.local_date == latest.c.local_date))
                 .where(digests.c.team_id == team).order_by(digests.c.channel))
        if channel:
            query = query.where(digests.c.channel == channel)
        with self.db.begin() as db:
            rows = db.execute(query).mappings().all()
        return [DigestRecord(**dict(r)) for r in rows]

    # What each channel has already been sent -------------------------------

    def sent_ids(self, team: str, channel: str) -> set[str]:
        with self.db.begin() as db:
            rows = db.execute(sa.select(sent_articles.c.article_id).where(
                sent_articles.c.team_id == team, sent_articles.c.channel == channel))
            return {r.article_id for r in rows}

    def mark_sent(self, team: str, channel: str, article_ids: list[str], local_date: dt.date) -> None:
        if not article_ids:
            return
        with self.db.begin() as db:
            db.execute(self.db.insert_ignore(sent_articles), [
                {"team_id": team, "channel": channel, "article_id": a, "local_date": local_date.isoformat()}
                for a in article_ids])

    # Instant alerts: one post per (channel, article), sharing the digest's sent-articles key -------

    def claim_alert(self, team: str, channel: str, article_id: str, topic: str, now: dt.datetime,
                    stale_after: dt.timedelta) -> bool | None:
        """Claim (channel, article) for an alert: False for a new claim, True for a stale claim taken
        over (the caller reconciles with the channel before posting), None when the article was
        already sent there (by an alert or a digest) or another process holds a fresh claim."""
        with self.db.begin() as db:
            row = db.execute(sa.select(alerts.c.status, alerts.c.claimed_at)
                             .where(_alert(team, channel, article_id))).first()
            if row is not None:  # alerted before (or refused: then the digest has it)
                if row.status != ALERT_CLAIMED or now - dt.datetime.fromisoformat(row.claimed_at) <= stale_after:
                    return None
                taken = db.execute(alerts.update().where(
                    _alert(team, channel, article_id), alerts.c.status == ALERT_CLAIMED,
                    alerts.c.claimed_at == row.claimed_at).values(claimed_at=now.isoformat())).rowcount
                return True if taken == 1 else None
            sent = db.execute(self.db.insert_ignore(sent_articles).values(
                team_id=team, channel=channel, article_id=article_id,
                local_date=now.date().isoformat())).rowcount
            if sent != 1:  # a digest (or a racing alert) has it
                return None
            db.execute(self.db.insert_ignore(alerts).values(
                team_id=team, channel=channel, article_id=article_id, topic=topic, status=ALERT_CLAIMED,
                claimed_at=now.isoformat()))
            return False

    def finish_alert(self, team: str, channel: str, article_id: str, ts: str | None,
                     error: str | None = None) -> None:
        """Record the post's ts; a refused post (`error`) gives the article back to the digest."""
        with self.db.begin() as db:
            db.execute(alerts.update().where(_alert(team, channel, article_id)).values(
                status=ALERT_FAILED if error else ALERT_POSTED, ts=ts, error=error))
            if error:
                db.execute(sent_articles.delete().where(
                    sent_articles.c.team_id == team, sent_articles.c.channel == channel,
                    sent_articles.c.article_id == article_id))

    def pending_alerts(self) -> list[tuple[str, str, str, str]]:
        """(team, channel, article_id, topic) of alerts claimed but never recorded (a crash, a lost link)."""
        with self.db.begin() as db:
            rows = db.execute(sa.select(alerts.c.team_id, alerts.c.channel, alerts.c.article_id, alerts.c.topic)
                              .where(alerts.c.status == ALERT_CLAIMED).order_by(alerts.c.claimed_at))
            return [(r.team_id, r.channel, r.article_id, r.topic) for r in rows]
