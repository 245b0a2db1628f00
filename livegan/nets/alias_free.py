"""StyleGAN3's alias-free operations in plain PyTorch: the low-pass filters (scipy's firwin
with a Kaiser window, and a jinc for -R, built in float64: model files carry them as buffers,
these make a fresh network's filters the same), FIR up- and downsampling, and the filtered
leaky ReLU (upsample, bias, lrelu with gain, clamp, low-pass, downsample) as NVIDIA's
reference implementation computes it."""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import Tensor

SQRT2 = math.sqrt(2)


def _kaiser_beta(numtaps: int, width: float) -> float:
    atten = 2.285 * (numtaps - 1) * math.pi * width + 7.95  # dB, width relative to Nyquist
    if atten > 50:
        return 0.1102 * (atten - 8.7)
    if atten > 21:
        return 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21)
    return 0.0


def _kaiser_window(numtaps: int, beta: float) -> Tensor:
    n = torch.arange(numtaps, dtype=torch.float64)
    alpha = (numtaps - 1) / 2
    beta_t = torch.tensor(beta, dtype=torch.float64)
    window = torch.special.i0(beta_t * (1 - ((n - alpha) / alpha) ** 2).sqrt())
    return window / torch.special.i0(beta_t)


def lowpass_filter(numtaps: int, cutoff: float, width: float, fs: float,
                   radial: bool = False) -> Tensor | None:
    """A low-pass FIR filter: [numtaps] separable, [numtaps, numtaps] radial, None = identity."""
    if numtaps == 1:
        return None
    beta = _kaiser_beta(numtaps, width / (fs / 2))
    window = _kaiser_window(numtaps, beta)
    if not radial:
        band = cutoff / (fs / 2)
        m = torch.arange(numtaps, dtype=torch.float64) - (numtaps - 1) / 2
        f = band * torch.sinc(band * m) * window
        return (f / f.sum()).float()
    x = (torch.arange(numtaps, dtype=torch.float64) - (numtaps - 1) / 2) / fs
    r = torch.hypot(x.view(1, -1), x.view(-1, 1))
    f = torch.special.bessel_j1(2 * cutoff * (math.pi * r)) / (math.pi * r)  # jinc
    f = f * torch.outer(window, window)
    return (f / f.sum()).float()


# ---------------------------------------------------------------------------------------------
# Resampling: NVIDIA's upfirdn2d (zero insertion, pad, FIR, decimation) as transposed and
# strided depthwise convolutions, which skip the inserted zeros and the dropped samples.

def _window(x: Tensor, start: int, length: int, dim: int) -> Tensor:
    """x[start : start + length] along dim (2 or 3), zeros where that reaches outside x."""
    lo, hi = max(-start, 0), max(start + length - x.shape[dim], 0)
    if lo or hi:
        x = F.pad(x, [lo, hi] if dim == 3 else [0, 0, lo, hi])
    return x.narrow(dim, start + lo, length)


def upsample(x: Tensor, f: Tensor | None, up: int, padding: list[int],
             gain: float = 1.0) -> Tensor:
    """upfirdn2d(x, f, up, padding, gain=up**2) times `gain`: insert up-1 zeros after each
    sample, pad by padding = [x0, x1, y0, y1] (negative crops) and convolve with f."""
    c, h, w = x.shape[1:]
    f = torch.ones(1, 1, device=x.device) if f is None else f
    f = (f * (gain * up**2) ** (f.ndim / 2)).to(x.dtype)  # a 1-D f runs twice: sqrt each
    px0, px1, py0, py1 = padding
    if f.ndim == 2:
        x = F.conv_transpose2d(x, f.expand(c, 1, *f.shape), stride=up, groups=c)
        x = _window(x, f.shape[0] - 1 - py0, h * up + py0 + py1 - f.shape[0] + 1, 2)
        return _window(x, f.shape[1] - 1 - px0, w * up + px0 + px1 - f.shape[1] + 1, 3)
    t = f.shape[0]
    x = F.conv_transpose2d(x, f.view(1, 1, 1, t).expand(c, 1, 1, t), stride=(1, up), groups=c)
    x = _window(x, t - 1 - px0, w * up + px0 + px1 - t + 1, 3)
    x = F.conv_transpose2d(x, f.view(1, 1, t, 1).expand(c, 1, t, 1), stride=(up, 1), groups=c)
    return _window(x, t - 1 - py0, h * up + py0 + py1 - t + 1, 2)


def downsample(x: Tensor, f: Tensor | None, down: int) -> Tensor:
    """upfirdn2d(x, f, down=down): convolve with f (no padding), keep every down-th sample."""
    if f is None:
        return x[:, :, ::down, ::down]
    c = x.shape[1]
    f = f.to(x.dtype).flip(list(range(f.ndim)))  # convolution, not correlation
    if f.ndim == 2:
        return F.conv2d(x, f.expand(c, 1, *f.shape), stride=down, groups=c)
    t = f.shape[0]
    x = F.conv2d(x, f.view(1, 1, 1, t).expand(c, 1, 1, t), stride=(1, down), groups=c)
    return F.conv2d(x, f.view(1, 1, t, 1).expand(c, 1, t, 1), stride=(down, 1), groups=c)


def filtered_lrelu(x: Tensor, fu: Tensor | None, fd: Tensor | None, b: Tensor, up: int,
                   down: int, padding: list[int], gain: float, slope: float,
                   clamp: float | None) -> Tensor:
    """NVIDIA's filtered_lrelu (its reference path): bias, upsample, leaky ReLU times gain,
    clamp, downsample. The nonlinearity runs at the higher rate, where it aliases less.

    The gain rides on the upsampling filter (leaky ReLU commutes with a positive factor),
    which saves a pass over the largest maps. Under CPU autocast the filtering runs in fp32:
    oneDNN's bf16 depthwise transposed convolutions are several times slower than fp32 ones.
    """
    cpu_autocast = x.device.type == "cpu" and torch.is_autocast_enabled("cpu")
    with torch.autocast("cpu", enabled=False) if cpu_autocast else contextlib.nullcontext():
        if cpu_autocast:
            x, b = x.float(), b.float()
        x = upsample(x + b.view(1, -1, 1, 1), fu, up, padding, gain)
        if slope != 1:
            x = F.leaky_relu(x, slope, inplace=True)  # x is this function's own tensor
        if clamp is not None:
            x = x.clamp(-clamp, clamp)
        return downsample(x, fd, down)
