"""The fake's Web API methods: Slack's answers for each call, given Slack's state.

Each handler takes the call's parameters and returns Slack's JSON body. Scopes
are checked before a handler runs (`missing_scope` with `needed`/`provided`),
and every message or view is validated as Slack validates it.
"""

from __future__ import annotations

import uuid
from typing import Any

from bot.harness import scopes
from bot.harness.slack_state import TEAM, Channel, MessageRef, SlackState
from bot.harness.validation import message_rejection, rejection, view_rejection

__all__ = ["TEAM", "WebApi"]

Result = dict[str, Any]


def _error(code: str) -> Result:
    return {"ok": False, "error": code}


class WebApi:
    """One workspace's Web API, as its bot token sees it: that workspace's state and granted scopes."""

    def __init__(self, state: SlackState, granted: frozenset[str]) -> None:
        self.state = state
        self.granted = granted

    def call(self, method: str, p: dict[str, Any]) -> Result:
        if not scopes.known(method):
            return _error("unknown_method")
        channel = self.state.channels.get(str(p.get("channel", "")))
        needed = scopes.needed_scope(method, channel.kind if channel else "public")
        if needed and needed not in self.granted:
            return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(sorted(self.granted))}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:  # a real method the fake does not model (yet)
            return _error("unknown_method")
        result: Result = handler(p)
        return result

    # Conversations -------------------------------------------------------------

    def _channel(self, channel_id: str, posting: bool) -> tuple[Channel | None, str | None]:
        channel = self.state.channels.get(channel_id)
        if channel is None:
            return None, "channel_not_found"  # D… ids too: a DM exists only once opened
        if channel.is_archived and posting:
            return channel, "is_archived"
        public_post = posting and not channel.is_private and "chat:write.public" in self.granted
        if not channel.is_member and not channel.is_im and not public_post:
            return channel, "not_in_channel"
        return channel, None

    def _m_auth_test(self, p: dict[str, Any]) -> Result:
        state = self.state
        return {"ok": True, "url": f"https://{state.team_name.lower()}.slack.example/", "team": state.team_name,
                "user": "tradebot", "team_id": state.team, "user_id": state.bot_user, "bot_id": state.bot_id,
                "is_enterprise_install": False}

    def _m_conversations_info(self, p: dict[str, Any]) -> Result:
        channel = self.state.channels.get(str(p.get("channel", "")))
        if channel is None:
            return _error("channel_not_found")
        return {"ok": True, "channel": {"id": channel.id, "name": channel.name, "is_private": channel.is_private,
                                        "is_archived": channel.is_archived, "is_member": channel.is_member,
                                        "is_im": channel.is_im}}

    def _m_conversations_join(self, p: dict[str, Any]) -> Result:
        channel = self.state.channels.get(str(p.get("channel", "")))
        if channel is None:
            return _error("channel_not_found")
        if channel.is_private:
            return _error("method_not_supported_for_channel_type")
        if channel.is_archived:
            return _error("is_archived")
        channel.is_member = True
        return {"ok": True, "channel": {"id": channel.id, "name": channel.name}}

    def _m_conversations_open(self, p: dict[str, Any]) -> Result:
        users = [u for u in str(p.get("users", "")).split(",") if u]
        if len(users) != 1:
            return _error("users_list_not_supplied" if not users else "not_supported")
        return {"ok": True, "channel": {"id": self.state.open_dm(users[0])}}

    def _m_conversations_history(self, p: dict[str, Any]) -> Result:
        channel, error = self._channel(str(p.get("channel", "")), posting=False)
        if error or channel is None:
            return _error(error or "channel_not_found")
        include_meta = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = max(1, min(int(p.get("limit", 100) or 100), 999))
        # History lists top-level messages; thread replies live in conversations.replies.
        top = [m for m in channel.messages if m.get("thread_ts") in (None, m["ts"])]
        messages = []
        for message in reversed(top[-limit:]):
            shown = {k: v for k, v in message.items() if k != "notified"}
            if not include_meta:
                shown.pop("metadata", None)
            messages.append(shown)
        return {"ok": True, "messages": messages, "has_more": len(top) > limit}

    # Messages ----------------------------------------------------------------------

    def _m_chat_postMessage(self, p: dict[str, Any]) -> Result:
        channel, error = self._channel(str(p.get("channel", "")), posting=True)
        if error or channel is None:
            return _error(error or "channel_not_found")
        refused = message_rejection(p)
        if refused:
            return refused
        message = self.state.post(channel.id, p)
        shown = {k: v for k, v in message.items() if k != "notified"}
        return {"ok": True, "channel": channel.id, "ts": message["ts"], "message": shown}

    def _m_chat_postEphemeral(self, p: dict[str, Any]) -> Result:
        channel, error = self._channel(str(p.get("channel", "")), posting=True)
        if error or channel is None:
            return _error(error or "channel_not_found")
        user = str(p.get("user") or "")
        if not user:
            return rejection("invalid_arguments", [])
        if user not in channel.members:
            return _error("user_not_in_channel")
        refused = message_rejection(p)
        if refused:
            return refused
        message = self.state.post_ephemeral(channel.id, user, p)
        return {"ok": True, "message_ts": message["ts"]}

    def _m_chat_update(self, p: dict[str, Any]) -> Result:
        channel = self.state.channels.get(str(p.get("channel", "")))
        if channel is None:
            return _error("channel_not_found")
        refused = message_rejection(p)
        if refused:
            return refused
        for message in channel.messages:
            if message["ts"] == p.get("ts"):
                if message.get("bot_id") != self.state.bot_id:
                    return _error("cant_update_message")
                self.state.replace(MessageRef(channel.id, message["ts"]), p)
                return {"ok": True, "channel": channel.id, "ts": message["ts"], "text": p.get("text", "")}
        return _error("message_not_found")

    # Views --------------------------------------------------------------------------

    def _store_view(self, view: Any, view_id: str | None = None) -> Result:
        refused = view_rejection(view)
        if refused:
            return refused
        view_id = view_id or "V" + uuid.uuid4().hex[:10].upper()
        stored = {**view, "id": view_id, "hash": uuid.uuid4().hex[:8], "team_id": self.state.team,
                  "app_id": "A0TRADEBOT"}
        self.state.views[view_id] = stored
        return {"ok": True, "view": stored}

    def _m_views_open(self, p: dict[str, Any]) -> Result:
        error = self.state.exchange_trigger(str(p.get("trigger_id") or ""))
        if error:
            return _error(error)
        return self._store_view(p.get("view"))

    def _m_views_update(self, p: dict[str, Any]) -> Result:
        view_id = str(p.get("view_id", ""))
        if view_id not in self.state.views:
            return _error("not_found")
        if p.get("hash") and p["hash"] != self.state.views[view_id]["hash"]:
            return _error("hash_conflict")
        return self._store_view(p.get("view"), view_id)

    def _m_views_publish(self, p: dict[str, Any]) -> Result:
        view = p.get("view")
        if isinstance(view, dict) and view.get("type") != "home":
            return rejection("invalid_arguments", [])
        result = self._store_view(view)
        if result["ok"]:
            self.state.home[str(p.get("user_id"))] = result["view"]
        return result

    def _m_apps_connections_open(self, p: dict[str, Any]) -> Result:
        return {"ok": True}  # the URL is filled in by the server, which knows its address
