"""The client patches in patches/clients parse, are wired consistently and speak livegan's OSC."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from livegan.control.osc.namespace import NAMESPACE

CLIENTS = Path(__file__).resolve().parent.parent / "patches" / "clients"
TELEMETRY = {"/livegan/fps", "/livegan/frame", "/livegan/heartbeat", "/livegan/model",
             "/livegan/error", "/livegan/beat", "/livegan/audio/level", "/livegan/audio/bands",
             "/livegan/audio/onset"}


def known(address: str) -> bool:
    """An address livegan receives (NAMESPACE) or sends (telemetry)."""
    if address in NAMESPACE or address in TELEMETRY:
        return True
    prefixes = [pattern.split("{")[0] for pattern in NAMESPACE if "{" in pattern]
    return any(address.startswith(p) and len(address) > len(p) for p in prefixes)


def addresses(text: str) -> set[str]:
    return set(re.findall(r"/livegan/[A-Za-z0-9_/]+", text))


def test_the_max_patcher_is_json_with_consistent_wiring():
    patcher = json.loads((CLIENTS / "livegan.maxpat").read_text())["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in patcher["boxes"]}
    for line in patcher["lines"]:
        (src, outlet), (dst, inlet) = line["patchline"]["source"], line["patchline"]["destination"]
        assert outlet < boxes[src]["numoutlets"] and inlet < boxes[dst]["numinlets"]
    texts = [b.get("text", "") for b in boxes.values()]
    assert "udpsend 127.0.0.1 12000" in texts and "udpreceive 9000" in texts
    assert sum(t.startswith("prepend /livegan/dir/") for t in texts) == 8
    used = addresses(" ".join(texts))
    assert {"/livegan/seed", "/livegan/scene", "/livegan/fps"} <= used
    assert all(known(a) for a in used), used


def test_the_pd_patch_is_pd_syntax_with_consistent_wiring():
    lines = (CLIENTS / "livegan.pd").read_text().splitlines()
    assert lines[0].startswith("#N canvas")
    assert all(line.startswith(("#N ", "#X ")) and line.endswith(";") for line in lines)
    objects = [line for line in lines[1:] if not line.startswith("#X connect")]
    for line in lines:
        if line.startswith("#X connect"):
            src, _, dst, _ = (int(v) for v in line[len("#X connect "):-1].split())
            assert src < len(objects) and dst < len(objects)
    text = "\n".join(lines)
    assert "netsend -u -b" in text and "netreceive -u -b 9000" in text
    formats = re.findall(r"oscformat ([a-z0-9 ]+);", text)
    used = {"/" + "/".join(f.split()) for f in formats}
    assert len(used) >= 12 and all(known(a) for a in used), used


@pytest.mark.parametrize("name", ["livegan.ck", "livegan.scd", "td_livegan.py",
                                  "touchdesigner.md"])
def test_snippets_use_livegan_addresses(name):
    text = (CLIENTS / name).read_text()
    used = addresses(text)
    templated = {a for a in used if a.endswith("/")}  # f"/livegan/dir/{index}" and the like
    assert used and all(known(a) for a in used - templated), used
    if name.endswith(".py"):
        ast.parse(text)
