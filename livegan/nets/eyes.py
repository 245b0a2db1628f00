"""InceptionV3's first stages rebuilt as plain PyTorch: the projected discriminator's eyes.

The quality extra's wheel ships InceptionV3 as TorchScript in which every convolution is
followed by a separate BatchNorm and every Mixed block hands on an NCHW-contiguous map.
Rebuilt here from the same weights, computing the same function up to float rounding:

- each BatchNorm is folded into its convolution (a scale per output channel and a bias);
- the four 1x1 convolutions that open an InceptionA block run as one;
- an InceptionA block's 3x3 average pool moves behind its 1x1 convolution: both are
  linear, and an average that leaves out the padding keeps a bias, so the pool averages
  32-64 channels instead of 192-288;
- the maps stay channels-last from the first stage to the last, which the CPU's
  convolution and pooling kernels run much faster (an average pool over 288 channels at
  13x13: 0.26 against 4.3 ms forward).

Nothing trains and nothing here is saved: the weights are read from the wheel each time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

BN_EPS = 0.001  # the TorchScript layers' batch_norm eps


def _folded(layer: torch.jit.ScriptModule) -> tuple[Tensor, Tensor]:
    """A TorchScript conv + BatchNorm layer's weight and bias with the norm folded in."""
    scale = torch.rsqrt(layer.var.float() + BN_EPS)
    weight = layer.weight.float() * scale[:, None, None, None]
    return weight, layer.beta.float() - layer.mean.float() * scale


def _conv(weight: Tensor, bias: Tensor, stride: int = 1, padding: int = 0) -> nn.Conv2d:
    cout, cin, kh, _ = weight.shape
    conv = nn.Conv2d(cin, cout, kh, stride, padding)
    with torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
    return conv.requires_grad_(False)


def _layer(layer: torch.jit.ScriptModule) -> nn.Conv2d:
    """One TorchScript conv + BatchNorm layer as one convolution (its ReLU stays apart)."""
    return _conv(*_folded(layer), stride=int(layer.stride), padding=int(layer.padding))


class ConvReLU(nn.Module):
    def __init__(self, layer: torch.jit.ScriptModule) -> None:
        super().__init__()
        self.conv = _layer(layer)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.conv(x))


class MaxPool(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, 3, 2)


class InceptionA(nn.Module):
    """Four branches: 1x1; 1x1 then 5x5; 1x1 then two 3x3; 3x3 average then 1x1."""

    def __init__(self, block: torch.jit.ScriptModule) -> None:
        super().__init__()
        entries = [_folded(layer) for layer in (block.conv, block.tower.conv,
                                                block.tower_1.conv, block.tower_2.conv)]
        self.split = [w.shape[0] for w, _ in entries]
        self.entry = _conv(torch.cat([w for w, _ in entries]), torch.cat([b for _, b in entries]))
        self.five = _layer(block.tower.conv_1)
        self.three_a = _layer(block.tower_1.conv_1)
        self.three_b = _layer(block.tower_1.conv_2)

    def forward(self, x: Tensor) -> Tensor:
        one, five, three, pool = self.entry(x).split(self.split, dim=1)
        five = F.relu(self.five(F.relu(five)))
        three = F.relu(self.three_b(F.relu(self.three_a(F.relu(three)))))
        pool = F.relu(F.avg_pool2d(pool, 3, 1, 1, count_include_pad=False))
        return torch.cat([F.relu(one), five, three, pool], dim=1)


class InceptionB(nn.Module):
    """Three branches that halve the map: 3x3 stride 2; 1x1, 3x3, 3x3 stride 2; max pool."""

    def __init__(self, block: torch.jit.ScriptModule) -> None:
        super().__init__()
        self.conv = _layer(block.conv)
        self.tower = nn.ModuleList(_layer(layer) for layer in (block.tower.conv,
                                                                block.tower.conv_1,
                                                                block.tower.conv_2))

    def forward(self, x: Tensor) -> Tensor:
        tower = x
        for conv in self.tower:
            tower = F.relu(conv(tower))
        return torch.cat([F.relu(self.conv(x)), tower, F.max_pool2d(x, 3, 2)], dim=1)


REBUILT = {"Conv2dLayer": ConvReLU, "InceptionA": InceptionA, "InceptionB": InceptionB}


def rebuild(stages: list[torch.jit.ScriptModule]) -> list[nn.Module]:
    """The TorchScript stages (conv layers, max pools, InceptionA and B blocks) as plain,
    frozen modules computing the same maps; ValueError for a stage of another kind."""
    rebuilt: list[nn.Module] = []
    for stage in stages:
        kind = stage.original_name
        if kind == "MaxPool2d":
            rebuilt.append(MaxPool())
        elif kind in REBUILT:
            rebuilt.append(REBUILT[kind](stage).requires_grad_(False).eval())
        else:
            raise ValueError(f"cannot rebuild an InceptionV3 stage of kind {kind}")
    return rebuilt
