"""Giving memory freed by an index build back to the operating system.

A build allocates and frees a few hundred megabytes of short-lived objects. CPython
and glibc keep freed memory for reuse, so a long-running bot would otherwise stay
at its build-time peak; glibc's `malloc_trim` returns the free pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)


def release_free_memory() -> None:
    """Collect garbage, then hand free heap pages back (a no-op where libc is not glibc)."""
    gc.collect()
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)
