"""The article corpus: one Markdown file per article with YAML front matter.

`model` is what an article is, `files` the file format, `dedupe` when two files are
one article, `loading` a whole directory (bad files skipped with their reason, files
being written kept at their previous version), `ingest` raw captures, `text` the
normalisation everything that compares text shares.
"""

from bot.common.signature import Signature, corpus_signature
from bot.corpus.dedupe import Deduplicator, IdentityKeys, identity_keys, text_fingerprint
from bot.corpus.files import (
    CorpusUnavailable,
    FileChanging,
    corpus_files,
    parse_article,
    read_article,
    read_file,
    render_article,
)
from bot.corpus.loading import (
    FileRun,
    LoadAbandoned,
    combine,
    held_files,
    kept_versions,
    load_corpus,
    load_files,
    read_run,
)
from bot.corpus.model import Article, Corpus, SkippedFile, newest_first

__all__ = [
    "Article", "Corpus", "CorpusUnavailable", "Deduplicator", "FileChanging", "FileRun", "IdentityKeys", "LoadAbandoned",
    "Signature", "SkippedFile", "combine", "corpus_files", "corpus_signature", "held_files", "identity_keys", "kept_versions",
    "load_corpus", "load_files", "newest_first", "parse_article", "read_article", "read_file", "read_run", "render_article", "text_fingerprint",
]
