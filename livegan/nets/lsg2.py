"""lucidrains' stylegan2-pytorch generator, so the package's checkpoints play in livegan.

Its StyleGAN2 differs from NVIDIA's: the mapping normalises z to unit length (not unit RMS) and
has no output scaling beyond its learning-rate multiplier; convolutions are modulated by
(style + 1) and carry no equalised-learning-rate gain; the noise of every layer comes from one
noise image [N, R, R, 1] (uniform in [0, 1), cropped to each layer's size) through a learned
linear map per layer, bias included; RGB is summed across scales with bilinear up-sampling and
a [1,2,1] blur; optional linear attention and feed-forward layers sit before chosen blocks.
Images are in [0, 1] in the package and mapped to livegan's [-1, 1] here.

noise_mode: "const" replays the stored noise image (`noise_const`), "random" draws a new one
each call, as the package does, "none" feeds an image of zeros (each layer's noise bias stays:
it is part of the learned map).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from livegan.nets.lwgan import (
    ChannelNorm,
    DepthwiseConv,
    blur,
    linear_attention,
    merge_heads,
    split_heads,
)

NOISE_MODES = ("const", "random", "none")
ATTENTION_DIM_HEAD = 64  # features per attention head (the package never changes it)
NOISE_SEED = 0  # seed of the stored noise image ("const" mode)
W_AVG_SAMPLES = 10_000  # latents averaged into w_avg
W_AVG_SEED = 0


def default_channels(resolution: int, capacity: int = 16, fmap_max: int = 512) -> list[int]:
    """The package's block widths, coarse to fine: capacity * 2**(i+1), capped at fmap_max."""
    layers = int(math.log2(resolution)) - 1
    return [min(capacity * 2 ** (i + 1), fmap_max) for i in range(layers)][::-1]


def modulated_conv(x: Tensor, weight: Tensor, style: Tensor, demodulate: bool) -> Tensor:
    """x [N, I, H, W] convolved with weight [O, I, k, k] * (style [N, I] + 1), demodulated to
    unit norm per output channel if asked; the batch runs as groups of one convolution."""
    n, _, h, w = x.shape
    weights = weight[None] * (style[:, None, :, None, None] + 1)  # [N, O, I, k, k]
    if demodulate:
        weights = weights * torch.rsqrt((weights**2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    k = weight.shape[-1]
    x = F.conv2d(x.reshape(1, -1, h, w), weights.reshape(-1, *weight.shape[1:]),
                 padding=(k - 1) // 2, groups=n)
    return x.reshape(n, -1, h, w)  # [N, O, H, W]


class StyleMapping(nn.Module):
    """z [N, Z] -> w [N, Z]: unit-length z, then `depth` linear layers (weights and biases
    times lr_mul) with leaky ReLU 0.2."""

    def __init__(self, z_dim: int, depth: int, lr_mul: float) -> None:
        super().__init__()
        self.lr_mul = lr_mul
        self.weights = nn.ParameterList(nn.Parameter(torch.randn(z_dim, z_dim))
                                        for _ in range(depth))
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(z_dim)) for _ in range(depth))

    def forward(self, z: Tensor) -> Tensor:
        x = F.normalize(z, dim=1)
        for weight, bias in zip(self.weights, self.biases):
            x = F.leaky_relu(F.linear(x, weight * self.lr_mul, bias * self.lr_mul), 0.2)
        return x


class StyledConv(nn.Module):
    """[N, cin, H, W] -> [N, cout, H, W]: 3x3 modulated conv, noise, leaky ReLU 0.2."""

    def __init__(self, w_dim: int, cin: int, cout: int) -> None:
        super().__init__()
        self.to_style = nn.Linear(w_dim, cin)
        self.to_noise = nn.Linear(1, cout)
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3))

    def forward(self, x: Tensor, w: Tensor, noise: Tensor) -> Tensor:
        x = modulated_conv(x, self.weight, self.to_style(w), demodulate=True)
        side = x.shape[2]
        # the package maps the noise image [N, y, x, 1] to [N, C, x, y]: transposed
        noise = self.to_noise(noise[:, :side, :side, :]).permute(0, 3, 2, 1)
        return F.leaky_relu(x + noise, 0.2)


class ToRGB(nn.Module):
    """Add this block's RGB (1x1 modulated conv, no demodulation) to the running image, then
    double it (bilinear + blur) unless this is the last block."""

    def __init__(self, w_dim: int, cin: int, upsample: bool) -> None:
        super().__init__()
        self.upsample = upsample
        self.to_style = nn.Linear(w_dim, cin)
        self.weight = nn.Parameter(torch.randn(3, cin, 1, 1))

    def forward(self, x: Tensor, rgb: Tensor | None, w: Tensor) -> Tensor:
        out = modulated_conv(x, self.weight, self.to_style(w), demodulate=False)
        if rgb is not None:
            out = out + rgb
        if self.upsample:
            out = blur(F.interpolate(out, scale_factor=2, mode="bilinear", align_corners=False))
        return out


class Block(nn.Module):
    """One scale: optional bilinear doubling, two styled convs, RGB; all with one w."""

    def __init__(self, w_dim: int, cin: int, cout: int, upsample: bool, last: bool) -> None:
        super().__init__()
        self.upsample = upsample
        self.conv1 = StyledConv(w_dim, cin, cout)
        self.conv2 = StyledConv(w_dim, cout, cout)
        self.to_rgb = ToRGB(w_dim, cout, upsample=not last)

    def forward(self, x: Tensor, rgb: Tensor | None, w: Tensor,
                noise: Tensor) -> tuple[Tensor, Tensor]:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = self.conv2(self.conv1(x, w, noise), w, noise)
        return x, self.to_rgb(x, rgb, w)


class AttentionLayer(nn.Module):
    """x + linear attention(norm(x)), then x + feed-forward(norm(x)) (1x1 convs, 2x wide)."""

    def __init__(self, channels: int, heads: int = 8) -> None:
        super().__init__()
        inner = heads * ATTENTION_DIM_HEAD
        self.heads, self.scale = heads, ATTENTION_DIM_HEAD**-0.5
        self.attention_norm = ChannelNorm(channels)
        self.to_q = nn.Conv2d(channels, inner, 1, bias=False)
        self.to_kv = DepthwiseConv(channels, inner * 2)
        self.to_out = nn.Conv2d(inner, channels, 1)
        self.feed_forward_norm = ChannelNorm(channels)
        self.feed_forward = nn.Sequential(nn.Conv2d(channels, channels * 2, 1),
                                          nn.LeakyReLU(0.2), nn.Conv2d(channels * 2, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        y = self.attention_norm(x)
        q = split_heads(self.to_q(y), self.heads)  # [N*h, n, d]
        k, v = (split_heads(t, self.heads) for t in self.to_kv(y).chunk(2, dim=1))
        out = linear_attention(q, k, v, self.scale)
        x = x + self.to_out(F.gelu(merge_heads(out, self.heads, x.shape[-2:])))
        return x + self.feed_forward(self.feed_forward_norm(x))


class LucidStyleGAN2Generator(nn.Module):
    """z [N, Z] -> image [N, 3, R, R] in [-1, 1], stylegan2-pytorch's StyleVectorizer and
    Generator; style-based (w_avg, truncation, noise_mode, mapping/synthesis_forward).

    Args:
        resolution: output side R (a power of two, at least 8).
        z_dim: latent size (the package's latent_dim); w has the same size.
        channels: widths of the blocks at 4, 8, ..., R (default: network_capacity 16).
        mapping_layers: depth of the style mapping (the package's style_depth).
        lr_mul: the mapping's learning-rate multiplier (the package's lr_mlp), a factor on
            its weights and biases.
        const_input: a learned 4x4 input (True) or one made from the mean w (no_const).
        attention_blocks: indices of the blocks preceded by attention (0 = the 4x4 block).
        attention_heads: heads of each attention layer (64 features each).
        n_labels: must be 0 (the package makes unconditional generators only).
    """

    def __init__(
        self, resolution: int = 128, z_dim: int = 512, channels: list[int] | None = None,
        mapping_layers: int = 8, lr_mul: float = 0.1, const_input: bool = True,
        attention_blocks: list[int] | None = None, attention_heads: int = 8, n_labels: int = 0,
    ) -> None:
        super().__init__()
        if resolution < 8 or resolution & (resolution - 1):
            raise ValueError(f"resolution must be a power of two >= 8, not {resolution}")
        if n_labels:
            raise ValueError("stylegan2-pytorch generators are unconditional (n_labels=0)")
        channels = list(channels or default_channels(resolution))
        self.num_ws = int(math.log2(resolution)) - 1  # one w per block
        if len(channels) != self.num_ws:
            raise ValueError(f"{len(channels)} block widths for {self.num_ws} blocks")
        self.resolution, self.z_dim, self.w_dim, self.n_labels = resolution, z_dim, z_dim, 0
        self.truncation, self.noise_mode = 1.0, "const"
        self.mapping = StyleMapping(z_dim, mapping_layers, lr_mul)
        self.const_input = const_input
        if const_input:
            self.const = nn.Parameter(torch.randn(1, channels[0], 4, 4))
        else:
            self.from_w = nn.ConvTranspose2d(z_dim, channels[0], 4, bias=False)
        self.initial_conv = nn.Conv2d(channels[0], channels[0], 3, padding=1)
        widths = [channels[0], *channels]
        self.blocks = nn.ModuleList(
            Block(z_dim, widths[i], widths[i + 1], upsample=i > 0, last=i == self.num_ws - 1)
            for i in range(self.num_ws)
        )
        self.attend = nn.ModuleDict(
            {str(i): AttentionLayer(widths[i], attention_heads)
             for i in sorted(set(attention_blocks or [])) if 0 <= i < self.num_ws}
        )
        noise = torch.rand(1, resolution, resolution, 1,
                           generator=torch.Generator().manual_seed(NOISE_SEED))
        self.register_buffer("noise_const", noise)  # [1, R, R, 1], uniform in [0, 1)
        self.register_buffer("w_avg", torch.zeros(z_dim))

    def mapping_forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """z [N, Z] -> w [N, W] (untruncated)."""
        return self.mapping(z)

    def synthesis_forward(self, ws: Tensor) -> Tensor:
        """ws [N, num_ws, W] -> image [N, 3, R, R] in [-1, 1]."""
        if self.noise_mode not in NOISE_MODES:
            raise ValueError(f"unknown noise_mode '{self.noise_mode}'; choose from {NOISE_MODES}")
        n = ws.shape[0]
        if self.const_input:
            x = self.const.expand(n, -1, -1, -1)
        else:
            x = self.from_w(ws.mean(dim=1)[:, :, None, None])  # [N, C, 4, 4]
        x = self.initial_conv(x)
        noise = self._noise_image(n, ws)
        rgb = None
        for i, block in enumerate(self.blocks):
            if str(i) in self.attend:
                x = self.attend[str(i)](x)
            x, rgb = block(x, rgb, ws[:, i], noise)
        return rgb * 2 - 1  # the package's [0, 1] -> [-1, 1]

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        w = self.mapping_forward(z, labels)  # [N, W]
        if self.truncation != 1.0:
            w = self.w_avg + self.truncation * (w - self.w_avg)
        return self.synthesis_forward(w[:, None].expand(-1, self.num_ws, -1))

    def taps(self) -> dict[str, nn.Module]:
        """Bending taps, coarse to fine: each block's second styled conv (4, 8, ..., R)."""
        return {str(4 * 2**i): block.conv2 for i, block in enumerate(self.blocks)}

    @torch.no_grad()
    def compute_w_avg(self, samples: int = W_AVG_SAMPLES, seed: int = W_AVG_SEED,
                      chunk: int = 1000) -> Tensor:
        """Set and return w_avg, the mean w of `samples` seeded normal latents (the package
        computes its own from fresh random latents each time it truncates, and stores none)."""
        gen = torch.Generator().manual_seed(seed)
        total = torch.zeros(self.w_dim, dtype=torch.float64)
        device = self.w_avg.device
        for start in range(0, samples, chunk):
            z = torch.randn(min(chunk, samples - start), self.z_dim, generator=gen)
            total += self.mapping(z.to(device)).double().sum(dim=0).cpu()
        self.w_avg.copy_((total / samples).to(self.w_avg.dtype))
        return self.w_avg

    def _noise_image(self, n: int, ws: Tensor) -> Tensor:
        """The noise image for this call: [1 or N, R, R, 1]."""
        if self.noise_mode == "random":
            side = self.resolution
            return torch.rand(n, side, side, 1, device=ws.device, dtype=ws.dtype)
        if self.noise_mode == "none":
            return torch.zeros_like(self.noise_const)
        return self.noise_const
