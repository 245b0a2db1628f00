"""OSCQuery nodes: the OSC namespace as the JSON tree of the OSCQuery proposal, with values."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from livegan.bendops import OPS
from livegan.control.controls import MODES, NOISE_MODES, PARAMS

DIRECTION_LIMIT = 10.0  # the amounts the motion takes (control/motion.py LATENT_LIMIT)

Entry = tuple[str, str, str]  # address, argument types, what it does (as /livegan/query)
Node = dict[str, Any]

NO_VALUE, READ, WRITE, READ_WRITE = 0, 1, 2, 3  # ACCESS
#: Attributes a client may ask for alone (`GET /livegan/speed?VALUE`).
ATTRIBUTES = ("FULL_PATH", "CONTENTS", "TYPE", "ACCESS", "VALUE", "RANGE", "CLIPMODE",
              "DESCRIPTION")
#: What the namespace offers (HOST_INFO EXTENSIONS); answers.py turns LISTEN on where the web
#: server has its WebSocket (no PATH_* yet).
EXTENSIONS = {"ACCESS": True, "VALUE": True, "RANGE": True, "CLIPMODE": True,
              "DESCRIPTION": True, "TAGS": False, "UNIT": False, "CRITICAL": False,
              "LISTEN": False, "PATH_CHANGED": False, "PATH_RENAMED": False,
              "PATH_ADDED": False, "PATH_REMOVED": False}


@dataclass(frozen=True)
class Live:
    """The namespace as it is now: the model's sizes and names, and the current values."""

    params: dict[str, float] = field(default_factory=dict)  # speed, truncation, smooth, morph
    mode: str = "walk"
    dirs: list[float] = field(default_factory=list)  # direction amounts
    label: int = 0
    z_dim: int = 0
    direction_names: list[str] = field(default_factory=list)
    scenes: list[str] = field(default_factory=list)  # the patch's scenes
    scene: str | None = None  # the scene recalled last
    labels: list[str] = field(default_factory=list)  # a conditional model's class labels
    bend_layers: list[str] = field(default_factory=list)  # the playing model's bend layers
    bends: dict[tuple[str, str], tuple[float, ...]] = field(default_factory=dict)  # those on


def host_info(name: str, osc_port: int, osc_host: str | None) -> Node:
    """`GET /?HOST_INFO`: where and how to send OSC, and what this server offers."""
    info: Node = {"NAME": name, "OSC_PORT": osc_port, "OSC_TRANSPORT": "UDP",
                  "EXTENSIONS": dict(EXTENSIONS)}
    if osc_host and osc_host not in ("0.0.0.0", "::"):  # else: the address clients reached
        info["OSC_IP"] = osc_host
    return info


def build(entries: Sequence[Entry], live: Live, description: str = "livegan") -> Node:
    """The whole tree: the namespace's addresses (templates expanded for the playing model),
    then the patch's own (a patch address that is also a namespace one adds its text)."""
    root: Node = {"FULL_PATH": "/", "CONTENTS": {}, "DESCRIPTION": description}
    for path, types, what in entries:
        if "/{" in path:
            head = path[: path.index("/{")]
            expand = _bend_nodes if head == "/livegan/bend" else _expanded
            for node in expand(head, live):
                _place(root, node)
        else:
            _place(root, _method(path, types, what, live))
    return root


def find(root: Node, path: str) -> Node | None:
    """The node at `path` ("/livegan/speed"), or None."""
    node = root
    for part in [p for p in path.split("/") if p]:
        node = node.get("CONTENTS", {}).get(part)
        if node is None:
            return None
    return node


def _place(root: Node, node: Node) -> None:
    parts = [p for p in node["FULL_PATH"].split("/") if p]
    parent = root
    for depth, part in enumerate(parts[:-1], 1):
        contents = parent.setdefault("CONTENTS", {})
        parent = contents.setdefault(part, {"FULL_PATH": "/" + "/".join(parts[:depth])})
    contents = parent.setdefault("CONTENTS", {})
    old = contents.get(parts[-1])
    if old is None or "TYPE" not in old:
        contents[parts[-1]] = {**(old or {}), **node}
    else:  # the patch maps an address of the namespace too
        old["DESCRIPTION"] = f"{old.get('DESCRIPTION', '')}; {node.get('DESCRIPTION', '')}"


def _tags(types: str) -> str:
    """"f…" -> "f", "i [f]" -> "i", "s|i" -> "s", "[i]" -> "i", "" -> ""."""
    return re.sub(r"[^A-Za-z]", "", types.split("|")[0].split(" ")[0])


def _method(path: str, types: str, what: str, live: Live) -> Node:
    node: Node = {"FULL_PATH": path, "DESCRIPTION": what}
    name = path.rsplit("/", 1)[-1]
    if path in ("/livegan/dirs", "/wek/outputs"):
        node.update(TYPE="f" * len(live.dirs), ACCESS=READ_WRITE, VALUE=list(live.dirs))
    elif path == "/livegan/z":
        node.update(TYPE="f" * live.z_dim, ACCESS=WRITE)
    elif path.startswith("/livegan/") and name in live.params and name in PARAMS \
            and name != "noise":
        _, low, high = PARAMS[name]
        node.update(TYPE="f", ACCESS=READ_WRITE, VALUE=[live.params[name]],
                    RANGE=[{"MIN": low, "MAX": high}], CLIPMODE=["both"])
    elif path == "/livegan/noise":
        index = round(live.params.get("noise", 0.0))
        node.update(TYPE="s", ACCESS=READ_WRITE, VALUE=[NOISE_MODES[index]],
                    RANGE=[{"VALS": list(NOISE_MODES)}])
    elif path == "/livegan/space":
        node.update(TYPE="s", ACCESS=WRITE, RANGE=[{"VALS": ["z", "w"]}])
    elif path == "/livegan/mode":
        node.update(TYPE="s", ACCESS=READ_WRITE, VALUE=[live.mode], RANGE=[{"VALS": list(MODES)}])
    elif path == "/livegan/scene":
        node.update(TYPE="s", ACCESS=READ_WRITE if live.scene else WRITE,
                    RANGE=[{"VALS": list(live.scenes)}])
        if live.scene:
            node["VALUE"] = [live.scene]
    elif path == "/livegan/label":
        node.update(TYPE="i", ACCESS=READ_WRITE, VALUE=[live.label],
                    RANGE=[{"MIN": 0, "MAX": max(0, len(live.labels) - 1)}])
    else:
        tags = _tags(types)
        node.update(TYPE=tags or "N", ACCESS=WRITE if tags else NO_VALUE)
    return node


def _bend_nodes(head: str, live: Live) -> list[Node]:
    """/livegan/bend/{layer}/{op}: one node per layer of this model and op, with the op's
    amounts as arguments, their ranges, and the amounts now (zeros when the bend is off)."""
    return [{"FULL_PATH": f"{head}/{layer}/{op.name}", "TYPE": "f" * op.size,
             "ACCESS": READ_WRITE, "DESCRIPTION": f"bend layer {layer}: {op.doc}",
             "VALUE": list(live.bends.get((layer, op.name), (0.0,) * op.size)),
             "RANGE": [{"MIN": lo, "MAX": hi} for lo, hi in zip(op.low, op.high)],
             "CLIPMODE": ["both"] * op.size}
            for layer in live.bend_layers for op in OPS]


def _expanded(head: str, live: Live) -> list[Node]:
    """/livegan/z/{i} and /livegan/dir/{i|name}, one node per component of this model."""
    if head == "/livegan/z":
        return [{"FULL_PATH": f"{head}/{k}", "TYPE": "f", "ACCESS": WRITE,
                 "DESCRIPTION": f"latent component {k}"} for k in range(live.z_dim)]
    names = live.direction_names
    return [{"FULL_PATH": f"{head}/{k}", "TYPE": "f", "ACCESS": READ_WRITE, "VALUE": [value],
             "RANGE": [{"MIN": -DIRECTION_LIMIT, "MAX": DIRECTION_LIMIT}], "CLIPMODE": ["both"],
             "DESCRIPTION": f"amount along direction {k}"
             + (f" ({names[k]}; /livegan/dir/{names[k]} too)" if k < len(names) and names[k]
                else "")}
            for k, value in enumerate(live.dirs)]
