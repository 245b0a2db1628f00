"""Shared fixtures: tiny real model files, a model folder, headless pygame and free UDP ports.

Fixtures here are for every test module; keep them generic and cheap (milliseconds).

- ``make_tiny_model(path, ...)``: write a real 32x32 ``lite`` model (ngf=8) anywhere.
- ``tiny_model``: such a model file with 4 named directions, in ``tmp_path``.
- ``tiny_model_no_dirs``: the same without stored directions (engines fall back).
- ``models_dir``: an empty model folder that ``$LIVEGAN_MODELS`` points at.
- ``dummy_video``: SDL on its dummy video/audio drivers, pygame quit afterwards.
- ``free_udp_port``: a UDP port on 127.0.0.1 that was free a moment ago.
"""

from __future__ import annotations

import os

# One torch thread per test process unless the caller says otherwise: test runs share
# their cores with other jobs, and more compute threads than free cores make every torch
# call wait on the slowest thread (a 30x slowdown on a loaded 2-core box). Set before
# torch is imported; the CPU engine and the trainer both honour OMP_NUM_THREADS.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The trainer's per-grid quality figures on the fixed random features, even where the
# quality extra is installed: InceptionV3 costs seconds per grid. Tests of the InceptionV3
# figures ask for them by name.
os.environ.setdefault("LIVEGAN_QUALITY_FEATURES", "random")

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from livegan.modelfile import save_model
from livegan.nets import build_generator, generator_config
from livegan.nets.layers import recalibrate_batchnorm

TINY_RES = 32  # resolution of the tiny test models
TINY_NGF = 8  # generator width of the tiny test models
TINY_Z = 128  # latent size (the lite default)
TINY_DIRECTION_NAMES = ["pc0", "pc1", "warm", "calm"]


def write_tiny_model(
    path: Path,
    *,
    directions: bool = True,
    name: str = "tiny",
    labels: list[str] | None = None,
    seed: int = 0,
    arch: str = "lite",
    z_dim: int = TINY_Z,
) -> Path:
    """Build a randomly initialised tiny generator and save it as a model file at `path`.

    Args:
        path: the .safetensors file to write (folders are created).
        directions: store 4 named directions [4, Z] (names in TINY_DIRECTION_NAMES).
        name: the model's name metadata.
        labels: class names; makes a conditional model with that many labels.
        seed: seeds the weights and directions, so files are reproducible.
        arch: any name in livegan.nets.ARCHS.
        z_dim: the latent size.

    Returns:
        The path written.
    """
    config = generator_config(arch, resolution=TINY_RES, ngf=TINY_NGF, z_dim=z_dim,
                              n_labels=len(labels or []))
    with torch.random.fork_rng():  # leaves the caller's random stream alone
        torch.manual_seed(seed)
        generator = build_generator(arch, config)
        # BatchNorm statistics measured for these weights, as every exported model has them
        recalibrate_batchnorm(generator, z_dim, len(labels or []), batches=2, size=8)
        dirs = torch.randn(len(TINY_DIRECTION_NAMES), z_dim) if directions else None
    training = {"dataset": "tests", "images": 0, "steps": 0, "date": "2024-01-01"}
    return save_model(Path(path), generator, arch, config, name, training=training,
                      directions=dirs, direction_names=TINY_DIRECTION_NAMES if directions
                      else None, labels=labels)


@pytest.fixture
def make_tiny_model() -> Callable[..., Path]:
    """The `write_tiny_model(path, *, directions, name, labels, seed, arch)` factory."""
    return write_tiny_model


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    """A real 32x32 lite model file (ngf=8, z_dim=128) with 4 named directions."""
    return write_tiny_model(tmp_path / "tiny_models" / "tiny.safetensors")


@pytest.fixture
def tiny_model_no_dirs(tmp_path: Path) -> Path:
    """A real 32x32 lite model file (ngf=8, z_dim=128) without stored directions."""
    return write_tiny_model(tmp_path / "tiny_models" / "plain.safetensors", directions=False,
                            name="plain", seed=1)


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty model folder, the first one searched by name ($LIVEGAN_MODELS)."""
    folder = tmp_path / "models_dir"
    folder.mkdir()
    monkeypatch.setenv("LIVEGAN_MODELS", str(folder))
    return folder


@pytest.fixture
def dummy_video(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run pygame headless (SDL dummy video and audio drivers) and quit it afterwards.

    Not autouse: request it in tests that open a window or run a show.
    """
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    yield
    import pygame

    pygame.quit()


def find_free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port on `host` that was free when asked (prefer port 0 where the API allows it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.fixture
def free_udp_port() -> int:
    """A free UDP port on 127.0.0.1, for programs that cannot be told to pick one (port 0)."""
    return find_free_udp_port()


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Torch on one thread for the test: tiny nets run fastest so, and the CI machine is shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
