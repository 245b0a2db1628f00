"""Open a model by name or file: a livegan model file as it is, another program's file
(StyleGAN2-ADA / StyleGAN3 .pkl, rosinality or lucidrains .pt) imported once and cached as
a livegan model file in the models folder (livegan.foreign)."""

from __future__ import annotations

from pathlib import Path

from livegan.modelfile import Model, find_model, load_model


def is_foreign(path: Path) -> bool:
    """Whether `path` is an existing file that is not a .safetensors model (so: to import)."""
    from livegan.foreign.read import sniff

    try:
        return path.is_file() and sniff(path) != "safetensors"
    except OSError:
        return False


def model_path(name: str | Path, allow_paths: bool = True) -> Path:
    """The livegan model file for a name or a path; a foreign file is imported on first use
    (one log line says so). With allow_paths=False (OSC hot-swap) only names in the model
    folders, as modelfile.find_model."""
    if allow_paths and is_foreign(Path(name)):
        from livegan.foreign import cached_import

        return cached_import(Path(name))
    return find_model(name, allow_paths=allow_paths)


def open_model(name: str | Path, allow_paths: bool = True, max_res: int = 0) -> Model:
    """Load the model `name` (see model_path), rendered up to `max_res` (0: all of it)."""
    return load_model(model_path(name, allow_paths), max_res=max_res)
