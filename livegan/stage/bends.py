"""The render side of network bending: the bends asked for reach the engine playing, once a
frame, before it renders (and again on a hot-swap, so a new model plays bent too)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from livegan.engine import Engine
from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)


class StageBends:
    """Hands the newest bends to the engine when they, or the engine, changed.

    The control side replaces its bends mapping on every write and never changes one it
    handed out, so "changed" is an identity test: nothing is compared or copied per frame.
    """

    def __init__(self) -> None:
        self.applied: Mapping | None = None  # the bends the engine has now
        self.engine: Engine | None = None  # the engine they were given to
        self.errors = 0  # bends an engine refused (the frame renders unbent)
        self._ratelog = RateLimitedLog(log)

    def apply(self, engine: Engine, bends: Mapping) -> None:
        """Give `engine` the bends `bends` ((layer, op) -> amounts) unless it has them."""
        if bends is self.applied and engine is self.engine:
            return
        self.applied, self.engine = bends, engine
        try:
            engine.set_bends(bends)
        except Exception as exc:  # noqa: BLE001 - a bend never stops the show
            self.errors += 1
            self._ratelog.error("bend", "bends not applied, rendering unbent: %s", exc)
            engine.set_bends({})
