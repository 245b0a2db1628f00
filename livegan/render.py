"""Offline renders: seed loops, sample grids, canvases larger than the model, replays, timelapses."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from livegan.bendops import check
from livegan.engine import Engine
from livegan.engine.canvas import (
    CannotGrow,
    CanvasRequest,
    cells_for,
    smooth_field,
)
from livegan.engine.cpu import CpuBackend
from livegan.errors import LiveganError, OutputError
from livegan.latent import seed_latent, slerp, smoothstep
from livegan.library import open_model
from livegan.modelfile import Model
from livegan.show.controllog import ModelRef, Timeline, read_log
from livegan.show.videofile import VIDEO_FPS, open_writer
from livegan.stage.crossfade import FADE_SECONDS, blend
from livegan.train.samples import tile
from livegan.train.timelapse import TIMELAPSE_FPS, timelapse

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
DEFAULT_FPS = VIDEO_FPS
CPU_PRECISIONS = ("bf16", "fp32")  # the CPU backend's precisions
EASES: dict[str, Callable[[float], float]] = {"smooth": smoothstep, "linear": lambda t: t}


@dataclass(frozen=True)
class RenderConfig:
    """How an offline render looks; every field has a default that just works."""

    seconds: float = 8.0  # length of a seed loop
    fps: int | None = None  # frames per second; None: 30, a replay's own, a timelapse's 10
    seeds: tuple[int, ...] = (1, 2, 3, 4)  # the same seeds as /livegan/seed i in a show
    grid: tuple[int, int] | None = None  # rows, columns of a sample grid image
    canvas: tuple[int, int] | None = None  # width, height grown from a spatial latent
    upscale: int = 1  # resample each frame K times larger (Lanczos)
    size: tuple[int, int] | None = None  # final width, height (resized to cover, centre-cropped)
    truncation: float = 1.0  # latent scale, as /livegan/truncation
    label: int = 0  # class of a conditional model
    ease: str = "smooth"  # smooth (rests on each seed) or linear (constant speed)
    progress: bool = True  # show a progress bar
    max_res: int = 0  # a StyleGAN2 skip model renders only up to this block (0: all of it)
    space: str = "z"  # a style model's seeds and loops in z, or in w (livegan.nets.wspace)
    bends: dict[tuple[str, str], tuple[float, ...]] = field(default_factory=dict)  # network
    # bending: (layer, op) -> amounts, as /livegan/bend/{layer}/{op} (livegan.bendops)


class Renderer:
    """A model for offline work on the show's engine: latents [Z] render with the same
    backend, precision and frame conversion as a live show, spatial latents [Z, h, w] (a
    canvas larger than the model: the generators are fully convolutional, so h x w latent
    cells grow the picture) the way a live canvas renders, and bends as a show bends.

    Args:
        model: the loaded model.
        backend: the engine's backend (see livegan.engine.BACKENDS).
        precision: "bf16" or "fp32" forces the CPU backend's precision (a replay renders as
            the show did); None lets the engine choose.
        layout: with a precision, the CPU path's layout as the show's log names it
            ("channels_last, frozen"): built as it is, without timing.
    """

    def __init__(self, model: Model, backend: str = "auto", precision: str | None = None,
                 layout: str | None = None) -> None:
        self.model = model
        self.info = model.info
        if backend == "cpu" and precision in CPU_PRECISIONS:  # the show's own path, untimed
            self.engine = Engine(model, CpuBackend(
                model.generator, self.info.z_dim, int(self.info.config.get("n_labels", 0)),
                precision=precision, layout=layout or None))
        else:
            self.engine = Engine(model, backend)
        self._bends: dict | None = None  # the bends set last

    @property
    def z_dim(self) -> int:
        return self.info.z_dim

    def set_style(self, truncation: float, noise: str = "const") -> None:
        """A style model's truncation (psi, in w) and noise mode for every frame from now on
        (other models scale their latent instead)."""
        self.engine.set_style(truncation, noise)  # a no-op where the model has no w

    def set_bends(self, bends: dict[tuple[str, str], tuple[float, ...]]) -> None:
        """Bend every frame from now on; a layer the model lacks is an error, amounts out of
        their op's range are clipped (one line each)."""
        if bends == self._bends:
            return
        self._bends = dict(bends)
        layers = self.engine.bend_layers
        for (layer, op), values in bends.items():
            if layer not in layers:
                raise LiveganError(f"{self.info.name} has no layer {layer} to bend; its "
                                   f"{self.info.arch} layers are {', '.join(layers)}")
            checked = check(op, list(values))
            if checked.clipped:
                log.warning("bend %s/%s: amounts %s clipped to %s", layer, op, values,
                            checked.amounts)
            bends = {**bends, (layer, op): checked.amounts}
        self.engine.set_bends(bends)

    def frame(self, z: np.ndarray, label: int = 0) -> np.ndarray:
        """uint8 [H, W, 3] for a latent [Z] or [Z, h, w]."""
        return self.engine.render(z, label)

    def pixels_per_cell(self) -> tuple[int, int]:
        """(a, b) with output size = a * cells + b, found by rendering 1 and 2 latent cells."""
        try:
            return self.engine.cell_mapping()
        except CannotGrow as exc:
            raise LiveganError(f"{self.info.name}: {exc}, so its {self.info.arch} "
                               "generator cannot render a larger canvas") from None

    def cells_for(self, width: int, height: int) -> tuple[int, int]:
        """Latent cells (h, w) whose picture covers width x height pixels."""
        return cells_for(self.pixels_per_cell(), width, height)

    def close(self) -> None:
        self.engine.close()


def latent_field(seed: int, z_dim: int, cells: tuple[int, int] | None) -> np.ndarray:
    """The latent of a seed: [Z] (= seed_latent), or for a canvas a smooth field [Z, h, w].

    The field (livegan.engine.canvas.smooth_field, shared with a live canvas) puts every
    cell on the sphere of radius sqrt(Z), and neighbouring cells agree, so the canvas reads
    as one picture rather than a tiling.
    """
    if cells is None:
        return seed_latent(seed, z_dim)
    return smooth_field(seed, z_dim, cells)


def loop_latents(cfg: RenderConfig, z_dim: int,
                 cells: tuple[int, int] | None) -> Iterator[np.ndarray]:
    """The latent of each frame of a loop through cfg.seeds that closes on itself.

    Frame k of N sits at k/N of the way round, so the last frame leads into the first.
    """
    fields = [latent_field(s, z_dim, cells) for s in cfg.seeds]
    total = max(1, round(cfg.seconds * (cfg.fps or DEFAULT_FPS)))
    ease = EASES[cfg.ease]
    for k in range(total):
        position = k / total * len(fields)
        i = int(position)
        a, b = fields[i], fields[(i + 1) % len(fields)]
        yield slerp(a, b, ease(position - i)) * np.float32(cfg.truncation)


def finish(frame: np.ndarray, cfg: RenderConfig) -> np.ndarray:
    """Crop a canvas to its exact size, upscale by K, then resize to cover cfg.size."""
    if cfg.canvas is not None:
        width, height = cfg.canvas
        top = (frame.shape[0] - height) // 2
        left = (frame.shape[1] - width) // 2
        frame = frame[top : top + height, left : left + width]
    if cfg.upscale == 1 and cfg.size is None:
        return np.ascontiguousarray(frame)
    image = Image.fromarray(np.ascontiguousarray(frame))
    if cfg.upscale > 1:
        image = image.resize((image.width * cfg.upscale, image.height * cfg.upscale),
                             Image.Resampling.LANCZOS)
    if cfg.size is not None:
        width, height = cfg.size
        scale = max(width / image.width, height / image.height)
        cover = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
        image = image.resize(cover, Image.Resampling.LANCZOS)
        left, top = (cover[0] - width) // 2, (cover[1] - height) // 2
        image = image.crop((left, top, left + width, top + height))
    return np.asarray(image)


def load_renderer(model: str | Path, max_res: int = 0, space: str = "z") -> Renderer:
    """A Renderer for a model name (model folders) or a path (another program's file is
    imported once); `max_res` stops a StyleGAN2 skip model early; `space` w plays a style
    model from w."""
    return Renderer(open_model(model, max_res=max_res, space=space))


def _cells(renderer: Renderer, cfg: RenderConfig) -> tuple[int, int] | None:
    return None if cfg.canvas is None else renderer.cells_for(*cfg.canvas)


def _write_frames(frames: Iterator[np.ndarray], total: int, out: Path, fps: int,
                  progress: bool) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_writer(out, fps) as writer:
        for frame in tqdm(frames, total=total, unit="frame", desc=out.name,
                          disable=not progress):
            writer.write(frame)
    log.info("wrote %s (%d frames at %d fps)", out, writer.frames, fps)
    return out


def render_loop(renderer: Renderer, out: Path, cfg: RenderConfig) -> Path:
    """A video (.mp4/.mov/.mkv/.gif, or a PNG folder) looping through cfg.seeds."""
    if not cfg.seeds:
        raise LiveganError("give at least one seed, e.g. --seeds 1,2,3")
    cells = _cells(renderer, cfg)
    fps = cfg.fps or DEFAULT_FPS
    total = max(1, round(cfg.seconds * fps))

    def frames() -> Iterator[np.ndarray]:
        for z in loop_latents(cfg, renderer.z_dim, cells):
            yield finish(renderer.frame(z, cfg.label), cfg)

    return _write_frames(frames(), total, Path(out), fps, cfg.progress)


def render_still(renderer: Renderer, out: Path, cfg: RenderConfig) -> Path:
    """One image: a grid of rows x columns seeds (cfg.grid), or the first seed alone."""
    rows, cols = cfg.grid or (1, 1)
    seeds = list(cfg.seeds[: rows * cols])
    while len(seeds) < rows * cols:
        seeds.append(seeds[-1] + 1 if seeds else 0)
    cells = _cells(renderer, cfg)
    tiles = []
    for seed in tqdm(seeds, unit="image", desc=Path(out).name, disable=not cfg.progress):
        z = latent_field(seed, renderer.z_dim, cells) * np.float32(cfg.truncation)
        tiles.append(finish(renderer.frame(z, cfg.label), cfg))
    image = tiles[0] if len(tiles) == 1 else tile(np.stack(tiles), rows)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(out)
    log.info("wrote %s (%dx%d)", out, image.shape[1], image.shape[0])
    return out


class Replay:
    """A recording's control log rendered again, as the show rendered it: each stretch by
    its model and with its bends, on the backend and in the precision the log names, and
    each model swap as the show's crossfade.

    Args:
        log_path: the .controls.jsonl written next to a recording.
        model: render every stretch with this model instead (name or path).
        bends: bends on top of the logged ones ((layer, op) -> amounts, render --bend).
    """

    def __init__(self, log_path: Path, model: str | None = None,
                 bends: dict[tuple[str, str], tuple[float, ...]] | None = None) -> None:
        self.path = Path(log_path)
        self.timeline: Timeline = read_log(log_path)
        self.model = model
        self.bends = bends or {}  # bends over the logged ones (render --bend)
        self._renderers: dict[tuple, Renderer] = {}

    def renderer(self, ref: ModelRef) -> Renderer:
        """The renderer for one stretch of the log (made once, then reused)."""
        key = (self.model or ref.path, ref.backend, ref.precision, ref.space, ref.layout,
               ref.canvas)
        if key not in self._renderers:
            source = self.model or (ref.path if Path(ref.path).is_file() else ref.name)
            model = open_model(source, space=ref.space, strict=False)
            if ref.canvas:  # the show's canvas: its engine grows the picture as the show's did
                renderer = Renderer(model, ref.backend or "auto")
                renderer.engine.set_canvas(CanvasRequest(ref.canvas))
            else:
                renderer = Renderer(model, ref.backend or "auto", ref.precision or None,
                                    ref.layout)
            if renderer.z_dim != ref.z_dim:
                renderer.close()
                raise LiveganError(f"{source} has {renderer.z_dim}-d latents; the log "
                                   f"{self.path} played a {ref.z_dim}-d model ({ref.name})")
            self._renderers[key] = renderer
        return self._renderers[key]

    def frame(self, t: float) -> np.ndarray:
        """The frame at t seconds into the recording: uint8 [H, W, 3]."""
        timeline = self.timeline
        z, label, ref = timeline.at(t)
        bends = {**timeline.bends_at(t), **self.bends}  # as the show bent it, and --bend
        renderer = self.renderer(ref)
        renderer.set_bends(bends)
        renderer.set_style(*timeline.style_at(t))
        pixels = renderer.frame(z, label)
        fade = timeline.fade_at(t, FADE_SECONDS)
        if fade is not None:  # the outgoing model renders the same latent, or holds its last
            last, amount = fade
            old = timeline.models[timeline.model_index[last]]
            self.renderer(old).set_bends(bends)
            if old.z_dim == ref.z_dim:
                outgoing = self.renderer(old).frame(z, label)
            else:
                outgoing = self.renderer(old).frame(timeline.latents[last], timeline.labels[last])
            pixels = blend(outgoing, pixels, amount)
        return pixels

    def close(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()


def replay(log_path: Path, out: Path, cfg: RenderConfig, model: str | None = None) -> Path:
    """Re-render a recording's control log at cfg.fps and any size (cfg.size / cfg.upscale).

    Frame k shows the latent at k / fps seconds, slerped between the logged frames around
    it, rendered as the show rendered it then (see Replay), or by `model`, if given.
    """
    source = Replay(log_path, model, cfg.bends)
    fps = cfg.fps or int(source.timeline.header.get("fps") or DEFAULT_FPS)
    total = int(source.timeline.duration * fps + 1e-6) + 1
    frames = (finish(source.frame(k / fps), cfg) for k in range(total))
    try:
        return _write_frames(frames, total, Path(out), fps, cfg.progress)
    finally:
        source.close()


def render(model: str | None, out: Path, cfg: RenderConfig, replay_log: Path | None = None,
           timelapse_run: Path | None = None) -> Path:
    """What `livegan render` does: pick the kind of render from the arguments and write it."""
    out = Path(out)
    if timelapse_run is not None:
        return timelapse(timelapse_run, out, cfg.fps or TIMELAPSE_FPS, cfg.progress)
    if replay_log is not None:
        return replay(replay_log, out, cfg, model)
    if model is None:
        raise LiveganError("name the model to render, e.g. `livegan render default out.mp4`")
    if out.suffix.lower() not in IMAGE_SUFFIXES and cfg.grid is not None:
        raise OutputError(f"a grid is one image: name it .png, not {out.name}")
    renderer = load_renderer(model, cfg.max_res, cfg.space)
    try:
        renderer.set_bends(cfg.bends)
        renderer.set_style(cfg.truncation)
        if out.suffix.lower() in IMAGE_SUFFIXES:
            return render_still(renderer, out, cfg)
        return render_loop(renderer, out, cfg)
    finally:
        renderer.close()
