"""Passage search over the corpus (no Slack imports)."""

from bot.search.build import build_index
from bot.search.engine import SearchEngine, SearchHit, SearchResponse
from bot.search.index import SearchIndex
from bot.search.query import ParsedQuery, parse_query

__all__ = ["ParsedQuery", "SearchEngine", "SearchHit", "SearchIndex", "SearchResponse", "build_index", "parse_query"]
