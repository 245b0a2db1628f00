"""The client patches in patches/clients parse, are wired consistently and speak livegan's OSC."""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import json
import re
from pathlib import Path

import pytest

from livegan.bendops import BY_NAME, OPS
from livegan.control.controls import Controls
from livegan.control.osc.dispatch import Dispatcher
from livegan.control.osc.namespace import NAMESPACE, OscNamespace
from livegan.control.osc.server import OscServer
from livegan.control.osc.wire import encode_message
from livegan.nets import build_generator
from livegan.nets.taps import feature_layers

CLIENTS = Path(__file__).resolve().parent.parent / "patches" / "clients"
TELEMETRY = {"/livegan/fps", "/livegan/frame", "/livegan/heartbeat", "/livegan/model",
             "/livegan/error", "/livegan/beat", "/livegan/audio/level", "/livegan/audio/bands",
             "/livegan/audio/onset"}


# the layers of the bundled models (256x256 `stage` generators) that the clients bend
BUNDLED_LAYERS = tuple(feature_layers(build_generator("fastgan", {"resolution": 256})))
BEND = re.compile(r"livegan/bend/([A-Za-z0-9_]+)/([A-Za-z0-9_]+)")


class Livegan:
    """livegan's receiving side for the bundled models' layers: OscServer (fed datagrams,
    not started) -> Dispatcher -> the default namespace -> Controls."""

    def __init__(self) -> None:
        self.controls = Controls(8, 4)
        self.controls.bends.set_layers(BUNDLED_LAYERS)
        self.dispatch = Dispatcher(OscNamespace(self.controls).table())
        self.server = OscServer(self.dispatch, port=0)

    def send(self, address: str, *args: float) -> None:
        self.server.feed(encode_message(address, *args))

    def bends(self) -> dict[tuple[str, str], tuple[float, ...]]:
        return dict(self.controls.bends.current())

    def problems(self) -> dict[str, int]:
        counts = {**self.dispatch.counts, **self.controls.bends.counts, **self.server.stats()}
        return {k: v for k, v in counts.items()
                if v and k not in ("datagrams", "received", "delivered")}


def bends_used(text: str) -> set[tuple[str, str]]:
    """(layer, op) of every livegan/bend/LAYER/OP written out in a client."""
    return set(BEND.findall(text))


def assert_livegan_takes(bends: set[tuple[str, str]]) -> None:
    """Each bend names a layer of the bundled models and an op, and livegan, sent the op's
    amounts at the top of their ranges, turns it on; /livegan/bend/off turns them all off."""
    assert bends
    bad = {(layer, op) for layer, op in bends if layer not in BUNDLED_LAYERS or op not in BY_NAME}
    assert not bad, f"layers are {BUNDLED_LAYERS}, ops {sorted(BY_NAME)}: {bad}"
    livegan = Livegan()
    for layer, op in bends:
        livegan.send(f"/livegan/bend/{layer}/{op}", *BY_NAME[op].high)
    assert livegan.bends() == {(layer, op): BY_NAME[op].high for layer, op in bends}
    livegan.send("/livegan/bend/off")
    assert livegan.bends() == {} and livegan.problems() == {}


def bend_inputs(kinds: dict, edges: list, ranges: dict, formats: dict) -> dict:
    """Follow each fader (`ranges`: id -> (low, high)) forward through packs and triggers to
    the box that writes a bend address (`formats`: id -> address): address -> {amount index:
    (low, high)}. `kinds` names each box (pack, pak, t ...), `edges` are (src, outlet, dst,
    inlet); a pack's inlet says which amount, a trigger passes numbers on its `f` outlets."""
    found: dict = {}

    def follow(box, amount: int, span: tuple[float, float]) -> None:
        words = kinds.get(box, "").split()
        trigger = words[:1] in (["t"], ["trigger"])
        for src, outlet, dst, inlet in edges:
            if src != box or (trigger and words[1 + outlet] not in ("f", "float")):
                continue
            kind = kinds.get(dst, "").split()[:1]
            if dst in formats:
                found.setdefault(formats[dst], {})[amount] = span
            elif kind in (["pack"], ["pak"]):
                follow(dst, inlet, span)
            elif kind in (["t"], ["trigger"]):
                follow(dst, amount, span)

    for fader, span in ranges.items():
        follow(fader, 0, span)
    return found


def assert_faders_fit(found: dict) -> None:
    """Every fader feeding a bend spans no more than its amount's range in livegan.bendops."""
    for address, amounts in found.items():
        op = BEND.search(address)[2]
        spec = BY_NAME[op]
        assert max(amounts) < spec.size, (address, amounts)
        for i, (low, high) in amounts.items():
            assert spec.low[i] <= low < high <= spec.high[i], (address, i, low, high)


def known(address: str) -> bool:
    """An address livegan receives (NAMESPACE) or sends (telemetry); a bend must name a layer
    of the bundled models and an op."""
    if address in NAMESPACE or address in TELEMETRY:
        return True
    if address.startswith("/livegan/bend/"):
        match = BEND.fullmatch(address[1:])
        return match is not None and match[1] in BUNDLED_LAYERS and match[2] in BY_NAME
    prefixes = [pattern.split("{")[0] for pattern in NAMESPACE if "{" in pattern]
    return any(address.startswith(p) and len(address) > len(p) for p in prefixes)


def addresses(text: str) -> set[str]:
    return set(re.findall(r"/livegan/[A-Za-z0-9_/]+", text))


def max_patcher() -> tuple[dict, list]:
    """The Max patcher's boxes by id and its patch cords as (src, outlet, dst, inlet)."""
    patcher = json.loads((CLIENTS / "livegan.maxpat").read_text())["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in patcher["boxes"]}
    edges = [(*line["patchline"]["source"], *line["patchline"]["destination"])
             for line in patcher["lines"]]
    return boxes, edges


def test_the_max_patcher_is_json_with_consistent_wiring():
    boxes, edges = max_patcher()
    for src, outlet, dst, inlet in edges:
        assert outlet < boxes[src]["numoutlets"] and inlet < boxes[dst]["numinlets"]
    texts = [b.get("text", "") for b in boxes.values()]
    assert "udpsend 127.0.0.1 12000" in texts and "udpreceive 9000" in texts
    assert sum(t.startswith("prepend /livegan/dir/") for t in texts) == 8
    used = addresses(" ".join(texts))
    assert {"/livegan/seed", "/livegan/scene", "/livegan/fps"} <= used
    assert all(known(a) for a in used), used


def test_the_max_patcher_has_no_overlapping_boxes():
    boxes, _ = max_patcher()
    rects = {id_: box["patching_rect"] for id_, box in boxes.items()}
    overlaps = [(a, b) for a, (ax, ay, aw, ah) in rects.items()
                for b, (bx, by, bw, bh) in rects.items()
                if a < b and ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah]
    assert not overlaps


def test_the_max_patcher_bends_from_dials_within_the_ops_ranges():
    boxes, edges = max_patcher()
    texts = {id_: box.get("text", "") for id_, box in boxes.items()}
    formats = {id_: text.split()[1] for id_, text in texts.items()
               if text.startswith("prepend /livegan/bend/")}
    faders = {id_: (box["min"], box["min"] + box["size"]) for id_, box in boxes.items()
              if box["maxclass"] in ("dial", "slider") and box.get("floatoutput")}
    found = bend_inputs(texts, edges, faders, formats)
    assert set(found) == set(formats.values())  # every bend is played by a dial or slider
    assert found["/livegan/bend/16/translate"].keys() == {0, 1}  # x and y
    assert_faders_fit(found)
    off = [id_ for id_, text in texts.items() if text == "/livegan/bend/off"]
    assert len(off) == 1 and any(boxes[src]["maxclass"] == "button" and dst == off[0]
                                 for src, _, dst, _ in edges)
    udpsend = next(id_ for id_, text in texts.items() if text == "udpsend 127.0.0.1 12000")
    assert all((sender, 0, udpsend, 0) in edges for sender in [*formats, *off])
    assert_livegan_takes(bends_used(" ".join(formats.values())))


def pd_patch() -> tuple[list[str], list[tuple[int, int, int, int]]]:
    """The Pd patch's object lines (index = Pd's object number) and its connections."""
    lines = (CLIENTS / "livegan.pd").read_text().splitlines()
    objects = [line for line in lines[1:] if not line.startswith("#X connect")]
    edges = [tuple(int(v) for v in line[len("#X connect "):-1].split())
             for line in lines if line.startswith("#X connect")]
    return objects, edges


def test_the_pd_patch_bends_from_sliders_within_the_ops_ranges():
    objects, edges = pd_patch()
    words = [line[:-1].split() for line in objects]  # "#X obj X Y name args..."
    kinds = {i: " ".join(w[4:]) for i, w in enumerate(words) if w[1] == "obj"}
    formats = {i: "/" + "/".join(w[5:]) for i, w in enumerate(words)
               if w[1] == "obj" and w[4:7] == ["oscformat", "livegan", "bend"]}
    sliders = {i: (float(w[7]), float(w[8])) for i, w in enumerate(words)
               if w[1] == "obj" and w[4] == "hsl"}
    found = bend_inputs(kinds, edges, sliders, formats)
    assert set(found) == set(formats.values()) - {"/livegan/bend/off"}
    assert found["/livegan/bend/16/translate"].keys() == {0, 1}  # x and y
    assert_faders_fit(found)
    send = next(i for i, kind in kinds.items() if kind == "list prepend send")
    assert all((i, 0, send, 0) in edges for i in formats)  # into the one [netsend -u -b]
    off = next(i for i, a in formats.items() if a == "/livegan/bend/off")
    bang = next(i for i, kind in kinds.items() if kind.startswith("bng"))
    assert any((bang, 0, dst, 0) in edges and (dst, 0, off, 0) in edges for dst in kinds)
    assert_livegan_takes(bends_used(" ".join(formats.values())))


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


@pytest.mark.parametrize("name", ["livegan.ck", "livegan.scd", "touchdesigner.md"])
def test_snippets_bend_layers_the_bundled_models_have(name):
    assert_livegan_takes(bends_used((CLIENTS / name).read_text()))


def touchdesigner_script():
    """td_livegan.py as a module (it needs TouchDesigner's op() only when it sends)."""
    spec = importlib.util.spec_from_file_location("td_livegan", CLIENTS / "td_livegan.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Chop:
    """What td_livegan reads of a TouchDesigner CHOP: chans(pattern), each with name, eval()
    and owner."""

    def __init__(self, values: dict[str, float]) -> None:
        self.channels = [Channel(name, value, self) for name, value in values.items()]

    def chans(self, pattern: str) -> list:
        return [c for c in self.channels if fnmatch.fnmatchcase(c.name, pattern)]


class Channel:
    def __init__(self, name: str, value: float, owner: Chop) -> None:
        self.name, self.value, self.owner = name, value, owner

    def eval(self) -> float:
        return self.value


class OscOutDat:
    """TouchDesigner's OSC Out DAT, delivering to livegan's receiving side."""

    def __init__(self, livegan: Livegan) -> None:
        self.livegan, self.sent = livegan, []

    def sendOSC(self, address: str, values: list) -> None:  # TouchDesigner's name
        self.sent.append((address, values))
        self.livegan.send(address, *values)


def test_touchdesigner_bends_from_chop_channels(capsys):
    td = touchdesigner_script()
    assert td.BEND_AMOUNTS == {op.name: op.amounts for op in OPS}  # the client's copy holds
    livegan = Livegan()
    out = OscOutDat(livegan)
    td.op = lambda name: out if name == td.OSC_OUT else None  # TouchDesigner's op()
    chop = Chop({"bend_8_rotate": 90.0, "bend_16_translate_x": 0.25, "bend_16_translate_y": -0.5,
                 "bend_32_noise": 0.375, "bend_32_noise_phase": 12.0, "dir0": 1.0,
                 "bend_8_rotat": 3.0})
    for channel in chop.channels:
        td.bend_from_channel(channel)
    assert livegan.bends() == {("8", "rotate"): (90.0,), ("16", "translate"): (0.25, -0.5),
                               ("32", "noise"): (0.375, 12.0)}
    assert ("/livegan/bend/16/translate", [0.25, -0.5]) == out.sent[1]  # x moved, y went along
    td.bend_from_channel(chop.channels[-1])  # the misnamed channel again: said once only
    said = capsys.readouterr().out.splitlines()
    assert len(said) == 1 and "bend_8_rotat" in said[0] and "rotate" in said[0]
    td.bends_off()
    td.bend(64, "scale", 0.5)
    assert livegan.bends() == {("64", "scale"): (0.5,)} and livegan.problems() == {}


def test_touchdesigner_notes_name_channels_the_script_reads():
    td = touchdesigner_script()
    text = (CLIENTS / "touchdesigner.md").read_text()
    names = set(re.findall(r"\bbend_[0-9]+_[a-z_]+", text))
    parsed = {name: td.bend_channel(name) for name in names}
    assert {"bend_8_rotate", "bend_16_translate_x", "bend_32_noise"} <= names
    assert all(p is not None and p[0] in BUNDLED_LAYERS for p in parsed.values()), parsed
    assert "12001" in text and "OSCQuery" in text and "/livegan/bend/off" in text


@pytest.mark.parametrize("name", ["livegan.ck", "livegan.scd", "td_livegan.py",
                                  "touchdesigner.md"])
def test_snippets_use_livegan_addresses(name):
    text = (CLIENTS / name).read_text()
    used = addresses(text)
    templated = {a for a in used if a.endswith("/")}  # f"/livegan/dir/{index}" and the like
    assert used and all(known(a) for a in used - templated), used
    if name.endswith(".py"):
        ast.parse(text)
