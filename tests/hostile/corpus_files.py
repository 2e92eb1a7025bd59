"""Write hostile articles and people.yml entries as files, the way an editor or a feed would."""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hypothesis import strategies as st

from tests.hostile.strategies import hostile_text, with_token

URL_CHARS = string.ascii_letters + string.digits + "-._~:/?#[]@!$&()*+,;=%"


@dataclass
class HostileArticle:
    title: str
    publisher: str
    url: str | None
    paragraphs: list[str]
    role: str
    organization: str
    alias: str
    marker: str = ""  # a word only this article holds, to search for it
    person: str = ""  # a people.yml name mentioned in the body
    extra: dict[str, str] = field(default_factory=dict)


urls = st.one_of(
    st.none(),
    st.builds(lambda path: "https://news.example/" + path, st.text(st.sampled_from(URL_CHARS), max_size=80)),
    st.builds(lambda n: "https://news.example/" + "a" * n, st.integers(1900, 2900)),  # longer than a link can hold
    st.sampled_from(("https://evil.example|Reuters", "https://x.example/<!here>", "javascript:alert(1)",
                     "slack://open", "https://news.example/a b")),  # refused by the loader: the file is skipped
)
hostile_articles = st.builds(
    # Within the loader's limits (title <= 500, publisher <= 200 characters), so most files load.
    HostileArticle, title=with_token.map(lambda t: t[:480]), publisher=hostile_text.map(lambda t: t[:190]), url=urls,
    paragraphs=st.lists(st.one_of(with_token, hostile_text), min_size=1, max_size=4),
    role=with_token, organization=hostile_text, alias=hostile_text,
)


def write_hostile(corpus_dir: Path, n: int, article: HostileArticle) -> str:
    """Write article number `n` and its person; returns the file's id."""
    article.marker, article.person = f"zqmark{n}", f"Zed Quux{n}"
    article_id = f"hostile-{n}"
    meta: dict[str, object] = {"id": article_id, "title": article.title, "publisher": article.publisher}
    if article.url is not None:
        meta["url"] = article.url
    meta["published"] = dt.date(2030, 1, 1) + dt.timedelta(days=n)
    # A NUL byte makes the loader refuse the file as binary (tested elsewhere); YAML escapes it in the header.
    body = [p.replace("\x00", "") for p in article.paragraphs]
    body = [f"{article.person} said {article.marker} tariffs would rise. {body[0]}", *body[1:],
            f"Zed Quuy{n} agreed."]
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    (corpus_dir / f"{article_id}.md").write_text(f"---\n{front}---\n" + "\n\n".join(body) + "\n", encoding="utf-8")
    # Two people sharing a first name, so `who zed` offers a choice (the pick-a-person buttons).
    people = {"people": [{"name": article.person, "role": article.role, "organization": article.organization,
                          "aliases": [article.alias]},
                         {"name": f"Zed Quuy{n}", "role": article.organization, "organization": article.role}]}
    (corpus_dir / "people.yml").write_text(yaml.safe_dump(people, allow_unicode=True), encoding="utf-8")
    return article_id
