"""Recording: fixed-rate H.264 through a bounded queue, the control log, OSC toggling, replay."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pygame
import pytest

from livegan.control.osc.config import OscConfig
from livegan.control.osc.sender import OscSender
from livegan.engine.cpu import CpuBackend
from livegan.errors import OutputError
from livegan.perform import Performance
from livegan.performconfig import PerformConfig
from livegan.render import RenderConfig, Replay, replay
from livegan.show.controllog import ControlLog, ModelRef, decode_latent, encode_latent, read_log
from livegan.show.outputs import OutputsConfig
from livegan.show.recorder import Recorder
from livegan.show.videofile import read_video
from livegan.show.window import WindowConfig
from livegan.stage.crossfade import FADE_SECONDS

av = pytest.importorskip("av")

FPS = 30
REF = ModelRef("tiny", "/models/tiny.safetensors", 32, 4)


def solid(value: int, size: tuple[int, int] = (48, 32)) -> np.ndarray:
    """A flat grey frame [H, W, 3] of the given (width, height)."""
    return np.full((size[1], size[0], 3), value, np.uint8)


def greys(frames: list[np.ndarray]) -> list[int]:
    return [round(float(f.mean())) for f in frames]


def test_n_frames_decode_to_n_frames_of_the_right_size(tmp_path):
    recorder = Recorder(tmp_path / "n.mp4", FPS, queue_frames=32).start(t0=100.0)
    values = [10 * i for i in range(20)]
    for i, value in enumerate(values):
        recorder.add(solid(value), 100.0 + i / FPS)
    report = recorder.stop()
    frames = read_video(tmp_path / "n.mp4")
    assert len(frames) == report.frames == 20
    assert all(f.shape == (32, 48, 3) for f in frames)
    assert all(abs(a - b) <= 2 for a, b in zip(greys(frames), values))
    assert report.dropped == 0 and report.duplicated == 0


def test_fixed_rate_repeats_slow_frames_and_skips_fast_ones(tmp_path):
    recorder = Recorder(tmp_path / "rate.mp4", 10).start(t0=0.0)
    recorder.add(solid(50), 0.00)
    recorder.add(solid(250), 0.05)  # same 0.1 s slot: skipped
    recorder.add(solid(100), 0.31)  # slot 3: slots 1 and 2 repeat the previous frame
    report = recorder.stop(t=0.6)  # the video runs until the stop: slots 4 and 5 repeat
    assert greys(read_video(tmp_path / "rate.mp4")) == pytest.approx([50, 50, 50, 100, 100, 100],
                                                                     abs=2)
    assert report.duplicated == 4 and recorder.skipped == 1 and report.offered == 3


def test_a_full_queue_drops_and_counts_frames_and_never_blocks(tmp_path, monkeypatch):
    recorder = Recorder(tmp_path / "drop.mp4", FPS, queue_frames=2)
    release = threading.Event()
    write = recorder._writer.write

    def slow_write(frame: np.ndarray) -> None:
        release.wait(10)
        write(frame)

    monkeypatch.setattr(recorder._writer, "write", slow_write)
    recorder.start(t0=0.0)
    for i in range(40):  # the encoder is stuck: at most 1 in hand + 2 queued
        recorder.add(solid(i * 5), i / FPS)
    assert recorder._queue.qsize() <= 2
    assert recorder.dropped >= 37
    release.set()
    report = recorder.stop()
    assert report.dropped == recorder.dropped
    assert "dropped" in report.summary()
    frames = read_video(tmp_path / "drop.mp4")
    assert len(frames) == report.frames == 40  # slots of dropped frames repeat a kept one


def test_missing_pyav_is_one_clear_message(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(OutputError, match=r"pip install 'livegan\[record\]'"):
        Recorder(tmp_path / "x.mp4")
    with pytest.raises(OutputError, match="video file name"):
        Recorder(tmp_path / "x.txt")


def test_control_log_round_trip_and_slerp_between_entries(tmp_path):
    a, b = np.array([1, 0, 0, 0], np.float32), np.array([0, 1, 0, 0], np.float32)
    assert np.array_equal(decode_latent(encode_latent(a * 0.3)), a * np.float32(0.3))
    log = ControlLog(tmp_path / "c.controls.jsonl", FPS).start(t0=5.0)
    log.record(REF, 1, 5.0, a, 0)
    log.record(REF, 2, 6.0, b, 3)
    log.stop(t=6.5)
    timeline = read_log(tmp_path / "c.controls.jsonl")
    assert timeline.duration == pytest.approx(1.0) and timeline.models == [REF]
    z, label, model = timeline.at(0.5)
    assert np.allclose(z, [np.sqrt(0.5), np.sqrt(0.5), 0, 0], atol=1e-6)  # on the great circle
    assert label == 0 and model == REF
    assert np.array_equal(timeline.at(1.0)[0], b) and timeline.at(1.0)[1] == 3
    assert np.array_equal(timeline.at(-1.0)[0], a) and np.array_equal(timeline.at(9.0)[0], b)


def _run_show(tmp_path, model, on_frame, **overrides) -> Performance:
    cfg = PerformConfig(model=str(model), backend="cpu", osc=OscConfig(port=0), frames=400,
                        outputs=OutputsConfig(out_dir=str(tmp_path / "out")),
                        window=WindowConfig(size=(64, 64)), **overrides)
    show = Performance(cfg)
    show.on_frame = lambda frame: on_frame(show, frame)
    show.run()
    return show


@pytest.mark.usefixtures("dummy_video")
def test_record_toggled_over_osc_starts_and_stops(tmp_path, make_tiny_model):
    model = make_tiny_model(tmp_path / "m.safetensors", arch="dcgan")
    state = {"sent": 0}
    sender = None

    def steer(show: Performance, frame) -> None:
        nonlocal sender
        sender = sender or OscSender("127.0.0.1", show.osc.port)
        recording = show.outputs.recording
        if state["sent"] == 0:
            sender.send("/livegan/record", 1)
            state["sent"] = 1
        elif state["sent"] == 1 and recording is not None and recording.recorder.offered >= 8:
            sender.send("/livegan/record", 0.0)  # Pd sends floats
            state["sent"] = 2
        elif state["sent"] == 2 and recording is None:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    show = _run_show(tmp_path, model, steer)
    sender.close()
    assert len(show.outputs.reports) == 1, "recording did not start and stop"
    videos = sorted((tmp_path / "out").glob("recording-*.mp4"))
    logs = sorted((tmp_path / "out").glob("recording-*.controls.jsonl"))
    assert len(videos) == 1 and len(logs) == 1
    frames = read_video(videos[0])
    assert frames and frames[0].shape == (32, 32, 3)
    assert read_log(logs[0]).models[0].name == "tiny"


@pytest.mark.usefixtures("dummy_video")
def test_replay_of_the_control_log_reproduces_the_shown_frames(tmp_path, make_tiny_model,
                                                               models_dir, monkeypatch):
    """The show renders in bf16, swaps to a model with a smaller latent and crossfades; the
    replay of its control log gives back the frames it showed, fade included."""
    model = make_tiny_model(tmp_path / "m.safetensors", arch="dcgan")
    make_tiny_model(models_dir / "small.safetensors", arch="dcgan", name="small", z_dim=64,
                    seed=3)
    shown: dict[int, np.ndarray] = {}
    state: dict[str, object] = {"sender": None, "swapped_at": None}

    def steer(show: Performance, frame) -> None:
        if state["sender"] is None:
            state["sender"] = OscSender("127.0.0.1", show.osc.port)
        if frame.index >= 10 and not state.get("asked"):
            state["asked"] = True
            state["sender"].send("/livegan/model", "small")
        if state["swapped_at"] is None and show.stage.engine.info.name == "small":
            state["swapped_at"] = frame.index
        if state["swapped_at"] is not None and show.stage.settled and \
                frame.index > state["swapped_at"] + 10:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    original = CpuBackend.__init__

    def bf16(self, *args, **kwargs) -> None:
        original(self, *args, **{**kwargs, "precision": "bf16"})

    with monkeypatch.context() as patched:  # the show alone runs in bf16
        patched.setattr(CpuBackend, "__init__", bf16)
        cfg = PerformConfig(model=str(model), backend="cpu", osc=OscConfig(port=0), frames=2000,
                            outputs=OutputsConfig(out_dir=str(tmp_path / "out"),
                                                  record="show.mp4"),
                            window=WindowConfig(size=(64, 64), max_fps=120))
        show = Performance(cfg)
        put = show.frames.put

        def keep(frame) -> None:  # every frame the show produced, shown or not
            shown[frame.index] = frame.pixels
            put(frame)

        show.frames.put = keep
        show.on_frame = lambda frame: steer(show, frame)
        show.run()
    state["sender"].close()
    assert show.stage.crossfade.fades == 1
    log_path = tmp_path / "out" / "show.controls.jsonl"
    timeline = read_log(log_path)
    assert [(m.name, m.z_dim, m.precision) for m in timeline.models] == [
        ("tiny", 128, "bf16"), ("small", 64, "bf16")]
    replay_source = Replay(log_path)
    compared = fading = 0
    for t, index in zip(timeline.times, timeline.indices):
        if index in shown:
            again = replay_source.frame(float(t))
            difference = np.abs(again.astype(int) - shown[index].astype(int)).max()
            if timeline.fade_at(float(t), FADE_SECONDS) is None:
                assert difference == 0, f"frame {index} differs by {difference}"
            else:  # the blend's rounding may differ by one
                assert difference <= 1, f"frame {index} of the fade differs by {difference}"
                fading += 1
            compared += 1
    replay_source.close()
    assert compared == len(shown) and fading >= 3  # every frame produced was logged

    out = replay(log_path, tmp_path / "replay", RenderConfig(fps=20, progress=False))
    frames = sorted(out.glob("*.png"))
    assert len(frames) == int(timeline.duration * 20 + 1e-6) + 1

REPLAY_ELSEWHERE = """
import json, sys
import numpy as np
from livegan.render import Replay
log, times, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
replay = Replay(log)
np.savez(out, *[replay.frame(t) for t in times])
replay.close()
"""


@pytest.mark.slow
@pytest.mark.usefixtures("dummy_video")
def test_a_replay_in_another_process_gives_the_same_bits(tmp_path, make_tiny_model):
    """The CPU path a show chose by timing (layout, freezing, precision) is in its control
    log, and a replay in a fresh process builds that one, untimed: the same frames, bit for
    bit (a replay in the same process would be handed the show's choice by its cache)."""
    model = make_tiny_model(tmp_path / "m.safetensors", arch="dcgan")
    shown: dict[int, np.ndarray] = {}
    cfg = PerformConfig(model=str(model), backend="cpu", osc=OscConfig(port=0), frames=40,
                        outputs=OutputsConfig(out_dir=str(tmp_path / "out"), record="show.mp4"),
                        window=WindowConfig(size=(64, 64)))
    show = Performance(cfg)
    put = show.frames.put

    def keep(frame) -> None:
        shown[frame.index] = frame.pixels
        put(frame)

    show.frames.put = keep
    show.run()
    log_path = tmp_path / "out" / "show.controls.jsonl"
    timeline = read_log(log_path)
    assert timeline.models[0].layout == show.engine.backend.layout != ""
    pairs = [(float(t), i) for t, i in zip(timeline.times, timeline.indices) if i in shown][:12]
    out = tmp_path / "again.npz"
    subprocess.run([sys.executable, "-c", REPLAY_ELSEWHERE, str(log_path),
                    json.dumps([t for t, _ in pairs]), str(out)], check=True, timeout=300)
    again = np.load(out)
    for k, (_, index) in enumerate(pairs):
        assert np.array_equal(again[f"arr_{k}"], shown[index]), f"frame {index} differs"
