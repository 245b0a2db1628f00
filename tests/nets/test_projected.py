"""The projected discriminator: frozen InceptionV3 features, small trainable heads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from livegan.errors import ExtraMissingError
from livegan.nets import D_ARCHS, build_discriminator, pretrained
from livegan.nets.projected import batch_deviation, input_size
from livegan.train.checkpoint import weights_digest
from livegan.train.loop import Trainer
from livegan.train.steps import judge_both
from tests.train.tiny import data_fixture, trainer_maker

needs_extra = pytest.mark.skipif(not pretrained.available(),
                                 reason="needs the quality extra (InceptionV3 weights)")
data = data_fixture("projdata", 8, 32)
_trainer = trainer_maker(res=32, ndf=8, steps=4, d_arch="projected", checkpoint_every=2,
                         sample_every=1000)


def test_without_the_extra_it_names_the_pip_command(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pretrained, "weights_path", lambda: tmp_path / "missing.pt")
    assert "projected" in D_ARCHS
    with pytest.raises(ExtraMissingError, match=r"pip install 'livegan\[quality\]'"):
        build_discriminator(64, arch="projected")


def test_input_size_follows_the_image_within_bounds() -> None:
    assert [input_size(r) for r in (16, 64, 128, 256, 1024)] == [128, 128, 160, 160, 160]


@needs_extra
def test_scores_every_patch_and_saves_only_its_own_weights() -> None:
    d = build_discriminator(64, arch="projected")
    scores = d(torch.rand(2, 3, 64, 64) * 2 - 1)
    assert scores.ndim == 2 and scores.shape[0] == 2 and scores.shape[1] > 4
    state = d.state_dict()
    assert not any(k.startswith("features") for k in state)  # the frozen net stays in the wheel
    assert sum(v.numel() for v in state.values()) < 2_000_000
    trainable = {n for n, p in d.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(("heads", "embed")) for n in trainable)
    again = build_discriminator(64, arch="projected")  # the fixed projections are seeded
    assert torch.equal(again.project[0].weight, d.project[0].weight)


@needs_extra
def test_the_generator_gets_a_gradient_and_the_discriminator_step_builds_no_feature_graph() -> None:
    d = build_discriminator(32, arch="projected")
    image = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_(True)
    d(image).mean().backward()  # the G step: through the frozen net to the pixels
    assert image.grad is not None and image.grad.abs().sum() > 0
    d.zero_grad(set_to_none=True)
    plain = torch.rand(2, 3, 32, 32) * 2 - 1  # the D step: reals and detached fakes
    scores = d(plain)
    scores.mean().backward()
    assert all(p.grad is not None for p in d.heads.parameters())
    assert all(p.grad is None for p in d.project.parameters())  # frozen: no graph to them


@needs_extra
def test_the_frozen_network_sees_channels_last_whatever_the_augmentation_left() -> None:
    d = build_discriminator(32, arch="projected")
    d.eval()  # spectral norm's power iteration holds still: two calls compare
    seen: list[torch.Tensor] = []
    first = d.features.stages[0]  # a stand-in that looks at its input, then runs it

    def spy(x: torch.Tensor) -> torch.Tensor:
        seen.append(x)
        return first(x)

    d.features.stages[0] = spy
    plain = torch.rand(2, 3, 32, 32) * 2 - 1  # contiguous NCHW, as with no augmentation
    scores = d(plain)
    assert seen[0].is_contiguous(memory_format=torch.channels_last)
    assert not plain.is_contiguous(memory_format=torch.channels_last)
    # the same scores as from a channels-last copy: only the layout changed
    assert torch.allclose(scores, d(plain.contiguous(memory_format=torch.channels_last)))


@needs_extra
def test_large_images_shrink_to_its_input_under_bf16_autocast() -> None:
    d = build_discriminator(256, arch="projected")
    image = (torch.rand(1, 3, 256, 256) * 2 - 1).bfloat16().requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        scores = d(image)
    scores.float().mean().backward()
    assert torch.isfinite(scores.float()).all() and image.grad.abs().sum() > 0


@needs_extra
def test_conditional_scores_depend_on_the_label() -> None:
    torch.manual_seed(0)
    d = build_discriminator(32, n_labels=3, arch="projected")
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    a = d(image, torch.tensor([0]))
    b = d(image, torch.tensor([2]))
    assert not torch.allclose(a, b)


@needs_extra
def test_the_whole_head_scores_a_picture_once_as_much_as_every_patch() -> None:
    torch.manual_seed(0)
    plain = build_discriminator(64, arch="projected", colour=32).eval()
    d = build_discriminator(64, arch="projected", colour=32, whole=32).eval()
    images = torch.rand(8, 3, 64, 64) * 2 - 1
    patches = plain(images).shape[1]
    scores = d(images)
    assert scores.shape == (8, 2 * patches)  # its one score counted as often as all patches
    whole = scores[:, :patches]  # first
    assert torch.equal(whole, whole[:, :1].expand_as(whole))
    assert any(n.startswith("whole_head") for n, p in d.named_parameters() if p.requires_grad)
    assert d.whole_head.copies == patches


@needs_extra
def test_the_whole_head_sees_its_group_and_keeps_reals_and_fakes_apart() -> None:
    torch.manual_seed(0)
    d = build_discriminator(32, arch="projected", whole=16).eval()
    reals, fakes = torch.rand(6, 3, 32, 32) * 2 - 1, torch.rand(6, 3, 32, 32) * 2 - 1
    real_maps, fake_maps = d.look(reals), d.look(fakes)
    with torch.no_grad():
        d_real, d_fake = judge_both(d, real_maps, fake_maps, None, None)
        assert torch.allclose(d_real, d.judge(real_maps), atol=1e-5)
        assert torch.allclose(d_fake, d.judge(fake_maps), atol=1e-5)
        alike = reals[:1].expand(6, -1, -1, -1)  # a group of one picture six times...
        varied = torch.cat([reals[:1], fakes[1:]])  # ...against the same picture among others
        assert not torch.allclose(d(alike)[0, 0], d(varied)[0, 0])


@needs_extra
def test_the_whole_head_leaves_the_deepest_map_last_for_labels_and_terms() -> None:
    torch.manual_seed(0)
    d = build_discriminator(32, n_labels=3, arch="projected", colour=16, whole=16).eval()
    plain = build_discriminator(32, n_labels=3, arch="projected", colour=16).eval()
    image = torch.rand(4, 3, 32, 32) * 2 - 1
    assert torch.equal(d.look(image)[-1], plain.look(image)[-1])  # what cover/diverse read
    with torch.no_grad():
        a, b = d(image, torch.tensor([0] * 4)), d(image, torch.tensor([2] * 4))
    assert a.shape == b.shape and not torch.allclose(a, b)


def test_the_batch_deviation_groups_what_divides_the_batch() -> None:
    x = torch.zeros(6, 2, 4, 4)
    x[3:] = torch.arange(3.0).reshape(3, 1, 1, 1)  # the second group of three varies
    out = batch_deviation(x)  # groups of 3 (6 does not divide by 4)
    assert out.shape == (6, 3, 4, 4)
    assert out[:3, 2].max() < 1e-3 and torch.allclose(out[3:, 2], torch.tensor(2 / 3) ** 0.5)
    assert torch.equal(out[:, :2], x)
    assert batch_deviation(torch.rand(5, 2, 4, 4))[:, 2].max() < 1e-3  # 5: one picture a group


@needs_extra
@pytest.mark.parametrize("whole", [0, 16])
def test_a_run_with_it_resumes_exactly(data: Path, tmp_path: Path, whole: int) -> None:
    _trainer = trainer_maker(res=32, ndf=8, steps=4, d_arch="projected", checkpoint_every=2,
                             sample_every=1000, d_whole=whole)
    straight = _trainer(data, tmp_path / "straight")
    losses = [straight.step_once() for _ in range(4)]
    assert all(torch.isfinite(torch.tensor(list(row.values()))).all() for row in losses)
    first = _trainer(data, tmp_path / "cut")
    for _ in range(2):
        first.step_once()
    first.maybe_checkpoint(force=True)
    checkpoint = next((tmp_path / "cut" / "checkpoints").iterdir())
    assert checkpoint.stat().st_size < 3_000_000  # no InceptionV3 inside
    again = Trainer(first.cfg, tmp_path / "cut", resume=True, progress=False)
    for _ in range(2):
        again.step_once()
    assert weights_digest(again.g) == weights_digest(straight.g)
    assert weights_digest(again.d) == weights_digest(straight.d)


@needs_extra
def test_one_fake_batch_serves_both_updates(data: Path, tmp_path: Path) -> None:
    """With frozen eyes the generator runs once a step (its maps judged before and after
    the heads' update), and still both networks learn while the frozen part stays put."""
    trainer = _trainer(data, tmp_path / "run")
    trainer.step_once()  # the precision choice runs extra passes at the first step
    calls = []
    trainer.g.register_forward_hook(lambda *_: calls.append(1))
    g_before = weights_digest(trainer.g)
    heads_before = [p.detach().clone() for p in trainer.d.heads.parameters()]
    project_before = trainer.d.project[0].weight.detach().clone()
    losses = trainer.step_once()
    assert len(calls) == 1
    assert weights_digest(trainer.g) != g_before
    assert any(not torch.equal(a, b) for a, b in zip(heads_before, trainer.d.heads.parameters()))
    assert torch.equal(trainer.d.project[0].weight, project_before)
    assert set(losses) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
