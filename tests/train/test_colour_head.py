"""The projected discriminator's colour head (d_colour): it judges the picture itself, shrunk,
beside the frozen InceptionV3 maps, trains in a real step, and is refused elsewhere."""

from __future__ import annotations

import pytest
import torch

from livegan.errors import LiveganError
from livegan.nets import build_discriminator, pretrained
from livegan.train.config import TrainConfig
from tests.train.tiny import data_fixture, tiny_trainer

needs_extra = pytest.mark.skipif(not pretrained.available(),
                                 reason="needs the quality extra: pip install 'livegan[quality]'")
data = data_fixture("colour", 12, 32)


@needs_extra
def test_the_colour_head_sees_the_pictures_colours() -> None:
    plain = build_discriminator(32, 0, 8, "projected")
    coloured = build_discriminator(32, 0, 8, "projected", colour=16)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    maps = coloured.look(x)
    assert maps[0].shape == (2, 3, 16, 16)  # the picture, shrunk, first
    assert torch.allclose(maps[0], torch.nn.functional.avg_pool2d(x, 2))
    assert len(maps) == len(plain.look(x)) + 1
    assert coloured(x).shape[1] > plain(x).shape[1]  # its patch scores join the others
    # a change of hue alone reaches the colour head's map in full
    hue = x[:, [2, 0, 1]]
    assert (coloured.look(hue)[0] - maps[0]).abs().mean() > 0.1


@needs_extra
def test_a_run_trains_the_colour_head(data, tmp_path) -> None:
    trainer = tiny_trainer(data, tmp_path / "run", res=32, d_arch="projected", d_colour=16,
                           ndf=8)
    head = trainer.d.heads[0]
    before = [p.detach().clone() for p in head.parameters()]
    for _ in range(2):
        losses = trainer.step_once()
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    assert any(not torch.equal(b, p) for b, p in zip(before, head.parameters()))


def test_the_colour_head_needs_the_projected_discriminator() -> None:
    with pytest.raises(LiveganError, match="d_colour 16"):
        TrainConfig(data="x", d_arch="residual", d_colour=16).validate()
    with pytest.raises(LiveganError, match="at least 4 px"):
        TrainConfig(data="x", d_arch="projected", d_colour=2).validate()


def test_the_projected_recipe_has_the_colour_head_and_another_discriminator_drops_it() -> None:
    from livegan.train.recipes import RECIPES, apply

    base = TrainConfig(data="x")
    assert base.d_colour == 0  # a run from before the colour head resumes without one
    assert base.palette == 0 and base.lattice == 0  # nor the palette or lattice terms
    assert RECIPES["projected"]["d_colour"] == 32
    assert RECIPES["projected"]["palette"] == 0.3 and RECIPES["projected"]["lattice"] == 1.0
    assert RECIPES["projected"]["d_whole"] == 32
    assert apply(base, "v1").d_colour == 0 and apply(base, "v1").palette == 0
    if pretrained.available():
        assert apply(base, "projected").d_colour == 32
        assert apply(base, "projected").palette == 0.3
        assert apply(base, "projected").lattice == 1.0
        mixed = apply(base, "projected", {"d_arch": "residual"})
        assert mixed.d_colour == 0 and mixed.palette == 0 and mixed.lattice == 0
        assert mixed.d_whole == 0 and apply(base, "projected").d_whole == 32
        mixed.validate()
        assert apply(base, "projected", {"d_colour": 8}).d_colour == 8
        assert apply(base, "projected", {"palette": 1.0}).palette == 1.0
        with pytest.raises(LiveganError, match="d_arch=projected"):  # asked for: kept, refused
            apply(base, "projected", {"d_arch": "residual", "palette": 1.0}).validate()


@needs_extra
def test_reals_and_fakes_judged_as_one_batch_score_as_judged_apart() -> None:
    """The projected step judges the reals and the fakes in one pass through the heads
    (steps.judge_both); the heads have no batch statistics, so each picture's scores are
    those it gets judged alone. Labels ride along in the same order."""
    from livegan.train.steps import judge_both

    d = build_discriminator(32, 3, 8, "projected", colour=16).eval()  # eval: no power step
    real, fake = torch.rand(3, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    y_real, y_fake = torch.tensor([0, 1, 2]), torch.tensor([2, 2])
    real_maps, fake_maps = d.look(real), d.look(fake.requires_grad_())
    with torch.no_grad():
        both_real, both_fake = judge_both(d, real_maps, fake_maps, y_real, y_fake)
        assert torch.allclose(both_real, d.judge(real_maps, y_real), atol=1e-5)
        assert torch.allclose(both_fake, d.judge(fake_maps, y_fake), atol=1e-5)
    fake_scores = judge_both(d, real_maps, fake_maps, y_real, y_fake)[1]
    fake_scores.sum().backward()  # reaches the heads, not the fakes: D's step trains no G
    assert fake.grad is None
    assert all(p.grad is not None for p in d.heads[0].parameters() if p.requires_grad)


@needs_extra
def test_the_detail_head_sees_a_one_pixel_checkerboard_that_the_other_heads_average_away() -> None:
    d = build_discriminator(64, 0, 8, "projected", colour=16, detail=16).eval()
    assert d.fold == 4 and len(d.heads) == 6  # detail, colour, four frozen maps
    plain = torch.zeros(2, 3, 64, 64)
    checker = ((torch.arange(64)[:, None] + torch.arange(64)[None, :]) % 2).float() * 0.4 - 0.2
    board = plain + checker  # the same mean everywhere, a pattern at the finest pixel
    with torch.no_grad():
        a, b = d.look(plain), d.look(board)
    assert a[0].shape == (2, 48, 16, 16)  # 3 channels x 4 x 4 pixels per position
    assert (a[0] - b[0]).abs().max() > 0.1  # the detail head's map has the pattern
    assert torch.allclose(a[1], b[1], atol=1e-6)  # the colour head's average has none
    assert d(board).shape[0] == 2
    assert build_discriminator(16, 0, 8, "projected", detail=16).fold == 0  # nothing to fold


@pytest.mark.parametrize("name,what", [("d_detail", "detail head"),
                                       ("d_whole", "whole-picture head")])
def test_a_picture_head_is_for_the_projected_discriminator_at_a_power_of_two(
        name: str, what: str) -> None:
    for bad in ({name: 24}, {name: 2}, {name: 32, "d_arch": "residual"}):
        with pytest.raises(LiveganError, match=what):
            TrainConfig(data="x", **{"d_arch": "projected", **bad}).validate()
    TrainConfig(data="x", d_arch="projected", **{name: 32}).validate()
    assert getattr(TrainConfig(data="x"), name) == 0  # off unless asked for


def test_a_whole_picture_head_asked_for_beside_another_discriminator_is_refused() -> None:
    from livegan.train.recipes import apply

    if not pretrained.available():
        pytest.skip("the projected recipe needs the quality extra")
    told = apply(TrainConfig(data="x"), "projected", {"d_whole": 32, "d_arch": "residual"})
    assert told.d_whole == 32
    with pytest.raises(LiveganError, match="whole-picture head"):
        told.validate()


def test_the_recipe_adds_the_detail_head_where_the_picture_is_larger_than_the_eyes_input() -> None:
    from livegan.nets.projected import MAX_INPUT
    from livegan.train.recipes import DETAIL, apply

    if not pretrained.available():  # the projected recipe needs the extra
        assert apply(TrainConfig(data="x", res=256), "default").d_detail == 0
        return
    assert MAX_INPUT < 256
    assert apply(TrainConfig(data="x", res=256), "projected").d_detail == DETAIL
    assert apply(TrainConfig(data="x", res=512), "default").d_detail == DETAIL
    assert apply(TrainConfig(data="x", res=128), "projected").d_detail == 0  # eyes see it all
    assert apply(TrainConfig(data="x", res=256), "projected", {"d_detail": 0}).d_detail == 0
    assert apply(TrainConfig(data="x", res=256), "projected",
                 {"d_arch": "residual"}).d_detail == 0
    assert apply(TrainConfig(data="x", res=256), "v1").d_detail == 0
    apply(TrainConfig(data="x", res=256), "projected").validate()
