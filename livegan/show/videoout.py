"""Video out to other programs, each optional: NDI (cyndilib), a virtual webcam (pyvirtualcam),
Syphon on macOS (syphon-python) and Spout on Windows (SpoutGL)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from fractions import Fraction
from typing import TypeVar

import numpy as np

from livegan.errors import OutputError
from livegan.show.videofile import VIDEO_FPS

log = logging.getLogger(__name__)

NDI_INSTALL = "pip install 'livegan[ndi]'"
VCAM_INSTALL = "pip install 'livegan[vcam]'"
SYPHON_INSTALL = "pip install 'livegan[syphon]' (macOS only)"
SPOUT_INSTALL = "pip install 'livegan[spout]' (Windows only)"
SYPHON_RUNTIME_HINT = "Syphon needs macOS 11 or later with a Metal GPU"
SPOUT_RUNTIME_HINT = "Spout needs Windows with an OpenGL driver for the GPU"
GL_RGBA = 0x1908  # OpenGL's RGBA pixel format constant, as SpoutGL's sendImage expects
NDI_RUNTIME_HINT = "install the NDI runtime (NDI Tools from ndi.video)"
VCAM_RUNTIME_HINT = (
    "on Linux load v4l2loopback (sudo modprobe v4l2loopback exclusive_caps=1), "
    "on Windows or macOS install OBS Studio and start its virtual camera once"
)
GOES_ON = "the show goes on without it"

T = TypeVar("T")


def _load(kind: str, library: str, install: str, hint: str | None, load: Callable[[], T]) -> T:
    """What `load` imports, or OutputError saying why `kind` is off: `library` is not
    installed, or (given a `hint`) is installed but cannot load."""
    try:
        return load()
    except ImportError as exc:
        raise OutputError(f"{kind} off: {library} is not installed ({install})") from exc
    except Exception as exc:
        if hint is None:
            raise
        raise OutputError(f"{kind} off: {library} cannot load ({exc}); {hint}") from exc


class VideoOut:
    """A frame sink fed from the main thread and served by its own thread.

    `send` only stores the newest frame and returns; the sink's thread opens the output at
    the first frame's size (reopening when the size changes, as after a model swap) and
    passes frames on. A sink that fails says so once and stops; the show goes on.
    Subclasses implement `_open`, `_write` and `_close`.
    """

    kind = "video out"

    def __init__(self, fps: float = VIDEO_FPS) -> None:
        self.fps = fps
        self.sent = 0
        self.failed = False
        self._frame: np.ndarray | None = None
        self._ready = threading.Condition()
        self._stopping = False
        self._size: tuple[int, int] | None = None
        self._thread = threading.Thread(target=self._serve, name=f"livegan-{self.kind}",
                                        daemon=True)
        self._thread.start()

    def send(self, frame: np.ndarray) -> None:
        """Offer a uint8 RGB frame [H, W, 3]; the newest one wins (never blocks)."""
        if self.failed:
            return
        with self._ready:
            self._frame = frame
            self._ready.notify()

    def close(self) -> None:
        """Stop the thread and close the output."""
        with self._ready:
            self._stopping = True
            self._ready.notify()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        try:
            while True:
                with self._ready:
                    while self._frame is None and not self._stopping:
                        self._ready.wait()
                    if self._stopping:
                        break
                    frame, self._frame = self._frame, None
                self._pass_on(frame)
        except Exception as exc:  # noqa: BLE001 - an output never takes the show down
            self.failed = True
            log.warning("%s off: %s; %s", self.kind, self._explain(exc), GOES_ON)
        finally:
            self._close_quietly()

    def _pass_on(self, frame: np.ndarray) -> None:
        size = (frame.shape[1], frame.shape[0])
        if size != self._size:
            if self._size is not None:
                self._close()
            self._open(*size)
            self._size = size
        self._write(frame)
        self.sent += 1

    def _close_quietly(self) -> None:
        if self._size is None:
            return
        try:
            self._close()
        except Exception:
            log.debug("closing %s failed", self.kind, exc_info=True)
        self._size = None

    def _explain(self, exc: Exception) -> str:
        return str(exc) or type(exc).__name__

    def _open(self, width: int, height: int) -> None:
        raise NotImplementedError

    def _write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class NdiOut(VideoOut):
    """An NDI source on the network, named `name` (RGBA frames through cyndilib).

    Raises:
        OutputError: cyndilib is not installed.
    """

    kind = "NDI output"

    def __init__(self, name: str, fps: float = VIDEO_FPS) -> None:
        def load():
            from cyndilib.sender import Sender
            from cyndilib.video_frame import VideoSendFrame
            from cyndilib.wrapper.ndi_structs import FourCC
            return Sender, VideoSendFrame, FourCC

        self.name = name
        self._classes = _load(self.kind, "cyndilib", NDI_INSTALL, NDI_RUNTIME_HINT, load)
        self._sender = None
        self._rgba: np.ndarray | None = None
        super().__init__(fps)

    def _open(self, width: int, height: int) -> None:
        sender_class, frame_class, fourcc = self._classes
        video = frame_class()
        video.set_resolution(width, height)
        video.set_frame_rate(Fraction(self.fps).limit_denominator(1001))
        video.set_fourcc(fourcc.RGBA)
        sender = sender_class(self.name)
        sender.set_video_frame(video)
        sender.open()
        self._sender = sender
        self._rgba = np.full((height, width, 4), 255, np.uint8)  # [H, W, 4], alpha opaque
        log.info("NDI source '%s' at %dx%d", self.name, width, height)

    def _write(self, frame: np.ndarray) -> None:
        assert self._rgba is not None and self._sender is not None
        self._rgba[:, :, :3] = frame
        self._sender.write_video(self._rgba.reshape(-1))

    def _close(self) -> None:
        if self._sender is not None:
            self._sender.close()
            self._sender = None

    def _explain(self, exc: Exception) -> str:
        return f"cannot send NDI as '{self.name}' ({exc}); {NDI_RUNTIME_HINT}"


class VirtualCamOut(VideoOut):
    """A virtual webcam (OBS, Zoom, browsers see it as a camera) through pyvirtualcam.

    Raises:
        OutputError: pyvirtualcam is not installed.
    """

    kind = "virtual camera"

    def __init__(self, fps: float = VIDEO_FPS) -> None:
        def load():
            import pyvirtualcam
            return pyvirtualcam

        self._module = _load(self.kind, "pyvirtualcam", VCAM_INSTALL, None, load)
        self._camera = None
        super().__init__(fps)

    def _open(self, width: int, height: int) -> None:
        module = self._module
        self._camera = module.Camera(width=width, height=height, fps=self.fps,
                                     fmt=module.PixelFormat.RGB)
        log.info("virtual camera %s at %dx%d", self._camera.device, width, height)

    def _write(self, frame: np.ndarray) -> None:
        assert self._camera is not None
        self._camera.send(np.ascontiguousarray(frame))

    def _close(self) -> None:
        if self._camera is not None:
            self._camera.close()
            self._camera = None

    def _explain(self, exc: Exception) -> str:
        return f"cannot open a virtual camera ({exc}); {VCAM_RUNTIME_HINT}"


class SyphonOut(VideoOut):
    """A Syphon server named `name` (macOS: Resolume, MadMapper, VDMX, TouchDesigner receive
    it), an RGBA Metal texture published per frame through syphon-python.

    Raises:
        OutputError: syphon-python is not installed (it only installs on macOS).
    """

    kind = "Syphon output"

    def __init__(self, name: str, fps: float = VIDEO_FPS) -> None:
        def load():
            import syphon
            from syphon.utils.numpy import copy_image_to_mtl_texture
            from syphon.utils.raw import create_mtl_texture
            return syphon, create_mtl_texture, copy_image_to_mtl_texture

        syphon, create_mtl_texture, copy_image_to_mtl_texture = _load(
            self.kind, "syphon-python", SYPHON_INSTALL, SYPHON_RUNTIME_HINT, load)
        self.name = name
        self._api = (syphon.SyphonMetalServer, create_mtl_texture, copy_image_to_mtl_texture)
        self._server = None
        self._texture = None
        self._rgba: np.ndarray | None = None
        super().__init__(fps)

    def _open(self, width: int, height: int) -> None:
        server_class, create_texture, _ = self._api
        if self._server is None:  # one server for the show; a new size gets a new texture
            self._server = server_class(self.name)
        self._texture = create_texture(self._server.device, width, height)
        self._rgba = np.full((height, width, 4), 255, np.uint8)  # [H, W, 4], alpha opaque
        log.info("Syphon server '%s' at %dx%d", self.name, width, height)

    def _write(self, frame: np.ndarray) -> None:
        assert self._rgba is not None and self._server is not None
        self._rgba[:, :, :3] = frame
        self._api[2](self._rgba, self._texture)
        self._server.publish_frame_texture(self._texture)

    def _close(self) -> None:
        self._texture = None
        if self._server is not None and (self._stopping or self.failed):
            self._server.stop()
            self._server = None

    def _explain(self, exc: Exception) -> str:
        return f"cannot publish Syphon as '{self.name}' ({exc}); {SYPHON_RUNTIME_HINT}"


class SpoutOut(VideoOut):
    """A Spout sender named `name` (Windows: Resolume, TouchDesigner, OBS receive it), RGBA
    frames through SpoutGL.

    Raises:
        OutputError: SpoutGL is not installed (it only installs on Windows).
    """

    kind = "Spout output"

    def __init__(self, name: str, fps: float = VIDEO_FPS) -> None:
        def load():
            import SpoutGL
            return SpoutGL

        self.name = name
        self._module = _load(self.kind, "SpoutGL", SPOUT_INSTALL, SPOUT_RUNTIME_HINT, load)
        self._sender = None
        self._rgba: np.ndarray | None = None
        super().__init__(fps)

    def _open(self, width: int, height: int) -> None:
        sender = self._module.SpoutSender()
        sender.setSenderName(self.name)
        self._sender = sender
        self._rgba = np.full((height, width, 4), 255, np.uint8)  # [H, W, 4], alpha opaque
        log.info("Spout sender '%s' at %dx%d", self.name, width, height)

    def _write(self, frame: np.ndarray) -> None:
        assert self._rgba is not None and self._sender is not None
        self._rgba[:, :, :3] = frame
        height, width = frame.shape[:2]
        if not self._sender.sendImage(self._rgba, width, height, GL_RGBA, False, 0):
            raise OutputError("the Spout sender refused the frame")
        self._sender.setFrameSync(self.name)

    def _close(self) -> None:
        if self._sender is not None:
            self._sender.releaseSender()
            self._sender = None

    def _explain(self, exc: Exception) -> str:
        return f"cannot send Spout as '{self.name}' ({exc}); {SPOUT_RUNTIME_HINT}"


def open_video_outs(ndi: str | None = None, vcam: bool = False, fps: float = VIDEO_FPS,
                    syphon: str | None = None, spout: str | None = None) -> list[VideoOut]:
    """The outputs asked for that can start; each one that cannot is one warning, no error.

    `ndi`, `syphon` and `spout` are the names other programs see the show under.
    """
    outs: list[VideoOut] = []
    wanted = []
    if ndi:
        wanted.append(lambda: NdiOut(ndi, fps))
    if vcam:
        wanted.append(lambda: VirtualCamOut(fps))
    if syphon:
        wanted.append(lambda: SyphonOut(syphon, fps))
    if spout:
        wanted.append(lambda: SpoutOut(spout, fps))
    for make in wanted:
        try:
            outs.append(make())
        except OutputError as exc:
            log.warning("%s; %s", exc, GOES_ON)
    return outs
