"""Rate-limited logging: a flood of the same complaint becomes one line every few seconds."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: Keys remembered at most; past this, expired keys are forgotten and, if the table is
#: still full, new keys share one slot (so hostile input cannot grow memory).
MAX_KEYS = 512
_OVERFLOW_KEY = "\0overflow"


class RateLimitedLog:
    """Log each key at most once per ``interval`` seconds, counting what was held back.

    The first message for a key is logged at once; later ones within the interval are
    only counted, and the next message logged for that key ends with
    "(and N more like it)". Safe to call from several threads.

    Args:
        logger: where the messages go (the caller's module logger).
        interval: seconds between two lines for the same key.
        clock: monotonic time source in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval < 0:
            raise ValueError(f"interval must be >= 0, got {interval}")
        self.logger = logger
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        # key -> [time of the last line logged (None: never), messages held back since]
        self._keys: dict[str, list[Any]] = {}

    def log(self, level: int, key: str, msg: str, *args: Any, **kwargs: Any) -> bool:
        """Log ``msg % args`` at ``level`` unless ``key`` was logged within the interval.

        Args:
            level: a logging level such as ``logging.WARNING``.
            key: what counts as "the same message" (e.g. "malformed").
            msg: a %-style format string, as for ``Logger.log``.
            *args: values for ``msg``.
            **kwargs: passed to ``Logger.log`` (``exc_info=True`` for example).

        Returns:
            True if a line was written, False if it was counted and held back.
        """
        if not self.logger.isEnabledFor(level):
            return False
        now = self._clock()
        with self._lock:
            entry = self._entry(key, now)
            if entry[0] is not None and now - entry[0] < self.interval:
                entry[1] += 1
                return False
            held_back = entry[1]
            entry[0], entry[1] = now, 0
        if held_back:
            msg = f"{msg} (and {held_back} more like it)"
        self.logger.log(level, msg, *args, **kwargs)
        return True

    def warning(self, key: str, msg: str, *args: Any, **kwargs: Any) -> bool:
        """Shorthand for ``log(logging.WARNING, key, msg, *args)``."""
        return self.log(logging.WARNING, key, msg, *args, **kwargs)

    def error(self, key: str, msg: str, *args: Any, **kwargs: Any) -> bool:
        """Shorthand for ``log(logging.ERROR, key, msg, *args)``."""
        return self.log(logging.ERROR, key, msg, *args, **kwargs)

    def held_back(self, key: str) -> int:
        """Messages for ``key`` counted but not yet written."""
        with self._lock:
            entry = self._keys.get(key)
            return entry[1] if entry else 0

    def _entry(self, key: str, now: float) -> list[Any]:
        """The bookkeeping slot of ``key``, making room when the table is full."""
        entry = self._keys.get(key)
        if entry is not None:
            return entry
        if len(self._keys) >= MAX_KEYS:
            self._forget_expired(now)
            if len(self._keys) >= MAX_KEYS:
                key = _OVERFLOW_KEY
                entry = self._keys.get(key)
                if entry is not None:
                    return entry
        entry = [None, 0]
        self._keys[key] = entry
        return entry

    def _forget_expired(self, now: float) -> None:
        """Drop keys whose interval has passed and that have nothing held back."""
        stale = [
            k
            for k, (t, n) in self._keys.items()
            if n == 0 and (t is None or now - t >= self.interval)
        ]
        for k in stale:
            del self._keys[k]
