"""What every foreign format's reader gives back: one generator in livegan's terms.

A reader (nvidia.py, rosinality.py, lucidrains.py) turns the tensors and settings of a file
made by another program into an `Imported`: a registered arch (livegan.nets.ARCHS), its
JSON-able constructor arguments and a state dict that loads into it, plus what the file
knew about itself (labels, where it came from). Nothing here unpickles anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
