"""Network bending's vocabulary: the ops on a layer's feature maps, their amounts and ranges,
and the text form `layer/op=amount[,amount]` (no torch here: controls, patches and the CLI
read it, and the engine's graphs are laid out by it).

A bend is (layer, op) -> amounts. Layers are named by the size of their feature maps
("4", "8", "16", ... see livegan.nets.taps); every op's amounts are 0 for "no change", so a
graph built with all of them in place renders exactly the unbent frame at all zeros.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Op:
    """One bend op: its amounts' names and ranges (values outside are clipped)."""

    name: str
    amounts: tuple[str, ...]  # what each amount means, in order
    low: tuple[float, ...]
    high: tuple[float, ...]
    doc: str

    @property
    def size(self) -> int:
        return len(self.amounts)


# In the order a layer applies them; each op's amounts take the next slots of a layer's row.
OPS: tuple[Op, ...] = (
    Op("ablate", ("share", "offset"), (0.0, 0.0), (1.0, 1.0),
       "zero a share of the channels (0..1); offset (0..1) picks which ones"),
    Op("invert", ("amount",), (0.0,), (1.0,), "flip each channel's values high <-> low (0..1)"),
    Op("erode", ("radius",), (0.0,), (3.0,), "shrink bright regions by 0..3 feature pixels"),
    Op("dilate", ("radius",), (0.0,), (3.0,), "grow bright regions by 0..3 feature pixels"),
    Op("translate", ("x", "y"), (-1.0, -1.0), (1.0, 1.0),
       "shift by -1..1 map widths (the map wraps around)"),
    Op("rotate", ("degrees",), (-180.0,), (180.0,), "rotate by -180..180 degrees"),
    Op("scale", ("zoom",), (-2.0,), (2.0,), "zoom by 2^zoom (-2..2: quarter to 4x, wraps)"),
    Op("flip", ("horizontal", "vertical"), (0.0, 0.0), (1.0, 1.0),
       "mix toward the mirrored map (0..1; 0.5 is symmetric)"),
    Op("noise", ("amount", "phase"), (0.0, -1000.0), (1.0, 1000.0),
       "mix toward noise of the map's own level (0..1); phase moves the noise"),
)
BY_NAME: dict[str, Op] = {op.name: op for op in OPS}
OP_NAMES: tuple[str, ...] = tuple(op.name for op in OPS)
SLOT: dict[str, int] = {}  # op -> its first slot in a layer's row of amounts
_slot = 0
for _op in OPS:
    SLOT[_op.name] = _slot
    _slot += _op.size
SLOTS = _slot  # amounts per layer (13)
del _slot, _op

Key = tuple[str, str]  # (layer, op)
Bends = dict[Key, tuple[float, ...]]  # the amounts of each bend that is on


@dataclass(frozen=True)
class Checked:
    """Amounts made safe: clipped to the op's range; what was wrong with them, if anything."""

    amounts: tuple[float, ...]
    clipped: int = 0  # amounts outside the range, clipped to it
    not_finite: int = 0  # NaN or infinite amounts, ignored (the amount stays as it was)
    extra: int = 0  # amounts past the op's count, ignored


def check(op: str, values: list[float], start: int = 0,
          current: tuple[float, ...] | None = None) -> Checked:
    """Amounts of `op` from `values` written from amount `start` on (the others keep
    `current`, else 0). Raises KeyError for an unknown op."""
    spec = BY_NAME[op]
    amounts = list(current or (0.0,) * spec.size)
    clipped = not_finite = 0
    for i, value in enumerate(values[: max(0, spec.size - start)], start):
        if not math.isfinite(value):  # a sensor's glitch: the amount stays where it was
            not_finite += 1
            continue
        low, high = spec.low[i], spec.high[i]
        if value < low or value > high:
            clipped += 1
            value = min(high, max(low, value))
        amounts[i] = float(value)
    return Checked(tuple(amounts), clipped, not_finite, max(0, len(values) + start - spec.size))


def is_identity(amounts: tuple[float, ...], op: str) -> bool:
    """Whether these amounts leave the map as it is (the op's first amount decides for the
    ops whose second amount only says which or where)."""
    if op in ("ablate", "noise"):
        return amounts[0] == 0.0
    return all(a == 0.0 for a in amounts)


def parse_bend(text: str) -> tuple[str, str, list[float]]:
    """"16/rotate=45" or "8/translate=0.2,-0.1" -> ("16", "rotate", [45.0]).

    Raises:
        ValueError: with a sentence saying what is wrong.
    """
    head, eq, tail = text.partition("=")
    layer, slash, op = head.strip().partition("/")
    if not eq or not slash or not layer or not tail.strip():
        raise ValueError(f"bend {text!r}: write layer/op=amount, e.g. 16/rotate=45 or "
                         "8/translate=0.2,0")
    if op not in BY_NAME:
        raise ValueError(f"bend {text!r}: unknown op {op!r}; ops are {', '.join(OP_NAMES)}")
    try:
        values = [float(v) for v in tail.split(",")]
    except ValueError:
        raise ValueError(f"bend {text!r}: amounts are numbers separated by commas") from None
    if len(values) > BY_NAME[op].size:
        raise ValueError(f"bend {text!r}: {op} takes {BY_NAME[op].size} amount(s) "
                         f"({', '.join(BY_NAME[op].amounts)})")
    return layer, op, values


def describe_ops() -> list[str]:
    """One line per op: name, amounts with ranges, what it does (docs, `livegan osc`)."""
    lines = []
    for op in OPS:
        amounts = " ".join(f"{a} {lo:g}..{hi:g}" for a, lo, hi in zip(op.amounts, op.low, op.high))
        lines.append(f"{op.name:9s} {amounts:32s} {op.doc}")
    return lines
