"""OAuth scopes: which bot scope each Web API method needs, and the ones manifest.yml grants.

From Slack's method reference. Methods whose scope depends on the conversation
type (history, info) take the kind of channel; `views.*` and `auth.test` need
none. The fake answers `missing_scope` with `needed` and `provided`, as Slack does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml

ChannelKind = Literal["public", "private", "im", "mpim"]

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"

_BY_KIND: dict[str, dict[ChannelKind, str]] = {
    "conversations.history": {"public": "channels:history", "private": "groups:history", "im": "im:history",
                              "mpim": "mpim:history"},
    "conversations.replies": {"public": "channels:history", "private": "groups:history", "im": "im:history",
                              "mpim": "mpim:history"},
    "conversations.info": {"public": "channels:read", "private": "groups:read", "im": "im:read",
                           "mpim": "mpim:read"},
    "conversations.members": {"public": "channels:read", "private": "groups:read", "im": "im:read",
                              "mpim": "mpim:read"},
}
_FIXED: dict[str, str | None] = {
    "auth.test": None,
    "apps.connections.open": None,  # an app-level token with connections:write, checked as the token
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.scheduleMessage": "chat:write",
    "conversations.join": "channels:join",
    "conversations.open": "im:write",
    "conversations.list": "channels:read",
    "users.info": "users:read",
    "views.open": None,
    "views.update": None,
    "views.push": None,
    "views.publish": None,
}


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str]:
    """The bot scopes manifest.yml requests (what an install would grant)."""
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


def needed_scope(method: str, kind: ChannelKind = "public") -> str | None:
    """The scope `method` needs, None when it needs none. KeyError for a method the fake does not know."""
    if method in _BY_KIND:
        return _BY_KIND[method][kind]
    return _FIXED[method]


def known(method: str) -> bool:
    return method in _BY_KIND or method in _FIXED
