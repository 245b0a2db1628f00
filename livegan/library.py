"""Open a model by name or file: a livegan model file as it is, another program's file
(StyleGAN2-ADA / StyleGAN3 .pkl, rosinality or lucidrains .pt) imported once and cached as
a livegan model file in the models folder (livegan.foreign)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from livegan.errors import ModelFileError
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


def open_model(name: str | Path, allow_paths: bool = True, max_res: int = 0,
               space: str = "z", strict: bool = True) -> Model:
    """Load the model `name` (see model_path), rendered up to `max_res` (0: all of it),
    played from z (its own latent) or w (a style model's intermediate space: in_w)."""
    model = load_model(model_path(name, allow_paths), max_res=max_res)
    if space == "w" and (strict or hasattr(model.generator, "mapping_forward")):
        return in_w(model)
    return model


SPACES = ("z", "w")
W_STEP = 2.0  # a direction's length in w's whitened coordinates: amount 1 = two spreads


def in_w(model: Model) -> Model:
    """The same model played from w (livegan.nets.wspace): the latent is w's whitened
    coordinates, and the directions are SeFa's and GANSpace's straight lines in w."""
    import torch

    from livegan.foreign.directions import sefa
    from livegan.nets.wspace import WSpace, principal_basis

    g = model.generator
    if not hasattr(g, "mapping_forward"):
        raise ModelFileError(f"{model.info.path}: walks in w need a style model (StyleGAN2, "
                             f"StyleGAN3, lucidrains' stylegan2); {model.info.name} is a "
                             f"{model.info.arch} model, which has only z")
    z_dim = model.info.z_dim
    basis = principal_basis(g, z_dim)
    pinv = torch.linalg.pinv(basis)  # [W, Z]: w offsets -> u
    k = min(8, z_dim)
    pca = torch.eye(z_dim)[:k] * W_STEP
    rows = [torch.from_numpy(sefa(g, k)) @ pinv, pca]
    rows[0] = rows[0] / rows[0].norm(dim=1, keepdim=True).clamp_min(1e-8) * W_STEP
    names = [f"sefa{i}" for i in range(len(rows[0]))] + [f"pca{i}" for i in range(k)]
    info = replace(model.info, space="w", direction_names=names)
    return Model(info=info, generator=WSpace(g, basis).eval().requires_grad_(False),
                 directions=torch.cat(rows).float().contiguous())
