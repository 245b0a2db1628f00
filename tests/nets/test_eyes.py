"""The projected discriminator's eyes: InceptionV3's first stages rebuilt from the wheel's
TorchScript, the same maps to float rounding, channels-last throughout."""

from __future__ import annotations

import pytest
import torch

from livegan.nets import eyes, pretrained
from livegan.nets.projected import TAPS, FrozenFeatures

pytestmark = pytest.mark.skipif(not pretrained.available(),
                                reason="needs the quality extra (InceptionV3 weights)")


def _scripted() -> list[torch.jit.ScriptModule]:
    return list(pretrained.load_inception().net.layers.children())[: TAPS[-1] + 1]


def _tapped(stages: list, x: torch.Tensor) -> list[torch.Tensor]:
    maps = []
    for i, stage in enumerate(stages):
        x = stage(x)
        if i in TAPS:
            maps.append(x)
    return maps


def test_the_rebuilt_stages_give_the_torchscript_maps_and_keep_them_channels_last() -> None:
    scripted = _scripted()
    rebuilt = eyes.rebuild(scripted)
    assert [type(s).__name__ for s in rebuilt[:4]] == ["ConvReLU", "ConvReLU", "ConvReLU",
                                                       "MaxPool"]
    assert [type(s).__name__ for s in rebuilt[7:]] == ["InceptionA"] * 3 + ["InceptionB"]
    torch.manual_seed(0)
    x = pretrained.to_input_range(torch.rand(2, 3, 96, 96) * 2 - 1)
    with torch.no_grad():
        want = _tapped(scripted, x)
        got = _tapped(rebuilt, x.contiguous(memory_format=torch.channels_last))
    assert [m.shape for m in got] == [m.shape for m in want]
    for g, w in zip(got, want):
        assert g.is_contiguous(memory_format=torch.channels_last)
        assert (g - w).abs().max() <= 1e-4 * w.abs().max()  # float rounding, not a change


def test_gradients_reach_the_image_and_nothing_in_the_eyes_trains() -> None:
    scripted = _scripted()
    rebuilt = eyes.rebuild(scripted)
    image = torch.rand(1, 3, 80, 80).requires_grad_(True)
    sum(m.mean() for m in _tapped(rebuilt, image)).backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
    assert all(not p.requires_grad for s in rebuilt for p in s.parameters())
    reference = image.detach().clone().requires_grad_(True)
    sum(m.mean() for m in _tapped(scripted, reference)).backward()
    assert torch.allclose(image.grad, reference.grad, rtol=1e-3, atol=1e-7)


def test_a_stage_of_another_kind_is_refused() -> None:
    final_pool = list(pretrained.load_inception().net.layers.children())[-1]
    with pytest.raises(ValueError, match="cannot rebuild"):
        eyes.rebuild([final_pool])


def test_under_bf16_autocast_a_bf16_copy_gives_the_same_maps_bit_for_bit() -> None:
    features = FrozenFeatures()
    x = (torch.rand(2, 3, 96, 96) * 2 - 1).contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        got = features(x)
        want = _tapped(features.stages, x)  # the fp32 stages, cast by autocast per call
    assert all(torch.equal(g, w) for g, w in zip(got, want))
    copies = features.__dict__["_bf16"]
    assert all(p.dtype == torch.bfloat16 for s in copies for p in s.parameters())
    assert all(p.dtype == torch.float32 for s in features.stages for p in s.parameters())
    with torch.no_grad():
        plain = features(x)  # without autocast: the fp32 stages
    assert all(m.dtype == torch.float32 for m in plain)
    features.to(torch.float32)  # moving the module drops the copy; the next call makes it
    assert "_bf16" not in features.__dict__
