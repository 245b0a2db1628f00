"""A live show: inputs -> controls -> motion -> engine -> frames -> window, wired together."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from livegan.control.controls import Controls
from livegan.control.inputs import ShowInputs
from livegan.control.motion import Motion
from livegan.control.namespace import OscNamespace
from livegan.control.osc import OscServer
from livegan.control.patch import PatchConfig
from livegan.control.ratelog import RateLimitedLog
from livegan.engine import Engine
from livegan.errors import LiveganError
from livegan.modelfile import DEFAULT_MODEL, find_model, load_model
from livegan.show.frames import Frame, FrameQueue
from livegan.show.outputs import Outputs, OutputsConfig
from livegan.show.recorder import DEFAULT_FPS
from livegan.show.snapshot import DEFAULT_OUT_DIR
from livegan.show.window import Action, Window, WindowConfig

log = logging.getLogger(__name__)

STALL_SECONDS = 30.0  # kiosk: no frame for this long and the show exits for its service to restart


@dataclass(frozen=True)
class PerformConfig:
    """Everything a show needs; built from the CLI flags and the patch."""

    model: str = DEFAULT_MODEL  # model name in the model folders, or a path
    backend: str = "auto"  # auto | tensorrt | cuda | cpu
    osc_host: str = "127.0.0.1"  # loopback unless the performer opens it up
    osc_port: int = 12000  # Wekinator's default output port
    osc_allow: list[str] | None = None  # sender addresses accepted (None: any that can reach)
    window: WindowConfig = field(default_factory=WindowConfig)
    frames: int | None = None  # quit after this many frames shown (scripts, tests)
    seed: int = 0  # seeds the walk
    out_dir: str = DEFAULT_OUT_DIR  # recordings, control logs and snapshots go here only
    record: str | None = None  # record from the start: a file name in out_dir ("" = generated)
    record_fps: int = DEFAULT_FPS  # frame rate of recordings
    ndi: str | None = None  # NDI source name (needs livegan[ndi]); None: no NDI
    vcam: bool = False  # send frames to a virtual webcam (needs livegan[vcam])
    feedback: str | None = None  # "HOST:PORT" receiving telemetry (patch: [osc] feedback)
    patch: PatchConfig | None = None  # mappings, scenes, motion (None: no patch)
    midi: tuple[str, ...] = ()  # MIDI input name substrings (replace the patch's)
    midi_file: str | None = None  # a MIDI file played as input
    midi_loop: bool = False  # loop the MIDI file


class RenderThread(threading.Thread):
    """Reads one control snapshot per frame, renders it, hands the frame on.

    A generator error keeps the last good frame on screen (nothing is put) and is logged
    at a limited rate; the thread itself never dies of one.
    """

    def __init__(self, engine: Engine, controls: Controls, frames: FrameQueue) -> None:
        super().__init__(name="livegan-render", daemon=True)
        self.engine, self.controls, self.frames = engine, controls, frames
        self.motion = Motion(engine.z_dim, engine.directions)
        self.stopping = threading.Event()
        self.errors = 0
        self.last_error = ""  # text of the latest render error (telemetry)
        self.rendered = 0
        # called as on_render(engine, index, time, z, label) after each frame (control log)
        self.on_render: Callable[..., None] | None = None
        self._next_engine: Engine | None = None
        self._ratelog = RateLimitedLog(log)

    def swap(self, engine: Engine) -> None:
        """Use `engine` from the next frame on (hot-swap; the latent path carries over)."""
        self._next_engine = engine

    def _take_swap(self) -> None:
        engine, self._next_engine = self._next_engine, None
        if engine is None:
            return
        old = self.engine
        self.engine = engine
        if engine.z_dim != self.motion.z_dim:
            self.motion = Motion(engine.z_dim, engine.directions)
        else:
            self.motion.set_directions(engine.directions)
        old.close()

    def run(self) -> None:
        last = time.perf_counter()
        while not self.stopping.is_set():
            self._take_swap()
            now = time.perf_counter()
            dt, last = min(now - last, 0.25), now
            snap = self.controls.snapshot()
            try:
                z = self.motion.step(snap, dt)
                pixels = self.engine.render(z, snap.label)
            except Exception as exc:  # noqa: BLE001 - keep the last frame, keep playing
                self.errors += 1
                self.last_error = str(exc)
                self._ratelog.error("render", "render failed, keeping the last frame: %s", exc)
                self.stopping.wait(0.05)
                continue
            self.rendered += 1
            done = time.perf_counter()
            if self.on_render is not None:
                self.on_render(self.engine, self.rendered, done, z, snap.label)
            self.frames.put(Frame(pixels, self.rendered, snap.version, done))

    def stop(self) -> None:
        self.stopping.set()
        if self.ident is not None:  # started
            self.join(timeout=5)


class Show:
    """One performance: owns the engine, controls, OSC server, window and render thread."""

    def __init__(self, cfg: PerformConfig) -> None:
        self.cfg = cfg
        self.engine = Engine(load_model(find_model(cfg.model)), cfg.backend)
        self.controls = Controls(self.engine.z_dim, self.engine.directions.shape[0])
        self.namespace = OscNamespace(self.controls, self.engine.direction_names)
        self.inputs = ShowInputs(self.controls, self.namespace, cfg.patch or PatchConfig(),
                                 labels=lambda: self.engine.info.labels, midi=cfg.midi,
                                 midi_file=cfg.midi_file, midi_loop=cfg.midi_loop)
        self.osc = OscServer(self.inputs.osc_handler(self.namespace), cfg.osc_host,
                             cfg.osc_port, cfg.osc_allow)
        self.frames = FrameQueue()
        self.render = RenderThread(self.engine, self.controls, self.frames)
        self.render.motion = Motion(self.engine.z_dim, self.engine.directions, cfg.seed)
        self.outputs = Outputs(OutputsConfig(cfg.out_dir, cfg.record, cfg.record_fps, cfg.ndi,
                                             cfg.vcam, cfg.feedback))
        self.render.on_render = self.outputs.rendered
        self._last_frame_at = 0.0
        self.shown = 0
        self.fps = 0.0
        self.window: Window | None = None
        self.on_frame = None  # called with each Frame shown (bench, tests)
        self._ratelog = RateLimitedLog(log)
        # kind -> handler(*args) for events from Controls.push_app (main thread)
        self.app_handlers: dict[str, Callable[..., None]] = {
            "hud": self._set_hud,
            "model": self._request_model,
            "record": self.outputs.set_recording,
            "snapshot": self._snapshot,
        }
        self.app_handlers.update(self.inputs.app_handlers())  # scene, label, query

    def run(self) -> int:
        """Play until quit (or `frames` shown). Returns the number of frames shown."""
        self.osc.start()
        try:
            self.window = Window(self.cfg.window)
            self.inputs.start()
            self.outputs.start()
            self.render.start()
            self._loop()
        finally:
            self.render.stop()
            self.inputs.stop()
            self.outputs.close()
            self.osc.stop()
            if self.window is not None:
                self.window.close()
            self.engine.close()
        return self.shown

    def _loop(self) -> None:
        assert self.window is not None
        fps_clock = time.perf_counter()
        fps_count = 0
        self._last_frame_at = fps_clock
        while self.cfg.frames is None or self.shown < self.cfg.frames:
            if not self._handle_input():
                break
            self._handle_app_events()
            self.inputs.tick()
            self.outputs.tick(self.fps, self.engine.info.name, self.render.errors,
                              self.render.last_error)
            if self.cfg.window.kiosk:
                self._keep_rendering()
            frame = self.frames.latest(timeout=0.1)
            if frame is None:
                continue
            self.window.show(frame.pixels)
            self.outputs.shown(frame)
            self._last_frame_at = time.perf_counter()
            self.shown += 1
            if self.on_frame is not None:
                self.on_frame(frame)
            fps_count += 1
            now = time.perf_counter()
            if now - fps_clock >= 0.5:
                self.fps, fps_clock, fps_count = fps_count / (now - fps_clock), now, 0
                self._update_hud()

    def _handle_input(self) -> bool:
        """Window keys; False when the performer quits."""
        assert self.window is not None
        for event in self.window.poll():
            if event.action is Action.QUIT:
                return False
            if event.action is Action.TOGGLE_FULLSCREEN:
                self.window.toggle_fullscreen()
            elif event.action is Action.TOGGLE_HUD:
                self.window.hud_visible = not self.window.hud_visible
            elif event.action is Action.SNAPSHOT:
                self._snapshot()
            elif event.action is Action.KEY:
                self.inputs.key(event.key)
        return True

    def _snapshot(self) -> None:
        """S key or /livegan/snapshot: the frame and the window as PNGs in the output folder."""
        assert self.window is not None
        self.outputs.snapshot(self.window.screenshot())

    def _keep_rendering(self) -> None:
        """Kiosk: restart a render thread that died; exit (for the service to restart) on a stall."""
        if not self.render.is_alive():
            old = self.render
            log.error("the render thread stopped; restarting it (kiosk)")
            self.outputs.error("render thread stopped; restarted")
            self.render = RenderThread(old.engine, self.controls, self.frames)
            self.render.motion, self.render.rendered = old.motion, old.rendered
            self.render.errors, self.render.on_render = old.errors, old.on_render
            if old._next_engine is not None:
                self.render.swap(old._next_engine)
            self.render.start()
            self._last_frame_at = time.perf_counter()
        elif time.perf_counter() - self._last_frame_at > STALL_SECONDS:
            raise LiveganError(f"no frame rendered for {STALL_SECONDS:.0f} s, the render is "
                               "stalled: exiting so the service manager restarts livegan")

    def _handle_app_events(self) -> None:
        """Show-level events queued by inputs (OSC, MIDI, keys), run on the main thread."""
        for event in self.controls.app_events():
            handler = self.app_handlers.get(event[0])
            if handler is None:
                self._ratelog.warning(event[0], "%s is not available in this show", event[0])
                continue
            try:
                handler(*event[1:])
            except LiveganError as exc:
                self._ratelog.error(event[0], "%s failed: %s", event[0], exc)

    def _set_hud(self, visible: bool) -> None:
        assert self.window is not None
        self.window.hud_visible = bool(visible)

    def _request_model(self, name: str) -> None:
        threading.Thread(target=self._swap_model, args=(str(name),), daemon=True,
                         name="livegan-load").start()

    def _swap_model(self, name: str) -> None:
        """Load a model by name (model folders only) off the main thread, then hand it over."""
        try:
            engine = Engine(load_model(find_model(name, allow_paths=False)), self.cfg.backend)
        except LiveganError as exc:
            log.error("model swap refused, the current model keeps playing: %s", exc)
            self.outputs.error(f"model swap refused: {exc}")
            return
        self.controls.resize(engine.z_dim, engine.directions.shape[0])
        self.namespace.direction_names = engine.direction_names
        self.render.swap(engine)
        self.engine = engine
        log.info("now playing %s", engine.info.name)

    def hud_lines(self) -> list[str]:
        stats = self.osc.stats()
        last = self.osc.last_message
        dropped = sum(stats[k] for k in ("malformed", "nonfinite", "too_deep", "not_allowed"))
        return [
            f"{self.fps:4.0f} fps   {self.engine.info.name} ({self.engine.resolution}px)",
            f"{self.engine.backend.describe()}",
            f"OSC {self.cfg.osc_host}:{self.osc.port}  in {stats['received']}  "
            f"dropped {dropped + self.namespace.counts['unknown'] + self.namespace.counts['bad_args']}",
            f"last {last[0]} {' '.join(f'{a:.3g}' if isinstance(a, float) else str(a) for a in last[1][:6])}"
            if last else "last -",
            f"mode {self.controls.mode}  render errors {self.render.errors}",
            *self.outputs.hud_lines(),
        ]

    def _update_hud(self) -> None:
        assert self.window is not None
        if self.window.hud_visible:
            self.window.set_hud(self.hud_lines())


def perform(cfg: PerformConfig) -> int:
    """Run a show; returns the number of frames shown."""
    return Show(cfg).run()
