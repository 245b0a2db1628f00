"""The bends a show asks for: (layer, op) -> amounts, written by OSC, mappings and scenes,
read once a frame by the render side. Bad input is counted, logged at a limited rate and
clipped; nothing here touches torch."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence

from livegan.bendops import BY_NAME, OP_NAMES, Bends, Key, check
from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

PROBLEMS = ("unknown_layer", "unknown_op", "clipped", "not_finite", "extra")


class BendControls:
    """The live bends, copy-on-write: `current()` hands out a mapping that is never changed
    afterwards, so the render thread reads it without a lock.

    Args:
        layers: the playing model's layer names (livegan.nets.taps); `set_layers` on a swap.
    """

    def __init__(self, layers: Sequence[str] = ()) -> None:
        self.layers: tuple[str, ...] = tuple(layers)
        self.counts = dict.fromkeys(PROBLEMS, 0)
        self._bends: Bends = {}
        self._lock = threading.Lock()
        self._ratelog = RateLimitedLog(log)

    def set_layers(self, layers: Sequence[str]) -> None:
        """A new model: keep the bends on layers it has too, drop the others (one line)."""
        with self._lock:
            self.layers = tuple(layers)
            kept = {k: v for k, v in self._bends.items() if k[0] in self.layers}
            gone = sorted({k[0] for k in self._bends} - {k[0] for k in kept})
            self._bends = kept
        if gone:
            log.info("bends on layers %s dropped: this model's layers are %s", ", ".join(gone),
                     ", ".join(self.layers))

    def current(self) -> Mapping[Key, tuple[float, ...]]:
        """The bends now on (the render side reads it once a frame)."""
        return self._bends

    def amounts(self, layer: str, op: str) -> tuple[float, ...]:
        """The amounts of one bend (zeros when it is off)."""
        bend = self._bends.get((layer, op))
        if bend is not None:
            return bend
        return (0.0,) * BY_NAME[op].size if op in BY_NAME else ()

    def known(self, layer: str, op: str) -> bool:
        """Whether this model has `layer` and `op` is an op; counted and logged when not."""
        if op not in BY_NAME:
            self._count("unknown_op", "unknown bend op %.40r; ops are %s", op,
                        ", ".join(OP_NAMES))
            return False
        if layer not in self.layers:
            self._count("unknown_layer", "this model has no layer %.40r to bend; its layers "
                        "are %s", layer, ", ".join(self.layers) or "none")
            return False
        return True

    def set(self, layer: str, op: str, values: Sequence[float], start: int = 0) -> bool:
        """Set amounts of one bend from amount `start` on (clipped to the op's ranges; NaN
        and infinities leave their amount as it was). False for an unknown layer or op, or
        no amounts."""
        if not values or not self.known(layer, op):
            return False
        with self._lock:
            checked = check(op, list(values), start, self._bends.get((layer, op)))
            bends = dict(self._bends)
            if all(a == 0.0 for a in checked.amounts):
                bends.pop((layer, op), None)
            else:
                bends[(layer, op)] = checked.amounts
            self._bends = bends
        for problem in ("clipped", "not_finite", "extra"):
            if getattr(checked, problem):
                self._count(problem, "bend %s/%s: amounts %.80r %s", layer, op, tuple(values),
                            {"clipped": "clipped to the op's range",
                             "not_finite": "not finite, ignored",
                             "extra": "past the op's count ignored"}[problem],
                            n=getattr(checked, problem))
        return True

    def clear(self) -> None:
        """Every bend off."""
        with self._lock:
            self._bends = {}

    def _count(self, problem: str, msg: str, *args: object, n: int = 1) -> None:
        self.counts[problem] += n
        self._ratelog.warning(problem, msg, *args)
