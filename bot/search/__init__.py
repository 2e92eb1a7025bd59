"""Passage search over the corpus (no Slack imports)."""

from bot.search.engine import SearchEngine, SearchHit, SearchResponse
from bot.search.index import SearchIndex, build_index
from bot.search.query import ParsedQuery, parse_query

__all__ = ["SearchEngine", "SearchHit", "SearchResponse", "SearchIndex", "build_index", "ParsedQuery", "parse_query"]
