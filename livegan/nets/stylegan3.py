"""StyleGAN3 (Karras et al. 2021, "Alias-Free Generative Adversarial Networks"), -T and -R.

The generator of the paper in plain PyTorch ops (no custom kernels, so TorchScript, ONNX and
TensorRT can take it), laid out like NVIDIA's stylegan3 code so that its `G_ema.state_dict()`
loads as it is: `mapping.fc0.weight`, `mapping.w_avg`, `synthesis.input.freqs`,
`synthesis.L0_36_512.weight`, `.up_filter`, `.down_filter`, `.magnitude_ema`... The layer
names carry each layer's output size and channels, so they follow from the config.

A frame: z -> mapping (normalize, 2 lrelu FC layers) -> w, truncated towards w_avg ->
Fourier features (rotated and translated by w, then by the user transform) -> 14 modulated
convolutions, each followed by a filtered leaky ReLU (upsample, bias, lrelu, clamp, low-pass,
downsample) on a grid with a margin that shrinks to the image in the last, critically sampled
layers -> 1x1 toRGB -> times output_scale.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from livegan.nets.alias_free import filtered_lrelu, lowpass_filter

SQRT2 = math.sqrt(2)


class FullyConnected(nn.Linear):
    """NVIDIA's FullyConnectedLayer: weights stored divided by lr_multiplier and scaled back at
    run time (equalized learning rate); 'lrelu' is leaky ReLU 0.2 times sqrt(2)."""

    def __init__(self, in_features: int, out_features: int, activation: str = "linear",
                 lr_multiplier: float = 1.0, bias_init: float = 0.0) -> None:
        super().__init__(in_features, out_features)
        with torch.no_grad():
            self.weight.copy_(torch.randn(out_features, in_features) / lr_multiplier)
            self.bias.fill_(bias_init / lr_multiplier)
        self.activation = activation
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: Tensor) -> Tensor:  # [N, in] -> [N, out]
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain if self.bias_gain != 1 else self.bias
        if self.activation == "linear":
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return F.leaky_relu(x.matmul(w.t()) + b, 0.2) * SQRT2


def _normalize_2nd_moment(x: Tensor) -> Tensor:
    return x * (x.square().mean(1, keepdim=True) + 1e-8).rsqrt()


class MappingNetwork(nn.Module):
    """z (and a one-hot label) -> w. Keeps `w_avg`, the running mean of w (truncation)."""

    def __init__(self, z_dim: int, n_labels: int, w_dim: int, num_layers: int,
                 lr_multiplier: float) -> None:
        super().__init__()
        self.n_labels, self.num_layers = n_labels, num_layers
        self.embed = FullyConnected(n_labels, w_dim) if n_labels > 0 else None
        features = [z_dim + (w_dim if n_labels > 0 else 0)] + [w_dim] * num_layers
        for i in range(num_layers):
            setattr(self, f"fc{i}", FullyConnected(features[i], features[i + 1], "lrelu",
                                                   lr_multiplier))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: Tensor, c: Tensor | None) -> Tensor:  # [N, Z], [N, C] -> [N, W]
        x = _normalize_2nd_moment(z.float())
        if self.embed is not None:
            x = torch.cat([x, _normalize_2nd_moment(self.embed(c.float()))], dim=1)
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        return x


# ---------------------------------------------------------------------------------------------
# The synthesis network.

def layer_schedule(resolution: int, img_channels: int, channel_base: int, channel_max: int,
                   num_layers: int, num_critical: int, first_cutoff: float,
                   first_stopband: float, last_stopband_rel: float,
                   margin_size: int) -> list[dict]:
    """Per layer (the Fourier input first, toRGB last): cutoff f_c, minimum stopband f_t,
    sampling rate s, transition half-width f_h, side and channels, as the paper sets them
    (a geometric progression of cutoffs to resolution/2, reached num_critical layers early)."""
    last_cutoff = resolution / 2
    last_stopband = last_cutoff * last_stopband_rel
    plan = []
    for i in range(num_layers + 1):
        e = min(i / (num_layers - num_critical), 1)
        cutoff = first_cutoff * (last_cutoff / first_cutoff) ** e
        stopband = first_stopband * (last_stopband / first_stopband) ** e
        rate = 2 ** math.ceil(math.log2(min(stopband * 2, resolution)))
        plan.append({
            "cutoff": cutoff,
            "rate": rate,
            "half_width": max(stopband, rate / 2) - cutoff,
            "size": resolution if i >= num_layers - 1 else rate + margin_size * 2,
            "channels": round(min(channel_base / 2 / cutoff, channel_max)),
        })
    plan[-1]["channels"] = img_channels
    return plan


class SynthesisInput(nn.Module):
    """Fourier features: sin(2 pi (f . xy + phase)) on a grid with margin, the frequencies
    rotated and the grid translated by w (affine), then by the user's `transform` (the
    inverse of the picture's own motion); a learned channel mix (`weight`) at the end."""

    def __init__(self, w_dim: int, channels: int, size: int, sampling_rate: float,
                 bandwidth: float) -> None:
        super().__init__()
        self.channels, self.sampling_rate, self.bandwidth = channels, sampling_rate, bandwidth
        freqs = torch.randn(channels, 2)
        radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
        freqs = freqs / (radii * radii.square().exp().pow(0.25)) * bandwidth
        self.weight = nn.Parameter(torch.randn(channels, channels))
        self.affine = FullyConnected(w_dim, 4)
        with torch.no_grad():
            self.affine.weight.zero_()
            self.affine.bias.copy_(torch.tensor([1.0, 0, 0, 0]))
        self.register_buffer("transform", torch.eye(3))
        self.register_buffer("freqs", freqs)  # [C, 2], cycles per unit
        self.register_buffer("phases", torch.rand(channels) - 0.5)  # [C]
        half = 0.5 * size / sampling_rate  # the grid's half side in units of the image
        theta = torch.tensor([[[half, 0, 0], [0, half, 0]]])
        grid = F.affine_grid(theta, [1, 1, size, size], align_corners=False)
        self.register_buffer("grid", grid, persistent=False)  # [1, H, W, 2] sample positions

    def forward(self, w: Tensor) -> Tensor:  # [N, W] -> [N, C, H, W]
        n = w.shape[0]
        t = self.affine(w)  # [N, 4]: cos, sin, tx, ty (before normalization)
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        cos, sin, tx, ty = t.unbind(1)
        one, zero = torch.ones_like(cos), torch.zeros_like(cos)
        m_r = torch.stack([cos, -sin, zero, sin, cos, zero, zero, zero, one], 1).view(n, 3, 3)
        m_t = torch.stack([one, zero, -tx, zero, one, -ty, zero, zero, one], 1).view(n, 3, 3)
        transforms = m_r @ m_t @ self.transform.unsqueeze(0)  # [N, 3, 3]
        freqs = self.freqs.unsqueeze(0)  # [1, C, 2]
        phases = self.phases.unsqueeze(0) + (freqs @ transforms[:, :2, 2:]).squeeze(2)  # [N, C]
        freqs = freqs @ transforms[:, :2, :2]  # [N, C, 2]
        # Frequencies the user transform pushes out of band fade out instead of aliasing.
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth)
                      / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)  # [N, C]
        x = (self.grid.unsqueeze(3) @ freqs.permute(0, 2, 1).unsqueeze(1).unsqueeze(2)).squeeze(3)
        x = torch.sin((x + phases.unsqueeze(1).unsqueeze(2)) * (2 * math.pi))  # [N, H, W, C]
        x = x * amplitudes.unsqueeze(1).unsqueeze(2)
        x = x @ (self.weight / math.sqrt(self.channels)).t()
        return x.permute(0, 3, 1, 2)


class SynthesisLayer(nn.Module):
    """Modulated convolution (demodulated, input scaled by 1/sqrt(magnitude_ema)), then the
    filtered leaky ReLU between this layer's input and output sampling rates. The last one
    (toRGB) is a 1x1 convolution without demodulation, activation or filters."""

    def __init__(self, w_dim: int, is_torgb: bool, is_critically_sampled: bool,
                 prev: dict, this: dict, conv_kernel: int, filter_size: int,
                 lrelu_upsampling: int, use_radial_filters: bool,
                 conv_clamp: float | None) -> None:
        super().__init__()
        self.is_torgb, self.conv_clamp = is_torgb, conv_clamp
        self.in_channels, self.out_channels = prev["channels"], this["channels"]
        self.conv_kernel = 1 if is_torgb else conv_kernel
        self.affine = FullyConnected(w_dim, self.in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(self.out_channels, self.in_channels,
                                               self.conv_kernel, self.conv_kernel))
        self.bias = nn.Parameter(torch.zeros(self.out_channels))
        self.register_buffer("magnitude_ema", torch.ones([]))  # mean square of the input

        tmp_rate = max(prev["rate"], this["rate"]) * (1 if is_torgb else lrelu_upsampling)
        self.up_factor = round(tmp_rate / prev["rate"])
        self.down_factor = round(tmp_rate / this["rate"])
        up_taps = filter_size * self.up_factor if self.up_factor > 1 and not is_torgb else 1
        down_taps = filter_size * self.down_factor if self.down_factor > 1 and not is_torgb else 1
        radial = use_radial_filters and not is_critically_sampled
        self.register_buffer("up_filter", lowpass_filter(
            up_taps, prev["cutoff"], prev["half_width"] * 2, tmp_rate))
        self.register_buffer("down_filter", lowpass_filter(
            down_taps, this["cutoff"], this["half_width"] * 2, tmp_rate, radial))

        # Padding: the symmetric interpretation of sample positions (paper, appendix C.3).
        pad_total = (this["size"] - 1) * self.down_factor + 1
        pad_total -= (prev["size"] + self.conv_kernel - 1) * self.up_factor
        pad_total += up_taps + down_taps - 2
        pad_lo = (pad_total + self.up_factor) // 2
        self.padding = [pad_lo, pad_total - pad_lo, pad_lo, pad_total - pad_lo]

    def forward(self, x: Tensor, w: Tensor) -> Tensor:  # [N, I, H, W], [N, W] -> [N, O, H', W']
        styles = self.affine(w)  # [N, I]
        weight = self.weight
        if self.is_torgb:
            styles = styles / math.sqrt(self.in_channels * self.conv_kernel**2)
        else:
            # Demodulation as NVIDIA's modulated_conv2d, applied to the activations instead
            # of the weights (same arithmetic; the weights stay one shared tensor).
            weight = weight * weight.square().mean([1, 2, 3], keepdim=True).rsqrt()
            styles = styles * styles.square().mean(1, keepdim=True).rsqrt()
        x = x * (styles * self.magnitude_ema.rsqrt()).unsqueeze(2).unsqueeze(3)
        x = F.conv2d(x, weight, padding=self.conv_kernel - 1)
        if not self.is_torgb:
            dcoefs = (styles.square() @ weight.square().sum([2, 3]).t() + 1e-8).rsqrt()  # [N, O]
            x = x * dcoefs.unsqueeze(2).unsqueeze(3)
        return filtered_lrelu(x, self.up_filter, self.down_filter, self.bias, self.up_factor,
                              self.down_factor, self.padding, 1.0 if self.is_torgb else SQRT2,
                              1.0 if self.is_torgb else 0.2, self.conv_clamp)


class SynthesisNetwork(nn.Module):
    """ws [N, num_layers + 2, W] -> image [N, img_channels, R, R]: the input takes ws[:, 0],
    layer i ws[:, i + 1]."""

    def __init__(self, w_dim: int, resolution: int, img_channels: int, channel_base: int,
                 channel_max: int, num_layers: int, num_critical: int, first_cutoff: float,
                 first_stopband: float, last_stopband_rel: float, margin_size: int,
                 output_scale: float, **layer_options: object) -> None:
        super().__init__()
        self.output_scale = output_scale
        plan = layer_schedule(resolution, img_channels, channel_base, channel_max, num_layers,
                              num_critical, first_cutoff, first_stopband, last_stopband_rel,
                              margin_size)
        self.input = SynthesisInput(w_dim, plan[0]["channels"], plan[0]["size"],
                                    plan[0]["rate"], plan[0]["cutoff"])
        self.layer_names: list[str] = []
        for i in range(num_layers + 1):
            layer = SynthesisLayer(w_dim, i == num_layers, i >= num_layers - num_critical,
                                   plan[max(i - 1, 0)], plan[i], **layer_options)
            name = f"L{i}_{plan[i]['size']}_{plan[i]['channels']}"
            setattr(self, name, layer)
            self.layer_names.append(name)

    def forward(self, ws: Tensor) -> Tensor:
        ws = ws.float().unbind(1)
        x = self.input(ws[0])
        for name, w in zip(self.layer_names, ws[1:]):
            x = getattr(self, name)(x, w)
        return x * self.output_scale if self.output_scale != 1 else x


class StyleGAN3Generator(nn.Module):
    """StyleGAN3-T (conv_kernel 3) or -R (conv_kernel 1, use_radial_filters) in livegan's terms.

    forward(z, labels) -> [N, 3, R, R] in [-1, 1]: mapping, truncation towards w_avg by
    `self.truncation` on every layer's w, synthesis. StyleGAN3 has no noise inputs:
    `noise_mode` is accepted for livegan's style interface and has no effect; a frame is a
    pure function of z and the label. `set_input_transform` pans and rotates the picture
    in the alias-free way NVIDIA's visualizer does (the Fourier features move, not the pixels).
    """

    def __init__(self, resolution: int = 256, z_dim: int = 512, w_dim: int = 512,
                 n_labels: int = 0, img_channels: int = 3, mapping_layers: int = 2,
                 mapping_lr_multiplier: float = 0.01, channel_base: int = 32768,
                 channel_max: int = 512, num_layers: int = 14, num_critical: int = 2,
                 first_cutoff: float = 2.0, first_stopband: float = 2**2.1,
                 last_stopband_rel: float = 2**0.3, margin_size: int = 10,
                 output_scale: float = 0.25, conv_kernel: int = 3, filter_size: int = 6,
                 lrelu_upsampling: int = 2, use_radial_filters: bool = False,
                 conv_clamp: float | None = 256) -> None:
        super().__init__()
        if img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, not {img_channels}")
        self.resolution, self.z_dim, self.w_dim, self.n_labels = resolution, z_dim, w_dim, n_labels
        self.num_ws = num_layers + 2
        self.truncation = 1.0  # psi; 1.0 = off
        self.noise_mode = "const"  # no effect: StyleGAN3 has no noise inputs
        self.synthesis = SynthesisNetwork(
            w_dim, resolution, img_channels, channel_base, channel_max, num_layers,
            num_critical, first_cutoff, first_stopband, last_stopband_rel, margin_size,
            output_scale, conv_kernel=conv_kernel, filter_size=filter_size,
            lrelu_upsampling=lrelu_upsampling, use_radial_filters=use_radial_filters,
            conv_clamp=conv_clamp)
        self.mapping = MappingNetwork(z_dim, n_labels, w_dim, mapping_layers, mapping_lr_multiplier)

    @property
    def w_avg(self) -> Tensor:
        """The average w ([w_dim]; stored as `mapping.w_avg`)."""
        return self.mapping.w_avg

    def mapping_forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """z [N, z_dim] and class indices [N] (None = class 0) -> untruncated w [N, w_dim]."""
        c = None
        if self.n_labels > 0:
            if labels is None:
                labels = torch.zeros(z.shape[0], dtype=torch.long, device=z.device)
            c = F.one_hot(labels.long(), self.n_labels).to(z.dtype)
        return self.mapping(z, c)

    def synthesis_forward(self, ws: Tensor) -> Tensor:
        """ws [N, num_ws, w_dim] -> image [N, 3, R, R] in [-1, 1]."""
        x = self.synthesis(ws)
        return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        w = self.mapping_forward(z, labels)
        if self.truncation != 1:
            w = self.w_avg.lerp(w, self.truncation)
        return self.synthesis_forward(w.unsqueeze(1).expand(-1, self.num_ws, -1))

    @torch.no_grad()
    def set_input_transform(self, tx: float, ty: float, angle: float) -> None:
        """Move the picture by (tx, ty) (in units of the image's side) and turn it by `angle`
        degrees, as NVIDIA's gen_images.py --translate/--rotate and its visualizer do: the
        Fourier input takes the inverse of that motion. (0, 0, 0) is the trained picture."""
        a = math.radians(angle)
        cos, sin = math.cos(a), math.sin(a)
        # The motion is [[cos, sin, tx], [-sin, cos, ty], [0, 0, 1]]; its inverse is the
        # transposed rotation and the translation turned back.
        inverse = [[cos, -sin, -(cos * tx - sin * ty)],
                   [sin, cos, -(sin * tx + cos * ty)],
                   [0.0, 0.0, 1.0]]
        transform = self.synthesis.input.transform
        transform.copy_(torch.tensor(inverse, dtype=torch.float64).to(transform))

    def taps(self) -> dict[str, nn.Module]:
        """Feature maps to bend: per output side, the last synthesis layer of that side, in
        the order they run (sides include the margin: 36, 52, 84, ..., then the image's)."""
        found: dict[str, nn.Module] = {}
        for name in self.synthesis.layer_names[:-1]:  # toRGB left out
            layer = getattr(self.synthesis, name)
            found[name.split("_")[1]] = layer
        return found
