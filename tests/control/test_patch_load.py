"""Patch files: every section read into configs, and errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from livegan import cli
from livegan.control.patch.mapping import Source, Target
from livegan.errors import PatchError
from livegan.patchfile.load import PatchConfig, load_patch, parse_patch

PATCHES = Path(__file__).resolve().parents[2] / "patches"

CONTRACT_EXAMPLE = """\
model = "default"
[osc]   # port = 12000, host = "127.0.0.1", allow = ["127.0.0.1"], feedback = ""
[midi]  # input = "nanoKONTROL2"  (substring of a port name)
[motion]
mode = "walk"
speed = 0.1
smooth = 0.15

[[map]]
osc = "/wek/outputs"          # each argument i drives dir[i]
to = "dir"
range = [-3.0, 3.0]

[[map]]
midi = { cc = 16, channel = 1 }
to = "truncation"
range = [0.2, 1.2]
pickup = true                 # soft takeover: no jump until the knob meets the value

[[map]]
midi = { note = 36 }
to = "scene"
value = "calm"

[scenes.calm]
speed = 0.02
truncation = 0.5
seed = 42
"""

FULL = """\
model = "mine.safetensors"
backend = "cpu"

[osc]
port = 9000
host = "0.0.0.0"
allow = ["192.168.1.0/24", "localhost"]
feedback = "127.0.0.1:9001"

[midi]
input = ["nanoKONTROL2", "MIDImix"]
virtual = false
clock = false
file = "song.mid"
loop = true

[motion]
mode = "keys"
speed = 0.5
smooth = 0.4
truncation = 0.7
morph = 0.25
seed = 9
speed_unit = "beats"

[window]
size = "1280x720"
fullscreen = true
display = 1
hud = true
vsync = true
kiosk = false
title = "gallery"

[[map]]
midi = { cc = 0, channel = 2, bits = 14 }
to = "z"
index = 5
in = [0, 16000]
range = [3.0, -3.0]
curve = "exp"
invert = true
deadzone = 0.1
smooth = 0.5

[[map]]
osc = "/tilt"
arg = 2
to = "dir[warm]"

[[map]]
key = "Space"
to = "mode"
press = "toggle"
value = "hold"

[[map]]
midi = { pitchbend = true }
to = "tempo"

[scenes.intro]
speed = 0.01
tempo = 90
mode = "hold"
seed = 3
key = 2
dirs = [1.0, -1.0]
dir = { warm = 2.0, 0 = -1.5 }
label = "cat"
glide = 4.0
"""


def test_the_design_example_loads() -> None:
    patch = parse_patch(CONTRACT_EXAMPLE, "design.toml")
    assert patch.model == "default"
    assert patch.motion.mode == "walk" and patch.motion.speed == 0.1
    assert [m.target.name for m in patch.maps] == ["dir", "truncation", "scene"]
    assert patch.maps[0].source == Source("osc", address="/wek/outputs")
    assert patch.maps[1].source == Source("cc", number=16, channel=1) and patch.maps[1].pickup
    assert patch.maps[2].value == "calm" and patch.maps[2].line == 20
    assert patch.scenes["calm"].seed == 42 and patch.scenes["calm"].params == {
        "speed": 0.02, "truncation": 0.5}


def test_every_section_and_key_is_read(tmp_path: Path) -> None:
    path = tmp_path / "full.toml"
    path.write_text(FULL)
    patch = load_patch(path)
    assert patch.model == str(tmp_path / "mine.safetensors")  # paths: next to the patch
    assert patch.backend == "cpu"
    assert patch.osc.port == 9000 and patch.osc.host == "0.0.0.0"
    assert patch.osc.allow == ("192.168.1.0/24", "localhost")
    assert patch.osc.feedback == "127.0.0.1:9001"
    assert patch.midi.input == ("nanoKONTROL2", "MIDImix") and not patch.midi.virtual
    assert patch.midi.file == str(tmp_path / "song.mid") and patch.midi.loop
    assert patch.motion.speed_unit == "beats" and patch.motion.seed == 9
    assert patch.window.size == (1280, 720) and patch.window.display == 1
    assert patch.window.title == "gallery" and patch.window.kiosk is False
    fourteen, tilt, space, bend = patch.maps
    assert fourteen.source == Source("cc", number=0, channel=2, bits=14)
    assert fourteen.target == Target("z", index=5)
    assert (fourteen.in_range, fourteen.range, fourteen.curve) == ((0, 16000), (3, -3), "exp")
    assert fourteen.invert and fourteen.deadzone == 0.1 and fourteen.smooth == 0.5
    assert tilt.source.arg == 2 and tilt.target == Target("dir", dir_name="warm")
    assert space.source.key == "space" and space.press == "toggle"
    assert bend.source.kind == "pitchbend" and bend.target.name == "tempo"
    intro = patch.scenes["intro"]
    assert intro.params == {"speed": 0.01, "tempo": 90.0}
    assert (intro.mode, intro.seed, intro.key, intro.label, intro.glide) == (
        "hold", 3, 2, "cat", 4.0)
    assert intro.dirs == (1.0, -1.0) and intro.dir == {"warm": 2.0, "0": -1.5}


def test_an_empty_patch_is_the_default_patch() -> None:
    patch = parse_patch("", "empty.toml")
    assert patch.maps == () and patch.scenes == {}
    assert patch.osc == PatchConfig().osc and patch.motion == PatchConfig().motion


@pytest.mark.parametrize("name", sorted(p.name for p in PATCHES.glob("*.toml")))
def test_ready_patches_load(name: str) -> None:
    patch = load_patch(PATCHES / name)
    assert patch.maps or patch.scenes


@pytest.mark.parametrize("bad, line, key, words", [
    ('range = [1, "a"]', 15, "map[1].range", 'such as [-3.0, 3.0], got [1, "a"]'),
    ("rnage = [1, 2]", 15, "map[1].rnage", "did you mean range"),
    ("x = 1", 15, "map[1].x", "unknown key; known keys: osc, arg, midi"),
    ("curve = 'sine'", 15, "map[1].curve", "expected one of lin, exp, log"),
    ("pickup = 1", 15, "map[1].pickup", "expected true or false"),
    ("deadzone = 0.9", 15, "map[1].deadzone", "from 0 to 0.45"),
    ("smooth = -1", 15, "map[1].smooth", "from 0 to 60"),
])
def test_bad_mapping_values_name_file_line_and_key(tmp_path: Path, bad: str, line: int,
                                                   key: str, words: str) -> None:
    lines = [t for i, t in enumerate(CONTRACT_EXAMPLE.splitlines()) if i not in (16, 17)]
    lines.insert(14, bad)  # line 15: inside the second [[map]] (its header is line 14)
    path = tmp_path / "x.toml"
    path.write_text("\n".join(lines))
    with pytest.raises(PatchError) as err:
        load_patch(path)
    assert str(err.value).startswith(f"{path}:{line}: {key}: "), str(err.value)
    assert words in str(err.value)


@pytest.mark.parametrize("text, where", [
    ('[[map]]\nosc = "/a"\nto = "dri[0]"\n', ":3: map[0].to: unknown target"),
    ('[[map]]\nosc = "/a"\nmidi = { cc = 1 }\nto = "speed"\n', ":1: map[0]: give exactly one"),
    ('[[map]]\nmidi = { cc = 1, chanel = 2 }\nto = "speed"\n',
     ":2: map[0].midi.chanel: unknown key (did you mean channel?)"),
    ('[[map]]\nmidi = { cc = 40, bits = 14 }\nto = "speed"\n', ":2: map[0].midi.bits: 14-bit"),
    ('[[map]]\nmidi = { note = 3, channel = 17 }\nto = "speed"\n',
     ":2: map[0].midi.channel: expected a whole number from 1 to 16"),
    ('[[map]]\nkey = "a"\nto = "scene"\nvalue = "calmm"\n[scenes.calm]\nspeed = 1\n',
     ":4: map[0].value: no scene named \"calmm\"; the patch has calm"),
    ('[[map]]\nmidi = { cc = 1 }\nto = "dir"\n', ":3: map[0].to: dir as a whole takes a list"),
    ('[[map]]\nmidi = { cc = 1 }\nto = "seed"\npickup = true\n', ":4: map[0].pickup: pickup"),
    ('[[map]]\nkey = "x"\nto = "speed"\npress = "velocity"\n', ":4: map[0].press: only notes"),
    ('[[map]]\nkey = "H"\nto = "hud"\n', ":2: map[0].key: h is the window's own key"),
    ('[scenes.a]\nspeed = 0.1\n\n[scenes.b]\ntruncaton = 1\n',
     ":5: scenes.b.truncaton: unknown key (did you mean truncation?)"),
    ("[motion]\nmode = \"run\"\n", ":2: motion.mode: expected one of walk, keys, hold"),
    ("[motion]\nspeed = 99\n", ":2: motion.speed: expected a number from -10 to 10"),
    ("[osc]\nallow = [\"10.0.0.300\"]\n", ":2: osc.allow: \"10.0.0.300\" is not an IP"),
    ("[osc]\nfeedback = \"nowhere\"\n", ":2: osc.feedback: bad OSC target"),
    ("[window]\nsize = [10, 10]\n", ":2: window.size: expected [width, height]"),
    ("colour = 1\n", ":1: colour: unknown key"),
    ("[osc\nport = 1\n", ":1: not valid TOML"),
])
def test_errors_point_at_the_line(text: str, where: str) -> None:
    with pytest.raises(PatchError) as err:
        parse_patch(text, "p.toml")
    assert str(err.value).startswith("p.toml" + where), str(err.value)


def test_a_missing_patch_says_where_the_ready_ones_are(tmp_path: Path) -> None:
    with pytest.raises(PatchError, match="not found; ready patches are in patches/"):
        load_patch(tmp_path / "nope.toml")


def test_cli_reports_a_broken_patch_with_file_line_and_key(tmp_path: Path, capsys) -> None:
    path = tmp_path / "broken.toml"
    lines = CONTRACT_EXAMPLE.splitlines()
    lines[16] = 'range = [0.2, "high"]'  # line 17
    path.write_text("\n".join(lines))
    assert cli.main(["perform", str(path), "--frames", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:17: map[1].range: expected two numbers" in err
    assert "Traceback" not in err


def test_cli_osc_prints_the_namespace_and_the_patch_mappings(capsys) -> None:
    assert cli.main(["osc", str(PATCHES / "nanokontrol2.toml")]) == 0
    out = capsys.readouterr().out
    assert "/livegan/truncation" in out and "(0..2, 1 = as trained)" in out
    assert "CC 16 ch 1 -> truncation  (range 0.2..1.5, pickup)" in out
    assert "scene calm:" in out


def test_cli_flags_override_the_patch(tmp_path: Path, monkeypatch) -> None:
    import livegan.perform

    path = tmp_path / "p.toml"
    path.write_text('model = "a"\n[osc]\nport = 9000\nhost = "0.0.0.0"\n'
                    '[window]\nsize = [320, 200]\nhud = true\n[motion]\nseed = 4\n')
    seen = []
    monkeypatch.setattr(livegan.perform, "perform", lambda cfg: seen.append(cfg) or 0)
    assert cli.main(["perform", str(path), "--osc-port", "0", "--model", "b",
                     "--midi", "nano", "--midi-file", "x.mid"]) == 0
    cfg = seen[0]
    assert (cfg.model, cfg.osc.port, cfg.osc.host) == ("b", 0, "0.0.0.0")
    assert cfg.window.size == (320, 200) and cfg.window.hud and cfg.seed == 4
    assert cfg.midi == ("nano",) and cfg.midi_file == "x.mid" and cfg.patch.path == path


def test_osc_and_window_settings_have_one_config_each(tmp_path: Path, monkeypatch) -> None:
    """The patch's [osc] and [window] are read into the show's own OscConfig and WindowConfig:
    an empty section plays with the show's defaults, and a given key reaches the show as is."""
    import livegan.perform
    from livegan.control.osc.config import OscConfig
    from livegan.show.windowconfig import WindowConfig

    empty = parse_patch("[osc]\n[window]\n")
    assert empty.osc == OscConfig() and empty.window == WindowConfig()
    path = tmp_path / "p.toml"
    path.write_text('[osc]\nfeedback = "127.0.0.1:9001"\n'
                    '[window]\nmax_fps = 30\ntitle = "gallery"\nvsync = true\n')
    seen = []
    monkeypatch.setattr(livegan.perform, "perform", lambda cfg: seen.append(cfg) or 0)
    assert cli.main(["perform", str(path), "--kiosk", "--nearest"]) == 0
    cfg = seen[0]
    assert cfg.osc == OscConfig(feedback="127.0.0.1:9001")
    assert cfg.window == WindowConfig(max_fps=30, title="gallery", vsync=True, kiosk=True,
                                      smooth_scale=False)
    assert cli.main(["perform", "--feedback", "127.0.0.1:9002", "--max-fps", "12"]) == 0
    assert seen[1].osc == OscConfig(feedback="127.0.0.1:9002")
    assert seen[1].window == WindowConfig(max_fps=12)
