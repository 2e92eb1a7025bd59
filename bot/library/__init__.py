"""The loaded corpus with its search index and people directory, reloaded on change.

`snapshot` is one immutable state and how it is built, `saved` the saved index on
disk (in `mapped`'s memory-mapped layout), `fresh` a small change applied as a delta index,
`reload` the `Library` that holds the current snapshot and swaps in new ones,
`workers` the multi-process load of a large corpus, `people` the people directory's worker process
(which keeps what each article said between builds), `memory` heap settling after a build.
"""

from bot.library.reload import SETTLE_SECONDS, Library
from bot.library.saved import CACHE_VERSION, load_saved, open_snapshot, save_snapshot
from bot.library.snapshot import Snapshot, build_snapshot, with_people_added
from bot.library.threads import off_loop

__all__ = ["CACHE_VERSION", "SETTLE_SECONDS", "Library", "Snapshot", "build_snapshot", "load_saved",
           "off_loop", "open_snapshot", "save_snapshot", "with_people_added"]
