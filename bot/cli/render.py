"""Plain-text rendering of answers for the terminal (the CLI); Slack gets `bot.slack.ui.blocks`."""

from __future__ import annotations

from bot.people import Person
from bot.search import SearchResponse

BOLD, RESET = "**", "**"


def mark(snippet: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in spans:
        out += [snippet[last:start], BOLD, snippet[start:end], RESET]
        last = end
    return "".join(out) + snippet[last:]


def format_search(response: SearchResponse) -> str:
    lines = [f"Search: {response.query}"]
    if response.corrected:
        lines.append(f"(showing results for: {response.corrected})")
    lines += response.notices
    if response.message:
        lines.append(response.message)
    elif not response.results:
        lines.append("No results.")
        if response.suggestions:
            lines.append("Did you mean: " + ", ".join(response.suggestions) + "?")
    for n, hit in enumerate(response.results, start=response.offset + 1):
        lines.append(f"\n{n}. {hit.title}")
        lines.append(f"   {hit.publisher} · {hit.published}" + (f" · {hit.url}" if hit.url else ""))
        lines.append(f"   {mark(hit.snippet, hit.highlights)}")
    if response.has_more:
        lines.append(f"\n({response.total - response.offset - len(response.results)} more articles match)")
    return "\n".join(lines)


def format_person(person: Person) -> str:
    described = ", ".join(x for x in (person.role, person.organization, person.country) if x)
    lines = [f"{person.name}" + (f" — {described}" if described else "")]
    if person.other_roles:
        lines.append("   also described as: " + "; ".join(person.other_roles))
    lines.append(f"   {person.mentions} mentions in {max(person.article_count, len(person.articles))} articles")
    for a in person.articles:
        lines.append(f"   - {a.title} ({a.published})" + (f" {a.url}" if a.url else ""))
        lines.append(f"     “{a.sentence}”")
    return "\n".join(lines)
