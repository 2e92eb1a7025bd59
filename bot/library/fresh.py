"""Fresh articles in seconds: a small change to the corpus becomes a delta index, not a rebuild.

`apply_changes` reads only the files that changed since a snapshot, and returns the next
snapshot: the same corpus a full load would give (with the same articles, skips and
pending files), searched through the snapshot's main index plus a delta index of every
article the main index does not hold (`bot.search.delta`). It gives up (None: rebuild in
full) when the change is large, touches `people.yml`, or involves duplicates, whose
precedence only a full load settles. Deltas accumulate until `merge_due`; then the
library rebuilds in full, in the background, and saves the result. The people directory
is carried over meanwhile and rebuilt with the merge.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.common.urls import canonical_url
from bot.corpus import (
    Article,
    Corpus,
    Signature,
    SkippedFile,
    corpus_signature,
    identity_keys,
    newest_first,
    read_run,
    text_fingerprint,
)
from bot.corpus.loading import PENDING_REASON, held_files
from bot.library.snapshot import UNREAD, Snapshot, _mark_pending
from bot.search import SearchEngine
from bot.search.build import passage_terms
from bot.search.delta import build_delta
from bot.search.index import SearchIndex

log = logging.getLogger(__name__)

MAX_CHANGED_FILES = 2000  # a larger change is rebuilt in full
MERGE_ARTICLES = 2000  # a delta holding more articles than this is merged (full rebuild)
MERGE_SHARE = 0.02  # ... or more than this share of the main index's articles (and MERGE_FLOOR)
MERGE_FLOOR = 100
MERGE_SECONDS = 1800.0  # ... or older than this: the saved index should not lag far behind
URL_SLICE = 500  # canonical URLs worked out between two looks at the answers (~5 ms: a switch interval)
MAX_TEXT_CANDIDATES = 200  # articles checked for the same text as a new one, else rebuild in full
_DUPLICATE, _WHY = "duplicate of ", " (same id, URL or text)"  # as `bot.corpus.dedupe` words a skipped duplicate


@dataclasses.dataclass
class DeltaState:
    """What successive deltas over one main index share: when its first delta was made, and its
    canonical URLs (~1 s at 100k articles: worked out once, in the background after a start when
    answers allow, `Library._prepare_deltas`, else by the first delta)."""

    main: SearchIndex | None = None  # the main index the deltas are over, since `since`
    since: float = 0.0
    urls: dict[str, str] = dataclasses.field(default_factory=dict)  # canonical URL -> article id, of `urls_main`
    urls_main: SearchIndex | None = None
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def urls_of(self, main: SearchIndex, pause: Callable[[], None] = lambda: None) -> dict[str, str]:
        """`main`'s canonical URLs, worked out once per main index, URL_SLICE articles at a time with
        `pause` before each (the start's preparation waits while answers run: in one piece it would
        hold the interpreter for ~1 s at 100k articles)."""
        with self.lock:
            if self.urls_main is main:
                return self.urls
        urls: dict[str, str] = {}
        articles = main.articles
        for start in range(0, len(articles), URL_SLICE):
            pause()
            urls.update((canonical_url(a.url), a.id) for a in articles[start : start + URL_SLICE] if a.url)
        with self.lock:
            self.urls, self.urls_main = urls, main
        return urls

    def delta_over(self, main: SearchIndex) -> dict[str, str]:
        """A delta is made over `main`: its canonical URLs, and the clock of its first delta started."""
        with self.lock:
            if self.main is not main:
                self.main, self.since = main, time.monotonic()
        return self.urls_of(main)


def _changes(old: Signature, new: Signature) -> tuple[list[str], list[str]]:
    """Files new or changed (or unread before: still being written then), and files gone."""
    fresh = {name for name, _, _ in set(new) - set(old)}
    fresh |= {name for name, size, _ in old if size == UNREAD}
    names = {name for name, _, _ in new}
    return sorted(fresh & names), sorted({name for name, _, _ in old} - names)


def _same_text_in_main(main: SearchIndex, hidden: np.ndarray, article: Article) -> bool | None:
    """Whether a visible main article has this article's text; None when too costly to tell.
    The same text has the same terms, so only articles holding its rarest term are compared."""
    terms = set(passage_terms(article.body))
    ids = [i for i in map(main.term_id, terms) if i is not None]
    if not terms:
        return None
    if len(ids) < len(terms):
        return False  # a term the main index lacks: no main article has this text
    rarest = min(ids, key=lambda i: int(main.df[i]))
    owners = np.unique(main.passage_article[main.levels(rarest)[0]])
    owners = owners[~hidden[owners]]
    if owners.size > MAX_TEXT_CANDIDATES:
        return None
    fingerprint = text_fingerprint(article.body)
    return any(text_fingerprint(main.articles[i].body) == fingerprint for i in owners.tolist())


def apply_changes(snapshot: Snapshot, corpus_dir: Path, state: DeltaState, settle: float = 0.0,
                  abandon: threading.Event | None = None, signature: Signature | None = None) -> Snapshot | None:
    """The snapshot after the corpus's changes since `snapshot`, through a delta index; None when
    the change must be rebuilt in full (large, people.yml, duplicates involved). `signature`: the
    corpus's, when the caller has just worked it out (a file changed since is seen at the next check)."""
    started = time.perf_counter()
    signature = corpus_signature(corpus_dir) if signature is None else signature
    changed, removed = _changes(snapshot.signature, signature)
    if not changed and not removed:
        return None
    if len(changed) + len(removed) > MAX_CHANGED_FILES or any(not n.endswith(".md") for n in changed + removed):
        return None
    corpus = snapshot.corpus
    touched = set(changed) | set(removed)
    if any(s.reason.startswith(_DUPLICATE) and s.reason[len(_DUPLICATE):].removesuffix(_WHY) in touched
           for s in corpus.skipped):
        return None  # a file that hid a duplicate changed: which one wins is a full load's call
    run = read_run([corpus_dir / n for n in changed], settle, abandon, held_files(corpus) & frozenset(changed))
    pending = set(run.pending)
    gone = (touched - pending) | {n for n in pending if corpus.from_file(n) is None}  # (pending: keep the old)
    files = {n: i for n, i in corpus.files.items() if n not in gone}
    kept_ids = set(files.values())
    main = snapshot.search.index
    urls = state.delta_over(main)
    old_delta = snapshot.search.delta.index.articles if snapshot.search.delta else ()
    current = {id(a) for a in corpus.articles}
    hidden_now = np.fromiter((id(a) not in current or a.id not in kept_ids for a in main.articles), bool,
                             len(main.articles))
    still = [a for a in old_delta if a.id in kept_ids]
    seen_ids: set[str] = set()
    seen_urls = {canonical_url(a.url) for a in still if a.url}
    seen_texts = {text_fingerprint(a.body) for a in still}
    for article in run.articles:
        key_id, url, text = identity_keys(article)
        url_owner = urls.get(url) if url else None
        if (key_id in kept_ids or key_id in seen_ids or (url and url in seen_urls) or text in seen_texts
                or (url_owner is not None and url_owner in kept_ids)
                or _same_text_in_main(main, hidden_now, article) is not False):
            return None  # a duplicate (or maybe one): the first file in name order wins, which a full load settles
        seen_ids.add(key_id)
        seen_texts.add(text)
        if url:
            seen_urls.add(url)
    files.update(zip(run.names, (a.id for a in run.articles)))
    by_id = {a.id: a for a in corpus.articles if a.id in kept_ids}
    by_id.update((a.id, a) for a in run.articles)
    articles = newest_first(list(by_id.values()))
    skipped = [s for s in corpus.skipped if s.path not in touched] + run.skipped
    skipped += [SkippedFile(path=n, reason=PENDING_REASON) for n in sorted(pending) if corpus.from_file(n) is None]
    new_corpus = Corpus.model_construct(articles=tuple(articles), files=files, pending=tuple(sorted(pending)),
                                        skipped=tuple(sorted(skipped, key=lambda s: s.path)))
    hidden = np.fromiter((by_id.get(a.id) is not a for a in main.articles), bool, len(main.articles))
    in_main = {id(a) for a, h in zip(main.articles, hidden.tolist()) if not h}
    delta_articles = [a for a in articles if id(a) not in in_main]
    engine = SearchEngine(main, build_delta(main, delta_articles), hidden)
    log.info("corpus changed: %d files read, %d removed; delta index of %d articles beside %d, in %.2fs",
             len(changed), len(removed), len(delta_articles), len(main.articles) - int(hidden.sum()),
             time.perf_counter() - started)
    return Snapshot(new_corpus, engine, snapshot.people, _mark_pending(signature, tuple(sorted(pending))),
                    snapshot.built_seconds)


def merge_due(snapshot: Snapshot, state: DeltaState) -> bool:
    """Whether the delta has grown (or aged) enough to rebuild the main index with it."""
    delta = snapshot.search.delta
    if delta is None:
        return False
    size = delta.index.article_count
    main = snapshot.search.index.article_count
    return (size > MERGE_ARTICLES or size > max(MERGE_FLOOR, MERGE_SHARE * main)
            or time.monotonic() - state.since > MERGE_SECONDS)
