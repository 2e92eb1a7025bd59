"""The Slack secrets, read in one place: checked once, revealed once, never logged.

`Settings` keeps them as `SecretStr` (no repr, no log); this is the only code that
takes their values out, and it does so after `Settings.require_slack()` has named
any missing one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

from bot.settings import Settings


def reveal(secret: SecretStr | None) -> str:
    """A secret's value, or "" when it is not set."""
    return secret.get_secret_value() if secret is not None else ""


@dataclass(frozen=True)
class SlackCredentials:
    bot_token: str = field(repr=False)
    app_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    client_secret: str = field(default="", repr=False)  # the install flow's (many workspaces)

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackCredentials:
        return cls(bot_token=reveal(settings.slack_bot_token), app_token=reveal(settings.slack_app_token),
                   signing_secret=reveal(settings.slack_signing_secret),
                   client_secret=reveal(settings.slack_client_secret).strip())
