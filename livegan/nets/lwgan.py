"""lucidrains' lightweight-gan generator (a FastGAN variant), so its checkpoints play in livegan.

The network of the `lightweight-gan` package (1.x): the latent becomes a 4x4 map through a
transposed convolution, batch norm and GLU; each layer then doubles the map (1x1 conv, SiLU,
pixel shuffle, an optional [1,2,1] blur, a 4x4 conv, added noise, batch norm, GLU); maps at 16,
32, 64 and 128 gate the channels of those 8 times larger (skip-layer excitation, by global
context attention or by DCT frequency pooling); chosen sizes get linear plus local attention
before their layer; a 3x3 conv makes RGB. The package's images are in [0, 1]; livegan's in
[-1, 1]. Its noise is a fresh normal draw every call: here "const" (the default) replays one
stored draw per layer so a frame is a pure function of z, "random" draws afresh, "none" adds
nothing. The generator is not style-based: no w, no truncation (livegan scales z instead).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

NOISE_MODES = ("const", "random", "none")
EXCITATIONS = ("context", "frequency")  # GlobalContext (the default) or FCANet (freq_chan_attn)
ATTENTION_DIM_HEAD = 64  # features per attention head (the package never changes it)
NOISE_SEED = 0  # seed of the stored noise ("const" mode)


def blur(x: Tensor) -> Tensor:
    """[N, C, H, W] -> the same, filtered with [1,2,1] x [1,2,1] / 16 with reflected borders
    (what the package's Blur does through kornia's filter2d)."""
    f = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype, device=x.device)
    kernel = (f[None, :] * f[:, None]) / 16.0  # [3, 3]
    c = x.shape[1]
    x = F.pad(x, (1, 1, 1, 1), mode="reflect")
    return F.conv2d(x, kernel.expand(c, 1, 3, 3), groups=c)


def default_channels(resolution: int, fmap_max: int = 512, inverse_coef: int = 12) -> list[int]:
    """The package's widths of the maps at 8, 16, ..., R: 2**(coef - k) capped at fmap_max for
    the layer that reads a 2**k map, and 3 from the layer reading 256 on (as the package has it)."""
    layers = int(math.log2(resolution)) - 2
    return [3 if k >= 8 else min(2 ** (inverse_coef - k), fmap_max) for k in range(2, layers + 2)]


def linear_attention(q: Tensor, k: Tensor, v: Tensor, scale: float) -> Tensor:
    """Softmax-kernel linear attention, q, k, v [B, n, d] -> [B, n, d] (q normalised over
    features, k over positions)."""
    q = q.softmax(dim=-1) * scale
    k = k.softmax(dim=-2)
    context = torch.einsum("bnd,bne->bde", k, v)  # [B, d, d]
    return torch.einsum("bnd,bde->bne", q, context)


def split_heads(x: Tensor, heads: int) -> Tensor:
    """[N, h*d, H, W] -> [N*h, H*W, d]."""
    n, c, hh, ww = x.shape
    return x.reshape(n * heads, c // heads, hh * ww).transpose(1, 2)


def merge_heads(x: Tensor, heads: int, size: tuple[int, int]) -> Tensor:
    """[N*h, H*W, d] -> [N, h*d, H, W]."""
    nh, _, d = x.shape
    return x.transpose(1, 2).reshape(nh // heads, heads * d, *size)


class ChannelNorm(nn.Module):
    """Normalise each pixel's features to zero mean and unit variance, then scale and shift."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.gain = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        var = torch.var(x, dim=1, unbiased=False, keepdim=True)
        mean = torch.mean(x, dim=1, keepdim=True)
        return (x - mean) / (var + self.eps).sqrt() * self.gain + self.bias


class DepthwiseConv(nn.Module):
    """A 3x3 conv per channel, then a 1x1 conv across channels (no biases)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(x))


class MapAttention(nn.Module):
    """x + attention(norm(x)): linear attention over the whole map beside softmax attention
    over each pixel's 3x3 neighbourhood, both with `heads` heads of 64 features."""

    def __init__(self, channels: int, heads: int = 8) -> None:
        super().__init__()
        inner = heads * ATTENTION_DIM_HEAD
        self.heads, self.scale = heads, ATTENTION_DIM_HEAD**-0.5
        self.norm = ChannelNorm(channels)
        self.global_q = nn.Conv2d(channels, inner, 1, bias=False)
        self.global_kv = DepthwiseConv(channels, inner * 2)
        self.local_q = nn.Conv2d(channels, inner, 1, bias=False)
        self.local_kv = nn.Conv2d(channels, inner * 2, 1, bias=False)
        self.out = nn.Conv2d(inner * 2, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        y = self.norm(x)
        h, size = self.heads, x.shape[-2:]
        q = split_heads(self.global_q(y), h)  # [N*h, n, d]
        k, v = (split_heads(t, h) for t in self.global_kv(y).chunk(2, dim=1))
        whole = F.gelu(merge_heads(linear_attention(q, k, v, self.scale), h, size))
        near = self._local(self.local_q(y), *self.local_kv(y).chunk(2, dim=1))
        return x + self.out(torch.cat((whole, near), dim=1))  # [N, C, H, W]

    def _local(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Each pixel attends to its 3x3 neighbourhood (zero padded), [N, h*d, H, W] each."""
        h, d = self.heads, ATTENTION_DIM_HEAD
        n, _, hh, ww = q.shape
        q = split_heads(q, h) * self.scale  # [N*h, n, d]
        k, v = (
            F.unfold(t.reshape(n * h, d, hh, ww), 3, padding=1)  # [N*h, d*9, n]
            .reshape(n * h, d, 9, hh * ww).permute(0, 3, 2, 1)  # [N*h, n, 9, d]
            for t in (k, v)
        )
        sim = torch.einsum("bid,bijd->bij", q, k)
        attn = (sim - sim.amax(dim=-1, keepdim=True)).softmax(dim=-1)  # [N*h, n, 9]
        return merge_heads(torch.einsum("bij,bijd->bid", attn, v), h, (hh, ww))


def gate_net(cin: int, cout: int, squeeze: int) -> nn.Sequential:
    """Pooled features [N, cin, 1, 1] -> channel gates in (0, 1) [N, cout, 1, 1]."""
    mid = max(3, cout // squeeze)
    return nn.Sequential(nn.Conv2d(cin, mid, 1), nn.LeakyReLU(0.1), nn.Conv2d(mid, cout, 1),
                         nn.Sigmoid())


class ContextExcitation(nn.Module):
    """Skip-layer excitation by global context: attention-pooled features -> channel gates."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.key = nn.Conv2d(cin, 1, 1)
        self.net = gate_net(cin, cout, 2)

    def forward(self, x: Tensor) -> Tensor:
        weights = self.key(x).flatten(2).softmax(dim=-1)  # [N, 1, HW]
        pooled = torch.einsum("bin,bcn->bci", weights, x.flatten(2))  # [N, C, 1]
        return self.net(pooled.unsqueeze(-1))  # [N, cout, 1, 1]


def frequency_filters(width: int, channels: int) -> Tensor:
    """FCANet's 2D DCT bases [1, C, W, W]: 16 (u, v) frequency pairs, C // 16 channels each
    (channels past 16 * (C // 16) stay zero)."""
    pairs = list(zip([0] * 8 + list(range(8)), list(range(8)) + [0] * 8))
    pos = torch.arange(width, dtype=torch.float64) + 0.5

    def basis(freq: int) -> Tensor:
        b = torch.cos(math.pi * freq * pos / width) / math.sqrt(width)
        return b * (1.0 if freq == 0 else math.sqrt(2.0))

    out = torch.zeros(1, channels, width, width, dtype=torch.float64)
    part = channels // len(pairs)
    for i, (u, v) in enumerate(pairs):
        out[:, i * part:(i + 1) * part] = basis(u)[:, None] * basis(v)[None, :]
    return out.float()


class FrequencyExcitation(nn.Module):
    """Skip-layer excitation by DCT pooling (FCANet): frequency-weighted sums -> gates."""

    def __init__(self, cin: int, cout: int, width: int) -> None:
        super().__init__()
        self.register_buffer("dct_weights", frequency_filters(width, cin))
        self.net = gate_net(cin, cout, 4)

    def forward(self, x: Tensor) -> Tensor:
        pooled = (x * self.dct_weights).sum(dim=(2, 3), keepdim=True)  # [N, C, 1, 1]
        return self.net(pooled)


class Stem(nn.Module):
    """z [N, Z] -> [N, Z, 4, 4]: transposed conv to 2Z channels, batch norm, GLU."""

    def __init__(self, z_dim: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(z_dim, z_dim * 2, 4)
        self.norm = nn.BatchNorm2d(z_dim * 2)

    def forward(self, z: Tensor) -> Tensor:
        return F.glu(self.norm(self.conv(z[:, :, None, None])), dim=1)


class UpLayer(nn.Module):
    """[N, cin, s, s] -> [N, cout, 2s, 2s]: 1x1 conv, SiLU, pixel shuffle, optional blur,
    4x4 conv (padded 2 before, 1 after), noise, batch norm, GLU."""

    def __init__(self, cin: int, cout: int, size: int, antialias: bool,
                 noise: Tensor | None = None) -> None:
        super().__init__()
        self.antialias = antialias
        self.shuffle_conv = nn.Conv2d(cin, cin * 4, 1)
        self.conv = nn.Conv2d(cin, cout * 2, 4)
        self.noise_strength = nn.Parameter(torch.zeros(1))
        self.norm = nn.BatchNorm2d(cout * 2)
        noise = torch.zeros(1, 1, size, size) if noise is None else noise
        self.register_buffer("noise_const", noise)  # [1, 1, 2s, 2s]

    def forward(self, x: Tensor, noise_mode: str = "const") -> Tensor:
        x = F.pixel_shuffle(F.silu(self.shuffle_conv(x)), 2)  # [N, cin, 2s, 2s]
        if self.antialias:
            x = blur(x)
        x = self.conv(F.pad(x, (2, 1, 2, 1)))  # [N, 2 cout, 2s, 2s]
        if noise_mode == "const":
            x = x + self.noise_strength * self.noise_const
        elif noise_mode == "random":
            n, _, hh, ww = x.shape
            x = x + self.noise_strength * torch.randn(n, 1, hh, ww, device=x.device,
                                                      dtype=x.dtype)
        return F.glu(self.norm(x), dim=1)  # [N, cout, 2s, 2s]


class LightweightGenerator(nn.Module):
    """z [N, Z] -> image [N, 3, R, R] in [-1, 1], lightweight-gan's generator.

    Args:
        resolution: output side R (a power of two, at least 8).
        z_dim: latent size (the package's latent_dim); the 4x4 map has this many channels.
        channels: widths of the maps at 8, 16, ..., R (default: the package's plan for
            fmap_max=512, as `default_channels`).
        attention_sizes: sides of the maps that pass through attention before being doubled
            (the package's attn_res_layers; its command line uses [32]).
        attention_heads: heads of each attention (64 features each).
        antialias: blur after each pixel shuffle (the package's --antialias).
        excitation: "context" (GlobalContext) or "frequency" (FCANet, --freq_chan_attn).
        n_labels: must be 0 (the package makes unconditional generators only).
    """

    def __init__(
        self, resolution: int = 256, z_dim: int = 256, channels: list[int] | None = None,
        attention_sizes: list[int] | None = None, attention_heads: int = 8,
        antialias: bool = False, excitation: str = "context", n_labels: int = 0,
    ) -> None:
        super().__init__()
        if resolution < 8 or resolution & (resolution - 1):
            raise ValueError(f"resolution must be a power of two >= 8, not {resolution}")
        if n_labels:
            raise ValueError("lightweight-gan generators are unconditional (n_labels=0)")
        if excitation not in EXCITATIONS:
            raise ValueError(f"unknown excitation '{excitation}'; choose from {EXCITATIONS}")
        self.resolution, self.z_dim, self.n_labels = resolution, z_dim, 0
        self.noise_mode = "const"
        channels = list(channels or default_channels(resolution))
        self.sizes = [8 * 2**i for i in range(len(channels))]  # output side of each layer
        if self.sizes[-1] != resolution:
            raise ValueError(f"{len(channels)} channel widths do not reach {resolution}")
        self.width = dict(zip(self.sizes, channels))
        self.width[4] = z_dim
        self.stem = Stem(z_dim)
        noise = torch.Generator().manual_seed(NOISE_SEED)
        self.ups = nn.ModuleList(
            UpLayer(self.width[s // 2], self.width[s], s, antialias,
                    torch.randn(1, 1, s, s, generator=noise))
            for s in self.sizes
        )
        self.attend = nn.ModuleDict(
            {str(s): MapAttention(self.width[s], attention_heads)
             for s in sorted(set(attention_sizes or [])) if s in self.width and s < resolution}
        )
        self.excite = nn.ModuleDict()
        for source in (16, 32, 64, 128):
            target = source * 8
            if target <= resolution:
                cin, cout = self.width[source], self.width[target]
                self.excite[str(target)] = (
                    ContextExcitation(cin, cout) if excitation == "context"
                    else FrequencyExcitation(cin, cout, source)
                )
        self.to_rgb = nn.Conv2d(channels[-1], 3, 3, padding=1)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.noise_mode not in NOISE_MODES:
            raise ValueError(f"unknown noise_mode '{self.noise_mode}'; choose from {NOISE_MODES}")
        x = F.normalize(self.stem(z), dim=1)  # [N, Z, 4, 4]
        gates: dict[int, Tensor] = {}
        for size, up in zip(self.sizes, self.ups):
            if str(size // 2) in self.attend:
                x = self.attend[str(size // 2)](x)
            x = up(x, self.noise_mode)  # [N, C, size, size]
            if str(size * 8) in self.excite:
                gates[size * 8] = self.excite[str(size * 8)](x)
            if size in gates:
                x = x * gates[size]
        return self.to_rgb(x) * 2 - 1  # the package's [0, 1] -> [-1, 1]

    def taps(self) -> dict[str, nn.Module]:
        """Bending taps, coarse to fine: the stem (4), then each doubling layer's output."""
        return {"4": self.stem, **{str(s): up for s, up in zip(self.sizes, self.ups)}}
