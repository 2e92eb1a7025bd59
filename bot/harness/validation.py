"""Block Kit validation the way Slack does it, for the fake Slack.

slack-sdk's models parse each block (`Block.parse`, `validate_json()`), but they
do not recurse into elements, and miss rules Slack enforces: unique `action_id`
within a block, unique `block_id` within a message or view, plain_text headers,
non-empty text, http(s) button URLs, unknown properties, limits per surface.
This module adds those. It deliberately knows nothing of tradebot's renderer, so
it can catch the renderer's mistakes. Problems are reported in Slack's wire
shape: `message [json-pointer:/blocks/2/elements/1/action_id]`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, BlockElement
from slack_sdk.models.views import View

Surface = Literal["message", "modal", "home"]

MAX_BLOCKS: dict[Surface, int] = {"message": 50, "modal": 100, "home": 100}
SURFACE_BLOCKS: dict[Surface, frozenset[str]] = {
    "message": frozenset({"actions", "context", "divider", "file", "header", "image", "markdown", "rich_text",
                          "section", "video"}),
    "modal": frozenset({"actions", "context", "divider", "header", "image", "input", "rich_text", "section",
                        "video"}),
    "home": frozenset({"actions", "context", "divider", "header", "image", "input", "rich_text", "section",
                       "video"}),
}
TEXT_TYPES = ("plain_text", "mrkdwn")
MARKDOWN_TOTAL = 12_000  # cumulative text of all `markdown` blocks in one payload (documented)
URL_CHARS = 3000
ID_CHARS = 255


@dataclass(frozen=True)
class Problem:
    pointer: str
    message: str

    def wire(self) -> str:
        return f"{self.message} [json-pointer:{self.pointer}]"


def rejection(error: str, problems: Iterable[Problem]) -> dict[str, Any]:
    """A Web API error body as Slack sends it: the code, `errors`, and `response_metadata.messages`."""
    lines = list(dict.fromkeys(p.wire() for p in problems))
    body: dict[str, Any] = {"ok": False, "error": error}
    if lines:
        body["errors"] = lines
        body["response_metadata"] = {"messages": [f"[ERROR] {line}" for line in lines]}
    return body


def is_slack_url(url: Any) -> bool:
    """What Slack accepts as a button or image URL: absolute http(s) with a host (looser than our own rule)."""
    if not isinstance(url, str) or not url or len(url) > URL_CHARS:
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, pointer: str, message: str) -> None:
        self.problems.append(Problem(pointer, message))

    def text(self, obj: Any, at: str, limit: int, *, plain_only: bool = False, required: bool = True) -> str:
        """A text composition object; returns its text ('' when broken)."""
        if obj is None:
            if required:
                self.add(at.rsplit("/", 1)[0], f"missing required field: {at.rsplit('/', 1)[1]}")
            return ""
        if not isinstance(obj, dict):
            self.add(at, "must provide an object")
            return ""
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else TEXT_TYPES
        if kind not in allowed:
            self.add(f"{at}/type", f"unsupported type: {kind}")
        for key in obj:
            if key not in ("type", "text", "emoji", "verbatim"):
                self.add(at, f"invalid additional property: {key}")
        text = obj.get("text")
        if not isinstance(text, str):
            self.add(at, "missing required field: text")
            return ""
        if not text:
            self.add(f"{at}/text", "must be more than 0 characters")
        elif len(text) > limit:
            self.add(f"{at}/text", f"must be less than {limit + 1} characters")
        return text

    def sdk(self, model: Any, at: str) -> None:
        try:
            model.validate_json()
        except SlackObjectFormationError as exc:
            self.add(at, str(exc))

    def extra_keys(self, raw: dict[str, Any], model: Any, at: str) -> None:
        known = set(getattr(model, "attributes", ()) or ()) | {"type"}
        for key in raw:
            if key not in known:
                self.add(at, f"invalid additional property: {key}")

    def element(self, raw: Any, at: str) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            self.add(at, "must provide an object with a type")
            return
        try:
            model = BlockElement.parse(raw)
        except Exception:  # noqa: BLE001 - slack-sdk raises assorted errors on malformed input
            model = None
        if model is None:
            self.add(f"{at}/type", f"unsupported type: {raw['type']}")
            return
        self.extra_keys(raw, model, at)
        self.sdk(model, at)
        if raw["type"] == "button":
            self.text(raw.get("text"), f"{at}/text", 75, plain_only=True)
            if "url" in raw and not is_slack_url(raw["url"]):
                self.add(f"{at}/url", "must be a valid http(s) URL of at most 3000 characters")
            if len(str(raw.get("value", ""))) > 2000:
                self.add(f"{at}/value", "must be less than 2001 characters")
            if raw.get("style") not in (None, "primary", "danger"):
                self.add(f"{at}/style", f"unsupported style: {raw.get('style')}")
        elif raw["type"] == "image" and not is_slack_url(raw.get("image_url")) and "slack_file" not in raw:
            self.add(f"{at}/image_url", "must be a valid http(s) URL of at most 3000 characters")
        if len(str(raw.get("action_id", ""))) > ID_CHARS:
            self.add(f"{at}/action_id", f"must be less than {ID_CHARS + 1} characters")

    def block(self, raw: Any, at: str, surface: Surface) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            self.add(at, "must provide an object with a type")
            return
        kind = raw["type"]
        try:
            model = Block.parse(raw)
        except Exception:  # noqa: BLE001
            model = None
        if model is None or kind not in SURFACE_BLOCKS[surface]:
            self.add(f"{at}/type", f"unsupported type: {kind}")
            return
        self.extra_keys(raw, model, at)
        self.sdk(model, at)
        if len(str(raw.get("block_id", ""))) > ID_CHARS:
            self.add(f"{at}/block_id", f"must be less than {ID_CHARS + 1} characters")
        getattr(self, f"_{kind}", lambda raw, at: None)(raw, at)

    def _section(self, raw: dict[str, Any], at: str) -> None:
        fields = raw.get("fields")
        if raw.get("text") is None and not fields:
            self.add(at, "must provide either text or fields")
        if raw.get("text") is not None:
            self.text(raw["text"], f"{at}/text", 3000)
        if fields is not None:
            if not isinstance(fields, list) or not 1 <= len(fields) <= 10:
                self.add(f"{at}/fields", "must provide between 1 and 10 items")
            else:
                for i, field in enumerate(fields):
                    self.text(field, f"{at}/fields/{i}", 2000)
        if raw.get("accessory") is not None:
            self.element(raw["accessory"], f"{at}/accessory")

    def _header(self, raw: dict[str, Any], at: str) -> None:
        self.text(raw.get("text"), f"{at}/text", 150, plain_only=True)

    def _context(self, raw: dict[str, Any], at: str) -> None:
        elements = raw.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            self.add(f"{at}/elements", "must provide between 1 and 10 items")
            return
        for i, element in enumerate(elements):
            if isinstance(element, dict) and element.get("type") in TEXT_TYPES:
                self.text(element, f"{at}/elements/{i}", 3000)
            else:
                self.element(element, f"{at}/elements/{i}")

    def _actions(self, raw: dict[str, Any], at: str) -> None:
        elements = raw.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
            self.add(f"{at}/elements", "must provide between 1 and 25 items")
            return
        seen: set[str] = set()
        for i, element in enumerate(elements):
            self.element(element, f"{at}/elements/{i}")
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if isinstance(action_id, str):
                if action_id in seen:
                    self.add(f"{at}/elements/{i}/action_id", f"duplicate action_id: {action_id}")
                seen.add(action_id)

    def _image(self, raw: dict[str, Any], at: str) -> None:
        if not is_slack_url(raw.get("image_url")) and "slack_file" not in raw:
            self.add(f"{at}/image_url", "must be a valid http(s) URL of at most 3000 characters")

    def blocks(self, blocks: Any, at: str, surface: Surface) -> None:
        if not isinstance(blocks, list):
            self.add(at, "must provide an array")
            return
        if len(blocks) > MAX_BLOCKS[surface]:
            self.add(at, f"no more than {MAX_BLOCKS[surface]} items allowed")
        block_ids: set[str] = set()
        markdown = 0
        for i, block in enumerate(blocks):
            self.block(block, f"{at}/{i}", surface)
            if not isinstance(block, dict):
                continue
            block_id = block.get("block_id")
            if isinstance(block_id, str):
                if block_id in block_ids:
                    self.add(f"{at}/{i}/block_id", f"duplicate block_id: {block_id}")
                block_ids.add(block_id)
            if block.get("type") == "markdown":
                markdown += len(str(block.get("text", "")))
        if markdown > MARKDOWN_TOTAL:
            self.add(at, f"markdown blocks must total less than {MARKDOWN_TOTAL + 1} characters")


def block_problems(blocks: Any, surface: Surface = "message", at: str = "/blocks") -> list[Problem]:
    checker = _Checker()
    checker.blocks(blocks, at, surface)
    return checker.problems


def message_rejection(payload: dict[str, Any]) -> dict[str, Any] | None:
    """Why Slack would refuse this chat.* or response_url payload (a Web API error body), or None."""
    blocks = payload.get("blocks")
    if isinstance(blocks, str):  # form-encoded JSON that did not parse
        return rejection("invalid_blocks_format", [])
    if not blocks and not str(payload.get("text") or "") and not payload.get("attachments"):
        return rejection("no_text", [])
    if blocks:
        problems = block_problems(blocks)
        if problems:
            return rejection("invalid_blocks", problems)
    metadata = payload.get("metadata")
    if metadata is not None and not (isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str)
                                     and isinstance(metadata.get("event_payload"), dict)):
        return rejection("invalid_metadata_format", [])
    return None


def _plain(checker: _Checker, view: dict[str, Any], key: str, limit: int, required: bool) -> None:
    checker.text(view.get(key), f"/view/{key}", limit, plain_only=True, required=required)


def view_rejection(view: Any) -> dict[str, Any] | None:
    """Why Slack would refuse this views.open/update/publish `view` (Slack answers invalid_arguments), or None."""
    checker = _Checker()
    if not isinstance(view, dict):
        return rejection("invalid_arguments", [Problem("/view", "must provide an object")])
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return rejection("invalid_arguments", [Problem("/view/type", f"unsupported type: {kind}")])
    surface: Surface = "modal" if kind == "modal" else "home"
    for key in view:
        if key not in View.attributes:
            checker.add("/view", f"invalid additional property: {key}")
    if surface == "modal":
        _plain(checker, view, "title", 24, required=True)
        for key in ("submit", "close"):
            _plain(checker, view, key, 24, required=False)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and not view.get("submit"):
            checker.add("/view", "must define `submit` to use an `input` block in modals")
    for key, limit in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
        if len(str(view.get(key) or "")) > limit:
            checker.add(f"/view/{key}", f"must be less than {limit + 1} characters")
    checker.blocks(view.get("blocks", []), "/view/blocks", surface)
    if not checker.problems:
        try:
            View(**view).validate_json()
        except (SlackObjectFormationError, TypeError) as exc:
            checker.add("/view", str(exc))
    return rejection("invalid_arguments", checker.problems) if checker.problems else None
