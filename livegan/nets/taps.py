"""Where a generator's feature maps can be reached from outside: one module per map size.

Read-only: it names modules, it never changes a network. Network bending hooks the output
of each module named here (livegan.engine.bend).

Layer names are the side of the square feature map at the model's own resolution:
  dcgan   4, 8, ..., R      (the LeakyReLU after each transposed convolution)
  lite    4, 8, ..., R      (the stem, then each UpBlock)
  fastgan 4, 8, ..., R/2    (the stem, then each FastGANUp; the last doubling is a pixel shuffle)
  imported generators (stylegan2, stylegan3, lwgan, lsg2) list theirs with `taps()`
"""

from __future__ import annotations

from torch import nn


def feature_layers(generator: nn.Module) -> dict[str, nn.Module]:
    """Layer name -> the module whose output is that feature map, coarse to fine; {} for a
    generator of another shape."""
    taps = getattr(generator, "taps", None)
    if callable(taps):  # imported generators name their own (StyleGAN2/3, lucidrains')
        return dict(taps())
    ups = getattr(generator, "ups", None)
    sizes = getattr(generator, "sizes", None)
    stem = getattr(generator, "init", None)
    if isinstance(ups, nn.ModuleList) and sizes is not None and stem is not None:
        return {"4": stem, **{str(s): up for s, up in zip(sizes, ups)}}
    main = getattr(generator, "main", None)
    if isinstance(main, nn.Sequential):
        acts = [m for m in main if isinstance(m, nn.LeakyReLU)]
        return {str(4 * 2**i): m for i, m in enumerate(acts)}
    return {}
