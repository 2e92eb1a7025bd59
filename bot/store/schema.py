"""The current shape of every table, schema version `SCHEMA_VERSION`.

Changing a table means a new migration in `bot.store.migrations` (and freezing the old
shape there if a migration needs it): a database made by any earlier version is upgraded
on start, without loss. Times the digest compares are ISO strings (as the first SQLite
version wrote them); expiries are epoch seconds (wall clock), compared in SQL.
`team_id` is the Slack workspace ("" for the single workspace of `SLACK_BOT_TOKEN`).
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 2

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.String(40), nullable=False),
    sa.Column("note", sa.String(200), nullable=False),
)

# Watch lists and the digest ledger --------------------------------------------------------

watches = sa.Table(
    "watches", metadata,
    sa.Column("team_id", sa.String(40), primary_key=True),
    sa.Column("channel", sa.String(40), primary_key=True),
    sa.Column("topic_key", sa.String(400), primary_key=True),
    sa.Column("topic", sa.String(400), nullable=False),
    sa.Column("created", sa.String(40), nullable=False),
    sa.Column("instant", sa.Integer, nullable=False, server_default="0"),
)

digests = sa.Table(
    "digests", metadata,
    sa.Column("team_id", sa.String(40), primary_key=True),
    sa.Column("channel", sa.String(40), primary_key=True),
    sa.Column("local_date", sa.String(10), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("claim", sa.String(40)),
    sa.Column("claimed_at", sa.String(40)),
    sa.Column("ts", sa.String(40)),
    sa.Column("error", sa.String(1000)),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

sent_articles = sa.Table(
    "sent_articles", metadata,
    sa.Column("team_id", sa.String(40), primary_key=True),
    sa.Column("channel", sa.String(40), primary_key=True),
    sa.Column("article_id", sa.String(120), primary_key=True),
    sa.Column("local_date", sa.String(10), nullable=False),
)

alerts = sa.Table(
    "alerts", metadata,
    sa.Column("team_id", sa.String(40), primary_key=True),
    sa.Column("channel", sa.String(40), primary_key=True),
    sa.Column("article_id", sa.String(120), primary_key=True),
    sa.Column("topic", sa.String(400), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("claimed_at", sa.String(40), nullable=False),
    sa.Column("ts", sa.String(40)),
    sa.Column("error", sa.String(1000)),
)

digest_channels = sa.Table(  # channels that asked for the daily digest (`/trade digest on`)
    "digest_channels", metadata,
    sa.Column("team_id", sa.String(40), primary_key=True),
    sa.Column("channel", sa.String(40), primary_key=True),
    sa.Column("added_by", sa.String(40)),
    sa.Column("added_at", sa.String(40), nullable=False),
)

# Feeds (bot.feeds.store) -------------------------------------------------------------------

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

feed_entries = sa.Table(
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

# Request state shared by replicas -----------------------------------------------------------

button_state = sa.Table(  # what a button's short key stands for ("More results", "pick a person")
    "button_state", metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("team_id", sa.String(40), nullable=False),
    sa.Column("user_id", sa.String(40), nullable=False),
    sa.Column("channel", sa.String(40)),
    sa.Column("command", sa.Text, nullable=False),  # JSON
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)

seen_keys = sa.Table(  # signatures and event ids already handled (replays, redeliveries)
    "seen_keys", metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)

# Workspaces (the OAuth install flow) ---------------------------------------------------------

installations = sa.Table(
    "installations", metadata,
    sa.Column("team_id", sa.String(40), primary_key=True),
    sa.Column("enterprise_id", sa.String(40)),
    sa.Column("team_name", sa.String(200)),
    sa.Column("bot_user_id", sa.String(40)),
    sa.Column("installed_at", sa.Float, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # the installation as JSON, tokens included
)

oauth_states = sa.Table(
    "oauth_states", metadata,
    sa.Column("state", sa.String(200), primary_key=True),
    sa.Column("expires_at", sa.Float, nullable=False),
)
