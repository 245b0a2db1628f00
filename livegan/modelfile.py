"""Save, load and validate model files: one .safetensors with the generator and its metadata."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from livegan.errors import ModelFileError
from livegan.nets import ARCHS, arch_name, build_generator

log = logging.getLogger(__name__)

FORMAT = "1"
SUFFIX = ".safetensors"
DIRECTIONS_KEY = "directions"
BUNDLED_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_MODEL = "default"


@dataclass(frozen=True)
class ModelInfo:
    """What a model file says about itself, read without building the network."""

    path: Path
    name: str
    arch: str
    config: dict
    resolution: int
    z_dim: int
    training: dict = field(default_factory=dict)
    direction_names: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    source: dict = field(default_factory=dict)  # an imported model: the file it came from
    space: str = "z"  # the latent it is played from: z, or w for a style model (library.in_w)

    @property
    def n_directions(self) -> int:
        return len(self.direction_names)


@dataclass
class Model:
    """A loaded model: its info, the generator (eval mode, fp32) and its directions [K, Z]."""

    info: ModelInfo
    generator: nn.Module
    directions: torch.Tensor | None


class SizedByInfo:
    """`z_dim` and `resolution` read from `self.info` (a ModelInfo): for what holds a model."""

    info: ModelInfo

    @property
    def z_dim(self) -> int:
        return self.info.z_dim

    @property
    def resolution(self) -> int:
        return self.info.resolution


def save_model(
    path: Path,
    generator: nn.Module,
    arch: str,
    config: dict,
    name: str,
    training: dict | None = None,
    directions: torch.Tensor | None = None,
    direction_names: list[str] | None = None,
    labels: list[str] | None = None,
    source: dict | None = None,
) -> Path:
    """Write a model file atomically (temp file, fsync, rename). Returns the path."""
    path = Path(path)
    tensors = {k: v.detach().cpu().float().contiguous() for k, v in generator.state_dict().items()}
    if directions is not None:
        tensors[DIRECTIONS_KEY] = directions.detach().cpu().float().contiguous()
        direction_names = direction_names or [f"dir{i}" for i in range(directions.shape[0])]
        if len(direction_names) != directions.shape[0]:
            raise ValueError(f"{len(direction_names)} direction names for "
                             f"{directions.shape[0]} directions")
    else:
        direction_names = []
    metadata = {
        "livegan.format": FORMAT,
        "arch": arch_name(arch),
        "config": json.dumps(config),
        "resolution": str(config["resolution"]),
        "z_dim": str(config["z_dim"]),
        "name": name,
        "training": json.dumps(training or {}),
        "direction_names": json.dumps(direction_names or []),
        "labels": json.dumps(labels or []),
        "source": json.dumps(source or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)  # a model is meant to be shared: readable by everyone
    os.replace(tmp, path)
    return path


def _fail(path: Path, problem: str) -> ModelFileError:
    return ModelFileError(f"{path}: {problem}")


def _json(path: Path, meta: dict, key: str, default: object) -> object:
    try:
        return json.loads(meta[key]) if key in meta else default
    except json.JSONDecodeError:
        raise _fail(path, f"its '{key}' metadata is not valid JSON; re-export the model") from None


def read_info(path: Path) -> ModelInfo:
    """Read and check a model file's metadata; ModelFileError with one sentence if it is bad."""
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "no such model file; `livegan models` lists the installed ones")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise _fail(path, f"not a readable .safetensors model (truncated or corrupt: {exc}); "
                          "copy or export it again") from None
    if meta.get("livegan.format") is None:
        raise _fail(path, "a .safetensors file without livegan metadata, not a livegan model")
    version = meta["livegan.format"]
    if version != FORMAT:
        if version.isdigit() and int(version) > int(FORMAT):
            raise _fail(path, f"model format {version} is newer than this livegan understands "
                              f"({FORMAT}); upgrade livegan")
        raise _fail(path, f"unknown model format '{version[:40]}' (this livegan reads "
                          f"{FORMAT}); re-export the model")
    arch = arch_name(meta.get("arch", ""))  # a file written before a rename plays as it is
    if arch not in ARCHS:
        raise _fail(path, f"unknown arch '{arch}' (known: {', '.join(sorted(ARCHS))})")
    config = _json(path, meta, "config", None)
    if not isinstance(config, dict):
        raise _fail(path, "its 'config' metadata is missing; re-export the model")
    sizes = [config.get("resolution"), config.get("z_dim")]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sizes):
        raise _fail(path, f"its config has no usable resolution and z_dim ({sizes}); "
                          "re-export the model")
    names = {key: _json(path, meta, key, []) for key in ("direction_names", "labels")}
    for key, value in names.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _fail(path, f"its '{key}' metadata is not a list of names; re-export the model")
    training = _json(path, meta, "training", {})
    source = _json(path, meta, "source", {})
    return ModelInfo(
        path=path,
        name=meta.get("name") or path.stem,
        arch=arch,
        config=config,
        resolution=sizes[0],
        z_dim=sizes[1],
        training=training if isinstance(training, dict) else {},
        direction_names=names["direction_names"],
        labels=names["labels"],
        source=source if isinstance(source, dict) else {},
    )


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - not a dict
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise _fail(path, f"its weights cannot be read (truncated or corrupt: {exc}); "
                          "copy or export it again") from None


def with_max_res(info: ModelInfo, max_res: int) -> ModelInfo:
    """The info of a model rendered only up to its `max_res` block (a StyleGAN2 skip
    generator stops early); ModelFileError where the arch cannot."""
    if not max_res or max_res >= info.resolution:
        return info
    if info.arch != "stylegan2":
        raise _fail(info.path, f"--max-res needs a StyleGAN2 model with skip outputs; this is "
                               f"a {info.arch} model, which renders only at {info.resolution}")
    if info.config.get("architecture", "skip") != "skip":
        raise _fail(info.path, f"--max-res needs a StyleGAN2 model with skip outputs; this one "
                               f"is '{info.config['architecture']}', which has a picture only "
                               "at its last block")
    if max_res < 4 or max_res & (max_res - 1):
        raise _fail(info.path, f"--max-res {max_res}: choose a power of two from 4 to "
                               f"{info.resolution}")
    config = {**info.config, "max_res": max_res}
    return replace(info, config=config, resolution=max_res)


def load_model(path: Path, max_res: int = 0) -> Model:
    """Load a model file onto the CPU in fp32, eval mode. Never unpickles anything.
    `max_res`: render a StyleGAN2 skip model only up to that block (0: all of it)."""
    info = with_max_res(read_info(path), max_res)
    tensors = _read_tensors(info.path)
    directions = tensors.pop(DIRECTIONS_KEY, None)
    try:
        generator = build_generator(info.arch, info.config)
    except (TypeError, ValueError) as exc:
        raise _fail(info.path, f"its {info.arch} config does not build a network ({exc})") from None
    expected = generator.state_dict()
    if info.config.get("max_res"):  # the blocks past max_res are not built
        tensors = {k: v for k, v in tensors.items() if k in expected}
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        what = f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}"
        raise _fail(info.path, f"weights do not match the {info.arch} network ({what})")
    for key, want in expected.items():
        if tensors[key].shape != want.shape:
            raise _fail(info.path, f"weight '{key}' has shape {tuple(tensors[key].shape)}, "
                                   f"the {info.arch} network needs {tuple(want.shape)}")
    generator.load_state_dict(tensors)
    generator.eval().requires_grad_(False)
    if directions is not None and (directions.dim() != 2 or directions.shape[1] != info.z_dim):
        raise _fail(info.path, f"directions have shape {tuple(directions.shape)}, "
                               f"need [K, {info.z_dim}]")
    count = 0 if directions is None else directions.shape[0]
    if count != info.n_directions:
        raise _fail(info.path, f"it names {info.n_directions} directions but stores {count}; "
                               "re-export the model")
    return Model(info=info, generator=generator, directions=directions)


def model_dirs(extra: list[Path] | None = None) -> list[Path]:
    """Folders searched for models by name: extra ones, $LIVEGAN_MODELS, ./models, bundled."""
    dirs = list(extra or [])
    env = os.environ.get("LIVEGAN_MODELS")
    if env:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs += [Path.cwd() / "models", BUNDLED_DIR]
    unique: list[Path] = []
    for d in dirs:
        if d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


def find_model(name: str | Path, extra_dirs: list[Path] | None = None,
               allow_paths: bool = True) -> Path:
    """Resolve a model name ("default") or a path to a model file.

    With allow_paths=False (OSC hot-swap) only plain names inside the model folders are
    accepted, so a remote sender cannot make livegan read arbitrary files.
    """
    text = str(name)
    shown = text if len(text) <= 80 else text[:77] + "..."  # names can come from the network
    is_plain = "/" not in text and "\\" not in text and text not in ("", ".", "..")
    if not is_plain and not allow_paths:
        raise ModelFileError(f"'{shown}': only model names from the model folders are allowed "
                             "here")
    if allow_paths and (not is_plain or text.endswith(SUFFIX)) and _is_file(Path(text)):
        return Path(text)
    if is_plain:
        stem = text.removesuffix(SUFFIX)
        for d in model_dirs(extra_dirs):
            candidate = d / (stem + SUFFIX)
            if _is_file(candidate):
                return candidate
    searched = ", ".join(str(d) for d in model_dirs(extra_dirs))
    raise ModelFileError(f"model '{shown}' not found (searched {searched}); "
                         "`livegan models` lists what is installed")


def _is_file(path: Path) -> bool:
    """Path.is_file, with names the OS cannot take (too long, NUL) counting as absent."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def list_models(extra_dirs: list[Path] | None = None) -> list[ModelInfo | ModelFileError]:
    """Every model file in the model folders: its info, or the error that makes it unusable."""
    found: list[ModelInfo | ModelFileError] = []
    for d in model_dirs(extra_dirs):
        for p in sorted(d.glob("*" + SUFFIX)) if d.is_dir() else []:
            try:
                found.append(read_info(p))
            except ModelFileError as exc:
                found.append(exc)
    return found
