"""The C allocator tuned for a long show: fewer malloc arenas for its many threads, and free
memory handed back to the system after a model swap (glibc), so its memory stays flat."""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Callable

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
    mallopt = _libc_function("mallopt", ctypes.c_int, ctypes.c_int)
    if mallopt is None:
        return False
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
    trim = _libc_function("malloc_trim", ctypes.c_size_t)
    return trim is not None and trim(0) == 1


def _libc_function(name: str, *argtypes: type) -> Callable[..., int] | None:
    """A function of the C library this process runs on (returning int), or None where
    it has none by that name (macOS, musl, Windows)."""
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (OSError, TypeError, AttributeError):  # TypeError: Windows needs a library name
        return None
    function.argtypes, function.restype = argtypes, ctypes.c_int
    return function
