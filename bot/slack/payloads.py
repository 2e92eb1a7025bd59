"""Typed views of the Slack payloads we use, so listeners never index raw dicts.

Each model names where its fields live in Slack's JSON (`AliasPath`), and is tested
against payloads recorded from Slack's documentation (`tests/data/slack_payloads/`).
A payload that does not fit raises `pydantic.ValidationError`; the listener turns
that into a clear answer instead of an exception.

`parse_body` is the HTTP guard's view of a request body: the dict bolt will be
given, or None when a correctly signed body is not a Slack payload at all (400).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qsl

from pydantic import (
    AliasChoices,
    AliasPath,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
)

_ID_RE = re.compile(r"[A-Z0-9]{1,40}")
_MENTION_RE = re.compile(r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>\s*)+")
_NUMBER_RE = re.compile(r"[0-9]{1,6}")  # ASCII digits only: "²".isdigit() is True, int("²") raises


class MalformedPayload(Exception):
    """A signed payload whose fields do not have the shape we expect (an old or forged button)."""


Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], data: Any) -> Model:
    """`model` read from `data`, or MalformedPayload naming the first bad field (never its value)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "payload"
        raise MalformedPayload(f"malformed {model.__name__}: {where}: {first['type']}") from None


def slack_id(value: Any) -> str | None:
    """A Slack id (U123, C123) or None: ids end up inside `<@...>`, so check their shape."""
    return value if isinstance(value, str) and _ID_RE.fullmatch(value) else None


SlackId = Annotated[str | None, BeforeValidator(slack_id)]
UserId = Annotated[str, BeforeValidator(lambda v: slack_id(v) or "unknown")]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class SlashCommand(_Payload):
    command: StrictStr
    text: StrictStr = ""
    user: UserId = Field("unknown", validation_alias="user_id")
    channel: SlackId = Field(None, validation_alias="channel_id")
    response_url: StrictStr | None = None
    trigger_id: StrictStr | None = None


class ButtonClick(_Payload):
    """One `block_actions` click (Slack sends one action per click)."""

    action_id: StrictStr = Field(validation_alias=AliasPath("actions", 0, "action_id"))
    value: StrictStr = Field("", validation_alias=AliasPath("actions", 0, "value"), max_length=2000)
    user: UserId = Field("unknown", validation_alias=AliasPath("user", "id"))
    channel: SlackId = Field(None, validation_alias=AliasChoices(AliasPath("channel", "id"),
                                                                 AliasPath("container", "channel_id")))
    trigger_id: StrictStr | None = None
    response_url: StrictStr | None = None
    view_id: StrictStr | None = Field(None, validation_alias=AliasPath("view", "id"))
    view_hash: StrictStr | None = Field(None, validation_alias=AliasPath("view", "hash"))


class Origin(_Payload):
    """Who did something, and where: read leniently (bad ids become None/"unknown"), so an
    apology can still find its way when the rest of a payload does not parse."""

    user: UserId = Field("unknown", validation_alias=AliasChoices("user_id", AliasPath("user", "id")))
    channel: SlackId = Field(None, validation_alias=AliasChoices("channel_id", AliasPath("channel", "id"),
                                                                 AliasPath("container", "channel_id")))


def origin_of(body: Any) -> Origin:
    try:
        return Origin.model_validate(body)
    except ValidationError:
        return Origin()


def team_id(value: Any) -> str:
    """`value` if it has the shape of a workspace id, else ""."""
    return value if isinstance(value, str) and _TEAM_ID.fullmatch(value) else ""


_TEAM_ID = re.compile(r"[TE][A-Z0-9]{2,20}")


class _ViewRef(_Payload):
    view_id: StrictStr | None = Field(None, validation_alias=AliasPath("view", "id"))


def view_of(body: Any) -> str | None:
    """The id of the modal a payload came from, if any, even when the rest does not parse."""
    try:
        return _ViewRef.model_validate(body).view_id
    except ValidationError:
        return None


class ViewSubmission(_Payload):
    callback_id: StrictStr = Field(validation_alias=AliasPath("view", "callback_id"))
    user: UserId = Field("unknown", validation_alias=AliasPath("user", "id"))


def _without_leading_mentions(value: Any) -> Any:
    return _MENTION_RE.sub("", value) if isinstance(value, str) else value


class MessageEvent(_Payload):
    """An app mention or a message in the bot's DM; the leading `@tradebot` is removed."""

    type: StrictStr
    text: Annotated[StrictStr, BeforeValidator(_without_leading_mentions)] = ""
    user: SlackId = None
    channel: SlackId = None
    channel_type: StrictStr | None = None
    subtype: StrictStr | None = None
    bot_id: StrictStr | None = None
    ts: StrictStr | None = None
    thread_ts: StrictStr | None = None

    @property
    def from_a_person_in_a_dm(self) -> bool:
        """A plain direct message from a person: no edits, joins or bot posts."""
        return self.channel_type == "im" and self.subtype is None and self.bot_id is None


class HomeOpened(_Payload):
    user: SlackId = None
    tab: StrictStr = "home"


class ModalPage(_Payload):
    """A modal page button's value, `ARTICLE_ID|PAGE`."""

    article_id: StrictStr = Field(min_length=1)
    page: int = Field(ge=0)

    @classmethod
    def from_value(cls, value: str) -> ModalPage:
        article_id, _, page = value.rpartition("|")
        if not article_id or not _NUMBER_RE.fullmatch(page):
            raise MalformedPayload("malformed modal page value")
        return cls(article_id=article_id, page=int(page))


class PersonPick(_Payload):
    """A person-choice button's value, `KEY|INDEX`; `value` is what the answerer is given back."""

    key: StrictStr = Field(min_length=1)
    index: int = Field(ge=0)

    @classmethod
    def from_value(cls, value: str) -> PersonPick:
        key, _, index = value.rpartition("|")
        if not key or not _NUMBER_RE.fullmatch(index):
            raise MalformedPayload("malformed person choice value")
        return cls(key=key, index=int(index))

    @property
    def value(self) -> str:
        return f"{self.key}|{self.index}"


# The request envelope (HTTP guard) ------------------------------------------------


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: StrictStr


class _EventBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: StrictStr


class _EventCallback(_Envelope):
    type: Literal["event_callback"]
    event_id: StrictStr
    event: _EventBody


class _UrlVerification(_Envelope):
    type: Literal["url_verification"]
    challenge: StrictStr


def _checked(data: Any) -> dict[str, Any] | None:
    """`data` if it has the shape of a Slack JSON payload, else None."""
    if not isinstance(data, dict):
        return None
    try:
        envelope = _Envelope.model_validate(data)
        if envelope.type == "event_callback":
            _EventCallback.model_validate(data)
        elif envelope.type == "url_verification":
            _UrlVerification.model_validate(data)
    except ValidationError:
        return None
    return data


def parse_body(body: str, content_type: str | None) -> dict[str, Any] | None:
    """The payload Slack sent: Events API JSON, an interactive `payload=` form, a slash
    command form, or `ssl_check`. None for anything else (the guard answers 400).

    Bolt's own parser treats any form body containing the letters "payload" as an
    interactive payload (so `/trade payload` would vanish); this one looks at keys.
    """
    stripped = body.lstrip()
    try:
        if (content_type or "").startswith("application/json") or stripped.startswith(("{", "[")):
            return _checked(json.loads(body))
        form = dict(parse_qsl(body, keep_blank_values=True))
        if "payload" in form:
            return _checked(json.loads(form["payload"]))
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    if form.get("ssl_check") == "1" or "command" in form:
        return form
    return None
