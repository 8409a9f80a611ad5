"""The C allocator's share of the stack's memory (glibc; on other C libraries, nothing).

The stack allocates and frees a great deal from many threads (an execution's objects, each
request's), and keeps a little of it for ever (the tables' items) in between. glibc's malloc
gives threads up to eight arenas per core, and gives memory back to the system only from the
top of a heap: what was freed around a kept object stays resident. Measured with the soak
(`make soak`), that was most of the growth once the tables' items were packed
(local/patches/packed_items.py). So the stack's process uses at most two arenas, set before its
threads start, and the housekeeping hands free pages back after each full garbage collection.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

logger = logging.getLogger(__name__)
M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
ARENAS = 2


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def limit_arenas() -> bool:
    """At most ARENAS malloc arenas for the process: call before starting threads. Whether
    the C library took it."""
    libc = _glibc()
    if libc is None:
        return False
    taken = bool(libc.mallopt(M_ARENA_MAX, ARENAS))
    if not taken:
        logger.warning("malloc did not take M_ARENA_MAX=%d", ARENAS)
    return taken


def give_back() -> bool:
    """Returns the free pages of the heaps to the system. Whether any was returned."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
