"""Ingest: page captures become clean articles, with furniture and teasers removed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.corpus import Corpus
from bot.corpus.ingest import CaptureSource, clean_capture, ingest_file, ingest_seeds

FURNITURE = [
    "Leave a Comment", "What did you think of the article you just read?", "Try Our AI Features",
    "No comments yet", "Related Articles", "Cryptopolitan Academy", "Disclaimer", "placeholder",
    "Bitcoin Outlook", "Crypto whales", "Alibaba staff worked", "Nairobi startup", "publisher img",
    "Reporter Hankyung Han", "Photo: Jeenah Moon", "goTop", "Explore what Daily8 AI can do",
    # The four unrelated briefs after the Taipei Times story are dropped.
    "PERSISTENT RUMORS", "Nissan Motor Co", "domestically made artificial intelligence", "MSCI",
]

MAIN_STORIES = {
    "Taipei Times": (
        "https://www.taipeitimes.com/News/biz/archives/2025/04/09/2003834847", dt.date(2025, 4, 9),
        "US Secretary of the Treasury Scott Bessent said there’s the potential",
        "because of its importance as an American military as well as economic ally.",
    ),
    "Cryptopolitan (via Mitrade)": (
        "https://www.mitrade.com/insights/news/live-news/article-3-783720-20250426", dt.date(2025, 4, 26),
        "US Treasury Secretary Scott Bessent said early talks with Japan and South Korea",
        "Japan could be facing real pressure to give ground in the talks.",
    ),
    "AFP (via Daily8)": (
        "https://www.channelnewsasia.com/world/treasury-chief-returns-us-china-trade-talks-ongoing-5173321",
        dt.date(2025, 6, 11),
        "LONDON: US Treasury Secretary Scott Bessent on Tuesday described",
        "which includes Commerce Minister Wang Wentao and China International Trade Representative Li Chenggang.",
    ),
    "FinanceJumps": (
        "https://financejumps.com/treasury-secretary-signals-major-us-china-trade-breakthrough", dt.date(2025, 10, 27),
        "Asian equity markets surged Monday as Treasury Secretary Scott Bessent",
        "fundamental restructuring of global trade relationships that’s been underway since 2018.",
    ),
    "Korea Economic Daily (via Bloomingbit)": (
        "https://en.bloomingbit.io/feed/news/90125", dt.date(2025, 6, 10),
        "FT reported that the \"United States\" could ease semiconductor export controls",
        "Vice Commerce Minister Li Chenggang were reported to have participated.",
    ),
}


def test_five_main_stories_with_first_and_last_paragraph(seed_corpus: Corpus) -> None:
    assert len(seed_corpus.articles) == 5
    by_publisher = {a.publisher: a for a in seed_corpus.articles}
    for publisher, (url, published, first, last) in MAIN_STORIES.items():
        article = by_publisher[publisher]
        assert article.url == url
        assert article.published == published
        assert first in article.paragraphs[0]
        assert article.paragraphs[-1].endswith(last)  # the story's own last sentence: nothing after it


def test_no_page_furniture_survives(seed_corpus_dir: Path) -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in seed_corpus_dir.glob("*.md"))
    for line in FURNITURE:
        assert line not in text, line


def test_headline_from_capture_and_not_repeated_in_body(seed_corpus: Corpus) -> None:
    afp = next(a for a in seed_corpus.articles if a.publisher.startswith("AFP"))
    assert afp.title == "US-China trade talks continue despite early departure of US Treasury chief"
    assert afp.title not in afp.paragraphs
    taipei = next(a for a in seed_corpus.articles if a.publisher == "Taipei Times")
    assert taipei.title.startswith("Bessent sees potential")  # from sources.json: no headline in capture


def test_unicode_is_kept_faithfully(seed_corpus: Corpus) -> None:
    text = "\n".join(a.body for a in seed_corpus.articles)
    for fragment in ["“productive,”", "there’s", "40% effective tariff levels—roughly", "$350 billion", "145 per cent"]:
        assert fragment in text


def test_ingest_is_deterministic(tmp_path: Path) -> None:
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    first = ingest_seeds(seeds, tmp_path / "a")
    second = ingest_seeds(seeds, tmp_path / "b")
    again = ingest_seeds(seeds, tmp_path / "a")
    assert not any(r.written for r in again)
    files_a = sorted((tmp_path / "a").iterdir())
    assert [p.name for p in files_a] == sorted(p.name for p in (tmp_path / "b").iterdir())
    for path in files_a:
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()
    assert [r.article_id for r in first] == [r.article_id for r in second]


def test_rules_work_on_a_new_capture(tmp_path: Path) -> None:
    capture = "\n".join([
        "Tariff truce extended by ninety days",
        "Source Example Wire",
        "Officials in Geneva said on Monday the tariff truce would be extended.",
        "Photo: A Photographer, Example Wire",
        "Tariff truce extended by ninety days",
        "The extension gives negotiators more time, analysts said.",
        "Leave a Comment",
        "Some teaser for another story that should never appear in the article body at all.",
    ])
    cleaned = clean_capture(capture)
    assert cleaned.title == "Tariff truce extended by ninety days"
    assert cleaned.paragraphs == [
        "Officials in Geneva said on Monday the tariff truce would be extended.",
        "The extension gives negotiators more time, analysts said.",
    ]
    path = tmp_path / "capture.txt"
    path.write_text(capture, encoding="utf-8")
    report = ingest_file(path, CaptureSource(publisher="Example Wire", published=dt.date(2025, 7, 1)), tmp_path / "c")
    assert report.error is None and report.kept == 2
    written = (tmp_path / "c" / f"{report.article_id}.md").read_text(encoding="utf-8")
    assert written.startswith("---\nid: 2025-07-01-tariff-truce-extended-by-ninety-days\n")
    assert "published: 2025-07-01\n" in written and "url:" not in written


def test_capture_without_publisher_is_reported_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("A headline here\nSome body text that is long enough.", encoding="utf-8")
    report = ingest_file(path, CaptureSource(), tmp_path / "c")
    assert report.error and "publisher" in report.error
