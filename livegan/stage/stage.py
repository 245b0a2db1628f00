"""A stage: what the render thread works on, kept apart from the thread so it outlives one."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

import numpy as np

from livegan.control.controls import Snapshot, noise_mode
from livegan.control.motion import Motion
from livegan.engine import Engine
from livegan.engine.guard import Failover
from livegan.ratelog import RateLimitedLog
from livegan.show.frames import Frame
from livegan.stage.crossfade import Crossfade

log = logging.getLogger(__name__)

#: called as on_render(engine, index, time, z, label) after each frame (the control log)
RenderHook = Callable[[Engine, int, float, np.ndarray, int], None]


class StageBends:
    """Network bending on the render side: the newest bends reach the engine playing, once a
    frame before it renders (and again after a hot-swap, so a new model plays bent too).

    The control side replaces its bends mapping on every write and never changes one it
    handed out, so "changed" is an identity test: nothing is compared or copied per frame.
    """

    def __init__(self) -> None:
        self.applied: Mapping | None = None  # the bends the engine has now
        self.engine: Engine | None = None  # the engine they were given to
        self.errors = 0  # bends an engine refused (the frame renders unbent)
        self._ratelog = RateLimitedLog(log)

    def apply(self, engine: Engine, bends: Mapping) -> None:
        """Give `engine` the bends `bends` ((layer, op) -> amounts) unless it has them."""
        if bends is self.applied and engine is self.engine:
            return
        self.applied, self.engine = bends, engine
        try:
            engine.set_bends(bends)
        except Exception as exc:  # noqa: BLE001 - a bend never stops the show
            self.errors += 1
            self._ratelog.error("bend", "bends not applied, rendering unbent: %s", exc)
            engine.set_bends({})


class Stage:
    """The render side's state: the engine playing, the motion of its latent, its bends, a
    crossfade on a hot-swap, failover to the next backend, and the counters.

    Only the render thread calls `frame`; other threads hand a new engine over with
    `swap` (taken at the start of the next frame). A render thread that dies leaves the
    stage as it was, and a new thread carries on from it.

    Args:
        engine: the engine to start with.
        seed: seeds the walk.
    """

    def __init__(self, engine: Engine, seed: int = 0) -> None:
        self.engine = engine
        self.motion = Motion(engine.z_dim, engine.directions, seed)
        self.crossfade = Crossfade()
        self.bends = StageBends()  # network bending: the engine gets the snapshot's bends
        self.failover: Failover | None = None  # set by the show: rebuilds a failing engine
        self.on_render: RenderHook | None = None
        self.rendered = 0  # frames rendered so far (frame numbers carry on across threads)
        self.errors = 0  # render errors so far
        self.last_error = ""  # text of the latest render error (telemetry)
        self.last_pixels: np.ndarray | None = None  # the latest frame handed on
        self._next_engine: Engine | None = None
        self._swap_lock = threading.Lock()
        self._ratelog = RateLimitedLog(log)

    @property
    def pending(self) -> Engine | None:
        """The engine handed over by `swap` and not yet playing, or None."""
        return self._next_engine

    @property
    def settled(self) -> bool:
        """Whether nothing is waiting to play and no crossfade is on."""
        return self._next_engine is None and not self.crossfade.active

    def swap(self, engine: Engine) -> None:
        """Play `engine` from the next frame on (hot-swap; the latent path carries over,
        and the old model's frames crossfade into the new one's). Any thread. An engine
        handed over earlier and not yet taken is closed: the newest wins."""
        with self._swap_lock:
            replaced, self._next_engine = self._next_engine, engine
        if replaced is not None and replaced is not engine:
            replaced.close()

    def frame(self, snap: Snapshot, dt: float) -> Frame | None:
        """Render one frame for `snap`, `dt` seconds after the last.

        A generator error returns None (the last good frame stays on screen), is counted
        and logged at a limited rate, and tells the failover.
        """
        self._take_swap()
        try:
            z = self.motion.step(snap, dt)
            if not np.isfinite(z).all():  # never reaches a frame: restart the walk instead
                self.motion = Motion(self.engine.z_dim, self.engine.directions, self.rendered)
                raise FloatingPointError("the latent became NaN or infinite; the walk restarted")
            self.bends.apply(self.engine, snap.bends)
            self.engine.set_style(snap.params["truncation"], noise_mode(snap.params["noise"]))
            pixels = self.engine.render(z, snap.label)
        except Exception as exc:  # noqa: BLE001 - keep the last frame, keep playing
            self.errors += 1
            self.last_error = str(exc)
            self._ratelog.error("render", "render failed, keeping the last frame: %s", exc)
            if self.failover is not None:
                self.failover.failed(self.engine)
            return None
        if self.failover is not None:
            self.failover.succeeded()
        self.rendered += 1
        done = time.perf_counter()
        pixels = self.crossfade.mix(pixels, z, snap.label, done)
        self.last_pixels = pixels
        if self.on_render is not None:
            self.on_render(self.engine, self.rendered, done, z, snap.label)
        return Frame(pixels, self.rendered, snap.version, done)

    def close(self) -> None:
        """End a crossfade and close its outgoing engine (the playing one stays open)."""
        self.crossfade.finish()

    def _take_swap(self) -> None:
        with self._swap_lock:
            engine, self._next_engine = self._next_engine, None
        if engine is None:
            return
        old = self.engine
        self.engine = engine
        if engine.z_dim != self.motion.z_dim:
            self.motion = Motion(engine.z_dim, engine.directions)
        else:
            self.motion.set_directions(engine.directions)
        # the fade's clock starts with the first frame it mixes: replays see the same times
        self.crossfade.start(old, self.last_pixels, None, renders=old.z_dim == engine.z_dim)
