"""One settings object, built once per process and passed down.

`load_settings()` (the CLI's `main`, once) reads defaults, the environment and `.env`;
`isolated_settings()` (the harness, tests) reads the values given and the defaults alone,
so a developer's `.env` or exported tokens never leak into a fake-Slack session. Both
validate, and a bad value is one line naming the variable. Secrets are `SecretStr`, so they
never show up in logs, reprs or error messages (`bot.slack.credentials.reveal` reads them).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    corpus_dir: Path = Field(Path("corpus"), alias="TRADEBOT_CORPUS")
    seeds_dir: Path = Field(Path("seeds"), alias="TRADEBOT_SEEDS")
    db_path: Path = Field(Path(".tradebot/tradebot.sqlite3"), alias="TRADEBOT_DB")
    index_cache_dir: Path | None = Field(Path(".tradebot/index"), alias="TRADEBOT_INDEX_CACHE")
    reload_interval: float = Field(5.0, alias="TRADEBOT_RELOAD_SECONDS", ge=0.2)
    build_workers: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 4), alias="TRADEBOT_BUILD_WORKERS",
                               ge=1, le=32)
    log_level: str = Field("INFO", alias="LOG_LEVEL")

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str | None = Field(None, alias="SLACK_API_URL")
    mode: Literal["auto", "socket", "http"] = Field("auto", alias="TRADEBOT_MODE")
    host: str = Field("0.0.0.0", alias="HOST")
    port: int = Field(3000, alias="PORT", ge=0, le=65535)  # 0: any free port (the harness)
    max_body_bytes: int = Field(1024 * 1024, alias="TRADEBOT_MAX_BODY_BYTES")

    digest_enabled: bool = Field(False, alias="DIGEST_ENABLED")
    digest_channels: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="DIGEST_CHANNEL")
    digest_time: dt.time = Field(dt.time(8, 0), alias="DIGEST_TIME")
    digest_tz: str = Field("UTC", alias="DIGEST_TZ")
    digest_grace_hours: float = Field(6.0, alias="DIGEST_GRACE_HOURS", ge=0)
    digest_skip_empty: bool = Field(False, alias="DIGEST_SKIP_EMPTY")
    digest_max_items: int = Field(8, alias="DIGEST_MAX_ITEMS", ge=1, le=20)
    # A digest or alert claim whose holder recorded no result this long is taken over (its holder died)
    digest_claim_timeout: float = Field(180.0, alias="TRADEBOT_DIGEST_CLAIM_TIMEOUT_SECONDS", gt=0, le=24 * 3600)

    http_read_timeout: float = Field(3.0, alias="TRADEBOT_HTTP_READ_TIMEOUT", gt=0, le=60)
    http_max_connections: int = Field(256, alias="TRADEBOT_HTTP_MAX_CONNECTIONS", ge=1, le=100_000)

    # Shared state (bot/store): SQLAlchemy URL, e.g. postgresql://host/db; default: SQLite at TRADEBOT_DB
    database_url: str | None = Field(None, alias="TRADEBOT_DATABASE_URL")

    # Many workspaces: bolt's OAuth v2 install flow when both are set (else SLACK_BOT_TOKEN's one workspace)
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, alias="SLACK_CLIENT_SECRET")

    # Feeds and fetched pages (bot/feeds)
    allow_private_urls: bool = Field(False, alias="TRADEBOT_ALLOW_PRIVATE_URLS")
    feeds_enabled: bool = Field(True, alias="TRADEBOT_FEEDS_ENABLED")
    feed_interval_minutes: float = Field(15.0, alias="TRADEBOT_FEED_INTERVAL_MINUTES", ge=1, le=7 * 24 * 60)
    feed_max_entries: int = Field(50, alias="TRADEBOT_FEED_MAX_ENTRIES", ge=1, le=1000)
    feed_editors: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="TRADEBOT_FEED_EDITORS")
    fetch_concurrency: int = Field(4, alias="TRADEBOT_FETCH_CONCURRENCY", ge=1, le=64)
    fetch_timeout: float = Field(20.0, alias="TRADEBOT_FETCH_TIMEOUT_SECONDS", gt=0, le=300)
    fetch_max_bytes: int = Field(5 * 1024 * 1024, alias="TRADEBOT_FETCH_MAX_BYTES", ge=1024)
    fetch_max_redirects: int = Field(5, alias="TRADEBOT_FETCH_MAX_REDIRECTS", ge=0, le=20)

    @field_validator("digest_channels", "feed_editors", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        if isinstance(value, str):
            return [c for c in re.split(r"[\s,]+", value) if c]
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str | None) -> str | None:
        """Only the two engines tradebot is tested on; a malformed URL is named here, not in a traceback."""
        if not value:
            return None
        import sqlalchemy as sa

        try:
            backend = sa.make_url(value).get_backend_name()
        except (sa.exc.ArgumentError, ValueError):
            raise ValueError("is not a database URL (e.g. postgresql://user@host/db)") from None
        if backend not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(f"{backend!r} is not supported: use postgresql://… or sqlite:///path")
        return value

    @field_validator("digest_tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/London)") from None
        return value

    @field_validator("slack_bot_token", "slack_app_token")
    @classmethod
    def _token_looks_right(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        prefix = {"slack_bot_token": "xoxb-", "slack_app_token": "xapp-"}[str(info.field_name)]
        if value is not None and value.get_secret_value() and not value.get_secret_value().startswith(prefix):
            raise ValueError(f"must start with {prefix} (the value is not shown)")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.digest_tz)

    @property
    def stale_claim(self) -> dt.timedelta:
        """How old an unfinished digest or alert claim must be before another replica takes it over."""
        return dt.timedelta(seconds=self.digest_claim_timeout)

    def resolved_mode(self) -> Literal["socket", "http"]:
        if self.mode != "auto":
            return self.mode
        return "socket" if self.slack_app_token else "http"

    @property
    def resolved_database_url(self) -> str:
        """The state database: `TRADEBOT_DATABASE_URL`, else the SQLite file `TRADEBOT_DB`."""
        from bot.store.database import database_url

        return database_url(self.db_path, self.database_url)

    @property
    def oauth_enabled(self) -> bool:
        """Many workspaces (the install flow) rather than the one of `SLACK_BOT_TOKEN`."""
        return bool(self.slack_client_id and self.slack_client_secret
                    and self.slack_client_secret.get_secret_value().strip())

    def require_slack(self) -> None:
        """Check what `tradebot run` needs, naming the first missing variable. The install flow
        (`SLACK_CLIENT_ID` + `SLACK_CLIENT_SECRET`) needs no bot token, but an HTTP server."""
        mode = self.resolved_mode()
        client_secret = self.slack_client_secret.get_secret_value().strip() if self.slack_client_secret else ""
        if bool(self.slack_client_id) != bool(client_secret):
            missing = "SLACK_CLIENT_SECRET" if self.slack_client_id else "SLACK_CLIENT_ID"
            raise SettingsError(f"{missing} is not set; the install flow needs both (see README, 'Many workspaces').")
        if self.oauth_enabled and mode == "socket":
            raise SettingsError("the install flow (SLACK_CLIENT_ID) needs HTTP mode: set TRADEBOT_MODE=http "
                                "and leave SLACK_APP_TOKEN unset (see README, 'Many workspaces').")
        needed = [] if self.oauth_enabled else ["SLACK_BOT_TOKEN"]
        needed += ["SLACK_APP_TOKEN"] if mode == "socket" else ["SLACK_SIGNING_SECRET"]
        values = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_APP_TOKEN": self.slack_app_token,
            "SLACK_SIGNING_SECRET": self.slack_signing_secret,
        }
        for name in needed:
            secret = values[name]
            if secret is None or not secret.get_secret_value().strip():
                raise SettingsError(f"{name} is not set; {mode} mode needs it (see README, 'Run it for real').")


class _Isolated(Settings):
    """Settings from the values given and the defaults alone: no environment, no `.env`."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _validated(cls: type[Settings], overrides: dict[str, object]) -> Settings:
    """Build `cls`, turning validation errors into one line naming each bad variable."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            alias = Settings.model_fields[field].alias if field in Settings.model_fields else field
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{alias or field}: {message}" if alias or field else message)
        raise SettingsError("bad settings: " + "; ".join(lines)) from None


def load_settings(**overrides: object) -> Settings:
    """The process's settings: `overrides` (e.g. `--corpus`), then the environment, `.env`, defaults."""
    return _validated(Settings, overrides)


def isolated_settings(**values: object) -> Settings:
    """Validated settings from `values` and the defaults only (the harness and tests: hermetic)."""
    return _validated(_Isolated, values)
