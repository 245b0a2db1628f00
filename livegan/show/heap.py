"""Keep a long show's memory flat: fewer malloc arenas for its many threads, and free
memory handed back to the system after a model swap (glibc)."""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

SHOW_ARENAS = 2  # malloc arenas a show's threads share
_M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)


def limit_malloc_arenas(arenas: int = SHOW_ARENAS) -> bool:
    """Cap the malloc arenas of threads started from now on; True where it took effect.

    glibc gives each new thread its own arena (up to 8 per core) and rarely hands their
    free memory back: a show that starts loader, encoder and MIDI threads over hours grew
    by a model's size at many hot-swaps, where two shared arenas stay flat. Respects an
    explicit ``MALLOC_ARENA_MAX``; elsewhere (macOS, musl, Windows) it does nothing.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, TypeError, AttributeError):  # TypeError: Windows needs a name
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    ok = mallopt(_M_ARENA_MAX, arenas) == 1
    if ok:
        log.debug("malloc arenas capped at %d", arenas)
    return ok


def release_free_memory() -> bool:
    """Hand the C allocator's free memory back to the system; True where it did anything.

    glibc keeps freed memory for reuse; after a hot-swap (the old model's weights, graph
    and buffers) that is tens of MB a show may never need again, and over days of swaps
    it adds up. ``malloc_trim`` returns it. Elsewhere (macOS, musl, Windows) a no-op.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, TypeError, AttributeError):
        return False
    trim.argtypes, trim.restype = (ctypes.c_size_t,), ctypes.c_int
    return trim(0) == 1
