"""Every answer's words, composed once from the core's results into typed answers.

Slack, the terminal and `tradebot try` all render what these functions return,
so a wording change here shows everywhere. Text stays raw: renderers escape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol

from bot.answers.commands import SEARCH_EXAMPLES, SUBCOMMANDS
from bot.answers.models import (
    Action,
    ArticleCard,
    ArticleList,
    Button,
    Buttons,
    Code,
    Divider,
    HelpAnswer,
    Highlighted,
    Icon,
    Line,
    Link,
    Note,
    Notice,
    Part,
    SearchPage,
    Section,
    SourcesSummary,
    Strong,
    UserRef,
    plain,
)
from bot.answers.text import truncate
from bot.corpus import Article, Corpus
from bot.search import SearchHit, SearchResponse

QUERY_CHARS = 300  # a restated query
TITLE_CHARS = 200
NAME_CHARS = 200
SENTENCE_CHARS = 600
LEAD_CHARS = 280
SNIPPET_CHARS = 1500
NOTE_CHARS = 500
PERSON_ARTICLES = 8
CHOICES_SHOWN = 10
CHOICE_BUTTONS = 5
SOURCES_SHOWN = 60
ALSO_SHOWN = 5  # other outlets named under one story

READ = "Read article"
SHARE = "Share in channel"
MORE = "More results"
EXPIRED = "That button has expired; please run the command again."
PEOPLE_PENDING = ("I'm still reading the articles to find who is who (this takes a minute on a large corpus). "
                  "Search works already; please ask again shortly.")
LOADING = "I'm still reading the articles (the bot has just started). Please try again in a minute."
UNAVAILABLE = "The article corpus is unavailable right now, so I can't answer. An admin can check the server log."
NOT_SET_UP = "Watch lists and the digest are not set up on this server."
STORE_UNAVAILABLE = ("That is temporarily unavailable: I can't reach my database right now. Nothing was changed; "
                     "please try again in a minute.")
BUTTONS_UNAVAILABLE = "Buttons are off for this answer: my database is not answering. Ask again in a minute for them."


class Outlet(Protocol):
    """Another outlet that carried the same story (the feed store's `OtherOutlet`)."""

    @property
    def publisher(self) -> str: ...
    @property
    def url(self) -> str: ...


AlsoReported = Callable[[str], Sequence[Outlet]]  # article id -> the other outlets of its story


def also_line(outlets: Sequence[Outlet]) -> tuple[Line, ...]:
    """"Also reported by A, B": each publisher linked only if its URL may be linked (renderers decide)."""
    if not outlets:
        return ()
    line: list[str | Link] = ["Also reported by "]
    for i, outlet in enumerate(outlets[:ALSO_SHOWN]):
        line += [", "] if i else []
        line.append(Link(outlet.url, truncate(outlet.publisher, NAME_CHARS)))
    return (tuple(line),)


def day(date: dt.date) -> str:
    return f"{date:%d %b %Y}"


def notice(*lines: Line, icon: Icon | None = None, summary: str | None = None) -> Notice:
    return Notice(summary=summary or " ".join(plain(line) for line in lines), icon=icon,
                  parts=(Section(tuple(lines)),))


def error(error_id: str) -> Notice:
    return notice(("Sorry, something went wrong on our side. (error id ", Code(error_id), ")"), icon=Icon.WARNING)


def loading() -> Notice:
    return notice((LOADING,), icon=Icon.WAIT)


def unavailable() -> Notice:
    return notice((UNAVAILABLE,), icon=Icon.WARNING)


def store_unavailable() -> Notice:
    """The database is down: what needed it was not done (and nothing is said to be)."""
    return notice((STORE_UNAVAILABLE,), icon=Icon.WARNING)


def expired() -> Notice:
    return notice((EXPIRED,))


def article_missing(article_id: str) -> Notice:
    return notice(("That article (", Code(truncate(article_id, 80)), ") is no longer in the corpus.",))


def query_too_long(typed_chars: int, searched: int) -> str:
    return f"Your query was {typed_chars:,} characters long; I searched its first {searched:,}."


def shared_note(shared_by: str | None) -> tuple[Part, ...]:
    return (Note((("Shared by ", UserRef(shared_by), "."),)),) if shared_by else ()


def share_button(key: str | None) -> tuple[Part, ...]:
    return (Buttons((Button(SHARE, Action.SHARE, key, primary=True),)),) if key is not None else ()


def or_list(words: Sequence[str]) -> Line:
    out: list[str | Strong] = []
    for i, word in enumerate(words):
        out += [", "] if i else []
        out.append(Strong(word))
    return tuple(out)


def _hit(n: int, hit: SearchHit, read: bool, also: AlsoReported | None = None) -> Section:
    snippet = hit.snippet if len(hit.snippet) <= SNIPPET_CHARS else truncate(hit.snippet, SNIPPET_CHARS)
    spans = tuple((s, e) for s, e in hit.highlights if e <= len(snippet))
    return Section(
        lines=((Strong(f"{n}."), " ", Link(hit.url, truncate(hit.title, TITLE_CHARS), strong=True)),
               (hit.publisher, " · ", day(hit.published)),
               *(also_line(also(hit.article_id)) if also else ()),
               (Highlighted(snippet, spans),)),
        button=Button(READ, Action.READ, hit.article_id) if read else None,
        quote_last=True,
    )


def search_page(response: SearchResponse, key: str | None, shared_by: str | None = None,
                notices: Sequence[str] = (), also: AlsoReported | None = None,
                reads: bool | None = None) -> SearchPage:
    """A page of results; `key` names the state behind the buttons (None: no share or more
    buttons); `reads`: the Read buttons, which need no state (by default: with a key)."""
    query = response.query
    notes: list[Line] = [(truncate(n, NOTE_CHARS),) for n in (*notices, *response.notices)]
    if response.corrected:
        notes.append(("Showing results for ", Strong(response.corrected), "."))
    parts: list[Part] = [Note(tuple(notes))] if notes else []
    if response.message:
        parts.append(Section(((response.message,),)))
        summary = f"Search: {query}"
    elif not response.results:
        line: Line = ("No articles match.",)
        if response.suggestions:
            line += (" Did you mean ", *or_list(response.suggestions), "?")
        parts.append(Section((line,)))
        summary = f"No results for {query}"
    else:
        parts += _hits(response, key, shared_by, key is not None if reads is None else reads, also)
        summary = f"Search: {query} — " + "; ".join(h.title for h in response.results)
    return SearchPage(summary=summary, heading=("Search: ", Strong(truncate(query, QUERY_CHARS))), icon=Icon.SEARCH,
                      parts=tuple(parts), query=query, total=response.total, shown=len(response.results))


def _hits(response: SearchResponse, key: str | None, shared_by: str | None, reads: bool,
          also: AlsoReported | None = None) -> list[Part]:
    parts: list[Part] = []
    first = response.offset + 1
    for n, hit in enumerate(response.results, start=first):
        parts += [Divider(), _hit(n, hit, reads, also)]
    last = response.offset + len(response.results)
    parts.append(Note((("Articles ", f"{first}–{last} of {response.total}."),)))
    parts += shared_note(shared_by)
    if key is not None:
        buttons = [Button(SHARE, Action.SHARE, key, primary=True)]
        if response.has_more:
            buttons.append(Button(MORE, Action.MORE, key))
        parts.append(Buttons(tuple(buttons)))
    return parts


def article_section(article: Article, with_button: bool = True) -> Section:
    return Section(lines=((Link(article.url, truncate(article.title, TITLE_CHARS), strong=True),),
                          (article.publisher, " · ", day(article.published)),
                          (truncate(article.lead, LEAD_CHARS),)),
                   button=Button(READ, Action.READ, article.id) if with_button else None)


def article_card(article: Article, *, duplicate: bool = False, note: str | None = None,
                 also: Sequence[Outlet] = (), heading: Line = ()) -> ArticleCard:
    """One article: title linked, publisher, date, lead, other outlets; `note` says what was unusual."""
    lines: tuple[Line, ...] = ((Link(article.url, truncate(article.title, TITLE_CHARS), strong=True),),
                               (article.publisher, " · ", day(article.published)),
                               (truncate(article.lead, LEAD_CHARS),))
    parts: list[Part] = [Section(lines + also_line(also))]
    if note:
        parts.append(Note(((truncate(note, NOTE_CHARS),),)))
    head = heading or ((Strong("Already in tradebot"),) if duplicate else (Strong("Added to tradebot"),))
    verb = "Already in tradebot" if duplicate else "Added to tradebot"
    return ArticleCard(summary=f"{plain(head) if heading else verb}: {article.title}", heading=head, icon=Icon.NEWS,
                       parts=tuple(parts), article_id=article.id, duplicate=duplicate)


def latest(articles: Sequence[Article]) -> ArticleList:
    if not articles:
        return ArticleList(summary="The corpus has no articles yet.",
                           parts=(Section((("The corpus has no articles yet.",),)),))
    return ArticleList(summary="Newest articles: " + "; ".join(a.title for a in articles), icon=Icon.NEWS,
                       heading=(Strong("The newest article" if len(articles) == 1 else f"The {len(articles)} newest articles"),),
                       parts=tuple(article_section(a) for a in articles), count=len(articles))


def sources(corpus: Corpus) -> SourcesSummary:
    articles, dates = corpus.articles, corpus.date_range()
    if dates is None:
        return SourcesSummary(summary="The corpus is empty.", parts=(Section((("The corpus has no articles yet.",),)),))
    first, last = dates
    lines = tuple((f"• {name}: {count}",) for name, count in list(corpus.publishers().items())[:SOURCES_SHOWN])
    parts: list[Part] = [Section(lines)]
    if corpus.skipped:
        parts.append(Note(((f"{len(corpus.skipped)} corpus files could not be read; ", Code("tradebot corpus"),
                            " lists them with reasons."),)))
    return SourcesSummary(summary=f"{len(articles)} articles", icon=Icon.BOOKS, articles=len(articles),
                          heading=(Strong(f"{len(articles)} articles"), f" from {day(first)} to {day(last)}"),
                          parts=tuple(parts))


def usage_lines(with_examples: bool = True) -> tuple[Line, ...]:
    lines: list[Line] = []
    for s in SUBCOMMANDS:
        line: Line = ("• ", Code(f"/trade {s.usage}"), f" — {s.summary}")
        lines.append(line + ((". Try ", Code(f"/trade {s.example}")) if with_examples else ()))
    return tuple(lines)


def search_usage() -> tuple[Line, ...]:
    examples: list[str | Code] = []
    for i, e in enumerate(SEARCH_EXAMPLES):
        examples += [", "] if i else []
        examples.append(Code(f"/trade {e}"))
    return ((Strong("Search the trade-negotiation news:"), " ", Code("/trade <words>")),
            ("Examples: ", *examples),
            ("Use ", Code('"quoted phrases"'), ", ", Code("-word"), " to exclude, ", Code("source:NAME"), ", ",
             Code("since:YYYY-MM-DD"), ", ", Code("until:YYYY-MM-DD"), ". Typos are fine."))


def help_page(note: str | None = None) -> HelpAnswer:
    parts: list[Part] = [Section(((note,),))] if note else []
    parts += [
        Section(search_usage()),
        Section(((Strong("More commands"),), *usage_lines())),
        Note((("Answers are only visible to you until you press ", Strong(SHARE),
               ". Mention @tradebot in a channel or thread to ask there."),)),
    ]
    return HelpAnswer(summary="How to use /trade", parts=tuple(parts))
