"""Video files: H.264 through PyAV, with GIF and PNG-folder fallbacks behind one interface."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from livegan.errors import OutputError

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger(__name__)

VIDEO_FPS = 30  # frames a second of recordings, video outs and renders unless told otherwise
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")  # written with PyAV (libx264)
GIF_SUFFIX = ".gif"
AV_MISSING = (
    "writing {path} needs PyAV: pip install 'livegan[record]' "
    "(or write a .gif, or a folder of PNG frames, instead)"
)


def even_size(width: int, height: int) -> tuple[int, int]:
    """The largest even (width, height) not above the given one (H.264 4:2:0 needs even sizes)."""
    return max(2, width - width % 2), max(2, height - height % 2)


def import_av(path: Path | str = "a video"):
    """Import PyAV, or raise OutputError saying how to install it."""
    try:
        import av
    except ImportError:
        raise OutputError(AV_MISSING.format(path=path)) from None
    return av


class FrameWriter:
    """Writes uint8 RGB frames [H, W, 3] of one size, one at a time; `close()` finishes the file.

    Use `open_writer(path, fps)` to get the right one for a path's extension.
    """

    def __init__(self, path: Path, fps: int) -> None:
        self.path = Path(path)
        self.fps = fps
        self.frames = 0  # frames written so far
        self.size: tuple[int, int] | None = None  # (width, height) fixed by the first frame

    def write(self, frame: np.ndarray) -> None:
        """Append one frame; frames of another size than the first are resized to it."""
        frame = self._fit(frame)
        self._write(frame)
        self.frames += 1

    def close(self) -> Path:
        """Finish the file and return its path."""
        return self.path

    def _fit(self, frame: np.ndarray) -> np.ndarray:
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frames must be uint8 [H, W, 3], got {frame.dtype} {frame.shape}")
        height, width = frame.shape[:2]
        if self.size is None:
            self.size = self._first_size(width, height)
        if (width, height) != self.size:
            from PIL import Image

            resized = Image.fromarray(frame).resize(self.size, Image.Resampling.LANCZOS)
            frame = np.asarray(resized)
        return frame

    def _first_size(self, width: int, height: int) -> tuple[int, int]:
        return width, height

    def _write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AvWriter(FrameWriter):
    """H.264 (libx264, yuv420p) in an .mp4/.mov/.mkv container; pts = frame index at `fps`."""

    def __init__(self, path: Path, fps: int, crf: int = 18, preset: str = "medium") -> None:
        super().__init__(path, fps)
        self._av = import_av(path)
        self._crf, self._preset = crf, preset
        self._container = None
        self._stream = None

    def _first_size(self, width: int, height: int) -> tuple[int, int]:
        size = even_size(width, height)
        if size != (width, height):
            log.info("H.264 needs even sizes: %s is written at %dx%d", self.path, *size)
        try:
            self._container = self._av.open(str(self.path), mode="w")
            stream = self._container.add_stream("libx264", rate=self.fps)
        except Exception as exc:  # noqa: BLE001 - FFmpeg errors come in many classes
            raise OutputError(f"cannot write video {self.path}: {exc}") from None
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, self.fps)
        stream.options = {"crf": str(self._crf), "preset": self._preset}
        self._stream = stream
        return size

    def _write(self, frame: np.ndarray) -> None:
        video_frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        video_frame.pts = self.frames
        self._mux(self._stream.encode(video_frame))

    def _mux(self, packets: list) -> None:
        for packet in packets:
            self._container.mux(packet)

    def close(self) -> Path:
        if self._container is not None:
            self._mux(self._stream.encode())  # flush the encoder's delayed frames
            self._container.close()
            self._container = None
        elif self.frames == 0 and not self.path.exists():
            log.warning("no frames were written, so %s was not created", self.path)
        return self.path


class GifWriter(FrameWriter):
    """An animated GIF that loops forever (frames kept in memory until close)."""

    def __init__(self, path: Path, fps: int) -> None:
        super().__init__(path, fps)
        self._images: list = []

    def _write(self, frame: np.ndarray) -> None:
        from PIL import Image

        self._images.append(Image.fromarray(frame).quantize(256, dither=Image.Dither.NONE))

    def close(self) -> Path:
        if self._images:
            first, rest = self._images[0], self._images[1:]
            first.save(self.path, save_all=True, append_images=rest, loop=0,
                       duration=max(20, round(1000 / self.fps)), optimize=False)
            self._images = []
        return self.path


class PngFolderWriter(FrameWriter):
    """A folder of numbered PNG frames (frame_00000.png …), for editors and other tools."""

    def __init__(self, path: Path, fps: int) -> None:
        super().__init__(path, fps)
        self.path.mkdir(parents=True, exist_ok=True)

    def _write(self, frame: np.ndarray) -> None:
        from PIL import Image

        Image.fromarray(frame).save(self.path / f"frame_{self.frames:05d}.png")


def open_writer(path: Path | str, fps: int, preset: str = "medium") -> FrameWriter:
    """A writer chosen by the path: .mp4/.mov/.mkv (PyAV), .gif, or no suffix = PNG folder.

    Raises:
        OutputError: the extension is not one of those, or PyAV is missing for a video.
    """
    path = Path(path)
    if fps < 1:
        raise OutputError(f"frame rate for {path} must be at least 1, got {fps}")
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return AvWriter(path, fps, preset=preset)
    if suffix == GIF_SUFFIX:
        return GifWriter(path, fps)
    if suffix == "":
        return PngFolderWriter(path, fps)
    raise OutputError(f"cannot write {path}: use .mp4, .mov, .mkv, .gif, "
                      "or a folder name (no extension) for PNG frames")


def read_video(path: Path | str) -> list[np.ndarray]:
    """Decode every frame of a video file to uint8 RGB [H, W, 3] (tests, previews)."""
    av = import_av(path)
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
