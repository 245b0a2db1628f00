"""StyleGAN2's generator (Karras et al. 2020), laid out as NVIDIA's StyleGAN2-ADA code names it.

Parameter and buffer names are those of `G_ema.state_dict()` in NVIDIA's
stylegan2-ada-pytorch ("mapping.fc0.weight", "synthesis.b8.conv0.affine.weight",
"synthesis.b8.conv0.noise_const", ...), so a converted file's tensors load as they are. Only
plain PyTorch ops are used (the FIR up-sampling is a padded depthwise conv2d), so tracers and
graph compilers (TensorRT, OpenVINO) take the network whole. A modulated convolution scales
its input by the style and its output by the demodulation (NVIDIA's arithmetic, in another
order), so it is one plain convolution of its own weight for the whole batch: a single frame
costs what a plain convolution costs, and compilers see constant weights. Feature maps are
channels-last, which the CPU's convolutions prefer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ACTIVATION_GAIN = {"linear": 1.0, "relu": math.sqrt(2), "lrelu": math.sqrt(2)}
ARCHITECTURES = ("orig", "skip", "resnet")
NOISE_MODES = ("const", "random", "none")
FIR_TAPS = (1.0, 3.0, 3.0, 1.0)  # NVIDIA's resampling filter


def fir_filter(taps: tuple[float, ...] = FIR_TAPS) -> Tensor:
    """The separable low-pass filter as one normalised 2D kernel [K, K] (sums to 1)."""
    f = torch.tensor(taps, dtype=torch.float32)
    f = torch.outer(f, f)
    return f / f.sum()


def upfirdn2d(x: Tensor, f: Tensor, up: int = 1, pad: tuple[int, int] = (0, 0),
              gain: float = 1.0) -> Tensor:
    """Insert up-1 zeros between pixels, pad (before, after) on both axes, convolve each
    channel with `f` times `gain` (a true convolution: the filter is flipped)."""
    n, c, h, w = x.shape
    if up > 1:
        x = F.pad(x.reshape(n, c, h, 1, w, 1), [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)  # [N, C, H*up, W*up]
    if pad[0] != pad[1]:
        x, pad = F.pad(x, [pad[0], pad[1], pad[0], pad[1]]), (0, 0)
    kernel = (f * gain).flip([0, 1]).to(x.dtype)
    kernel = kernel[None, None].expand(c, 1, *f.shape)  # [C, 1, K, K]
    return F.conv2d(x, kernel, padding=pad[0], groups=c)


def upsample2d(x: Tensor, f: Tensor) -> Tensor:
    """Double the size of x [N, C, H, W] with the FIR filter f [K, K]."""
    k = f.shape[0]
    return upfirdn2d(x, f, up=2, pad=((k + 1) // 2, (k - 2) // 2), gain=4.0)


def bias_act(x: Tensor, bias: Tensor | None, activation: str = "linear", gain: float = 1.0,
             clamp: float | None = None) -> Tensor:
    """Add a bias per channel (dim 1), activate, scale, and clamp to +-clamp, in NVIDIA's order."""
    if bias is not None:
        x = x + bias.to(x.dtype).reshape([1, -1] + [1] * (x.dim() - 2))
    if activation == "lrelu":
        x = F.leaky_relu(x, 0.2)
    elif activation == "relu":
        x = F.relu(x)
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


def normalize_2nd_moment(x: Tensor, eps: float = 1e-8) -> Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def modulation(styles: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
    """A modulated, demodulated convolution as two scales: conv(x * s_in, weight) * s_out
    equals the convolution with weight * styles, demodulated, per sample.

    So the convolution keeps its own weight: one plain convolution for the whole batch, and
    a weight a graph compiler can treat as a constant. The demodulation ignores the scale of
    the styles, so they are bounded first, which keeps fp16 and bf16 activations small.
    styles [N, I], weight [O, I, k, k] -> s_in [N, I], s_out [N, O] (float32).
    """
    bound = styles.float().abs().amax(dim=1, keepdim=True).clamp_min(1e-8)
    s_in = styles.float() / (bound * math.sqrt(weight[0].numel()))
    energy = weight.float().square().sum(dim=[2, 3])  # [O, I]
    energy = (s_in.square()[:, None, :] * energy).sum(dim=2)  # [N, O]: |weight * style|^2
    return s_in, (energy + 1e-8).rsqrt()


class FullyConnectedLayer(nn.Module):
    """A dense layer with equalized learning rate: weight and bias scaled at run time."""

    def __init__(self, in_features: int, out_features: int, activation: str = "linear",
                 lr_multiplier: float = 1.0, bias_init: float = 0.0) -> None:
        super().__init__()
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init)))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: Tensor) -> Tensor:
        # Always float32, under autocast too: bf16 styles cost a bf16 frame ~7 dB.
        with torch.autocast(x.device.type, enabled=False):
            x = F.linear(x.float(), self.weight.float()) * self.weight_gain
            return bias_act(x, self.bias.float() * self.bias_gain, self.activation,
                            ACTIVATION_GAIN[self.activation])  # [N, out]


class MappingNetwork(nn.Module):
    """z [N, Z] (and a one-hot label c [N, L]) -> w [N, W]; holds w_avg, the average w."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_layers: int,
                 layer_features: int, embed_features: int, activation: str,
                 lr_multiplier: float) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.num_layers = z_dim, c_dim, num_layers
        embed_features = embed_features if c_dim > 0 else 0
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for i in range(num_layers):
            setattr(self, f"fc{i}", FullyConnectedLayer(
                features[i], features[i + 1], activation, lr_multiplier))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: Tensor, c: Tensor | None) -> Tensor:
        x = normalize_2nd_moment(z.float())
        if self.c_dim > 0:
            y = normalize_2nd_moment(self.embed(c.float()))
            x = torch.cat([x, y], dim=1)  # [N, Z + E]
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        return x  # [N, W]


class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (optionally doubling the size), noise, bias, activation, clamp."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 up: int = 1, use_noise: bool = True, activation: str = "lrelu",
                 conv_clamp: float | None = None) -> None:
        super().__init__()
        self.resolution, self.up, self.use_noise = resolution, up, use_noise
        self.activation, self.conv_clamp = activation, conv_clamp
        self.noise_mode = "const"  # set for the whole network by StyleGAN2Generator
        self.register_buffer("resample_filter", fir_filter())
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1.0)
        weight = torch.randn(out_channels, in_channels, 3, 3)
        if up == 1:  # as the maps (see SynthesisBlock); the transposed conv wants it as it is
            weight = weight.contiguous(memory_format=torch.channels_last)
        self.weight = nn.Parameter(weight)
        if use_noise:
            self.register_buffer("noise_const", torch.randn(resolution, resolution))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: Tensor, w: Tensor, gain: float = 1.0) -> Tensor:
        s_in, s_out = modulation(self.affine(w), self.weight)  # [N, I], [N, O]
        x = x * s_in.to(x.dtype)[:, :, None, None]
        weight = self.weight.to(x.dtype)
        if self.up == 1:
            x = F.conv2d(x, weight, padding=1)
        else:  # transposed stride-2 conv [N, O, 2H+1, 2W+1], filtered back to [N, O, 2H, 2W]
            x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
            x = upfirdn2d(x, self.resample_filter, pad=(1, 1), gain=4.0)
        # The activations are positively homogeneous, so their gain joins the other scales
        # and the whole tail is four passes over the map.
        act_gain = ACTIVATION_GAIN[self.activation] * gain
        x = torch.addcmul((self.bias * act_gain).to(x.dtype)[None, :, None, None], x,
                          (s_out * act_gain).to(x.dtype)[:, :, None, None])  # [N, O, R, R]
        if self.use_noise and self.noise_mode != "none":
            noise = self.noise_const if self.noise_mode == "const" else torch.randn(
                x.shape[0], 1, self.resolution, self.resolution, device=x.device)
            x = x.add_((noise * (self.noise_strength * act_gain)).to(x.dtype))
        if self.activation == "lrelu":
            x = F.leaky_relu(x, 0.2, inplace=True)
        elif self.activation == "relu":
            x = F.relu(x, inplace=True)
        if self.conv_clamp is not None:  # after the activation, as NVIDIA clamps
            x = x.clamp_(-self.conv_clamp * gain, self.conv_clamp * gain)
        return x


class ToRGBLayer(nn.Module):
    """Modulated 1x1 conv to RGB, without demodulation."""

    def __init__(self, in_channels: int, w_dim: int, conv_clamp: float | None = None) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(3, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(3))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        styles = self.affine(w).float() * self.weight_gain  # [N, I]
        x = F.conv2d(x * styles.to(x.dtype)[:, :, None, None], self.weight.to(x.dtype))
        return bias_act(x, self.bias, clamp=self.conv_clamp)  # [N, 3, R, R]


class UpConv1x1(nn.Module):
    """The resnet block's shortcut: an unmodulated 1x1 conv and FIR up-sampling, no bias."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.register_buffer("resample_filter", fir_filter())
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: Tensor, gain: float = 1.0) -> Tensor:
        x = F.conv2d(x, (self.weight * self.weight_gain).to(x.dtype))
        return upsample2d(x, self.resample_filter) * gain


class SynthesisBlock(nn.Module):
    """One resolution: (const input or up-sampling conv0), conv1, and toRGB where the
    architecture has one; carries the feature map x and, for "skip", the RGB image."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 is_last: bool, architecture: str, conv_clamp: float | None,
                 use_noise: bool, activation: str) -> None:
        super().__init__()
        self.in_channels, self.resolution = in_channels, resolution
        self.architecture = architecture
        self.register_buffer("resample_filter", fir_filter())
        layer = {"w_dim": w_dim, "resolution": resolution, "use_noise": use_noise,
                 "activation": activation, "conv_clamp": conv_clamp}
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, up=2, **layer)
        self.conv1 = SynthesisLayer(out_channels, out_channels, **layer)
        self.num_conv = 1 if in_channels == 0 else 2
        self.num_torgb = 1 if is_last or architecture == "skip" else 0
        if self.num_torgb:
            self.torgb = ToRGBLayer(out_channels, w_dim, conv_clamp)
        if in_channels != 0 and architecture == "resnet":
            self.skip = UpConv1x1(in_channels, out_channels)

    def forward(self, x: Tensor | None, img: Tensor | None,
                ws: Tensor) -> tuple[Tensor, Tensor | None]:
        """ws [N, num_conv + num_torgb, W]; x [N, I, R/2, R/2] -> [N, O, R, R]."""
        if self.in_channels == 0:  # the maps take the weights' dtype (ws are float32), and
            x = self.const[None].expand(ws.shape[0], -1, -1, -1)  # are channels-last from
            x = x.contiguous(memory_format=torch.channels_last)  # here: faster on the CPU
            x = self.conv1(x, ws[:, 0])
        elif self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv0(x, ws[:, 0])
            x = y + self.conv1(x, ws[:, 1], gain=math.sqrt(0.5))
        else:
            x = self.conv1(self.conv0(x, ws[:, 0]), ws[:, 1])
        if img is not None:
            img = upsample2d(img, self.resample_filter)
        if self.num_torgb:
            y = self.torgb(x, ws[:, self.num_conv]).float()
            img = img + y if img is not None else y
        return x, img


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, W] -> image [N, 3, R, R]: blocks b4, b8, ... bR."""

    def __init__(self, w_dim: int, resolution: int, channel_base: int, channel_max: int,
                 architecture: str, conv_clamp: float | None, use_noise: bool,
                 activation: str, last: int) -> None:
        super().__init__()
        self.block_resolutions = [2**i for i in range(2, int(math.log2(last)) + 1)]
        channels = {r: min(channel_base // r, channel_max) for r in self.block_resolutions}
        self.num_ws, self.ws_start = 0, []
        for res in self.block_resolutions:
            block = SynthesisBlock(
                channels[res // 2] if res > 4 else 0, channels[res], w_dim, res,
                is_last=res == resolution, architecture=architecture, conv_clamp=conv_clamp,
                use_noise=use_noise, activation=activation)
            setattr(self, f"b{res}", block)
            self.ws_start.append(self.num_ws)
            self.num_ws += block.num_conv
        self.num_ws += block.num_torgb  # the last block's toRGB takes one more w

    def blocks(self) -> list[SynthesisBlock]:
        return [getattr(self, f"b{res}") for res in self.block_resolutions]

    def forward(self, ws: Tensor) -> Tensor:
        x = img = None
        for start, block in zip(self.ws_start, self.blocks()):
            x, img = block(x, img, ws[:, start:start + block.num_conv + block.num_torgb])
        return img.contiguous()


class StyleGAN2Generator(nn.Module):
    """z [N, Z] (and class indices [N]) -> image [N, 3, R, R] in [-1, 1].

    Options follow NVIDIA's Generator (channel_base, channel_max, architecture, conv_clamp,
    the mapping's layers, widths and learning-rate multiplier). `max_res` > 0 stops a "skip"
    generator after the block of that side and returns the image gathered so far: a
    smaller, cheaper frame from the same weights (the finer blocks are not built).
    """

    def __init__(
        self, resolution: int = 256, z_dim: int = 512, w_dim: int = 512, n_labels: int = 0,
        img_channels: int = 3, channel_base: int = 32768, channel_max: int = 512,
        mapping_layers: int = 8, mapping_features: int = 0, embed_features: int = 0,
        mapping_lr_multiplier: float = 0.01, mapping_activation: str = "lrelu",
        activation: str = "lrelu", architecture: str = "skip",
        conv_clamp: float | None = None, use_noise: bool = True, max_res: int = 0,
    ) -> None:
        super().__init__()
        _check_options(resolution, img_channels, architecture, max_res,
                       (mapping_activation, activation))
        last = max_res or resolution
        self.resolution, self.z_dim, self.w_dim, self.n_labels = last, z_dim, w_dim, n_labels
        self.synthesis = SynthesisNetwork(w_dim, resolution, channel_base, channel_max,
                                          architecture, conv_clamp, use_noise, activation, last)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, n_labels, w_dim, mapping_layers,
                                      mapping_features or w_dim, embed_features or w_dim,
                                      mapping_activation, mapping_lr_multiplier)
        self.truncation = 1.0  # psi: w = w_avg + psi * (w - w_avg) on every layer
        self._noise_mode = "const"

    @property
    def w_avg(self) -> Tensor:
        return self.mapping.w_avg  # [W]

    @property
    def noise_mode(self) -> str:
        """"const" (the stored noise maps), "random" (fresh every call) or "none"."""
        return self._noise_mode

    @noise_mode.setter
    def noise_mode(self, mode: str) -> None:
        if mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, not {mode!r}")
        self._noise_mode = mode
        for m in self.modules():
            if isinstance(m, SynthesisLayer):
                m.noise_mode = mode

    def mapping_forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """z [N, Z] -> w [N, W], untruncated; labels are class indices [N] (default 0)."""
        c = None
        if self.n_labels > 0:
            if labels is None:
                labels = torch.zeros(z.shape[0], dtype=torch.long, device=z.device)
            c = F.one_hot(labels.long(), self.n_labels).float()  # [N, L]
        return self.mapping(z, c)

    def synthesis_forward(self, ws: Tensor) -> Tensor:
        """ws [N, num_ws, W] -> image [N, 3, R, R] in [-1, 1]."""
        return self.synthesis(ws)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        w = self.mapping_forward(z, labels)
        if self.truncation != 1:
            w = self.mapping.w_avg.to(w.dtype).lerp(w, self.truncation)
        ws = w[:, None].expand(-1, self.num_ws, -1)  # [N, num_ws, W]
        return self.synthesis_forward(ws)

    def taps(self) -> dict[str, nn.Module]:
        """Feature-map size -> the last conv layer of that block, coarse to fine."""
        return {str(b.resolution): b.conv1 for b in self.synthesis.blocks()}


def _check_options(resolution: int, img_channels: int, architecture: str, max_res: int,
                   activations: tuple[str, str]) -> None:
    if resolution < 4 or resolution & (resolution - 1):
        raise ValueError(f"resolution must be a power of two >= 4, not {resolution}")
    if img_channels != 3:
        raise ValueError(f"img_channels={img_channels}: only RGB (3) generators are supported")
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {architecture!r}")
    for act in activations:
        if act not in ACTIVATION_GAIN:
            raise ValueError(f"activation must be one of {sorted(ACTIVATION_GAIN)}, not {act!r}")
    if max_res and (max_res < 4 or max_res & (max_res - 1) or max_res > resolution):
        raise ValueError(f"max_res must be 0 or a power of two from 4 to {resolution}, "
                         f"not {max_res}")
    if max_res and max_res < resolution and architecture != "skip":
        raise ValueError(f"max_res needs a skip generator (this one is {architecture!r}): "
                         "only its blocks each add to the image")
