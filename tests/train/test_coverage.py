"""Two opt-in terms of the generator's loss on the projected discriminator's frozen features:
coverage (`--set cover=W`: each real pulls its nearest fake towards it) and mode seeking
(`--set diverse=W`: different latents must give different pictures); and the palette term
(`--set palette=W`: each real pulls the fake nearest to it in colour); and the lattice term
(`--set lattice=W`: no more two-pixel grid in the fakes than in the reals)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from livegan.errors import LiveganError
from livegan.nets import pretrained
from livegan.train.config import TrainConfig
from livegan.train.steps import (
    RealSpectrum,
    colour_stats,
    coverage_loss,
    fine_frequencies,
    lattice_loss,
    mode_seeking_loss,
    palette_loss,
    spectrum,
)
from tests.train.tiny import data_fixture, trainer_maker

data = data_fixture("coverdata", 8, 32)
_trainer = trainer_maker(res=32, ndf=8, steps=4, d_arch="projected", checkpoint_every=1000,
                         sample_every=1000)


def test_it_is_zero_when_every_real_has_a_fake_on_it_and_grows_with_the_distance() -> None:
    reals = torch.randn(4, 8, 3, 3)
    fakes = torch.cat([reals.flip(0), torch.randn(2, 8, 3, 3)])  # every real, in another order
    assert coverage_loss(reals, fakes).item() == pytest.approx(0.0, abs=1e-5)
    near = reals + 0.1 * torch.randn_like(reals)
    far = reals + 1.0 * torch.randn_like(reals)
    assert 0 < coverage_loss(reals, near).item() < coverage_loss(reals, far).item() <= 4.0
    # scale does not matter: the features are compared at unit length
    assert coverage_loss(reals, 5 * near).item() == pytest.approx(
        coverage_loss(reals, near).item(), rel=1e-4)


def test_only_the_nearest_fake_of_some_real_is_pulled_and_towards_it() -> None:
    real = torch.tensor([[1.0, 0.0, 0.0]]).reshape(1, 3, 1, 1)
    fakes = torch.tensor([[0.8, 0.6, 0.0], [0.0, 0.0, 1.0]]).reshape(2, 3, 1, 1)
    fakes.requires_grad_(True)
    loss = coverage_loss(real, fakes)
    loss.backward()
    assert fakes.grad[1].abs().sum() == 0  # the far fake is no real's nearest: left alone
    stepped = (fakes - 0.1 * fakes.grad).detach()
    assert coverage_loss(real, stepped) < loss  # a step down the gradient comes closer
    assert real.grad is None  # the reals are data, never trained


def test_mode_seeking_costs_most_when_different_latents_give_one_picture() -> None:
    z = torch.randn(8, 16)
    same = torch.randn(1, 8, 3, 3).expand(8, 8, 3, 3)
    apart = torch.randn(8, 8, 3, 3)
    assert mode_seeking_loss(z, same).item() > 1000 * mode_seeking_loss(z, apart).item()
    fakes = (same + 0.1 * torch.randn(8, 8, 3, 3)).requires_grad_(True)
    loss = mode_seeking_loss(z, fakes)
    loss.backward()
    stepped = (fakes - 1e-3 * fakes.grad).detach()
    assert mode_seeking_loss(z, stepped) < loss  # down the gradient the pictures part
    odd = mode_seeking_loss(torch.randn(5, 16), apart[:5])  # an odd batch: its last sits out
    assert torch.isfinite(odd) and odd > 0
    assert mode_seeking_loss(z[:1], apart[:1]).item() == 0.0  # one picture: no pair to part


def _pictures(colours: list[tuple[float, float, float]], res: int = 32) -> torch.Tensor:
    """Pictures in [-1, 1]: each a colour with stripes of its negative (a two-colour palette)."""
    out = torch.tensor(colours).reshape(-1, 3, 1, 1).expand(-1, 3, res, res).clone()
    out[:, :, :, ::4] *= -1
    return out


def test_the_palette_term_sees_colours_not_layout() -> None:
    reals = _pictures([(0.9, -0.5, 0.1), (-0.8, 0.7, 0.3), (0.0, 0.1, -0.9)])
    moved = reals.roll(7, dims=3).flip(2)  # the same palettes, stripes elsewhere
    assert palette_loss(reals, moved.flip(0)).item() == pytest.approx(0.0, abs=1e-6)
    one = _pictures([(0.9, -0.5, 0.1)] * 3)  # every fake in the first real's palette
    assert palette_loss(reals, one).item() > 0.2
    stats = colour_stats(reals)
    assert stats.shape == (3, 6)
    assert torch.allclose(stats[:, :3], reals.mean(dim=(2, 3)), atol=1e-5)  # means, then spreads


def test_the_palette_term_pulls_a_one_palette_batch_towards_the_reals_palettes() -> None:
    reals = _pictures([(0.9, -0.5, 0.1), (-0.8, 0.7, 0.3), (0.0, 0.1, -0.9), (0.5, 0.5, 0.5)])
    noise = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    fakes = _pictures([(0.2, 0.2, 0.2)] * 4) + 0.05 * noise
    fakes.requires_grad_(True)
    loss = palette_loss(reals, fakes)
    loss.backward()
    assert fakes.grad.abs().sum() > 0 and reals.grad is None
    spread_before = colour_stats(fakes.detach())[:, :3].std(dim=0).sum()
    stepped = fakes.detach()
    for _ in range(50):  # a few steps down the gradient: the fakes' palettes part
        stepped.requires_grad_(True)
        palette_loss(reals, stepped).backward()
        stepped = (stepped - 20.0 * stepped.grad).detach()
    assert palette_loss(reals, stepped) < 0.6 * loss.detach()
    assert colour_stats(stepped)[:, :3].std(dim=0).sum() > 10 * spread_before


@pytest.mark.parametrize("name", ["cover", "diverse", "palette", "lattice"])
def test_bad_settings_are_one_sentence(name: str) -> None:
    with pytest.raises(LiveganError, match="positive weight"):
        TrainConfig(data="x", d_arch="projected", **{name: -1.0}).validate()
    with pytest.raises(LiveganError, match="d_arch=projected"):
        TrainConfig(data="x", d_arch="residual", **{name: 1.0}).validate()
    TrainConfig(data="x", d_arch="residual", **{name: 0.0}).validate()  # off: any D


@pytest.fixture(scope="module")
def smooth_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 soft gradients at 32 px: reals with no grid, so a new generator's fakes have more."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("smooth")
    for i, picture in enumerate(_smooth(8, 32)):
        pixels = ((picture.permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()
        Image.fromarray(pixels).save(folder / f"{i}.png")
    return folder


@pytest.mark.skipif(not pretrained.available(),
                    reason="needs the quality extra (InceptionV3 weights)")
@pytest.mark.parametrize("name", ["cover", "diverse", "palette", "lattice"])
def test_a_projected_run_reports_it_and_it_changes_what_the_generator_learns(
        name: str, data: Path, smooth_data: Path, tmp_path: Path) -> None:
    data = smooth_data if name == "lattice" else data
    plain = _trainer(data, tmp_path / "plain")  # each built and stepped in turn: a trainer
    assert name not in plain.step_once()  # seeds the global generator when it is built
    covered = _trainer(data, tmp_path / name, **{name: 1.0})
    row = covered.step_once()
    assert row[name] > 0 and torch.isfinite(torch.tensor(row["g_loss"]))
    # same seed, same batches: only the coverage term differs, so the generators part
    assert not all(torch.equal(a, b) for a, b in zip(plain.g.parameters(),
                                                      covered.g.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(plain.d.parameters(), covered.d.parameters()))


@pytest.mark.skipif(not pretrained.available(),
                    reason="needs the quality extra (InceptionV3 weights)")
def test_the_lattice_term_is_lazy_every_fourth_step_at_four_times_its_weight(
        smooth_data: Path, tmp_path: Path) -> None:
    from livegan.train.steps import LATTICE_EVERY

    trainer = _trainer(smooth_data, tmp_path / "lazy", lattice=1.0)
    rows = [trainer.step_once() for _ in range(2 * LATTICE_EVERY + 1)]
    assert [i for i, row in enumerate(rows) if "lattice" in row] == [0, LATTICE_EVERY, 2 * LATTICE_EVERY]
    assert trainer.real_spectrum.value is not None


@pytest.mark.parametrize("name", ["palette", "lattice"])
def test_a_run_from_before_the_term_resumes_without_it(name: str, tmp_path: Path) -> None:
    import json
    from dataclasses import asdict

    saved = asdict(TrainConfig(data="x", d_arch="projected", **{name: 0.3}))
    del saved[name]  # config.json of a run started before the term existed
    (tmp_path / "config.json").write_text(json.dumps(saved))
    assert getattr(TrainConfig.from_json(tmp_path / "config.json"), name) == 0.0


def _smooth(n: int = 4, res: int = 64) -> torch.Tensor:
    """Pictures in [-1, 1]: soft diagonal gradients in a colour each, no fine detail."""
    ramp = torch.linspace(-0.6, 0.6, res)
    base = (ramp[None, :] + ramp[:, None]) / 2  # [R, R]
    tint = torch.linspace(-0.3, 0.3, n * 3).reshape(n, 3, 1, 1)
    return base[None, None] + tint


def _grid(kind: str, res: int = 64, amount: float = 0.1) -> torch.Tensor:
    """A lattice: alternate columns, rows or pixels `amount` lighter, or every other pair of
    columns (a four-pixel period); or soft waves 16 px apart (coarse: the picture's own)."""
    i = torch.arange(res)
    pattern = {"columns": (i[None, :] % 2 == 0).expand(res, res),
               "rows": (i[:, None] % 2 == 0).expand(res, res),
               "checkerboard": (i[None, :] + i[:, None]) % 2 == 0,
               "four": (i[None, :] % 4 < 2).expand(res, res),
               "waves": torch.sin(i[None, :] * torch.pi / 8).expand(res, res)}[kind]
    return amount * pattern.float()


def _reals(n: int = 4, seed: int = 0) -> torch.Tensor:
    """Soft gradients with a little fine grain of their own (noise, 0.02 in -1..1)."""
    grain = torch.randn(n, 3, 64, 64, generator=torch.Generator().manual_seed(seed))
    return _smooth(n) + 0.02 * grain


@pytest.mark.parametrize("kind", ["columns", "rows", "checkerboard", "four"])
def test_the_lattice_term_sees_a_faint_grid_and_not_the_reals_own_grain(kind: str) -> None:
    reference = spectrum(_reals(8))
    assert lattice_loss(reference, _reals(4, seed=1)).item() == 0.0  # other grain, as fine
    assert lattice_loss(reference, _smooth()).item() == 0.0  # less fine detail: no cost
    assert lattice_loss(reference, _reals(4, seed=1) + _grid(kind, amount=0.05)).item() > 0.02


def test_a_coarse_pattern_is_the_picture_s_business_not_the_lattice_term_s() -> None:
    reference = spectrum(_reals(8))
    striped = _reals(4, seed=1) + _grid("waves", amount=0.5)
    assert lattice_loss(reference, striped).item() < 0.01
    assert not fine_frequencies(64)[0, 64 // 16] and fine_frequencies(64)[0, 64 // 8]


def test_the_lattice_term_removes_the_grid_and_keeps_the_picture() -> None:
    reference = spectrum(_reals(8))
    fakes = _reals(4, seed=1) + _grid("columns")
    stepped = fakes.clone().requires_grad_(True)
    for _ in range(200):  # down the gradient: the grid goes, the picture stays
        lattice_loss(reference, stepped).backward()
        with torch.no_grad():
            stepped -= 0.002 * stepped.grad / stepped.grad.abs().max().clamp(min=1e-12)
            stepped.grad = None
    assert lattice_loss(reference, stepped).item() < 0.01 * lattice_loss(reference, fakes).item()
    middle = stepped.detach()[..., 16:-16, 16:-16]  # the spectrum's window tapers the edges
    columns = middle[..., 0::2] - middle[..., 1::2]  # (a generator's grid is the same there)
    assert columns.mean().abs() < 0.02  # the grid: 0.1 before
    before = fakes[..., 16:-16, 16:-16]
    moved = (middle - before).abs().mean()  # the grid: half of 0.1
    coarse = torch.nn.functional.avg_pool2d  # the picture, seen a 2x2 square at a time
    assert (coarse(middle, 2) - coarse(before, 2)).abs().mean() < moved / 5


def test_the_reals_spectrum_is_a_running_average_that_follows_the_batches() -> None:
    running = RealSpectrum()
    first, other = _reals(4, seed=0), _reals(4, seed=1) + _grid("rows")
    assert torch.allclose(running(first.requires_grad_(True)), spectrum(first.detach()))
    assert not running.value.requires_grad  # nothing of the reals' graph is kept
    once = running(other).clone()  # one step moves it 1 % of the way
    assert torch.allclose(once, 0.99 * spectrum(first.detach()) + 0.01 * spectrum(other))
    for _ in range(600):
        held = running(other)
    assert torch.allclose(held, spectrum(other), rtol=0.01, atol=1e-6)
