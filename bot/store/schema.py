"""The current shape of every table, schema version `SCHEMA_VERSION`.

Changing a table means a new migration in `bot.store.migrations` (and freezing the old
shape there if a migration needs it): a database made by any earlier version is upgraded
on start, without loss. Times the digest compares are ISO strings (as the first SQLite
version wrote them); expiries are epoch seconds (wall clock), compared in SQL.
`team_id` is the Slack workspace ("" for the single workspace of `SLACK_BOT_TOKEN`).
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

SCHEMA_VERSION = 2


class Bounded(sa.types.TypeDecorator[str]):
    """`VARCHAR(n)` that takes any str on either engine, the same way: PostgreSQL refuses a NUL
    byte and raises on a value longer than `n`, where SQLite stores both as given. So every value
    bound to such a column (written, or compared in a WHERE) loses its NUL bytes, has lone
    surrogates replaced, and is cut to `n`; a long value in a wide column keeps a hash of the
    whole at its end, so two long keys that share a prefix stay apart, and a value written is
    found again by the same value."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if not isinstance(value, str):
            return value
        if "\x00" in value:
            value = value.replace("\x00", "")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates (JSON's "\\ud800" decodes to one): U+FFFD
                value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        length: int | None = getattr(self.impl_instance, "length", None)
        if length is None or len(value) <= length:
            return value
        if length < 100:
            return value[:length]
        digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
        return value[:length - len(digest) - 1] + "#" + digest


metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", Bounded(40), nullable=False),
    sa.Column("note", Bounded(200), nullable=False),
)

# Watch lists and the digest ledger --------------------------------------------------------

watches = sa.Table(
    "watches", metadata,
    sa.Column("team_id", Bounded(40), primary_key=True),
    sa.Column("channel", Bounded(40), primary_key=True),
    sa.Column("topic_key", Bounded(400), primary_key=True),
    sa.Column("topic", Bounded(400), nullable=False),
    sa.Column("created", Bounded(40), nullable=False),
    sa.Column("instant", sa.Integer, nullable=False, server_default="0"),
)

digests = sa.Table(
    "digests", metadata,
    sa.Column("team_id", Bounded(40), primary_key=True),
    sa.Column("channel", Bounded(40), primary_key=True),
    sa.Column("local_date", Bounded(10), primary_key=True),
    sa.Column("status", Bounded(20), nullable=False),
    sa.Column("claim", Bounded(40)),
    sa.Column("claimed_at", Bounded(40)),
    sa.Column("ts", Bounded(40)),
    sa.Column("error", Bounded(1000)),
    sa.Column("updated_at", Bounded(40), nullable=False),
)

sent_articles = sa.Table(
    "sent_articles", metadata,
    sa.Column("team_id", Bounded(40), primary_key=True),
    sa.Column("channel", Bounded(40), primary_key=True),
    sa.Column("article_id", Bounded(120), primary_key=True),
    sa.Column("local_date", Bounded(10), nullable=False),
)

alerts = sa.Table(
    "alerts", metadata,
    sa.Column("team_id", Bounded(40), primary_key=True),
    sa.Column("channel", Bounded(40), primary_key=True),
    sa.Column("article_id", Bounded(120), primary_key=True),
    sa.Column("topic", Bounded(400), nullable=False),
    sa.Column("status", Bounded(20), nullable=False),
    sa.Column("claimed_at", Bounded(40), nullable=False),
    sa.Column("ts", Bounded(40)),
    sa.Column("error", Bounded(1000)),
)

digest_channels = sa.Table(  # channels that asked for the daily digest (`/trade digest on`)
    "digest_channels", metadata,
    sa.Column("team_id", Bounded(40), primary_key=True),
    sa.Column("channel", Bounded(40), primary_key=True),
    sa.Column("added_by", Bounded(40)),
    sa.Column("added_at", Bounded(40), nullable=False),
)

# Feeds (bot.feeds.store) -------------------------------------------------------------------

feeds = sa.Table(
    "feeds", metadata,
    sa.Column("url", Bounded(2000), primary_key=True),
    sa.Column("title", Bounded(500)),
    sa.Column("added_at", sa.DateTime, nullable=False),
    sa.Column("added_by", Bounded(100)),
    sa.Column("interval_s", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("etag", Bounded(500)),
    sa.Column("last_modified", Bounded(100)),
    sa.Column("next_poll_at", sa.DateTime),
    sa.Column("last_attempt_at", sa.DateTime),
    sa.Column("last_success_at", sa.DateTime),
    sa.Column("last_error", Bounded(1000)),
    sa.Column("last_status", Bounded(1000)),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("articles_added", sa.Integer, nullable=False, default=0),
)

feed_entries = sa.Table(
    "feed_entries", metadata,
    sa.Column("feed_url", Bounded(2000), primary_key=True),
    sa.Column("entry_key", Bounded(500), primary_key=True),
    sa.Column("article_id", Bounded(120)),
    sa.Column("outcome", Bounded(500), nullable=False),
    sa.Column("seen_at", sa.DateTime, nullable=False),
)

also_reported = sa.Table(
    "also_reported", metadata,
    sa.Column("article_id", Bounded(120), primary_key=True),
    sa.Column("url", Bounded(2000), primary_key=True),
    sa.Column("publisher", Bounded(200), nullable=False),
    sa.Column("title", Bounded(500)),
    sa.Column("seen_at", sa.DateTime, nullable=False),
)

# Request state shared by replicas -----------------------------------------------------------

button_state = sa.Table(  # what a button's short key stands for ("More results", "pick a person")
    "button_state", metadata,
    sa.Column("key", Bounded(40), primary_key=True),
    sa.Column("team_id", Bounded(40), nullable=False),
    sa.Column("user_id", Bounded(40), nullable=False),
    sa.Column("channel", Bounded(40)),
    sa.Column("command", sa.Text, nullable=False),  # JSON
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)

seen_keys = sa.Table(  # signatures and event ids already handled (replays, redeliveries)
    "seen_keys", metadata,
    sa.Column("key", Bounded(200), primary_key=True),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)

# Workspaces (the OAuth install flow) ---------------------------------------------------------

installations = sa.Table(
    "installations", metadata,
    sa.Column("team_id", Bounded(40), primary_key=True),
    sa.Column("enterprise_id", Bounded(40)),
    sa.Column("team_name", Bounded(200)),
    sa.Column("bot_user_id", Bounded(40)),
    sa.Column("installed_at", sa.Float, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # the installation as JSON, tokens included
)

oauth_states = sa.Table(
    "oauth_states", metadata,
    sa.Column("state", Bounded(200), primary_key=True),
    sa.Column("expires_at", sa.Float, nullable=False),
)
