"""Export a training run to a model file: EMA generator, metadata and GANSpace directions."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

import torch
from torch import nn

from livegan.errors import LiveganError
from livegan.modelfile import save_model
from livegan.nets import build_generator
from livegan.nets.layers import recalibrate_batchnorm
from livegan.train import checkpoint as ckpt

log = logging.getLogger(__name__)


def _early_features(generator: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """Activations of the generator's first block for latents z [N, Z] -> [N, F]."""
    first = generator.init if hasattr(generator, "init") else generator.main[:3]
    return first(generator.label_input(z, None)).flatten(1)


def principal_axes(x: torch.Tensor, k: int) -> torch.Tensor:
    """The k leading principal axes [k, F] of centred rows x [N, F], largest first.

    An eigendecomposition in float64 of the smaller Gram matrix (F x F or N x N): exact,
    and about half the work of an SVD of x, which would also compute the N x k factor.
    """
    x64 = x.double()
    if x.shape[1] <= x.shape[0]:
        _, vectors = torch.linalg.eigh(x64.T @ x64)  # ascending eigenvalues
        axes = vectors[:, -k:].flip(1).T  # [k, F]
    else:
        values, vectors = torch.linalg.eigh(x64 @ x64.T)
        u = vectors[:, -k:].flip(1)  # [N, k]
        axes = (x64.T @ u / values[-k:].flip(0).clamp_min(1e-12).sqrt()).T  # [k, F]
        axes = axes / axes.norm(dim=1, keepdim=True)
    return axes.to(x.dtype)


@torch.no_grad()
def find_directions(generator: nn.Module, z_dim: int, k: int = 16, samples: int = 2000,
                    seed: int = 0) -> torch.Tensor:
    """GANSpace-style directions [k, Z]: principal components of early activations,
    carried back to latent space by least squares, scaled to the spread of z along them.

    Moving along direction 0 changes the picture the most, direction 1 the most of what
    remains, and so on; they are unsupervised, so names are pc0, pc1, ...
    """
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(samples, z_dim, generator=gen)
    feats = torch.cat([_early_features(generator, chunk) for chunk in z.split(250)])
    feats = feats - feats.mean(0, keepdim=True)
    k = min(k, samples - 1, feats.shape[1], z_dim)
    coords = feats @ principal_axes(feats, k).T  # [N, k]
    coords = coords / coords.std(0, keepdim=True)
    directions = torch.linalg.lstsq(coords, z).solution  # [k, Z]: z ~ coords @ directions
    return directions / directions.norm(dim=1, keepdim=True) * (z_dim ** 0.5) / 4


def export_run(run: Path, out: Path, name: str | None = None, directions: int = 16) -> Path:
    """Write RUN's newest checkpoint (its EMA generator) to `out` as a model file."""
    run = Path(run)
    loaded = ckpt.load_latest(run / "checkpoints")
    if loaded is None:
        raise LiveganError(f"{run}: no checkpoint found; train first with `livegan train DATA "
                           f"--out {run}`")
    state, path = loaded
    config, arch = state["g_config"], state["arch"]
    generator = build_generator(arch, config)
    generator.load_state_dict(state["g_ema"])
    recalibrate_batchnorm(generator, config["z_dim"], int(config.get("n_labels", 0)), batches=32)
    dirs = find_directions(generator, config["z_dim"], directions) if directions else None
    data = ""
    config_file = run / "config.json"
    if config_file.is_file():
        import json

        data = json.loads(config_file.read_text()).get("data", "")
    training = {
        "dataset": str(data), "steps": int(state["step"]), "checkpoint": path.name,
        "seconds": round(float(state.get("elapsed", 0.0)), 1),
        "date": datetime.date.today().isoformat(),
    }
    name = name or Path(out).stem
    save_model(Path(out), generator, arch, config, name, training=training, directions=dirs,
               direction_names=[f"pc{i}" for i in range(dirs.shape[0])] if dirs is not None
               else None, labels=list(state.get("label_names") or []))
    log.info("exported %s step %d to %s", run, state["step"], out)
    return Path(out)
