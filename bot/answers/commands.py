"""`/trade` text is parsed once, here, into a typed command; handlers never read raw text.

The subcommand table drives both the parser and the help text, so they cannot
drift apart. Subcommand words are matched fuzzily (`hwo greer` is `who greer`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.answers.text import decode_entities
from bot.corpus.text import strip_controls

MAX_TEXT = 4000  # longer text (a DM can hold 40,000) is cut; the answer says how long it was


@dataclass(frozen=True)
class Help:
    note: str | None = None


@dataclass(frozen=True)
class Search:
    query: str
    offset: int = 0
    typed_chars: int | None = None  # set when the text was longer than MAX_TEXT and cut


@dataclass(frozen=True)
class Who:
    name: str


@dataclass(frozen=True)
class Latest:
    count: int = 5


@dataclass(frozen=True)
class Sources:
    pass


@dataclass(frozen=True)
class Watch:
    topic: str
    instant: bool = False  # `--instant`: each new matching article is posted at once, not in the digest


@dataclass(frozen=True)
class Unwatch:
    topic: str


@dataclass(frozen=True)
class Watching:
    pass


@dataclass(frozen=True)
class DigestStatus:
    pass


@dataclass(frozen=True)
class DigestHere:
    """`/trade digest on|off`: this channel gets the daily digest, or stops getting it."""

    on: bool


@dataclass(frozen=True)
class AddPage:
    """`/trade add <url>`: fetch one article into the corpus."""

    url: str


@dataclass(frozen=True)
class Feeds:
    """`/trade feeds` (list), `feeds add <url>`, `feeds remove <url>`."""

    action: str = "list"  # "list" | "add" | "remove"
    url: str = ""


Command = (Help | Search | Who | Latest | Sources | Watch | Unwatch | Watching | DigestStatus | DigestHere | AddPage
           | Feeds)


@dataclass(frozen=True)
class Subcommand:
    word: str
    usage: str
    summary: str
    example: str
    takes_argument: bool | None  # None: optional (`latest [N]`)


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("who", "who <name>", "who someone in the news is, and where they appear", "who greer", True),
    Subcommand("latest", "latest [N]", "the newest articles", "latest 5", None),
    Subcommand("sources", "sources", "what the corpus holds, by publisher", "sources", False),
    Subcommand("watch", "watch <topic> [--instant]",
               "follow a topic in this channel's daily digest (`--instant`: post each new match at once)",
               "watch rare earths", True),
    Subcommand("unwatch", "unwatch <topic>", "stop following a topic", "unwatch rare earths", True),
    Subcommand("watching", "watching", "topics this channel follows", "watching", False),
    Subcommand("add", "add <url>", "add one article page to the corpus", "add https://example.com/news/tariffs", True),
    Subcommand("feeds", "feeds [add|remove <url>]", "the news feeds tradebot follows, and their status",
               "feeds", None),
    Subcommand("digest", "digest [on|off|status]",
               "the daily digest in this channel: start it, stop it, or when it last posted", "digest on", None),
    Subcommand("help", "help", "this message", "help", False),
)
SEARCH_EXAMPLES = ("tariffs china", '"rare earths" -nvidia', "bessent source:afp since:2025-06-01")
_WORDS = [s.word for s in SUBCOMMANDS]
_EXACT_ONLY = ("add", "feeds")  # words that fetch or change state are never guessed from a typo ("aid china")
_FUZZY_WORDS = [w for w in _WORDS if w not in _EXACT_ONLY]


def decode_text(text: str) -> str:
    """Slack entity-encodes `&<>`; decode once (only those), drop control characters."""
    return strip_controls(decode_entities(text or "")).strip()


_SLACK_LINK = re.compile(r"^<([^<>|]+)(?:\|[^<>]*)?>$")


def unwrap_link(text: str) -> str:
    """`<https://x|label>` or `<https://x>` (Slack's link markup, decoded) is `https://x`."""
    text = text.strip()
    match = _SLACK_LINK.match(text)
    return match.group(1).strip() if match else text


def _fuzzy_word(word: str) -> str | None:
    """A subcommand one typo away (a swap counts as one: `hwo` is `who`)."""
    if len(word) < 3:
        return None
    match = process.extractOne(word.lower(), _FUZZY_WORDS, scorer=OSA.distance, score_cutoff=1 if len(word) < 6 else 2)
    return match[0] if match else None


def parse_command(text: str) -> Command:
    """Parse raw Slack text (entity-encoded) into a command; user text is decoded here, once."""
    decoded = decode_text(text)
    typed = len(decoded) if len(decoded) > MAX_TEXT else None
    command = _parse(decoded[:MAX_TEXT])
    if typed is not None and isinstance(command, Search):
        return Search(command.query, typed_chars=typed)
    return command


def _parse(text: str) -> Command:
    if not text:
        return Help()
    head, _, rest = text.partition(" ")
    rest = rest.strip()
    word = head.lower()
    if word not in _WORDS:
        guess = _fuzzy_word(word)
        # A fuzzy subcommand needs the shape of one: `hwo greer` yes, `tarifs` (a search) no.
        spec = next((s for s in SUBCOMMANDS if s.word == guess), None)
        if spec is None or (spec.takes_argument is not None and spec.takes_argument != bool(rest)):
            return Search(text)
        word = guess or word
    if word == "help":
        return Help()
    if word == "who":
        return Who(rest) if rest else Help(note="Tell me whose name to look up, e.g. `/trade who greer`.")
    if word == "latest":
        try:
            count = int(rest) if rest else 5
        except ValueError:
            return Search(text)
        return Latest(max(1, min(count, 20)))
    if word == "sources":
        return Sources() if not rest else Search(text)
    if word in ("watch", "unwatch"):
        if not rest:
            return Help(note=f"Tell me which topic, e.g. `/trade {word} rare earths`.")
        if word == "unwatch":
            return Unwatch(rest[:100])
        words = rest.split()
        instant = "--instant" in (w.lower() for w in words)
        topic = " ".join(w for w in words if w.lower() != "--instant")
        if not topic:
            return Help(note="Tell me which topic, e.g. `/trade watch rare earths --instant`.")
        return Watch(topic[:100], instant=instant)
    if word == "add":
        if not rest:
            return Help(note="Tell me which page, e.g. `/trade add https://example.com/news/tariffs`.")
        return AddPage(unwrap_link(rest))
    if word == "feeds":
        action, _, url = rest.partition(" ")
        if rest.lower() in ("", "list", "status"):
            return Feeds()
        if action.lower() in ("add", "remove") and url.strip():
            return Feeds(action.lower(), unwrap_link(url))
        return Help(note="Use `/trade feeds`, `/trade feeds add <url>` or `/trade feeds remove <url>`.")
    if word == "watching":
        return Watching()
    if word == "digest":
        choice = rest.lower()
        if choice in ("on", "off"):
            return DigestHere(on=choice == "on")
        return DigestStatus() if choice in ("", "status") else Search(text)
    return Search(text)
