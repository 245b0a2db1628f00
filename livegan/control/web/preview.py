"""Small JPEGs for the page: the newest shown frame (cached), and thumbnails rendered one at a
time on a low-priority worker thread."""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from PIL import Image

from livegan.control.web.hooks import RenderThumb
from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

PREVIEW_SIDE = 256  # pixels, the longest side
PREVIEW_QUALITY = 70
PREVIEW_INTERVAL_S = 0.2  # encoded at most 5 times a second, however many ask
THUMB_SIDE = 96
THUMB_QUALITY = 80
THUMB_CACHE = 512  # thumbnails kept (about 3 KB each)
THUMB_QUEUE = 64  # seed thumbnails waiting at most; the oldest requests give way
WORKER_NICE = 10  # the worker thread's niceness (Linux): the render thread goes first
WORKER_SHARE = 0.5  # the worker rests as long as it rendered: at most half a core

Key = tuple[str | None, str, int]  # (model or None: the playing one, its name now, seed)


def jpeg(pixels: np.ndarray, side: int, quality: int) -> bytes:
    """uint8 [H, W, 3] -> JPEG bytes whose longest side is `side` (scaled down or up)."""
    image = Image.fromarray(np.ascontiguousarray(pixels))
    scale = side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if size != image.size:
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


class Preview:
    """The newest shown frame as a small JPEG.

    The show hands each frame over by reference (`shown`, O(1), main thread); `jpeg()`
    (any other thread) encodes the newest one at most every PREVIEW_INTERVAL_S and answers
    everyone else from the cache, so a hundred pages polling cost one encode each interval.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._newest: np.ndarray | None = None
        self._lock = threading.Lock()
        self._cached: bytes | None = None
        self._cached_from: np.ndarray | None = None
        self._encoded_at = -1e9
        self.encoded = 0  # JPEGs made (tests, bench)

    def shown(self, pixels: np.ndarray) -> None:
        """A frame went on screen: keep a reference (never copied or encoded here)."""
        self._newest = pixels

    def ready(self) -> bytes | None:
        """The cached JPEG while it is fresh (no encoding, no lock), else None."""
        if self._clock() - self._encoded_at < PREVIEW_INTERVAL_S:
            return self._cached
        return None

    def jpeg(self) -> bytes | None:
        """The newest frame's JPEG (None before the first frame); encodes when the cached
        one is older than PREVIEW_INTERVAL_S and a newer frame was shown."""
        with self._lock:
            newest = self._newest
            fresh = self._clock() - self._encoded_at < PREVIEW_INTERVAL_S
            if newest is None or newest is self._cached_from or (fresh and self._cached):
                return self._cached
            self._cached = jpeg(newest, PREVIEW_SIDE, PREVIEW_QUALITY)
            self._cached_from = newest
            self._encoded_at = self._clock()
            self.encoded += 1
            return self._cached


class Thumbs:
    """Thumbnails of models and seeds, each rendered once and kept (a bounded cache).

    One daemon worker renders one at a time at a low priority (niced, and resting as long
    as it worked), model thumbnails before seed thumbnails, the newest seed request first.
    `request` never blocks: `done(jpeg or None)` is called on the worker thread.

    Args:
        render: the show's renderer (None: no thumbnails; every request answers None).
        playing: returns the playing model's name (part of a seed thumbnail's key).
    """

    def __init__(self, render: RenderThumb | None, playing: Callable[[], str]) -> None:
        self._render = render
        self._playing = playing
        self._cache: OrderedDict[Key, bytes | None] = OrderedDict()
        self._waiting: OrderedDict[Key, list[Callable[[bytes | None], None]]] = OrderedDict()
        self._models: list[Key] = []  # model thumbnails asked for, in order
        self._seeds: list[Key] = []  # seed thumbnails, newest last
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._ratelog = RateLimitedLog(log)
        self.rendered = 0

    def key(self, model: str | None, seed: int) -> Key:
        """The cache key of a model's thumbnail (model given) or a seed of the playing model."""
        return (model, model or self._playing(), seed)

    def cached(self, key: Key) -> tuple[bool, bytes | None]:
        """(known, JPEG): known False when it was never rendered."""
        with self._ready:
            if key in self._cache:
                return True, self._cache[key]
            return False, None

    def request(self, key: Key, done: Callable[[bytes | None], None] | None = None) -> None:
        """Render `key` unless cached or queued; `done` gets the JPEG (None: failed)."""
        with self._ready:
            if key in self._cache:
                data = self._cache[key]
                if done is not None:
                    done(data)
                return
            callbacks = self._waiting.setdefault(key, [])
            if done is not None:
                callbacks.append(done)
            queue = self._models if key[0] is not None else self._seeds
            if key in queue:
                queue.remove(key)
            queue.append(key)
            while len(self._seeds) > THUMB_QUEUE:  # give way: the page moved on
                for callback in self._waiting.pop(self._seeds.pop(0), []):
                    callback(None)
            self._start()
            self._ready.notify()

    def stop(self) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        if self._thread is not None:
            self._thread.join(5.0)

    def _start(self) -> None:
        if self._thread is None and self._render is not None:
            self._thread = threading.Thread(target=self._work, name="livegan-thumbs",
                                            daemon=True)
            self._thread.start()

    def _next(self) -> Key | None:
        with self._ready:
            while not self._stopping and not (self._models or self._seeds):
                self._ready.wait()
            if self._stopping:
                return None
            return self._models.pop(0) if self._models else self._seeds.pop()

    def _work(self) -> None:
        _lower_priority()
        while (key := self._next()) is not None:
            start = time.perf_counter()
            data = self._make(key)
            with self._ready:
                self._cache[key] = data
                while len(self._cache) > THUMB_CACHE:
                    self._cache.popitem(last=False)
                callbacks = self._waiting.pop(key, [])
            for callback in callbacks:
                callback(data)
            rest = (time.perf_counter() - start) * (1 / WORKER_SHARE - 1)
            with self._ready:
                if not self._stopping:
                    self._ready.wait(min(rest, 2.0))

    def _make(self, key: Key) -> bytes | None:
        assert self._render is not None
        try:
            pixels = self._render(key[0], key[2])
            self.rendered += 1
            return jpeg(pixels, THUMB_SIDE, THUMB_QUALITY)
        except Exception as exc:  # noqa: BLE001 - a broken model file never stops the worker
            self._ratelog.warning(f"thumb:{key[1]}", "no thumbnail for %s seed %d: %s",
                                  key[1], key[2], exc)
            return None


def _lower_priority() -> None:
    """Nice the calling thread (Linux threads have their own niceness); elsewhere a no-op."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
    except (AttributeError, OSError):
        pass
