"""Typed answers rendered to Slack message payloads, with slack-sdk's Block Kit models.

Every text field is produced by one function of `bot.slack.ui.mrkdwn` for its
field kind (mrkdwn, plain_text, the top-level `text`), and every message is cut to
fit Slack's limits before it leaves this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.answers import compose
from bot.answers.markup import laid_out
from bot.answers.models import Action, Answer, Button, Buttons, Divider, Icon, Line, Note, Notice, Part, Section
from bot.slack.ui.mrkdwn import fallback, mrkdwn_lines, plain_text

SECTION_CHARS = 2800  # Slack rejects 3,001; stay clear of it
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 12_000  # total block text; Slack's practical limit is about 13k
FALLBACK_CHARS = 3000  # top-level `text` (notifications); Slack's limit is about 4k
BUTTON_CHARS = 75
HEADER_CHARS = 150

# Button action_ids are BASE or BASE-SUFFIX (distinct within a block); listeners match ^BASE(-.+)?$.
ACTION_SHARE = "trade_share"
ACTION_MORE = "trade_more"
ACTION_READ = "trade_read"
ACTION_PICK = "trade_pick"
ACTION_MODAL_PAGE = "trade_modal_page"
ACTION_IDS = {Action.SHARE: ACTION_SHARE, Action.MORE: ACTION_MORE, Action.READ: ACTION_READ,
              Action.PICK: ACTION_PICK, Action.PAGE: ACTION_MODAL_PAGE}
EMOJI = {Icon.SEARCH: ":mag:", Icon.PERSON: ":bust_in_silhouette:", Icon.NEWS: ":newspaper:",
         Icon.BOOKS: ":books:", Icon.WARNING: ":warning:", Icon.WAIT: ":hourglass_flowing_sand:"}
CUT_NOTE = "Some of this answer was cut to fit in one Slack message."


@dataclass
class Message:
    """A message payload: blocks plus the escaped fallback Slack shows in notifications."""

    text: str
    blocks: list[dict] = field(default_factory=list)
    in_channel: bool = False

    def payload(self) -> dict:
        return {"text": self.text, "blocks": self.blocks}


def mrkdwn_object(text: str) -> MarkdownTextObject:
    """A mrkdwn text object of ready (escaped) text. `verbatim`: Slack adds no links or mentions of its
    own (bare URLs and #channel names in article text stay text); our `<url|label>` links still work."""
    return MarkdownTextObject(text=text or " ", verbatim=True)




def cut_mrkdwn(text: str, limit: int = SECTION_CHARS) -> str:
    """Ready mrkdwn cut to `limit`, never inside a `<…>` token or an `&…;` entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    if cut.rfind("&") > cut.rfind(";"):
        cut = cut[: cut.rfind("&")]
    return cut.rstrip() + "…"


def section(text: str) -> SectionBlock:
    """A section of ready mrkdwn (callers escaped it); prefer `render_part`."""
    return SectionBlock(text=mrkdwn_object(cut_mrkdwn(text)))


def context(text: str) -> ContextBlock:
    """A context line of ready mrkdwn (callers escaped it)."""
    return ContextBlock(elements=[mrkdwn_object(cut_mrkdwn(text))])


def header(text: str) -> HeaderBlock:
    """A header from raw text (escaped here)."""
    return HeaderBlock(text=PlainTextObject(text=plain_text(text, HEADER_CHARS)))


def button(label: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    """A button from a raw label (escaped here)."""
    return ButtonElement(text=PlainTextObject(text=plain_text(label, BUTTON_CHARS)), action_id=action_id,
                         value=value[:2000], style=style)


def action_buttons(buttons: Sequence[Button]) -> list[ButtonElement]:
    """Buttons of one block, with distinct action_ids (Slack rejects repeats with invalid_blocks)."""
    out: list[ButtonElement] = []
    used: set[str] = set()
    for i, b in enumerate(buttons):
        action_id = f"{ACTION_IDS[b.action]}-{b.name}" if b.name else ACTION_IDS[b.action]
        if action_id in used:
            action_id = f"{action_id}-{i}"
        used.add(action_id)
        out.append(button(b.label, action_id, b.value, style="primary" if b.primary else None))
    return out


def _text(lines: tuple[Line, ...], prefix: str = "", quote_last: bool = False) -> str:
    return prefix + mrkdwn_lines(lines, SECTION_CHARS - len(prefix), quote_last=quote_last)


def render_part(part: Part, prefix: str = "") -> Block:
    """One typed part as one block; `prefix` is ready mrkdwn (an emoji)."""
    if isinstance(part, Section):
        block = SectionBlock(text=mrkdwn_object(_text(part.lines, prefix, part.quote_last)))
        if part.button is not None:
            block.accessory = action_buttons([part.button])[0]
        return block
    if isinstance(part, Note):
        return ContextBlock(elements=[mrkdwn_object(_text(part.lines, prefix))])
    if isinstance(part, Divider):
        return DividerBlock()
    return ActionsBlock(elements=action_buttons(part.buttons))


def render_parts(parts: Sequence[Part], heading: Line = (), icon: Icon | None = None) -> list[Block]:
    prefix = f"{EMOJI[icon]} " if icon else ""
    return [render_part(part, prefix if with_icon else "") for part, with_icon in laid_out(parts, heading)]


def _block_text(block: dict) -> int:
    total = len(block.get("text", {}).get("text", "")) if isinstance(block.get("text"), dict) else 0
    for element in block.get("elements", []):
        if isinstance(element, dict):
            total += len(element.get("text", "") if isinstance(element.get("text"), str) else
                         element.get("text", {}).get("text", ""))
    return total


def fit(blocks: Sequence[Block], limit: int = MAX_MESSAGE_BLOCKS, keep_last: int = 0) -> list[dict]:
    """Serialise, then drop trailing body blocks until the payload fits Slack's block and size limits.

    The last `keep_last` blocks (the buttons) always survive; dropped content is
    replaced by one line saying so.
    """
    dicts = [b.to_dict() for b in blocks]
    tail = dicts[len(dicts) - keep_last:] if keep_last else []
    body = dicts[: len(dicts) - keep_last] if keep_last else dicts
    dropped = False
    while body and (len(body) + len(tail) + dropped > limit
                    or sum(map(_block_text, body + tail)) > MAX_MESSAGE_TEXT):
        body.pop()
        dropped = True
    if dropped:
        body.append(ContextBlock(elements=[mrkdwn_object(f"_{CUT_NOTE}_")]).to_dict())
    return body + tail


def render_message(answer: Answer) -> Message:
    """The Slack message for any typed answer."""
    blocks = render_parts(answer.parts, answer.heading, answer.icon)
    keep = 1 if answer.parts and isinstance(answer.parts[-1], Buttons) else 0
    return Message(text=_fallback_text(answer), blocks=fit(blocks, keep_last=keep), in_channel=answer.in_channel)


def _fallback_text(answer: Answer) -> str:
    """A notice's fallback is its own text (bold and code kept); other answers' is their summary."""
    if isinstance(answer, Notice) and len(answer.parts) == 1 and isinstance(answer.parts[0], Section):
        return mrkdwn_lines(answer.parts[0].lines, FALLBACK_CHARS)
    return fallback(answer.summary, FALLBACK_CHARS)


def notice_message(text: str) -> Message:
    """A short answer from raw text (escaped here)."""
    return render_message(compose.notice((text,)))


def error_message(error_id: str) -> Message:
    return render_message(compose.error(error_id))


def loading_message() -> Message:
    return render_message(compose.loading())


def without_action(payload_blocks: list[dict], action_id: str) -> list[dict]:
    """Drop one kind of button (e.g. *Share in channel* from an answer already in a channel)."""
    out = []
    for block in payload_blocks:
        if block.get("type") == "actions":
            elements = [e for e in block.get("elements", [])
                        if e.get("action_id") != action_id and not str(e.get("action_id", "")).startswith(action_id + "-")]
            if not elements:
                continue
            block = {**block, "elements": elements}
        out.append(block)
    return out
