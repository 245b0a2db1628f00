"""What every foreign format's reader gives back: one generator in livegan's terms.

A reader (nvidia.py, rosinality.py, lucidrains.py) turns the tensors and settings of a file
made by another program into an `Imported`: a registered arch (livegan.nets.ARCHS), its
JSON-able constructor arguments and a state dict that loads into it, plus what the file
knew about itself (labels, where it came from). Nothing here unpickles anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from livegan.errors import ModelFileError


class ForeignFileError(ModelFileError):
    """A file to import is of no known kind, damaged, or of an unsupported architecture."""


@dataclass
class ForeignModule:
    """A network object read out of a pickle without running any of its code.

    NVIDIA's pickles hold their networks as `torch_utils.persistence` objects; the restricted
    unpickler turns each into one of these. `tensors` is flat, as `state_dict()` names them
    ("mapping.fc0.weight", "synthesis.b4.conv1.noise_const", buffers included).
    """

    module: str  # the Python module the class came from ("training.networks_stylegan2")
    class_name: str  # "Generator", "Discriminator", "SynthesisLayer"...
    init_kwargs: dict = field(default_factory=dict)
    init_args: tuple = ()
    tensors: dict[str, Tensor] = field(default_factory=dict)


@dataclass
class Imported:
    """One generator ready to become a livegan model file.

    `config` always holds "resolution" (the file's native square size), "z_dim" and
    "n_labels" beside the arch's own options; `tensors` loads into ARCHS[arch](**config).
    """

    arch: str  # a key of livegan.nets.ARCHS ("stylegan2", "stylegan3", "lwgan", "lsg2")
    config: dict
    tensors: dict[str, Tensor]
    source: dict = field(default_factory=dict)  # format, file name, what it held (ema, kimg...)
    labels: list[str] = field(default_factory=list)  # names of a conditional model's classes


def fit_tensors(expected: dict[str, Tensor], tensors: dict[str, Tensor], what: str,
                network: str, ignore: Callable[[str], bool] = lambda key: False
                ) -> dict[str, Tensor]:
    """`tensors` checked against a network's state dict `expected` by name and shape, as
    float32 and contiguous; ForeignFileError naming the first tensor that does not fit.
    `ignore(key)`: extra tensors left out on purpose (blocks above --max-res)."""
    missing = [k for k in expected if k not in tensors]
    if missing:
        raise ForeignFileError(f"{what} lacks the {network} tensor '{missing[0]}' "
                               f"({len(missing)} missing); it is not the network its "
                               "options describe")
    extra = sorted(k for k in tensors if k not in expected and not ignore(k))
    if extra:
        raise ForeignFileError(f"{what} has a tensor {network} does not: '{extra[0]}'")
    out = {}
    for key, want in expected.items():
        t = tensors[key]
        if tuple(t.shape) != tuple(want.shape):
            raise ForeignFileError(f"{what}: tensor '{key}' has shape {tuple(t.shape)}, its "
                                   f"options need {tuple(want.shape)}")
        out[key] = t.detach().to(torch.float32).contiguous()
    return out
