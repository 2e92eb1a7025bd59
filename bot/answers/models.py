"""Typed answers: what the bot says, as data, before any surface (Slack, terminal) renders it.

Every word a user sees is composed here or in `bot.answers.wording`, as raw text
(decoded once, never escaped). Inline parts say *what* a piece is (plain, strong,
code, a link to an article, a user or channel id), never how a surface marks it up,
so each renderer escapes each piece exactly once for its own field kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Icon(StrEnum):
    """A decoration before a heading; surfaces map it to an emoji (or nothing)."""

    SEARCH = "search"
    PERSON = "person"
    NEWS = "news"
    BOOKS = "books"
    WARNING = "warning"
    WAIT = "wait"


class Action(StrEnum):
    """What a button does; the Slack layer maps it to an action_id."""

    SHARE = "share"
    MORE = "more"
    READ = "read"
    PICK = "pick"
    PAGE = "page"


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Link:
    """An article's own URL with a label; renderers link it only if `bot.common.urls` allows."""

    url: str | None
    text: str
    strong: bool = False


@dataclass(frozen=True)
class UserRef:
    """A Slack user id (checked by the payload parser), e.g. who shared an answer."""

    id: str


@dataclass(frozen=True)
class ChannelRef:
    id: str


@dataclass(frozen=True)
class Highlighted:
    """Text with character spans to emphasise (matched words in a snippet)."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()


Inline = str | Strong | Code | Link | UserRef | ChannelRef | Highlighted
Line = tuple[Inline, ...]


def plain(line: Line) -> str:
    """The words of a line with no markup at all (fallback text, terminals, tests)."""
    out: list[str] = []
    for part in line:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, UserRef):
            out.append(f"@{part.id}")
        elif isinstance(part, ChannelRef):
            out.append(f"#{part.id}")
        else:
            out.append(part.text)
    return "".join(out)


@dataclass(frozen=True)
class Button:
    label: str
    action: Action
    value: str
    primary: bool = False
    name: str = ""  # distinct among the buttons of one group ("prev", "next", "0", "1", ...)


@dataclass(frozen=True)
class Section:
    """A paragraph of lines; `button` sits beside it."""

    lines: tuple[Line, ...]
    button: Button | None = None
    quote_last: bool = False  # the last line is a quoted passage


@dataclass(frozen=True)
class Note:
    """Small print: notices, counts, who shared it."""

    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


Part = Section | Note | Divider | Buttons


@dataclass(frozen=True)
class Answer:
    """A message: a heading, ordered parts, and a one-line summary for notifications."""

    summary: str
    heading: Line = ()
    icon: Icon | None = None
    parts: tuple[Part, ...] = ()
    in_channel: bool = False

    @property
    def text(self) -> str:
        """The answer in one plain line (what a notification shows)."""
        return self.summary


@dataclass(frozen=True)
class Notice(Answer):
    """A short answer in our own words (loading, expired, watch list changes, errors)."""


@dataclass(frozen=True)
class SearchPage(Answer):
    query: str = ""
    total: int = 0
    shown: int = 0


@dataclass(frozen=True)
class PersonCard(Answer):
    name: str = ""


@dataclass(frozen=True)
class PersonChoices(Answer):
    query: str = ""
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticleList(Answer):
    """`/trade latest`."""

    count: int = 0


@dataclass(frozen=True)
class SourcesSummary(Answer):
    articles: int = 0


@dataclass(frozen=True)
class ArticleCard(Answer):
    """`/trade add`, the *Add to tradebot* shortcut and instant alerts: one article."""

    article_id: str = ""
    duplicate: bool = False


@dataclass(frozen=True)
class FeedList(Answer):
    """`/trade feeds`."""

    count: int = 0


@dataclass(frozen=True)
class HelpAnswer(Answer):
    """`/trade help`, built from the subcommand table."""


@dataclass(frozen=True)
class ArticlePages:
    """One page of the Read-article modal: every paragraph is on exactly one page."""

    article_id: str
    title: str
    meta: Line
    paragraphs: tuple[str, ...]
    page: int
    pages: int
    page_line: str
    buttons: tuple[Button, ...] = ()
    window_title: str = "Article"
    close_label: str = "Close"


@dataclass(frozen=True)
class HomeSummary:
    """The App Home tab."""

    title: str
    parts: tuple[Part, ...] = field(default_factory=tuple)
