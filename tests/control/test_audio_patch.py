"""Sound as a patch source: checks with file, line and key; the router's audio mappings;
a running headless show steered by --audio-file; sound telemetry; --audio without a card."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from showdriver import Inbox, drive, until

from livegan import cli
from livegan.bench.audio import write_wav
from livegan.control.audio.features import AudioValues
from livegan.control.controls import Controls
from livegan.control.patch.audio import AudioRoutes
from livegan.control.patch.config import AudioConfig
from livegan.control.patch.router import Router
from livegan.errors import PatchError
from livegan.patchfile.load import load_patch, parse_patch
from livegan.show.telemetry import Telemetry

RATE = 44100


@pytest.mark.parametrize("body, where", [
    ('audio = "bas"\nto = "speed"', ('map[0].audio: expected one of level, bass, mid, high, '
                                    'onset, beat, tempo, got "bas" (did you mean bass?)')),
    ('audio = 1\nto = "speed"', "map[0].audio: expected a string in quotes, got 1"),
    ('audio = "bass"\nosc = "/x"\nto = "speed"', "map[0]: give exactly one source"),
    ('audio = "level"\nto = "speed"\npickup = true', "map[0].pickup: pickup is for knobs"),
    ('audio = "level"\nto = "dir"', "map[0].to: dir as a whole takes a list"),
    ('audio = "onset"\nto = "seed"\npress = "velocity"', "map[0].press: only notes have"),
    ('audio = "bass"\nto = "speed"\nrange = [0, "x"]', "map[0].range: expected two numbers"),
    ('audio = "bass"\nto = "speed"\nsmoth = 0.2', ("map[0].smoth: unknown key (did you mean "
                                                  "smooth?)")),
])
def test_bad_audio_mappings_name_file_line_and_key(body: str, where: str) -> None:
    text = "[motion]\nspeed = 0.1\n\n[[map]]\n" + body + "\n"
    with pytest.raises(PatchError) as caught:
        parse_patch(text, "sound.toml")
    message = str(caught.value)
    assert message.startswith("sound.toml:") and where in message
    key = where.split(":")[0].split(".")[-1]
    line = int(message.split(":")[1])
    expected = next((i for i, row in enumerate(text.splitlines(), 1)
                     if row.startswith(key + " ")), 4)  # the key's line, else the [[map]]
    assert line == expected


def test_audio_mappings_load_and_describe() -> None:
    patch = parse_patch('[[map]]\naudio = "Bass"\nto = "dir[1]"\nrange = [-2.0, 2.0]\n'
                        'smooth = 0.1\n[[map]]\naudio = "tempo"\nto = "tempo"\n')
    bass, tempo = patch.maps
    assert bass.source.kind == "audio" and bass.source.feature == "bass"
    assert bass.describe() == "audio bass -> dir[1]  (range -2..2, smooth 0.1s)"
    assert bass.scale(0.75) == pytest.approx(1.0)
    assert tempo.scale(128.0) == pytest.approx(128.0)  # BPM onto the tempo target as is


def test_the_audio_section_names_a_card_or_a_file() -> None:
    patch = parse_patch('[audio]\ninput = "USB"\nfile = "set.wav"\nloop = true\n',
                        "/shows/sound.toml")
    assert patch.audio == AudioConfig(input="USB", file="/shows/set.wav", loop=True)
    assert parse_patch("[audio]\ninput = true\n").audio.input == ""  # the default input
    assert parse_patch("[audio]\ninput = 2\n").audio.input == "2"
    assert parse_patch("").audio == AudioConfig()  # no sound unless asked
    with pytest.raises(PatchError, match=r"^sound.toml:2: audio.device: unknown key"):
        parse_patch("[audio]\ndevice = 'USB'\n", "sound.toml")
    with pytest.raises(PatchError, match=r"^sound.toml:3: audio.input: expected a string"):
        parse_patch("[audio]\nloop = true\ninput = 1.5\n", "sound.toml")


def test_audio_flags_replace_the_patch_section() -> None:
    from livegan.performconfig import perform_config

    patch = parse_patch('[audio]\nfile = "set.wav"\nloop = true\n', "/shows/p.toml")
    cfg = perform_config(patch, {})
    assert (cfg.audio, cfg.audio_file, cfg.audio_loop) == (None, "/shows/set.wav", True)
    cfg = perform_config(patch, {"audio": ""})  # --audio: the default card, not the file
    assert (cfg.audio, cfg.audio_file) == ("", None)
    cfg = perform_config(patch, {"audio_file": "other.wav"})
    assert (cfg.audio, cfg.audio_file) == (None, "other.wav")


def router_for(text: str, clock: list[float] | None = None) -> tuple[Router, AudioRoutes]:
    controls = Controls(z_dim=8, n_dirs=4)
    now = clock if clock is not None else [0.0]
    router = Router(controls, parse_patch(text), clock=lambda: now[0])
    return router, AudioRoutes(router)


SCENES = "[scenes.calm]\nspeed = 0.05\n[scenes.hit]\nspeed = 0.9\nglide = 0\n"


def test_a_band_moves_its_target_through_range_and_curve() -> None:
    router, routes = router_for('[[map]]\naudio = "bass"\nto = "truncation"\n'
                                'range = [0.2, 1.8]\n[[map]]\naudio = "high"\nto = "dir[2]"\n'
                                'curve = "exp"\n')
    routes.apply(AudioValues(bass=0.5, high=1.0))
    assert router.controls.param("truncation") == pytest.approx(1.0)
    assert list(router.controls.snapshot().dirs)[2] == pytest.approx(3.0)
    version = router.controls.version
    routes.apply(AudioValues(bass=0.5, high=1.0))  # unchanged: nothing written
    assert router.controls.version == version
    router.controls.set_param("truncation", 0.7)  # another input moves it in the silence
    routes.apply(AudioValues(bass=0.5, high=1.0))
    assert router.controls.param("truncation") == pytest.approx(0.7)
    routes.apply(None)  # no sound input: nothing happens
    assert router.controls.param("truncation") == pytest.approx(0.7)


def test_tempo_moves_its_target_only_once_a_tempo_is_found() -> None:
    router, routes = router_for('[[map]]\naudio = "tempo"\nto = "tempo"\n')
    before = router.controls.param("tempo")
    routes.apply(AudioValues(tempo=0.0, level=0.5))
    assert router.controls.param("tempo") == before
    routes.apply(AudioValues(tempo=128.0))
    assert router.controls.param("tempo") == pytest.approx(128.0)


def test_smoothing_applies_to_audio_like_to_other_sources() -> None:
    clock = [0.0]
    router, routes = router_for('[[map]]\naudio = "level"\nto = "speed"\nrange = [0, 1]\n'
                                'smooth = 0.5\n', clock)
    router.tick()
    routes.apply(AudioValues(level=1.0))
    clock[0] = 0.5
    router.tick()
    assert 0.5 < router.controls.param("speed") < 0.75  # one time constant: 63 % there


def test_onsets_and_beats_fire_presses_once_each() -> None:
    router, routes = router_for('[[map]]\naudio = "onset"\nto = "scene"\nvalue = "hit"\n'
                                '[[map]]\naudio = "beat"\nto = "hud"\npress = "toggle"\n'
                                + SCENES)
    routes.apply(AudioValues())
    assert router.scene is None
    routes.apply(AudioValues(onset=1.0, onsets=1))
    assert router.scene == "hit"
    router.recall_scene("calm")
    routes.apply(AudioValues(onset=0.5, onsets=1))  # the same onset, decaying: no new press
    assert router.scene == "calm"
    routes.apply(AudioValues(onsets=2, beats=1))
    assert router.scene == "hit"
    routes.apply(AudioValues(onsets=2, beats=2))
    assert [e[:2] for e in router.controls.app_events()] == [("hud", True), ("hud", False)]


def test_a_gate_follows_a_feature_over_half_its_range() -> None:
    router, routes = router_for('[[map]]\naudio = "level"\nto = "hud"\npress = "gate"\n')
    for level in (0.2, 0.7, 0.9, 0.3):
        routes.apply(AudioValues(level=level))
    assert [e[:2] for e in router.controls.app_events()] == [("hud", True), ("hud", False)]


def test_a_reloaded_patch_does_not_replay_old_onsets() -> None:
    router, routes = router_for('[[map]]\naudio = "onset"\nto = "scene"\nvalue = "hit"\n'
                                + SCENES)
    routes.apply(AudioValues(onsets=3))
    assert router.scene == "hit"
    router.set_patch(parse_patch('[[map]]\naudio = "onset"\nto = "scene"\nvalue = "calm"\n'
                                 + SCENES))
    routes.apply(AudioValues(onsets=3))
    assert router.scene == "hit"
    routes.apply(AudioValues(onsets=4))
    assert router.scene == "calm"


def test_pitch_bend_does_not_drive_audio_mappings() -> None:
    import mido

    router, _ = router_for('[[map]]\naudio = "bass"\nto = "truncation"\nrange = [0.2, 1.8]\n')
    before = router.controls.param("truncation")
    router.midi(mido.Message("pitchwheel", pitch=8191))
    assert router.controls.param("truncation") == before


def tone_with_clicks(seconds: float = 30.0) -> np.ndarray:
    """Silence, then a 60 Hz tone with a click every half second."""
    t = np.arange(int(seconds * RATE)) / RATE
    x = np.where(t > 0.3, 0.4 * np.sin(2 * np.pi * 60 * t), 0.0)
    rng = np.random.default_rng(0)
    for start in np.arange(0.5, seconds, 0.5):
        i = int(start * RATE)
        x[i:i + 300] += 0.5 * rng.standard_normal(300) * np.hanning(600)[300:]
    return x.astype(np.float32)


@pytest.mark.usefixtures("dummy_video")
def test_a_running_show_follows_its_sound_file(tmp_path: Path, tiny_model: Path) -> None:
    from livegan.perform import Performance
    from livegan.performconfig import perform_config

    write_wav(tmp_path / "tone.wav", tone_with_clicks())
    patch = tmp_path / "sound.toml"
    patch.write_text('[audio]\nfile = "tone.wav"\n'  # next to the patch
                     '[[map]]\naudio = "bass"\nto = "truncation"\nrange = [0.2, 1.8]\n'
                     '[[map]]\naudio = "onset"\nto = "scene"\nvalue = "hit"\n' + SCENES)
    inbox = Inbox()
    show = Performance(perform_config(load_patch(patch), {
        "model": str(tiny_model), "backend": "cpu", "osc_port": 0, "frames": 100000,
        "size": (64, 64), "feedback": inbox.target, "out_dir": str(tmp_path / "out")}))
    seen: list[float] = []
    hud: list[str] = []

    def script(show: Performance):
        controls, router = show.controls, show.inputs.router
        yield from until(lambda: router.scene == "hit")  # a click recalled the scene
        yield from until(lambda: controls.param("truncation") > 1.6)  # the tone's bass
        seen.append(controls.param("truncation"))
        hud.extend(line for line in show.hud_lines() if line.startswith("sound "))
        yield from until(lambda: inbox.args("/livegan/audio/onset")  # the tone's bass
                         and any(b[0] > 0.9 for b in inbox.args("/livegan/audio/bands")))

    try:
        drive(show, script, limit=120)
    finally:
        inbox.server.stop()
    assert seen and seen[0] <= 1.8
    assert len(hud) == 1 and " bands " in hud[0] and " onsets " in hud[0]
    bands = inbox.args("/livegan/audio/bands")
    assert all(len(b) == 3 for b in bands) and max(b[0] for b in bands) > 0.9
    assert all(0.0 <= a[0] <= 1.0 for a in inbox.args("/livegan/audio/level"))
    onsets = [a[0] for a in inbox.args("/livegan/audio/onset")]
    assert onsets == sorted(onsets) and onsets[0] >= 1
    assert show.inputs.sound.player is not None and show.inputs.sound.player.delivered > 0


def test_audio_telemetry_keeps_its_rate_and_sends_each_new_onset() -> None:
    sent: list[tuple] = []

    class Sender:
        target = "test"

        def send(self, address: str, *args: object) -> bool:
            sent.append((address, *args))
            return True

    telemetry = Telemetry(Sender())  # type: ignore[arg-type]
    for i in range(100):  # one second of a 100 fps main loop
        telemetry.audio(10.0 + i / 100, 0.5, (0.1, 0.2, 0.3), onsets=i // 40)
    levels = [s for s in sent if s[0] == "/livegan/audio/level"]
    assert 29 <= len(levels) <= 31
    assert ("/livegan/audio/bands", 0.1, 0.2, 0.3) in sent
    assert [s for s in sent if s[0] == "/livegan/audio/onset"] == [
        ("/livegan/audio/onset", 1), ("/livegan/audio/onset", 2)]


@pytest.mark.usefixtures("dummy_video")
def test_audio_without_sounddevice_is_one_line_and_the_show_goes_on(
        tiny_model: Path, caplog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    caplog.set_level(logging.WARNING)
    argv = ["perform", "--model", str(tiny_model), "--backend", "cpu", "--frames", "5",
            "--osc-port", "0", "--size", "64x64", "--audio"]
    assert cli.main(argv) == 0
    lines = [r.getMessage() for r in caplog.records if "sound" in r.getMessage()]
    assert lines == [("sound input needs sounddevice: pip install 'livegan[audio]'; the show "
                     "goes on without sound")]


def test_an_unreadable_sound_file_stops_the_show_with_one_sentence(tmp_path: Path,
                                                                   tiny_model: Path,
                                                                   capsys, dummy_video) -> None:
    (tmp_path / "x.wav").write_bytes(b"not a wav file at all")
    argv = ["perform", "--model", str(tiny_model), "--backend", "cpu", "--frames", "5",
            "--osc-port", "0", "--size", "64x64", "--audio-file", str(tmp_path / "x.wav")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "cannot read WAV file" in err and "Traceback" not in err

