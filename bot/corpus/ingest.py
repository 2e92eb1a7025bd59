"""Turn raw page captures into clean articles.

The rules are general, so they work on the next capture someone drops in:
- *terminal markers* (comment boxes, "Related Articles", promos, disclaimers,
  reporter sign-offs) end the article: they and everything after them go;
- *furniture lines* (photo credits, "Source X", "placeholder") go wherever they are;
- *teaser runs*: excerpts of other stories cut off mid-sentence at the end of the
  page go, together with everything after the first of them;
- the headline is the first short line without a full stop, and repeats of it
  (the page often prints the title twice) are dropped.
Text is kept as it is, apart from whitespace.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from bot.corpus.files import render_article
from bot.corpus.model import Article, pack_body

TERMINAL_PATTERNS = [
    r"related (articles|stories|news|posts|content)",
    r"(more|recommended|popular|trending) (stories|articles|news|from .{1,40})",
    r"read (more|next|also)\b.{0,60}",
    r"try our ai features.*",
    r"leave a (comment|reply).*",
    r"comments?( \(\d+\))?",
    r"no comments yet.*",
    r"what did you think of (the|this) article.*",
    r"disclaimer:.*",
    r"publisher img",
    r"(sign up|subscribe) (for|to) (our|the) .*newsletter.*",
    r".{0,60}\bacademy: .*",
    r".*\blearn more",
    r"reporter [^.]{1,60}\S+@\S+",
    r"(copyright|©) .{0,120}",
    r"share (this|on) .{0,40}",
]
FURNITURE_PATTERNS = [
    r"(photo|image|picture|video|graphic|credit)s?( courtesy)?: .{1,120}",
    r"source:?( .{1,60})?",
    r"(by|author)[\s\xa0]+.{1,60}",
    r"placeholder|gotop|quote|advertisement|ad|sponsored|summary",
    r"\S+@\S+\.\w+",
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w* \d{1,2}, (\d{4}|\w{3})",
]
_TERMINAL_RE = re.compile(r"^(?:" + "|".join(TERMINAL_PATTERNS) + r")$", re.IGNORECASE)
_FURNITURE_RE = re.compile(r"^(?:" + "|".join(FURNITURE_PATTERNS) + r")$", re.IGNORECASE)
_SENTENCE_END = tuple(".!?…:\"'”’)") + ("—",)
_LABELS = {"source", "by", "author", "reporter", "publisher"}  # a label line whose value is the next line
TEASER_MIN_CHARS = 200  # a shorter unfinished line is a heading, not a cut-off excerpt


class CaptureSource(BaseModel):
    """What `sources.json` (or the command line) knows about a capture."""

    file: str | None = None
    title: str | None = None
    publisher: str | None = None
    url: str | None = None
    published: dt.date | None = None


@dataclass
class CleanedCapture:
    title: str | None
    paragraphs: list[str]
    dropped: list[str] = field(default_factory=list)
    teasers: list[str] = field(default_factory=list)


def _clean_line(line: str) -> str:
    return " ".join(unicodedata.normalize("NFC", line).split())


def _looks_like_headline(line: str) -> bool:
    return 10 <= len(line) <= 200 and not line.endswith((".", ",", ";", ":")) and not line.startswith(("“", '"', "-"))


def _is_unfinished(line: str) -> bool:
    return len(line) >= TEASER_MIN_CHARS and not line.rstrip().endswith(_SENTENCE_END)


def clean_capture(text: str, known_title: str | None = None) -> CleanedCapture:
    """Split a capture into headline, kept paragraphs, dropped furniture and teasers."""
    lines = [_clean_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    title = lines[0] if lines and _looks_like_headline(lines[0]) else None
    titles = {t.casefold() for t in (title, known_title) if t}
    kept: list[str] = []
    dropped: list[str] = []
    teasers: list[str] = []
    skip_next = False
    for index in range(1 if title else 0, len(lines)):
        line = lines[index]
        if skip_next:
            skip_next = False
            if len(line) < 60:
                dropped.append(line)
                continue
        if line.casefold() in _LABELS:
            dropped.append(line)
            skip_next = True
            continue
        if _TERMINAL_RE.match(line):
            dropped.extend(lines[index:])
            break
        if _is_unfinished(line):
            teasers.extend(lines[index:])
            break
        if _FURNITURE_RE.match(line) or line.casefold() in titles:
            dropped.append(line)
            continue
        kept.append(line)
    return CleanedCapture(title=title, paragraphs=kept, dropped=dropped, teasers=teasers)


def slugify(title: str, published: dt.date) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    slug = ""
    for word in words:
        if slug and len(slug) + len(word) + 1 > 70:
            break
        slug = f"{slug}-{word}" if slug else word[:70]
    slug = slug or "article"
    return f"{published.isoformat()}-{slug}"


class IngestReport(BaseModel):
    source_file: str
    article_id: str | None
    kept: int
    dropped: int
    teasers: int
    written: bool
    error: str | None = None


def capture_to_article(text: str, source: CaptureSource, *, source_file: str | None) -> tuple[Article, CleanedCapture]:
    cleaned = clean_capture(text, known_title=source.title)
    title = cleaned.title or source.title
    if not title:
        raise ValueError("no headline in the capture and no --title given")
    if not source.publisher:
        raise ValueError("publisher unknown (give --publisher)")
    if not source.published:
        raise ValueError("publication date unknown (give --published YYYY-MM-DD)")
    if not cleaned.paragraphs:
        raise ValueError("nothing left after removing page furniture")
    article = Article(
        id=slugify(title, source.published),
        title=title,
        publisher=source.publisher,
        url=source.url,
        published=source.published,
        source_file=source_file,
        body_utf8=pack_body(cleaned.paragraphs),
    )
    return article, cleaned


def write_article(article: Article, corpus_dir: Path) -> bool:
    """Write atomically; return whether the file changed (ingest twice = no change)."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    path = corpus_dir / f"{article.id}.md"
    text = render_article(article)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


def load_sources(seeds_dir: Path) -> dict[str, CaptureSource]:
    path = seeds_dir / "sources.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {entry["file"]: CaptureSource(**entry) for entry in data.get("seeds", []) if "file" in entry}


def ingest_file(path: Path, source: CaptureSource, corpus_dir: Path) -> IngestReport:
    try:
        text = path.read_bytes().decode("utf-8-sig")
        article, cleaned = capture_to_article(text, source, source_file=path.name)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return IngestReport(source_file=path.name, article_id=None, kept=0, dropped=0, teasers=0, written=False, error=str(exc))
    written = write_article(article, corpus_dir)
    return IngestReport(
        source_file=path.name,
        article_id=article.id,
        kept=len(cleaned.paragraphs),
        dropped=len(cleaned.dropped),
        teasers=len(cleaned.teasers),
        written=written,
    )


def ingest_seeds(seeds_dir: Path, corpus_dir: Path) -> list[IngestReport]:
    """Ingest every `*.txt` capture in `seeds_dir`, using `sources.json` where it knows more."""
    sources = load_sources(seeds_dir)
    return [
        ingest_file(path, sources.get(path.name, CaptureSource(file=path.name)), corpus_dir)
        for path in sorted(seeds_dir.glob("*.txt"))
    ]
