"""One training step: a discriminator update, then a generator update.

`plain_step` serves every discriminator; `frozen_eyes_step` one whose front is frozen (the
projected one), where a single fake batch can serve both updates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn


class StepParts(Protocol):
    """What a step works with (livegan.train.loop.Trainer has it): the networks, their
    optimisers, the fakes' inputs, the augmentation and its strength, the precision and the
    settings the step reads (cfg.r1 and the terms' weights: cover, diverse, palette, lattice)."""

    g: nn.Module
    d: Any
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    cfg: Any
    recon: float
    dist: Any
    strength: Any
    g_train: Callable[..., torch.Tensor]
    d_train: Callable[..., Any]
    augment: Callable[[torch.Tensor], torch.Tensor]
    real_spectrum: Callable[[torch.Tensor], torch.Tensor]  # the lattice term's (RealSpectrum)
    step: int

    def fake_input(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]: ...

    def autocast(self) -> AbstractContextManager: ...


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def frozen_eyes_step(t: StepParts, real: torch.Tensor, y_real: torch.Tensor | None,
                     r1: bool) -> dict[str, float]:
    """A discriminator with a frozen front (projected): one fake batch serves both
    updates. Its frozen maps are computed once, with a graph back to the generator; the
    heads learn on them detached, then (updated) judge them again for the generator's
    loss, as the DCGAN reference reuses its fakes. It saves a second pass through the
    generator and the frozen network: about a fifth of a step at 64 px."""
    d = t.d
    z, y_fake = t.fake_input(real.shape[0])
    with t.autocast():
        fake = t.g_train(z, y_fake)
        fake_maps = d.look(t.augment(fake))
        real_in = t.augment(real).requires_grad_(r1)
        real_maps = d.look(real_in)
        d_real, d_fake = judge_both(d, real_maps, fake_maps, y_real, y_fake)
        d_loss = hinge_d_loss(d_real.float(), d_fake.float())
    d_loss = step_d(t, d_loss, d_real, real_in if r1 else None)
    with t.autocast():
        g_loss = -d.judge(fake_maps, y_fake).float().mean()
    extra = {}
    if t.cfg.cover:
        extra["cover"] = coverage_loss(real_maps[-1], fake_maps[-1])
    if t.cfg.diverse:
        extra["diverse"] = mode_seeking_loss(z, fake_maps[-1])
    if t.cfg.palette:
        extra["palette"] = palette_loss(real, fake)
    if t.cfg.lattice and t.step % LATTICE_EVERY == 0:
        extra["lattice"] = lattice_loss(t.real_spectrum(real), fake)
    step_g(t, g_loss + sum(getattr(t.cfg, name) * LAZY.get(name, 1) * term
                           for name, term in extra.items()))
    return {**losses(d_loss, g_loss, d_real, d_fake), **{k: v.item() for k, v in extra.items()}}


def judge_both(d: Any, real_maps: list[torch.Tensor], fake_maps: list[torch.Tensor],
               y_real: torch.Tensor | None, y_fake: torch.Tensor | None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """The heads' scores of the reals and of the (detached) fakes, judged as one batch: one
    pass through each head instead of two, so its spectral norm and casts are computed once
    (the whole head's batch statistics keep the two apart: the scores are the same as judged
    apart)."""
    n = real_maps[0].shape[0]
    both = [torch.cat([r, f.detach()]) for r, f in zip(real_maps, fake_maps)]
    labels = None if y_real is None or y_fake is None else torch.cat([y_real, y_fake])
    scores = d.judge(both, labels, parts=2)
    return scores[:n], scores[n:]


def _unit(maps: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [N, C*H*W], each row at unit length (in fp32)."""
    return F.normalize(maps.float().flatten(1), dim=1)


def mode_seeking_loss(z: torch.Tensor, fake_map: torch.Tensor) -> torch.Tensor:
    """1 / (how far apart two fakes are on the frozen network's deepest map, for how far
    apart their latents are), over the batch's halves taken as pairs. As in mode-seeking GANs
    (Mao et al. 2019): a generator that maps different latents to one picture pays for it."""
    half = z.shape[0] // 2
    if half == 0:  # a batch of one has no pair
        return fake_map.float().sum() * 0.0
    f = _unit(fake_map)
    apart = (f[:half] - f[half:2 * half]).pow(2).sum(dim=1).mean()  # 0..4
    latent = (z[:half] - z[half:2 * half]).float().pow(2).mean()  # ~2 for normal latents
    return 1.0 / (apart / latent + 1e-5)


def coverage_loss(real_map: torch.Tensor, fake_map: torch.Tensor) -> torch.Tensor:
    """For each real of the batch, the squared distance to its nearest fake on the frozen
    network's deepest map (each flattened to unit length; 0..4). As in implicit maximum
    likelihood estimation (Li and Malik 2018), every real pulls some fake towards it, so no
    part of the data is left without a sample near it: the recall the adversarial loss
    alone does not ask for."""
    return _nearest_pull(_unit(real_map.detach()), _unit(fake_map))


def _nearest_pull(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """[N, F] real and [M, F] fake features -> the mean, over the reals, of the squared
    distance to each one's nearest fake (the coverage and palette terms)."""
    return torch.cdist(real, fake).pow(2).min(dim=1).values.mean()


PALETTE_RES = 16  # the palette term's pictures are averaged down to this size first (cheap)


def colour_stats(images: torch.Tensor) -> torch.Tensor:
    """[N, 3, R, R] -> [N, 6]: each picture's mean and spread per colour channel (in fp32,
    on the picture averaged down to PALETTE_RES): its palette, whatever its layout."""
    small = F.adaptive_avg_pool2d(images.float(), min(PALETTE_RES, images.shape[-1]))
    flat = small.flatten(2)  # [N, 3, P]
    return torch.cat([flat.mean(dim=2), flat.std(dim=2, correction=0)], dim=1)


def palette_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """For each real of the batch, the squared distance to the fake nearest to it in palette
    (colour_stats). The coverage term's idea (every real pulls some fake towards it) on
    colours alone: a batch of fakes that all share one palette is pulled apart towards the
    reals' palettes, which the frozen network's maps hardly tell apart."""
    return _nearest_pull(colour_stats(real.detach()), colour_stats(fake))


LATTICE_EXCESS = 32.0  # the lattice term counts power beyond this many times the reals'
LATTICE_EVERY = 4  # the lattice term is computed every 4th step, at 4 times its weight (as
# StyleGAN2's lazy R1): a grid changes slowly, and every step it cost 3 % of a 64 px step
LAZY = {"lattice": LATTICE_EVERY}
SPECTRUM_CROP = 128  # the lattice term looks at the middle of larger pictures
LATTICE_PERIOD = 8  # ... at frequencies whose period is this many pixels or fewer


def spectrum(images: torch.Tensor) -> torch.Tensor:
    """[N, C, R, R] -> [C, S, S/2+1]: the batch's mean power at each spatial frequency, per
    colour channel, of the middle S = min(R, SPECTRUM_CROP) px (fp32; each picture's mean
    taken away and its edges tapered by a Hann window first, so a picture's left edge unlike
    its right one adds no stripes of power). At 256 px the middle costs a quarter."""
    x = images.float()
    if x.shape[-1] > SPECTRUM_CROP:  # the middle: a generator's grid is the same everywhere
        top = (x.shape[-1] - SPECTRUM_CROP) // 2
        x = x[..., top:top + SPECTRUM_CROP, top:top + SPECTRUM_CROP]
    x = x - x.mean(dim=(2, 3), keepdim=True)
    hann = torch.hann_window(x.shape[-1], periodic=False, device=x.device)
    x = x * torch.outer(hann, hann)  # tapered to the edges: no power from the wrap-around
    return torch.view_as_real(torch.fft.rfft2(x, norm="ortho")).pow(2).sum(dim=-1).mean(dim=0)


def fine_frequencies(res: int) -> torch.Tensor:
    """[R, R/2+1] bool: the frequencies of an rfft2 of an R x R picture whose period, across
    or down, is LATTICE_PERIOD px or fewer: where a generator's upsampling leaves its grid."""
    across = torch.fft.rfftfreq(res).abs()[None, :]
    down = torch.fft.fftfreq(res).abs()[:, None]
    return torch.maximum(across, down) >= 1.0 / LATTICE_PERIOD


class RealSpectrum:
    """The reals' power spectrum (spectrum()) averaged over the batches so far, the last few
    hundred weighing most: what the lattice term holds the fakes to. Kept in memory only; a
    resumed run starts it again from its first batch."""

    DECAY = 0.99  # how much of itself the average keeps a step

    def __init__(self) -> None:
        self.value: torch.Tensor | None = None

    def __call__(self, real: torch.Tensor) -> torch.Tensor:
        batch = spectrum(real.detach())
        if self.value is None:
            self.value = batch
        else:
            self.value.lerp_(batch, 1 - self.DECAY)
        return self.value


def _neighbourhood(power: torch.Tensor) -> torch.Tensor:
    """[C, H, W] power -> its mean over each frequency's 3x3 neighbours: a few pictures'
    power at one frequency is noisy (on the marbling set eight reals reach 8-13 times the
    set's mean at some frequency); a grid's is thousands of times, hundreds when averaged."""
    return F.avg_pool2d(power[None], 3, stride=1, padding=1, count_include_pad=False)[0]


def lattice_loss(real_spectrum: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """How far the fakes' power at fine frequencies (fine_frequencies) exceeds the reals'
    (`real_spectrum`, from spectrum(); both averaged over each frequency's neighbours) beyond
    LATTICE_EXCESS times, in log units, summed over those frequencies and averaged over the
    colours, per pixel of a side. A grid of alternate columns or rows a shade lighter, a
    one-pixel checkerboard or a four-pixel lattice is power at a few of them hundreds of
    times the reals'; fine detail the reals have costs nothing, nor does less of it than the
    reals have. The discriminator sees the picture resized or folded and learns to notice a
    faint grid only slowly: a 256 px run still drew alternate columns a shade lighter after
    3,000 steps with the detail head."""
    res = min(fake.shape[-1], SPECTRUM_CROP)
    ratio = _neighbourhood(spectrum(fake)) / _neighbourhood(real_spectrum).clamp(min=1e-8)
    excess = F.relu(ratio.clamp(min=1e-8).log() - math.log(LATTICE_EXCESS))
    return (excess * fine_frequencies(res).to(excess.device)).sum(dim=(1, 2)).mean() / res


def plain_step(t: StepParts, real: torch.Tensor, y_real: torch.Tensor | None,
               r1: bool) -> dict[str, float]:
    """Two fake batches: one (without a graph) for the discriminator's update, one for the
    generator's; the selfsup discriminator's reconstruction loss joins the first."""
    z, y_fake = t.fake_input(real.shape[0])
    with t.autocast(), torch.no_grad():
        fake = t.g(z, y_fake)  # no graph: D's step does not train G
    with t.autocast():
        real_in = t.augment(real).requires_grad_(r1)
        if t.recon:
            d_real, recon = t.d_train(real_in, y_real, reconstruct=True)
        else:
            d_real, recon = t.d_train(real_in, y_real), torch.zeros(())
        d_fake = t.d_train(t.augment(fake), y_fake)
        d_loss = hinge_d_loss(d_real.float(), d_fake.float()) + t.recon * recon
    d_loss = step_d(t, d_loss, d_real, real_in if r1 else None)

    z, y_fake = t.fake_input(real.shape[0])
    with t.autocast():
        fake = t.augment(t.g_train(z, y_fake))
        if t.recon and t.dist.world_size > 1:  # DDP wants a gradient for every
            score, unused = t.d_train(fake, y_fake, reconstruct=True)  # parameter
            g_loss = -score.float().mean() + 0.0 * unused
        else:
            g_loss = -t.d_train(fake, y_fake).float().mean()
    step_g(t, g_loss)
    return {**losses(d_loss, g_loss, d_real, d_fake),
            **({"recon": recon.item()} if t.recon else {})}


def step_d(t: StepParts, d_loss: torch.Tensor, d_real: torch.Tensor,
           r1_input: torch.Tensor | None) -> torch.Tensor:
    """The discriminator's update, with the R1 penalty on the reals when it is due; returns
    the loss it stepped on. Its scores of the reals steer the augmentation strength."""
    if r1_input is not None:
        grad, = torch.autograd.grad(d_real.float().sum(), r1_input, create_graph=True)
        d_loss = d_loss + t.cfg.r1 * 8 * grad.pow(2).sum(dim=[1, 2, 3]).mean()
    t.opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    t.opt_d.step()
    t.strength.observe(d_real)
    return d_loss


def step_g(t: StepParts, g_loss: torch.Tensor) -> None:
    """The generator's update on `g_loss`."""
    t.opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    t.opt_g.step()


def adam(params: Any, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam with its fused kernel (one pass over all parameters instead of a loop over
    them; about 4 % of a 64 px CPU step is the optimisers'), where this torch has one."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError):  # a device or dtype without the fused kernel
        return torch.optim.Adam(params, lr=lr, betas=betas)


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float, step: int) -> None:
    """Move `ema`'s weights towards `model`'s (decay warmed up over the first steps, as
    (1 + step) / (10 + step)) and copy its buffers (batch-norm statistics)."""
    beta = min(decay, (1 + step) / (10 + step))
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1 - beta)  # one call
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)


def losses(d_loss: torch.Tensor, g_loss: torch.Tensor, d_real: torch.Tensor,
           d_fake: torch.Tensor) -> dict[str, float]:
    """The figures a step reports (progress bar, metrics.csv)."""
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
            "d_real": d_real.float().mean().item(), "d_fake": d_fake.float().mean().item()}


def postfix(step_losses: dict[str, float]) -> dict[str, str]:
    """What a progress bar shows of a step's figures: the losses, and the augmentation
    strength where it adapts."""
    shown = {"d": f"{step_losses['d_loss']:.3f}", "g": f"{step_losses['g_loss']:.3f}"}
    if "augment_p" in step_losses:
        shown["aug"] = f"{step_losses['augment_p']:.2f}"
    return shown
