"""MIDI ports with a fake backend: open by name, unplug and replug, clock, MIDI files, learn."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import mido
import pytest
from mido.ports import BaseInput

from livegan import cli
from livegan.control.controls import Controls
from livegan.control.inputs import ShowInputs
from livegan.control.midi import ports as midi_module
from livegan.control.midi.learn import PAIR_SECONDS, Learner, learn
from livegan.control.midi.ports import (
    VIRTUAL_PORT,
    MidiFilePlayer,
    MidiInputs,
    NoMidiBackend,
)
from livegan.control.osc.namespace import OscNamespace
from livegan.control.patch.router import Router
from livegan.control.tempo.midiclock import CLOCKS_PER_BEAT, TempoClock
from livegan.patchfile.load import load_patch, parse_patch

WAIT = 5.0
NANO = "nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0"


class FakePort(BaseInput):
    """A mido input whose messages the test plays in through the callback."""

    def __init__(self, name: str, callback, virtual: bool = False) -> None:
        super().__init__(name)
        self.callback = callback
        self.virtual = virtual

    def play(self, *messages: mido.Message) -> None:
        for msg in messages:
            self.callback(msg)


class FakeBackend:
    """Stands in for rtmidi: a list of port names that the test edits (plug, unplug)."""

    def __init__(self, names: list[str], works: bool = True) -> None:
        self.names = names
        self.works = works
        self.opened: list[FakePort] = []

    def lister(self) -> list[str]:
        if not self.works:
            raise NoMidiBackend("MIDI is not available: no ALSA sequencer")
        return list(self.names)

    def opener(self, name: str, callback, virtual: bool = False) -> FakePort:
        if not self.works:
            raise NoMidiBackend("MIDI is not available: no ALSA sequencer")
        self.opened.append(FakePort(name, callback, virtual))
        return self.opened[-1]


def wait_until(condition, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


def cc(control: int, value: int) -> mido.Message:
    return mido.Message("control_change", control=control, value=value)


def test_inputs_open_by_substring_with_a_virtual_port() -> None:
    backend = FakeBackend([NANO, "Midi Through:Midi Through Port-0 14:0"])
    inputs = MidiInputs(["nanokontrol"], virtual=True, opener=backend.opener,
                        lister=backend.lister, rescan=3600).start()
    try:
        assert set(inputs.ports) == {VIRTUAL_PORT, NANO}
        assert [p.virtual for p in backend.opened] == [True, False]
        inputs.ports[NANO].play(cc(16, 64))
        inputs.ports[VIRTUAL_PORT].play(cc(17, 1))
        assert [m.control for m in inputs.drain()] == [16, 17] and inputs.drain() == []
    finally:
        inputs.stop()
    assert all(p.closed for p in backend.opened)


def test_unplug_and_replug_reopens_the_port_without_a_crash(caplog) -> None:
    backend = FakeBackend([NANO])
    inputs = MidiInputs(["nanoKONTROL2"], opener=backend.opener, lister=backend.lister,
                        rescan=3600).start()
    first = inputs.ports[NANO]
    backend.names = []  # unplugged: the name disappears, the port goes silent
    with caplog.at_level(logging.WARNING, logger="livegan.control.midi"):
        inputs.scan()
    assert first.closed and not inputs.ports
    assert "is gone (unplugged?)" in caplog.text
    replugged = NANO.replace("20:0", "24:0")  # ALSA numbers change between plug-ins
    backend.names = [replugged]
    inputs.scan()
    assert list(inputs.ports) == [replugged]
    inputs.ports[replugged].play(cc(0, 5))
    assert inputs.drain()[0].value == 5
    inputs.stop()


def test_the_watch_thread_notices_replug_on_its_own() -> None:
    backend = FakeBackend([])
    inputs = MidiInputs(["nano"], opener=backend.opener, lister=backend.lister,
                        rescan=0.02).start()
    try:
        assert not inputs.ports
        backend.names = [NANO]
        assert wait_until(lambda: NANO in inputs.ports)
        backend.names = []
        assert wait_until(lambda: not inputs.ports)
    finally:
        inputs.stop()


def test_no_midi_backend_is_one_clear_line_and_nothing_else(caplog) -> None:
    backend = FakeBackend([NANO], works=False)
    with caplog.at_level(logging.INFO, logger="livegan.control.midi"):
        inputs = MidiInputs(["nano"], virtual=True, opener=backend.opener,
                            lister=backend.lister).start()
        inputs.scan()
    assert not inputs.available and not inputs.ports and inputs._thread is None
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["MIDI is not available: no ALSA sequencer; the show goes on without MIDI"]
    inputs.stop()


def test_midi_clock_sets_the_tempo() -> None:
    clock = TempoClock()
    beat = 60.0 / 100.0  # 100 bpm
    reports = [clock.tick(i * beat / CLOCKS_PER_BEAT) for i in range(3 * CLOCKS_PER_BEAT)]
    assert [r for r in reports if r is not None] == pytest.approx([100.0] * 8)  # 4 a beat, after the first beat
    assert clock.tick(10.0) is None  # after a pause it listens afresh

    controls = Controls(z_dim=16, n_dirs=4)
    ticks = iter(i * 0.5 / CLOCKS_PER_BEAT for i in range(1000))  # 120 bpm
    inputs = MidiInputs(on_tempo=lambda bpm: controls.set_param("tempo", bpm),
                        clock=lambda: next(ticks))
    inputs.feed(mido.Message("start"))
    for _ in range(2 * CLOCKS_PER_BEAT + 1):
        inputs.feed(mido.Message("clock"))
    assert controls.param("tempo") == pytest.approx(120.0)
    assert inputs.drain() == []  # clock never reaches the mappings


def write_song(path: Path) -> Path:
    """A short file: a tempo, a CC sweep, a note; about 0.2 s long at its tempo."""
    song = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    song.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(150)))
    for i, value in enumerate((0, 40, 80, 127)):
        track.append(mido.Message("control_change", control=16, value=value,
                                  time=0 if i == 0 else 40))
    track.append(mido.Message("note_on", note=36, velocity=100, time=40))
    track.append(mido.Message("note_off", note=36, velocity=0, time=40))
    song.save(path)
    return path


def test_a_midi_file_plays_into_the_mappings(tmp_path: Path) -> None:
    controls = Controls(z_dim=16, n_dirs=4)
    router = Router(controls, parse_patch('[[map]]\nmidi = { cc = 16 }\nto = "truncation"\n'
                                          'range = [0.0, 2.0]\n[[map]]\nmidi = { note = 36 }\n'
                                          'to = "seed"\nvalue = 11\n'))
    inputs = MidiInputs(on_tempo=lambda bpm: controls.set_param("tempo", bpm))
    player = MidiFilePlayer(write_song(tmp_path / "song.mid"), inputs.feed, rate=20.0,
                            on_tempo=inputs.on_tempo).start()
    assert player.done.wait(WAIT)
    for msg in inputs.drain():
        router.midi(msg)
    assert player.played == 6 and controls.param("truncation") == pytest.approx(2.0)
    assert controls.snapshot().events == [("seed", 11)]
    assert controls.param("tempo") == pytest.approx(150.0)


def test_a_patch_midi_file_moves_controls_through_show_inputs(tmp_path: Path) -> None:
    write_song(tmp_path / "song.mid")
    patch_path = tmp_path / "p.toml"
    patch_path.write_text('[midi]\nfile = "song.mid"\nvirtual = false\n'
                          '[[map]]\nmidi = { cc = 16 }\nto = "dir[1]"\nrange = [0.0, 1.0]\n')
    controls = Controls(z_dim=16, n_dirs=4)
    inputs = ShowInputs(controls, OscNamespace(controls), load_patch(patch_path))
    inputs.start()
    try:
        assert inputs.player is not None and inputs.player.done.wait(WAIT)
        inputs.tick()
    finally:
        inputs.stop()
    assert controls.snapshot().dirs[1] == pytest.approx(1.0)


def test_a_missing_midi_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(midi_module.MidiError, match="MIDI file .*nope.mid not found"):
        MidiFilePlayer(tmp_path / "nope.mid", print).start()


def stream() -> list[mido.Message]:
    """A performer moving a knob, a 14-bit fader, a pad and the pitch wheel."""
    t = 1000.0
    messages = []
    for value in (10, 20, 30):
        messages.append(cc(16, value).copy(time=t))
        t += 0.1
    for value in (1, 2):  # a 14-bit fader: MSB on CC 0, LSB on CC 32 right after
        messages.append(cc(0, value).copy(time=t))
        messages.append(cc(32, 90).copy(time=t + PAIR_SECONDS / 4))
        t += 0.1
    messages.append(mido.Message("note_on", note=36, velocity=99, channel=9, time=t))
    messages.append(mido.Message("note_off", note=36, channel=9, time=t + 0.1))
    messages.append(mido.Message("pitchwheel", pitch=300, time=t + 0.2))
    messages.append(cc(33, 5).copy(time=t + 0.5))  # alone, long after: a control of its own
    return messages


def test_learn_writes_a_patch_that_loads_back_and_plays(tmp_path: Path) -> None:
    out = tmp_path / "learned.toml"
    echoed: list[str] = []
    learner = learn(stream(), Learner(), out, echo=echoed.append)
    assert [(e.kind, e.number, e.bits, e.target) for e in learner.entries] == [
        ("cc", 16, 7, "dir[0]"), ("cc", 0, 14, "dir[1]"), ("note", 36, 7, "dir[2]"),
        ("pitchbend", 0, 7, "dir[3]"), ("cc", 33, 7, "dir[4]")]
    assert any("bits = 14" in text for text in echoed)
    patch = load_patch(out)
    assert [m.target.describe() for m in patch.maps] == [f"dir[{i}]" for i in range(5)]
    assert patch.maps[2].source.channel == 10 and patch.maps[2].press == "gate"
    controls = Controls(z_dim=16, n_dirs=8)
    router = Router(controls, patch)
    router.midi(cc(0, 127))
    router.midi(cc(32, 127))
    router.midi(mido.Message("note_on", note=36, velocity=50, channel=9))
    assert controls.snapshot().dirs[1:3] == pytest.approx([3.0, 3.0])


def test_cli_midi_lists_ports_or_says_why_not(monkeypatch, capsys) -> None:
    monkeypatch.setattr(midi_module, "input_names", lambda: [NANO])
    monkeypatch.setattr(midi_module, "output_names", list)
    assert cli.main(["midi"]) == 0
    out = capsys.readouterr().out
    assert NANO in out and "(none)" in out

    def no_alsa() -> list[str]:
        raise NoMidiBackend("MIDI is not available: this machine has no ALSA sequencer")

    monkeypatch.setattr(midi_module, "input_names", no_alsa)
    assert cli.main(["midi"]) == 2
    assert capsys.readouterr().err.strip() == (
        "livegan: MIDI is not available: this machine has no ALSA sequencer")
    assert cli.main(["midi", "learn"]) == 2
