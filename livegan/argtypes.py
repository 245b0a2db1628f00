"""Argument types of the command line: text -> value, or argparse's one-line error.

Each is an argparse `type=`; a ValueError names the flag and the text, an
ArgumentTypeError says what was expected. Heavy modules load only when a flag needs them.
"""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def arch(text: str) -> str:
    """A generator architecture (--arch); an old name is taken as the name it has now."""
    from livegan.nets import OLD_ARCH_NAMES

    return _renamed("--arch", text, OLD_ARCH_NAMES)


def recipe(text: str) -> str:
    """A training recipe (--recipe); an old name is taken as the name it has now."""
    from livegan.train.recipes import OLD_RECIPE_NAMES

    return _renamed("--recipe", text, OLD_RECIPE_NAMES)


def _renamed(flag: str, text: str, old_names: dict[str, str]) -> str:
    new = old_names.get(text)
    if new is None:
        return text
    log.warning("%s %s is called %s now; using %s", flag, text, new, new)
    return new


def bend(text: str) -> tuple[str, str, list[float]]:
    from livegan.bendops import parse_bend

    try:
        return parse_bend(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def canvas(text: str) -> str | tuple[int, int]:
    from livegan.engine.canvas import parse_canvas

    try:
        value = parse_canvas(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return "off" if value is None else value


def size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not WIDTHxHEIGHT, e.g. 1280x720") from None
    if w < 16 or h < 16:
        raise argparse.ArgumentTypeError(f"window size {text} is too small")
    return w, h


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def port(text: str) -> int:
    """A TCP or UDP port, 0..65535 (0: a free one), as a patch's [osc] port is checked."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port: choose 0 (a free one) to "
                                         "65535")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


def seeds(text: str) -> tuple[int, ...]:
    """"1,2,3" or "1-8" or a mix: the seeds of a render."""
    found: list[int] = []
    try:
        for part in text.replace(" ", "").split(","):
            low, dash, high = part.partition("-")
            found += range(int(low), int(high) + 1) if dash and low else [int(part)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of seeds, e.g. 1,2,3 or 1-8") \
            from None
    if not found or len(found) > 10000:
        raise argparse.ArgumentTypeError(f"'{text}' gives {len(found)} seeds; give 1 to 10000")
    return tuple(found)


def grid(text: str) -> tuple[int, int]:
    try:
        rows, cols = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not ROWSxCOLUMNS, e.g. 4x4") from None
    if not (0 < rows <= 64 and 0 < cols <= 64):
        raise argparse.ArgumentTypeError(f"grid {text} must be 1x1 to 64x64")
    return rows, cols
