"""The show's values as the pages see them: read when the controls move, sent as changes,
with a new tree when the namespace changes shape (hot-swap, patch) and the HUD figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livegan.control.oscquery.answers import Describe
from livegan.control.oscquery.tree import Node, build
from livegan.control.web import protocol

REFRESH_S = 0.5  # values are read at least this often even when the controls stand still
HUD_S = 0.5  # the HUD figures go out this often


@dataclass
class Update:
    """What one look at the show found: a new tree (None: same shape), changed values, and
    the HUD figures when they are due (None: not now)."""

    tree: Node | None
    changed: dict[str, list]
    hud: dict[str, Any] | None


class Values:
    """Reads the show's values (one `describe()`, only when the control state's version moved
    or every REFRESH_S) and says what changed since the last look. Used on one thread (the
    server's loop); `hud` and `tree_due` may be set from others.

    Args:
        describe: the namespace and its values now.
        version: the control state's version (Controls.version).
    """

    def __init__(self, describe: Describe, version: Callable[[], int]) -> None:
        self.describe = describe
        self.version = version
        self.hud: dict[str, Any] = {}  # the show's newest HUD figures
        self.tree_due = False  # send the tree again (a hot-swap finished)
        self.ranges: dict[str, list] = {}  # address -> numeric ranges (to count clipping)
        self._shape: tuple | None = None
        self._tree: Node | None = None
        self._values: dict[str, list] = {}
        self._version: int | None = None
        self._read_at = -1e9
        self._hud_at = -1e9

    def tree(self) -> Node:
        """The whole tree now (a page's hello); the first one is the baseline of changes."""
        entries, live = self.describe()
        tree = build(entries, live)
        if self._shape is None:
            self._shape, self._tree = protocol.shape(entries, live), tree
            self.ranges = protocol.tree_ranges(tree)
        if not self._values:
            self._values = protocol.tree_values(tree)
        return tree

    def known(self) -> Node:
        """The tree as last read (for LISTEN's address check)."""
        return self._tree if self._tree is not None else self.tree()

    def look(self, now: float) -> Update | None:
        """What changed since the last look (None: nothing to send)."""
        version = self.version()
        due = version != self._version or now - self._read_at >= REFRESH_S or self.tree_due
        hud = None
        if now - self._hud_at >= HUD_S and self.hud:
            self._hud_at, hud = now, dict(self.hud)
        if not due:
            return Update(None, {}, hud) if hud is not None else None
        self._version, self._read_at = version, now
        entries, live = self.describe()
        shape, tree = protocol.shape(entries, live), None
        if shape != self._shape or self.tree_due:
            full = build(entries, live)
            tree = full if self._shape is not None else None  # the first read: no news
            self._shape, self._tree, self.tree_due = shape, full, False
            self.ranges = protocol.tree_ranges(full)
        values = protocol.tree_values(build(protocol.value_entries(entries), live))
        changed = protocol.changes(self._values, values) if self._values else {}
        self._values = values
        if tree is None and not changed and hud is None:
            return None
        return Update(tree, changed, hud)
