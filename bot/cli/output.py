"""How commands print for scripts: one JSON document per line on stdout."""

from __future__ import annotations

import json


def print_json(data: object) -> None:
    """One line of JSON (non-ASCII kept readable; dates and paths as strings)."""
    print(json.dumps(data, ensure_ascii=False, default=str), flush=True)
