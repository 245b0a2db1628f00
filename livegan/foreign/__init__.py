"""Models made by other programs, imported into livegan model files.

`import_file` reads a StyleGAN2-ADA / StyleGAN3 pickle, a rosinality checkpoint or a
lucidrains checkpoint (livegan.foreign.read), builds livegan's own generator for it, checks
the weights fit, finds directions (SeFa and GANSpace, livegan.foreign.directions) and writes
a `.safetensors` model file. Nothing is written when any step fails.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import torch

from livegan.errors import ModelFileError
from livegan.foreign.base import ForeignFileError, Imported, fit_tensors
from livegan.foreign.read import read_foreign
from livegan.modelfile import SUFFIX, model_dirs, read_info, save_model
from livegan.nets import ARCHS, build_generator

log = logging.getLogger(__name__)

HASH_CHARS = 8  # of the file's SHA-256 in a cached import's name


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(imported: Imported, path: Path) -> torch.nn.Module:
    """livegan's generator for `imported`, its weights loaded (eval, fp32)."""
    if imported.arch not in ARCHS:
        raise ForeignFileError(f"{path}: no livegan generator for arch '{imported.arch}'")
    try:
        generator = build_generator(imported.arch, imported.config)
    except (TypeError, ValueError) as exc:
        raise ForeignFileError(f"{path}: {exc}") from None
    tensors = fit_tensors(generator.state_dict(), imported.tensors, str(path),
                          f"livegan's {imported.arch} generator")
    generator.load_state_dict(tensors)
    return generator.eval().requires_grad_(False)


def _directions(generator: torch.nn.Module) -> tuple[torch.Tensor | None, list[str]]:
    if not hasattr(generator, "mapping_forward"):
        return None, []  # no w: livegan's fallback directions in z
    from livegan.foreign.directions import find_directions

    dirs, names = find_directions(generator)
    return torch.from_numpy(dirs), names


def safe_name(text: str) -> str:
    """A model name from a file name: letters, digits, dot, dash and underscore."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "imported"
    return name[:80]


def out_path(name_or_path: str | None, source: Path, folder: Path) -> Path:
    """Where `livegan import` writes: a path given (ends in .safetensors or has a folder),
    else `folder/NAME.safetensors`, NAME defaulting to the file's stem."""
    if name_or_path and ("/" in name_or_path or name_or_path.endswith(SUFFIX)):
        path = Path(name_or_path)
        return path if path.suffix == SUFFIX else path.with_suffix(SUFFIX)
    return folder / (safe_name(name_or_path or source.stem) + SUFFIX)


def models_folder() -> Path:
    """The first model folder livegan searches: $LIVEGAN_MODELS's first entry, else
    ./models."""
    return model_dirs()[0]


def import_file(path: Path, out: Path, name: str | None = None,
                overwrite: bool = False, digest: str | None = None) -> Path:
    """Import the model in `path` into the livegan model file `out`. Returns `out`.

    ForeignFileError (one sentence) for a file of another kind, a damaged file or an
    unsupported architecture, and when `out` exists and `overwrite` is False; nothing is
    written then.
    """
    path, out = Path(path), Path(out)
    if out.exists() and not overwrite:
        raise ForeignFileError(f"{out} exists; choose another --out NAME (or remove it)")
    imported = read_foreign(path)
    generator = build(imported, path)
    directions, names = _directions(generator)
    digest = digest or file_hash(path)  # the caller's, when it hashed the file already
    source = {**imported.source, "file": path.name, "sha256": digest[:16]}
    training = {"imported": True, "source": source.get("format", "")}
    save_model(out, generator, imported.arch, imported.config, name or out.stem,
               training=training, directions=directions, direction_names=names,
               labels=imported.labels, source=source)
    log.info("imported %s (%s, %s, %dx%d) -> %s", path.name, source.get("format"),
             imported.arch, imported.config["resolution"], imported.config["resolution"], out)
    return out


def cached_import(path: Path) -> Path:
    """The livegan model file for a foreign file `path`, importing it into the models folder
    the first time (named after the file and its hash, so a changed file imports anew)."""
    path = Path(path)
    digest = file_hash(path)
    name = f"{safe_name(path.stem)}-{digest[:HASH_CHARS]}"
    for folder in model_dirs():
        candidate = folder / (name + SUFFIX)
        if candidate.is_file():
            try:
                read_info(candidate)
            except ModelFileError:
                continue
            log.info("%s: playing its import %s", path.name, candidate)
            return candidate
    out = models_folder() / (name + SUFFIX)
    import_file(path, out, name=safe_name(path.stem), digest=digest)
    log.info("%s imported once into %s; later shows open that file directly", path.name, out)
    return out


__all__ = ["ForeignFileError", "Imported", "cached_import", "import_file", "read_foreign"]
