"""A live show: inputs -> controls -> stage -> frames -> window and outputs, wired together."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

from livegan.control.controls import Controls, latest_events
from livegan.control.inputs import ShowInputs
from livegan.control.osc.namespace import OscNamespace
from livegan.control.osc.sender import OscSender
from livegan.control.osc.server import DROP_REASONS, OscServer
from livegan.control.oscquery.mdns import Advert
from livegan.control.web.server import WebServer
from livegan.engine import Engine, off_main_thread
from livegan.engine.canvas import canvas_request
from livegan.engine.cpu import CpuCaches
from livegan.engine.guard import Failover, load_checked
from livegan.errors import LiveganError
from livegan.hudlines import hud_lines
from livegan.library import SPACES, open_model
from livegan.patchfile.load import PatchConfig
from livegan.patchfile.watch import PatchWatcher
from livegan.performconfig import PerformConfig
from livegan.ratelog import RateLimitedLog
from livegan.show.allocator import limit_malloc_arenas, release_free_memory
from livegan.show.frames import FrameQueue
from livegan.show.outputs import Outputs
from livegan.show.window import Action, Window
from livegan.showpage import page_server, start_page
from livegan.stage.stage import Stage
from livegan.stage.thread import RenderThread

log = logging.getLogger(__name__)

GIL_SWITCH_S = 0.001  # seconds between interpreter-lock hand-overs during a show

STALL_SECONDS = 30.0  # kiosk: no frame for this long and the show exits for its service to restart


class Performance:
    """One performance: owns the engine, controls, OSC server, window and render thread."""

    def __init__(self, cfg: PerformConfig) -> None:
        self.cfg = cfg
        limit_malloc_arenas()  # before the show's threads start: memory stays flat for weeks
        self.caches = CpuCaches()  # every engine of this show shares what it settled on
        # the main thread never runs the generator itself (see off_main_thread)
        self.engine = off_main_thread(
            lambda: Engine(open_model(cfg.model, max_res=cfg.max_res, space=cfg.space),
                           cfg.backend, caches=self.caches))
        # inputs -> controls: OSC (dispatcher), MIDI, keys and the patch's router
        self.controls = Controls(self.engine.z_dim, self.engine.directions.shape[0])
        self.namespace = OscNamespace(self.controls, self.engine.direction_names)
        patch = cfg.patch or PatchConfig()
        self.inputs = ShowInputs(self.controls, self.namespace, patch,
                                 labels=lambda: self.engine.info.labels, midi=cfg.midi,
                                 midi_file=cfg.midi_file, midi_loop=cfg.midi_loop,
                                 audio=cfg.audio, audio_file=cfg.audio_file,
                                 audio_loop=cfg.audio_loop, link=cfg.link)
        self.watcher = PatchWatcher(patch.path, self.inputs.set_patch) if patch.path else None
        self.inputs.set_bend_layers(self.engine.bend_layers)  # /livegan/bend/{layer}/{op}
        allow = None if cfg.osc.allow is None else list(cfg.osc.allow)
        self.osc = OscServer(self._osc_in, cfg.osc.host, cfg.osc.port, allow,
                             coalesce=self.inputs.router.coalescing)
        # OSCQuery and the control page: one web server on its own thread
        self.web: WebServer | None = page_server(
            cfg.osc, cfg.web, self.inputs, self.controls, lambda: self.engine, cfg.patch,
            cfg.model, lambda: self.osc.port)
        self._advert: Advert | None = None
        # controls -> stage (motion, engine, crossfade, failover) on the render thread
        self.stage = Stage(self.engine, cfg.seed)
        self.stage.failover = Failover(self._fall_back)
        # stage -> frames -> window (main thread) and outputs
        self.frames = FrameQueue()
        self.render = RenderThread(self.stage, self.controls, self.frames, cfg.window.max_fps)
        self.outputs = Outputs(cfg.outputs,
                               OscSender.to(cfg.osc.feedback) if cfg.osc.feedback else None)
        self.stage.on_render = self.outputs.rendered
        self.backend = cfg.backend  # what hot-swaps build on (a fallback changes it)
        self._wanted_model: str | None = None  # newest /livegan/model not yet loaded
        self.space = cfg.space  # z or w: where style models are played from (/livegan/space)
        self._reload = False  # the wanted model is the playing one, in another space
        self._loader: threading.Thread | None = None
        self._patch_error: str | None = None
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
            "space": self._request_space,
            "patch": self.inputs.set_patch,  # mappings and scenes made on the control page
        }
        self.app_handlers.update(self.inputs.app_handlers())  # scene, label

    def run(self) -> int:
        """Play until quit (or `frames` shown). Returns the number of frames shown."""
        # Python hands the interpreter lock between threads every 5 ms by default: an OSC
        # message or a finished frame could wait that long. 1 ms keeps input close to frames.
        switch = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_S)
        self.osc.start()
        self._start_oscquery()
        try:
            self.window = Window(self.cfg.window)
            self._start_canvas()
            self.inputs.start()
            self.outputs.start()
            self.render.start()
            self._loop()
        finally:
            sys.setswitchinterval(switch)
            self.render.stop()
            self.stage.close()
            self.inputs.stop()
            self.outputs.close()
            self.osc.stop()
            self._stop_oscquery()
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
            self._watch_patch()
            self.inputs.tick()
            self.outputs.tick(self.fps, self.engine.info.name, self.stage.errors,
                              self.stage.last_error, self.dropped())
            self._report_sound()
            if self.cfg.window.kiosk:
                self._keep_rendering()
            frame = self.frames.latest(timeout=0.1)
            if frame is None:
                continue
            self.window.show(frame.pixels)
            self.outputs.shown(frame)
            if self.web is not None:
                self.web.shown(frame.pixels)
            self._last_frame_at = time.perf_counter()
            self.shown += 1
            if self.on_frame is not None:
                self.on_frame(frame)
            fps_count += 1
            now = time.perf_counter()
            if now - fps_clock >= 0.5:
                self.fps, fps_clock, fps_count = fps_count / (now - fps_clock), now, 0
                self._update_hud()

    @property
    def oscquery(self) -> WebServer | None:
        """The web server when it serves OSCQuery (else None)."""
        return self.web if self.web is not None and self.web.oscquery else None

    def _osc_in(self, address: str, args: tuple, sender: tuple[str, int]) -> None:
        """The OSC server's handler (OSC thread): the control page's learn sees each
        message, then the dispatcher routes it."""
        if self.web is not None:
            self.web.osc_seen(address, args)
        self.inputs.dispatcher(address, args, sender)

    def _start_oscquery(self) -> None:
        """Serve and announce OSCQuery and the control page; a port in use costs one line,
        never the show."""
        if self.web is not None:
            self.web, self._advert = start_page(self.web, self.cfg.osc.host, self.osc.port,
                                                self.cfg.web.open)
        if self.web is not None:
            self.inputs.on_midi = self.web.midi_seen

    def _stop_oscquery(self) -> None:
        if self.web is not None:
            self.web.stop()
        if self._advert is not None:
            self._advert.close()

    def _start_canvas(self) -> None:
        """--canvas / [window] canvas: the engine grows frames of the window's shape."""
        assert self.window is not None
        request = canvas_request(self.cfg.window.canvas, self.window.size)
        if request is not None:
            off_main_thread(lambda: self.engine.set_canvas(request))

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
            log.error("the render thread stopped; restarting it (kiosk)")
            self.outputs.error("render thread stopped; restarted")
            self.render = RenderThread(self.stage, self.controls, self.frames,
                                       self.cfg.window.max_fps)
            self.render.start()
            self._last_frame_at = time.perf_counter()
        elif time.perf_counter() - self._last_frame_at > STALL_SECONDS:
            raise LiveganError(f"no frame rendered for {STALL_SECONDS:.0f} s, the render is "
                               "stalled: exiting so the service manager restarts livegan")

    def _handle_app_events(self) -> None:
        """Show-level events queued by inputs (OSC, MIDI, keys), run on the main thread;
        of each kind only the newest counts (a flood costs one action a frame)."""
        for event in latest_events(self.controls.app_events()):
            handler = self.app_handlers.get(event[0])
            if handler is None:
                self._ratelog.warning(event[0], "%s is not available in this show", event[0])
                continue
            try:
                handler(*event[1:])
            except Exception as exc:  # noqa: BLE001 - hostile input never stops the show
                self._ratelog.error(event[0], "%s failed: %s", event[0], exc)
                self.outputs.error(f"{event[0]} failed: {exc}")

    def _watch_patch(self) -> None:
        """Play the patch file's edits; a broken one is said on telemetry once (the old plays on)."""
        if self.watcher is not None:
            self.watcher.poll()
        error = self.watcher.error if self.watcher is not None else None
        if error != self._patch_error:
            self._patch_error = error
            if error:
                self.outputs.error(f"patch reload refused, the previous patch plays on: {error}")

    def _report_sound(self) -> None:
        """Telemetry of the sound analysis (level, bands, onsets) and of the beat."""
        telemetry = self.outputs.telemetry
        if telemetry is None:
            return
        values = self.inputs.sound.values if self.inputs.sound is not None else None
        if values is not None:
            telemetry.audio(time.perf_counter(), values.level, values.bands, values.onsets)
        beat = self.inputs.beats.beat
        telemetry.beat(beat.index, beat.in_bar, beat.tempo)

    def _set_hud(self, visible: bool) -> None:
        assert self.window is not None
        self.window.hud_visible = bool(visible)

    def _request_model(self, name: str) -> None:
        """Load on one loader thread; requests arriving meanwhile: only the newest loads."""
        self._wanted_model = str(name)
        if self._loader is None or not self._loader.is_alive():
            self._loader = threading.Thread(target=self._load_wanted, daemon=True,
                                            name="livegan-load")
            self._loader.start()

    def _request_space(self, space: str) -> None:
        """/livegan/space z|w: the playing style model again, from that space (crossfaded
        like a hot-swap); a model without w says so in one line and plays on."""
        space = str(space).strip().lower()
        if space not in SPACES or space == self.space:
            return
        if not self.engine.style:
            self._ratelog.warning("space", "%s has only z: /livegan/space %s ignored",
                                  self.engine.info.name, space)
            return
        self.space = space
        self._reload = True
        self._request_model(str(self.engine.info.path))

    def _load_wanted(self) -> None:
        while self._wanted_model is not None:
            name, self._wanted_model = self._wanted_model, None
            reload, self._reload = self._reload, False
            self._swap_model(name, allow_paths=reload)

    def _swap_model(self, name: str, allow_paths: bool = False) -> None:
        """Load, check and probe a model by name (model folders only; a path only to play
        the current model in another space) off the main thread, then hand it over;
        anything wrong with it leaves the current model playing."""
        try:
            engine = load_checked(name, self.backend, allow_paths, self.space, self.caches)
            engine.set_canvas(self.engine.canvas_request)  # the new model fills the same frame
        except Exception as exc:  # noqa: BLE001 - whatever the file does, the show plays on
            text = str(exc) if isinstance(exc, LiveganError) else f"{type(exc).__name__}: {exc}"
            self._ratelog.error(f"swap:{text}", "model swap refused, the current model keeps "
                                "playing: %s", text)  # the same refusal: a line every 5 s
            self.outputs.error(f"model swap refused: {text}")
            return
        self.controls.resize(engine.z_dim, engine.directions.shape[0])
        self.namespace.direction_names = engine.direction_names
        self.inputs.set_bend_layers(engine.bend_layers)
        self.stage.swap(engine)
        self.engine = engine
        if self.web is not None:
            self.web.model_changed()
        log.info("now playing %s", engine.info.name)
        # once the old model has faded out and is gone, give its memory back
        deadline = time.monotonic() + 4 * self.stage.crossfade.seconds + 1.0
        while (self.stage.engine is not engine or not self.stage.settled) \
                and time.monotonic() < deadline and self.render.is_alive():
            time.sleep(0.05)
        release_free_memory()

    def _fall_back(self, failed: Engine, engine: Engine) -> None:
        """Failover built `engine` on the next backend for `failed` (builder thread)."""
        if self.stage.engine is not failed or self.stage.pending is not None:
            engine.close()  # a hot-swap came first: the new model replaces the failing one
            return
        self.backend = engine.backend.name
        self.stage.swap(engine)
        self.engine = engine
        self.outputs.error(f"rendering kept failing on {failed.backend.describe()}; "
                           f"now on {engine.backend.describe()}")

    def dropped(self) -> int:
        """OSC messages not acted on: malformed, NaN/inf, too deep, not allowed, handler
        errors, unknown addresses and wrong arguments (HUD and /livegan/dropped)."""
        stats = self.osc.stats()
        return sum(stats[k] for k in DROP_REASONS) + self.inputs.dispatcher.dropped()

    def hud_lines(self) -> list[str]:
        """The HUD's lines now (livegan.hudlines)."""
        return hud_lines(self)

    def _update_hud(self) -> None:
        assert self.window is not None
        if self.web is not None:
            self.web.set_hud({"fps": round(self.fps, 1), "frame": self.shown,
                              "backend": self.engine.backend.describe(),
                              "received": self.osc.stats()["received"],
                              "dropped": self.dropped(), "model": self.engine.info.name})
        if self.window.hud_visible:
            self.window.set_hud(self.hud_lines())


def perform(cfg: PerformConfig) -> int:
    """Run a show; returns the number of frames shown."""
    return Performance(cfg).run()
