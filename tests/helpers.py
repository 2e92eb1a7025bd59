"""Test helpers: write small articles in the corpus format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.corpus import Article, render_article


def write_article(corpus_dir: Path, article_id: str, title: str, body: list[str], *,
                  publisher: str = "Example Wire", url: str | None = None,
                  published: dt.date = dt.date(2025, 7, 1)) -> Article:
    article = Article(id=article_id, title=title, publisher=publisher, url=url, published=published,
                      paragraphs=tuple(body))
    (corpus_dir / f"{article_id}.md").write_text(render_article(article), encoding="utf-8")
    return article


def add_articles(corpus_dir: Path, n: int, start: dt.date = dt.date(2025, 7, 1)) -> list[Article]:
    """`n` distinct short articles about trade, one a day from `start`."""
    topics = ["steel", "soybean", "semiconductor", "rare earth", "shipping", "auto", "solar", "pharma",
              "aluminium", "lumber", "textile", "copper"]
    out = []
    for i in range(n):
        topic = topics[i % len(topics)]
        out.append(write_article(
            corpus_dir, f"extra-{i:03d}", f"Trade officials weigh {topic} tariffs, round {i}",
            [f"Trade negotiators met on day {i} to discuss {topic} tariffs and export controls.",
             f"Officials said talks on {topic} would continue next week, according to people briefed on them."],
            url=f"https://wire.example/{i}", published=start + dt.timedelta(days=i)))
    return out
