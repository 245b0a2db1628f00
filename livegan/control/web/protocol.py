"""The page's WebSocket messages: client JSON parsed and checked, server JSON built (pure)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from livegan.control.oscquery.tree import Entry, Live, Node

MAX_MESSAGE = 64 * 1024  # bytes of one WebSocket message; larger: the connection is closed
MAX_ARGS = 1024  # arguments of one `osc` message
MAX_ADDRESS = 1024  # characters of an OSC address
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # patch and scene names: a file name, a TOML key
INT_RANGE = (-(2**63), 2**63 - 1)  # what an OSC argument can carry (int64)


class Refused(Exception):
    """A client message that is not acted on: `kind` is the counter it goes to (the
    server's `counts`), the text one sentence for the page."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Listen:
    """OSCQuery LISTEN (on) or IGNORE (off) of one address."""

    address: str
    on: bool


@dataclass(frozen=True)
class Osc:
    """An OSC message from the page, handled as a UDP one."""

    address: str
    args: tuple


@dataclass(frozen=True)
class Learn:
    """Learn a mapping onto `target` from the next MIDI or OSC message (None: cancel)."""

    target: str | None  # a patch `to`: "speed", "dir[3]", "bend[16/rotate]"
    value: str | int | float | None = None  # what a press sends (scene name, seed, mode)


@dataclass(frozen=True)
class Save:
    """Write the patch: as `name` in the patches folder, or (None) over the show's patch."""

    name: str | None


@dataclass(frozen=True)
class StoreScene:
    """Store the current values as scene `name` (in memory until saved)."""

    name: str


@dataclass(frozen=True)
class Pair:
    """A pairing code typed on the page."""

    code: str


Command = Listen | Osc | Learn | Save | StoreScene | Pair


def _refuse_constant(name: str) -> float:
    raise Refused("nonfinite", f"{name} is not a number the show takes")


def parse(text: str) -> Command:
    """One text frame -> the command it asks for.

    Raises:
        Refused: not JSON ("malformed"), NaN or infinity ("nonfinite"), an unknown type
            ("unknown"), or arguments that do not fit ("bad_args", "bad_name").
    """
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise Refused("malformed", "the message is nested too deeply") from None
    except ValueError as exc:
        raise Refused("malformed", f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(data, dict):
        raise Refused("malformed", "a message is a JSON object")
    if "COMMAND" in data:
        return _listen(data)
    kind = data.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise Refused("unknown", f"unknown message type {str(kind)[:40]!r}; types are "
                      f"{', '.join(_PARSERS)}")
    return parser(data)


def _listen(data: dict) -> Listen:
    command, address = data.get("COMMAND"), data.get("DATA")
    if command not in ("LISTEN", "IGNORE"):
        raise Refused("unknown", f"unknown COMMAND {str(command)[:40]!r}; LISTEN and IGNORE "
                      "are offered")
    return Listen(_address(address), command == "LISTEN")


def _address(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_ADDRESS \
            or any(ord(c) < 32 or c == "\x7f" or c in " #" for c in value):
        raise Refused("bad_args", f"{str(value)[:80]!r} is not an OSC address")
    return value


def _arg(value: object) -> object:
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if not INT_RANGE[0] <= value <= INT_RANGE[1]:
            raise Refused("bad_args", f"{value} does not fit an OSC integer")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):  # 1e400 reads as infinity
            raise Refused("nonfinite", "NaN and infinity are not numbers the show takes")
        return value
    raise Refused("bad_args", f"OSC arguments are numbers, strings or true/false, got "
                  f"{type(value).__name__}")


def _osc(data: dict) -> Osc:
    args = data.get("args", [])
    if not isinstance(args, list) or len(args) > MAX_ARGS:
        raise Refused("bad_args", f"args is a list of at most {MAX_ARGS} values")
    return Osc(_address(data.get("address")), tuple(_arg(a) for a in args))


def _learn(data: dict) -> Learn:
    if data.get("cancel") is True:
        return Learn(None)
    target, index, value = data.get("target"), data.get("index"), data.get("value")
    if not isinstance(target, str) or not target or len(target) > 80:
        raise Refused("bad_args", "learn needs a target such as \"speed\" or \"dir\"")
    if index is not None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 100000:
            raise Refused("bad_args", f"index is a whole number from 0, got {index!r}")
        target = f"{target}[{index}]"
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))
                              or (isinstance(value, str) and len(value) > 256)):
        raise Refused("bad_args", f"value is a name or a number, got {str(value)[:40]!r}")
    return Learn(target, value)


def check_name(value: object, what: str) -> str:
    """A patch or scene name: letters, digits, - and _ (a file name and a TOML key)."""
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise Refused("bad_name", f"{what} name {str(value)[:70]!r} refused: use 1 to 64 "
                      "letters, digits, - or _ (no / \\ or ..)")
    return value


def _save(data: dict) -> Save:
    name = data.get("name")
    return Save(None if name is None else check_name(name, "patch"))


def _scene(data: dict) -> StoreScene:
    return StoreScene(check_name(data.get("store"), "scene"))


def _pair(data: dict) -> Pair:
    code = data.get("code")
    if isinstance(code, int) and not isinstance(code, bool):
        code = f"{code:06d}"
    if not isinstance(code, str) or len(code) > 32:
        raise Refused("bad_args", "the pairing code is the 6 digits the show prints")
    return Pair(code.strip())


_PARSERS = {"osc": _osc, "learn": _learn, "save": _save, "scene": _scene, "pair": _pair}


# --- what the server sends ----------------------------------------------------------------

def dumps(message: Mapping[str, Any]) -> str:
    """A server message as compact JSON text."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False, default=str)


def error(message: str) -> str:
    return dumps({"type": "error", "message": message})


def value_entries(entries: Sequence[Entry]) -> list[Entry]:
    """The entries whose nodes may carry a VALUE (the latent's z nodes never do, and are
    the bulk of a big model's tree)."""
    return [e for e in entries if not e[0].startswith("/livegan/z")]


def tree_values(root: Node) -> dict[str, list]:
    """Every VALUE in an OSCQuery tree, by address."""
    found: dict[str, list] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if "VALUE" in node:
            found[node["FULL_PATH"]] = node["VALUE"]
        stack.extend(node.get("CONTENTS", {}).values())
    return found


def tree_ranges(root: Node) -> dict[str, list[tuple[float, float] | None]]:
    """Each address's numeric argument ranges (None: no range), to count values that the
    controls will clip."""
    found: dict[str, list[tuple[float, float] | None]] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        ranges = node.get("RANGE")
        if ranges and any("MIN" in r for r in ranges):
            found[node["FULL_PATH"]] = [(r["MIN"], r["MAX"]) if "MIN" in r and "MAX" in r
                                        else None for r in ranges]
        stack.extend(node.get("CONTENTS", {}).values())
    return found


def out_of_range(args: tuple, ranges: list[tuple[float, float] | None] | None) -> bool:
    """Whether a numeric argument lies outside its address's range."""
    for arg, bounds in zip(args, ranges or ()):
        if bounds is not None and isinstance(arg, (int, float)) and not isinstance(arg, bool) \
                and not bounds[0] <= arg <= bounds[1]:
            return True
    return False


def changes(old: Mapping[str, list], new: Mapping[str, list]) -> dict[str, list]:
    """The values in `new` that differ from (or are missing in) `old`."""
    return {address: value for address, value in new.items() if old.get(address) != value}


def shape(entries: Sequence[Entry], live: Live) -> tuple:
    """What the tree's shape depends on (not its values): a new shape, a new `tree`."""
    return (tuple(entries), live.z_dim, len(live.dirs), tuple(live.direction_names),
            tuple(live.scenes), tuple(live.labels), tuple(live.bend_layers))
