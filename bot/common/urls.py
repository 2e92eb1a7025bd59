"""The one URL rule: which URLs tradebot stores, links and fetches, and when two are the same page.

Every place that accepts, links or compares a URL asks this module, so the corpus loader,
the Slack renderer and the feed fetcher can never disagree about what a safe URL is.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

WEB_SCHEMES = ("http", "https")
MAX_URL_CHARS = 2000  # longer URLs are stored but never linked: Slack cannot hold them in `<url|label>`
_FORBIDDEN = set("<>|\"' \\^`{}")
# The ASCII characters `url_problem` refuses: the forbidden ones and those of categories C and Z
# (C0 controls, DEL, space). One C-fast search instead of a category look-up per character.
_ASCII_REFUSED_RE = re.compile(r"[\x00-\x20\x7f" + "".join(map(re.escape, sorted(_FORBIDDEN))) + "]")


def url_problem(url: str) -> str | None:
    """Why `url` may not be stored or linked (a reason a person can act on), or None when it may."""
    if url.isascii():
        found = _ASCII_REFUSED_RE.search(url)
        bad = found.group() if found else None
    else:
        bad = next((c for c in url if c in _FORBIDDEN or unicodedata.category(c)[0] in ("C", "Z")), None)
    if bad is not None:
        return f"URL contains a character that is not allowed ({bad!r})"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. a malformed IPv6 host
        return "malformed URL"
    if parts.scheme.lower() not in WEB_SCHEMES:
        return f"not an http(s) URL (scheme {parts.scheme.lower() + ':' if parts.scheme else 'missing'})"
    if not host:
        return "URL has no host"
    return None


def is_web_url(url: str | None) -> bool:
    """An absolute http(s) URL with a host and no character that could break out of Slack markup."""
    return bool(url) and url_problem(url or "") is None


def linkable_url(url: str | None) -> str | None:
    """The URL when it may be put in a Slack link (`<url|label>`), else None: shown unlinked instead."""
    if url is None or len(url) > MAX_URL_CHARS or not is_web_url(url):
        return None
    return url


def canonical_url(url: str) -> str:
    """The same page under small spelling differences: scheme, host case, `www.`, trailing slash,
    utm_ tags, fragment. The path and query keep their case: `/watch/AbC` is not `/watch/aBc`."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith("utm_")]
    path = parts.path.rstrip("/") or "/"
    scheme = "https" if parts.scheme.lower() in WEB_SCHEMES else parts.scheme.lower()
    return urlunsplit((scheme, parts.netloc.lower().removeprefix("www."), path, urlencode(sorted(query)), ""))
