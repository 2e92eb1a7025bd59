"""The bot's shared state: one SQLAlchemy Core layer over SQLite (the embedded default) or
PostgreSQL (`TRADEBOT_DATABASE_URL`), so any number of replicas can share it."""

from bot.store.database import Database, StoreUnavailable, database_url

__all__ = ["Database", "StoreUnavailable", "database_url"]


def open_database(url: str) -> Database:
    """The database at `url`, upgraded to the current schema (what every entry point uses)."""
    from bot.store.migrations import upgrade

    database = Database(url)
    try:
        upgrade(database)
    except BaseException:
        database.close()
        raise
    return database


__all__ += ["open_database"]
