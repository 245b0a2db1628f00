"""Tests for the procedural abstract-image generator and its styles."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from livegan.errors import DatasetError
from livegan.train.synth import STYLES, render_image, synthesize


def test_same_arguments_give_identical_pixels():
    a = render_image(3, 64, seed=7)
    b = render_image(3, 64, seed=7)
    assert a.dtype == np.uint8 and a.shape == (64, 64, 3)
    assert np.array_equal(a, b)


def test_order_and_count_do_not_change_an_image():
    forward = [render_image(i, 32) for i in range(6)]
    backward = {i: render_image(i, 32) for i in reversed(range(6))}
    assert all(np.array_equal(forward[i], backward[i]) for i in range(6))
    assert np.array_equal(render_image(4, 32), forward[4])


def test_indices_and_seeds_differ():
    assert not np.array_equal(render_image(0, 32), render_image(1, 32))
    assert not np.array_equal(render_image(0, 32, seed=0), render_image(0, 32, seed=1))


@pytest.mark.parametrize("res", [16, 24, 64, 136, 256])
def test_sizes(res):
    assert render_image(1, res).shape == (res, res, 3)


def test_images_have_structure_and_vary():
    images = [render_image(i, 64).astype(np.float32) for i in range(24)]
    stds = [img.std() for img in images]
    assert min(stds) > 4.0, "an image is nearly flat"
    assert np.median(stds) > 12.0
    gaps = [np.abs(a - b).mean() for a, b in itertools.combinations(images, 2)]
    assert min(gaps) > 5.0, "two images are nearly identical"
    assert np.mean(gaps) > 30.0
    means = np.array([img.mean(axis=(0, 1)) for img in images])  # [24, 3]
    assert means.std(axis=0).min() > 10.0, "palettes do not vary between images"


def test_composition_is_resolution_independent():
    small = render_image(5, 32).astype(np.float32)
    large = np.asarray(Image.fromarray(render_image(5, 128)).resize((32, 32), Image.BOX))
    assert np.abs(small - large.astype(np.float32)).mean() < 12.0


def test_synthesize_writes_pngs(tmp_path):
    out = tmp_path / "nested" / "synth"
    assert synthesize(out, 5, 32, seed=2, progress=False) == 5
    files = sorted(p.name for p in out.iterdir())
    assert files == [f"synth_{i:05d}.png" for i in range(5)]
    with Image.open(out / "synth_00003.png") as image:
        assert image.format == "PNG" and image.size == (32, 32) and image.mode == "RGB"
        assert np.array_equal(np.asarray(image), render_image(3, 32, seed=2))


@pytest.mark.parametrize(("count", "res"), [(0, 32), (-1, 32), (4, 8), (4, 36), (4, 0)])
def test_synthesize_rejects_bad_arguments(tmp_path, count, res):
    with pytest.raises(DatasetError, match="count|resolution"):
        synthesize(tmp_path / "out", count, res, progress=False)
    assert not any(tmp_path.iterdir())


def test_render_rejects_bad_resolution():
    with pytest.raises(DatasetError, match="multiple of 8"):
        render_image(0, 20)


def _edge_share(image: np.ndarray) -> float:
    """Share of pixels on a sharp edge: a jump of more than 60 grey levels to a neighbour."""
    grey = image.astype(np.float32).mean(axis=2)
    jump = np.maximum(np.abs(np.diff(grey, axis=0))[:, :-1], np.abs(np.diff(grey, axis=1))[:-1])
    return float((jump > 60.0).mean())


@pytest.mark.parametrize("style", list(STYLES))
def test_each_style_is_deterministic_and_in_range(style):
    a = render_image(2, 64, seed=3, style=style)
    assert a.dtype == np.uint8 and a.shape == (64, 64, 3)
    assert np.array_equal(a, render_image(2, 64, seed=3, style=style))
    assert not np.array_equal(a, render_image(3, 64, seed=3, style=style))
    assert a.min() >= 0 and a.max() <= 255 and a.std() > 4.0


@pytest.mark.parametrize("style", list(STYLES))
def test_each_style_has_crisp_edges_at_256(style):
    shares = [_edge_share(render_image(i, 256, style=style)) for i in range(8)]
    assert np.median(shares) > 0.004, f"{style} images are soft: edge shares {shares}"
    assert max(shares) < 0.4, f"{style} images are mostly noise: edge shares {shares}"


def test_styles_look_different():
    first, second = list(STYLES)[:2]
    a = render_image(0, 64, style=first).astype(np.float32)
    b = render_image(0, 64, style=second).astype(np.float32)
    assert np.abs(a - b).mean() > 10.0


@pytest.mark.parametrize("style", list(STYLES))
def test_each_style_is_resolution_independent(style):
    small = render_image(5, 32, style=style).astype(np.float32)
    large = Image.fromarray(render_image(5, 128, style=style)).resize((32, 32), Image.BOX)
    assert np.abs(small - np.asarray(large, np.float32)).mean() < 12.0


def test_synthesize_writes_the_chosen_style(tmp_path):
    synthesize(tmp_path, 2, 32, seed=1, progress=False, style="marbling")
    with Image.open(tmp_path / "synth_00001.png") as image:
        assert np.array_equal(np.asarray(image), render_image(1, 32, seed=1, style="marbling"))


def test_unknown_style_is_one_sentence_naming_the_styles(tmp_path):
    with pytest.raises(DatasetError) as caught:
        synthesize(tmp_path / "out", 2, 32, progress=False, style="cubism")
    message = str(caught.value)
    assert "cubism" in message and all(name in message for name in STYLES)
    assert "\n" not in message
    assert not (tmp_path / "out").exists()
    with pytest.raises(DatasetError, match="paintings"):
        render_image(0, 32, style="cubism")
