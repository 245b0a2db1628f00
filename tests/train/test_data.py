"""Tests for preparing image folders and loading them for training."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from livegan.errors import DatasetError
from livegan.train.data import ImageDataset, PrepareReport, prepare

RES = 32


def _noise(size: tuple[int, int], seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """A folder with every kind of file an artist's folder may hold."""
    src = tmp_path / "src"
    (src / "cats" / "old").mkdir(parents=True)
    (src / "dogs").mkdir()
    (src / "bad.jpg").write_bytes(np.random.default_rng(0).bytes(400))
    _noise((64, 48), 1).save(src / "cut.png")
    data = (src / "cut.png").read_bytes()
    (src / "cut.png").write_bytes(data[: len(data) // 2])
    _noise((48, 48), 2).convert("L").save(src / "gray.png")
    rgba = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 20, 40))
    rgba.save(src / "cats" / "alpha.png")
    Image.new("CMYK", (50, 40), (0, 255, 255, 0)).save(src / "cats" / "cmyk.jpg")
    _noise((40, 40), 3).convert("P").save(src / "cats" / "old" / "palette.png")
    _noise((80, 40), 4).save(src / "dogs" / "UPPER.JPG", quality=95)
    _noise((10, 30), 5).save(src / "dogs" / "tiny.png")
    shutil.copy(src / "gray.png", src / "zz_copy.png")
    (src / "notes.txt").write_text("not a picture")
    return src


def _written(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))


def test_prepare_messy_folder(messy, tmp_path):
    out = tmp_path / "out"
    report = prepare(messy, out, RES, progress=False)
    assert isinstance(report, PrepareReport)
    assert report.found == 9  # .txt is not an image and is ignored silently
    assert _written(out) == [
        "cats/alpha.png",
        "cats/cmyk.png",
        "cats/old/palette.png",
        "dogs/UPPER.png",
        "gray.png",
    ]
    assert report.written == 5
    reasons = {path.name: reason for path, reason in report.skipped}
    assert set(reasons) == {"bad.jpg", "cut.png", "tiny.png"}
    assert reasons["bad.jpg"] == "not a readable image"
    assert reasons["cut.png"] == "truncated file"
    assert reasons["tiny.png"].startswith("too small (10x30")
    assert report.duplicates == [messy / "zz_copy.png"]
    assert report.labels == ["cats", "dogs"]
    text = report.summary()
    assert "wrote 5" in text and "cut.png: truncated file" in text and "1 exact dup" in text
    for path in out.rglob("*.png"):
        with Image.open(path) as image:
            assert image.mode == "RGB" and image.size == (RES, RES)


def test_prepare_converts_modes(messy, tmp_path):
    out = tmp_path / "out"
    prepare(messy, out, RES, progress=False)
    alpha = np.asarray(Image.open(out / "cats" / "alpha.png")).astype(int)
    assert np.abs(alpha[:, :12] - [0, 0, 255]).max() < 12  # opaque blue kept
    assert alpha[:, -12:].min() > 240  # transparent red composited onto white
    cmyk = np.asarray(Image.open(out / "cats" / "cmyk.png")).astype(int)
    assert np.abs(cmyk - [255, 0, 0]).max() < 30
    gray = np.asarray(Image.open(out / "gray.png"))
    assert np.array_equal(gray[..., 0], gray[..., 1])


def test_prepare_mirror_doubles(messy, tmp_path):
    plain = prepare(messy, tmp_path / "a", RES, progress=False)
    mirrored = prepare(messy, tmp_path / "b", RES, mirror=True, progress=False)
    assert mirrored.written == 2 * plain.written
    original = np.asarray(Image.open(tmp_path / "b" / "dogs" / "UPPER.png"))
    flipped = np.asarray(Image.open(tmp_path / "b" / "dogs" / "UPPER_mirror.png"))
    assert np.array_equal(flipped, original[:, ::-1])


@pytest.mark.parametrize("crop", ["center", "random", "pad"])
def test_crop_modes(tmp_path, crop):
    src = tmp_path / "src"
    src.mkdir()
    wide = Image.new("RGB", (120, 60), (200, 30, 30))
    wide.paste((20, 20, 220), (0, 0, 30, 60))  # blue strip on the left edge
    wide.save(src / "wide.png")
    _noise((50, 90), 7).save(src / "tall.png")
    out = tmp_path / crop
    prepare(src, out, RES, crop=crop, progress=False)
    image = np.asarray(Image.open(out / "wide.png")).astype(int)
    assert image.shape == (RES, RES, 3)
    assert np.asarray(Image.open(out / "tall.png")).shape == (RES, RES, 3)
    if crop == "center":
        assert np.abs(image[RES // 2, 0] - [200, 30, 30]).max() < 10  # strip cropped away
    if crop == "pad":
        edge = image[0, RES // 2]  # letterbox colour: mean of the edges, between red and blue
        assert 100 < edge[0] < 200 and 30 < edge[2] < 200
    again = tmp_path / f"{crop}_again"
    prepare(src, again, RES, crop=crop, progress=False)
    assert np.array_equal(image, np.asarray(Image.open(again / "wide.png")))


def test_prepare_keeps_both_files_with_one_stem(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _noise((40, 40), 1).save(src / "photo.png")
    _noise((40, 40), 2).save(src / "photo.jpg")
    report = prepare(src, src / "prepared", RES, progress=False)  # output inside the source
    assert report.written == 2 and report.found == 2
    assert _written(src / "prepared") == ["photo.png", "photo_2.png"]
    assert prepare(src, src / "prepared", RES, progress=False).found == 2


def test_prepare_empty_and_missing_folders(tmp_path):
    empty = tmp_path / "empty_pictures"
    empty.mkdir()
    (empty / "readme.txt").write_text("hi")
    with pytest.raises(DatasetError, match="empty_pictures.*contains no images"):
        prepare(empty, tmp_path / "out", RES, progress=False)
    with pytest.raises(DatasetError, match="nowhere.*does not exist"):
        prepare(tmp_path / "nowhere", tmp_path / "out", RES, progress=False)
    with pytest.raises(DatasetError, match="not a folder"):
        prepare(empty / "readme.txt", tmp_path / "out", RES, progress=False)


def test_prepare_all_unusable(tmp_path):
    src = tmp_path / "smalls"
    src.mkdir()
    _noise((8, 8), 0).save(src / "a.png")
    with pytest.raises(DatasetError, match="smalls has no usable images.*too small"):
        prepare(src, tmp_path / "out", RES, progress=False)


def test_prepare_rejects_bad_options(messy, tmp_path):
    with pytest.raises(DatasetError, match="crop mode"):
        prepare(messy, tmp_path / "out", RES, crop="zoom", progress=False)
    with pytest.raises(DatasetError, match="source folder"):
        prepare(messy, messy, RES, progress=False)


def test_dataset_loads_prepared_folder(messy, tmp_path):
    out = tmp_path / "out"
    prepare(messy, out, RES, progress=False)
    data = ImageDataset(out, RES, progress=False)
    assert len(data) == 5
    assert data.images.dtype == torch.uint8 and data.images.shape == (5, 3, RES, RES)
    assert data.label_names == [] and data.labels.tolist() == [0] * 5
    images, labels = data.batch(7, torch.Generator().manual_seed(0))
    assert images.shape == (7, 3, RES, RES) and images.dtype == torch.float32
    assert images.min() >= -1.0 and images.max() <= 1.0 and images.min() < 0 < images.max()
    assert labels.shape == (7,) and labels.dtype == torch.long


def test_dataset_labels_from_subfolders(tmp_path):
    for name, count in [("b_dogs", 2), ("a_cats", 3)]:
        (tmp_path / name / "deeper").mkdir(parents=True)
        for k in range(count):
            _noise((RES, RES), k).save(tmp_path / name / "deeper" / f"{k}.png")
    data = ImageDataset(tmp_path, RES, labels=True, progress=False)
    assert data.label_names == ["a_cats", "b_dogs"]
    assert sorted(data.labels.tolist()) == [0, 0, 0, 1, 1]
    generator = torch.Generator().manual_seed(1)
    _, labels = data.batch(64, generator)
    assert set(labels.tolist()) == {0, 1}
    _noise((RES, RES), 9).save(tmp_path / "loose.png")
    with pytest.raises(DatasetError, match="loose.png"):
        ImageDataset(tmp_path, RES, labels=True, progress=False)


def test_dataset_resizes_and_skips_bad_files(tmp_path, caplog):
    _noise((100, 60), 0).save(tmp_path / "big.jpg")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    data = ImageDataset(tmp_path, RES, progress=False)
    assert data.images.shape == (1, 3, RES, RES)
    assert "broken.png" in caplog.text


def test_dataset_missing_or_empty(tmp_path):
    with pytest.raises(DatasetError, match="missing_set.*livegan data"):
        ImageDataset(tmp_path / "missing_set", RES, progress=False)
    (tmp_path / "junk.png").write_bytes(b"nothing")
    with pytest.raises(DatasetError, match=f"{tmp_path.name}.*livegan data prepare"):
        ImageDataset(tmp_path, RES, progress=False)
