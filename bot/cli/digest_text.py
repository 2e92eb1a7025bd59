"""The digest as terminal text (`tradebot digest`'s dry run), from the same typed `Digest`
the Slack message is made from, in the same order and with the same content."""

from __future__ import annotations

from collections.abc import Sequence

from bot.corpus.text import strip_controls
from bot.digest.content import Digest, DigestItem, WatchedTopic


def plain(text: str) -> str:
    """Terminal-safe: no control characters (no escape sequences from an article reach the terminal)."""
    return strip_controls(text)


def _marked(snippet: str, spans: Sequence[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        if start >= last:
            out += [snippet[last:start], "**", snippet[start:end], "**"]
            last = end
    return plain("".join(out) + snippet[last:])


def _titled(title: str, url: str | None) -> str:
    return plain(title) + (f" ({plain(url)})" if url else "")


def _item(item: DigestItem) -> list[str]:
    lines = [_titled(item.title, item.url), f"{plain(item.publisher)} · {item.published:%d %b %Y}"]
    if item.lead:
        lines.append(plain(item.lead))
    if item.also:
        lines.append("Also reported by " + ", ".join(_titled(s.publisher, s.url) for s in item.also))
    return lines


def _topic(topic: WatchedTopic) -> list[str]:
    head = f"Watching “{plain(topic.topic)}”:"
    if not topic.hits:
        return [f"{head} nothing new."]
    return [head, *(f"• {_titled(h.title, h.url)}: {_marked(h.snippet, h.highlights)}" for h in topic.hits)]


def format_digest(digest: Digest) -> str:
    """The digest as terminal text, in the order and with the content of the Slack message."""
    title = f"Trade news digest — {digest.local_date:%A %d %B %Y}"
    lines = [title, "=" * len(title)]
    for item in digest.items:
        lines += [*_item(item), ""]
    if not digest.items:
        lines += ["Nothing new in the corpus since the last digest.", ""]
    if digest.more:
        lines += [f"…and {digest.more} more. Use `/trade latest 20` to see them.", ""]
    if digest.people:
        lines += ["In the news: " + ", ".join(plain(p.name) + (f" ({plain(p.role)})" if p.role else "")
                                               for p in digest.people), ""]
    for topic in digest.topics:
        lines += [*_topic(topic), ""]
    return "\n".join(lines).rstrip()
