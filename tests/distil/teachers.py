"""Teachers for the distillation tests: small StyleGAN2 generators with random weights, in
NVIDIA's layout, saved as livegan model files (arch "stylegan2") with SeFa directions."""

from __future__ import annotations

from pathlib import Path

import torch

from livegan.modelfile import save_model
from livegan.nets import build_generator, generator_config

Z_DIM = 32


def write_teacher(path: Path, seed: int = 0, resolution: int = 32, name: str = "tinysg2") -> Path:
    """A StyleGAN2 skip generator of `resolution` with 32 channels, z = w = 32."""
    from livegan.foreign import _directions

    config = generator_config("stylegan2", resolution=resolution, z_dim=Z_DIM, w_dim=Z_DIM,
                              channel_base=256, channel_max=32, mapping_layers=2)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        generator = build_generator("stylegan2", config).eval()
        directions, names = _directions(generator)
    return save_model(Path(path), generator, "stylegan2", config, name,
                      training={"steps": 0}, directions=directions, direction_names=names,
                      source={"format": "StyleGAN2 made by the tests"})
