"""Patch reloading: a patch file read again when it changes on disk."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from livegan.errors import PatchError
from livegan.patchfile.load import PatchConfig, load_patch

log = logging.getLogger(__name__)

RELOAD_SECONDS = 0.5  # how often the watcher looks at the file's modification time


class PatchWatcher:
    """Reloads a patch when its file changes on disk; a broken edit keeps the old patch.

    Call `poll()` often (every frame is fine): it looks at the file's modification time
    and size at most every `interval` seconds, so it costs one stat() twice a second.

    Args:
        path: the patch file.
        on_reload: called with the new PatchConfig after a successful reload.
        interval: seconds between two looks at the file.
        clock: monotonic time in seconds (tests pass their own).
    """

    def __init__(self, path: str | Path, on_reload: Callable[[PatchConfig], None],
                 interval: float = RELOAD_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.on_reload = on_reload
        self.interval = interval
        self.clock = clock
        self.error: str | None = None  # why the last edit was refused (None: it loaded)
        self.reloads = 0
        self._signature = self._stat()
        self._last_look = clock()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def poll(self, force: bool = False) -> PatchConfig | None:
        """Reload if the file changed; returns the new patch, or None (unchanged or broken)."""
        now = self.clock()
        if not force and now - self._last_look < self.interval:
            return None
        self._last_look = now
        signature = self._stat()
        if signature is None or signature == self._signature or signature[1] == 0:
            return None  # gone, unchanged, or an editor halfway through saving
        self._signature = signature
        try:
            patch = load_patch(self.path)
        except PatchError as exc:
            self.error = str(exc)
            log.error("%s; the previous patch keeps playing", exc)
            return None
        self.error = None
        self.reloads += 1
        self.on_reload(patch)
        log.info("reloaded patch %s (%d mappings, %d scenes)", self.path, len(patch.maps),
                 len(patch.scenes))
        return patch
