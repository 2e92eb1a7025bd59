"""The live corpus: news feeds and single pages fetched safely, turned into corpus articles.

Slack-free: `FeedService` (store, fetcher, ingester from the settings) and `FeedPoller` are what
the command line, `tradebot run` and the Slack commands use.
"""

from bot.feeds.fetch import Fetcher, FetchError, FetchLimits
from bot.feeds.models import AddRefused, EntryOutcome, FeedReport
from bot.feeds.safety import ALLOW_SETTING, StaticResolver, UnsafeURL, check_url
from bot.feeds.store import FeedRecord, FeedStore, OtherOutlet

__all__ = ["ALLOW_SETTING", "AddRefused", "EntryOutcome", "FeedRecord", "FeedReport", "FeedStore", "FetchError",
           "FetchLimits", "Fetcher", "OtherOutlet", "StaticResolver", "UnsafeURL", "check_url"]
