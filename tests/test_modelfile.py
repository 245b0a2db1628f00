"""Model files: round trip, one clear sentence per kind of damage, finding and listing models."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from livegan.errors import ModelFileError
from livegan.modelfile import (
    FORMAT,
    ModelInfo,
    find_model,
    list_models,
    load_model,
    read_info,
    save_model,
)
from livegan.nets import build_generator, generator_config

TINY_RES, TINY_NGF, TINY_Z = 32, 8, 128  # what the conftest's tiny models are made of
TINY_DIRECTION_NAMES = ["pc0", "pc1", "warm", "calm"]


def _rewrite(src: Path, dst: Path, meta: dict | None = None, drop: str | None = None,
             tensors: dict | None = None) -> Path:
    """Copy a model file with metadata keys replaced (None deletes) and a tensor dropped."""
    with safe_open(str(src), framework="pt") as f:
        metadata = dict(f.metadata())
    for key, value in (meta or {}).items():
        if value is None:
            metadata.pop(key, None)
        else:
            metadata[key] = value
    weights = load_file(str(src))
    weights.update(tensors or {})
    if drop:
        del weights[drop]
    save_file(weights, str(dst), metadata=metadata)
    return dst


def _assert_one_sentence(exc: pytest.ExceptionInfo, path: Path) -> str:
    text = str(exc.value)
    assert str(path) in text, text
    assert "\n" not in text and "Traceback" not in text, text
    assert len(text) < 400, text
    return text


# -- round trip --------------------------------------------------------------------------

def test_round_trip_keeps_weights_and_metadata(tmp_path: Path) -> None:
    torch.manual_seed(3)
    config = generator_config("lite", resolution=TINY_RES, ngf=TINY_NGF, n_labels=3)
    generator = build_generator("lite", config)
    directions = torch.randn(2, TINY_Z)
    training = {"dataset": "data/synth", "images": 64, "steps": 30, "date": "2024-05-01"}
    path = save_model(tmp_path / "sub" / "rt.safetensors", generator, "lite", config, "rt",
                      training=training, directions=directions,
                      direction_names=["left", "right"], labels=["a", "b", "c"])
    assert path.is_file() and not list(path.parent.glob("*.tmp"))

    model = load_model(path)
    info = model.info
    assert (info.name, info.arch, info.resolution, info.z_dim) == ("rt", "lite", TINY_RES, TINY_Z)
    assert info.config == config
    assert info.training == training
    assert info.direction_names == ["left", "right"] and info.n_directions == 2
    assert info.labels == ["a", "b", "c"]
    assert torch.equal(model.directions, directions)
    saved = generator.state_dict()
    for key, value in model.generator.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert not model.generator.training
    assert not any(p.requires_grad for p in model.generator.parameters())


def test_default_direction_names_and_no_directions(tmp_path: Path, make_tiny_model) -> None:
    config = generator_config("lite", resolution=TINY_RES, ngf=TINY_NGF)
    path = save_model(tmp_path / "d.safetensors", build_generator("lite", config), "lite",
                      config, "d", directions=torch.randn(3, TINY_Z))
    assert read_info(path).direction_names == ["dir0", "dir1", "dir2"]
    plain = load_model(make_tiny_model(tmp_path / "p.safetensors", directions=False))
    assert plain.directions is None and plain.info.n_directions == 0


def test_fixture_models(tiny_model: Path, tiny_model_no_dirs: Path) -> None:
    assert read_info(tiny_model).direction_names == TINY_DIRECTION_NAMES
    assert load_model(tiny_model).directions.shape == (len(TINY_DIRECTION_NAMES), TINY_Z)
    assert load_model(tiny_model_no_dirs).directions is None


def test_load_never_unpickles(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a model file must never be unpickled")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    model = load_model(tiny_model)
    assert model.generator(torch.zeros(1, TINY_Z)).shape == (1, 3, TINY_RES, TINY_RES)


# -- damage: one sentence naming the file -------------------------------------------------

@pytest.mark.parametrize("where", ["empty", "length", "header", "tensor_data", "last_byte"])
def test_truncated_file(tiny_model: Path, tmp_path: Path, where: str) -> None:
    data = tiny_model.read_bytes()
    header = int.from_bytes(data[:8], "little")
    cut = {"empty": 0, "length": 5, "header": 8 + header // 2,
           "tensor_data": 8 + header + (len(data) - 8 - header) // 2,
           "last_byte": len(data) - 1}[where]
    bad = tmp_path / f"cut_{where}.safetensors"
    bad.write_bytes(data[:cut])
    for reader in (read_info, load_model):
        with pytest.raises(ModelFileError) as exc:
            reader(bad)
        text = _assert_one_sentence(exc, bad)
        assert "truncated" in text or "corrupt" in text


def test_random_bytes(tmp_path: Path) -> None:
    bad = tmp_path / "noise.safetensors"
    bad.write_bytes(torch.randint(0, 256, (5000,), generator=torch.Generator().manual_seed(0))
                    .to(torch.uint8).numpy().tobytes())
    with pytest.raises(ModelFileError) as exc:
        load_model(bad)
    _assert_one_sentence(exc, bad)


def test_safetensors_without_livegan_metadata(tmp_path: Path) -> None:
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2, 2)}, str(other))
    with pytest.raises(ModelFileError) as exc:
        load_model(other)
    assert "not a livegan model" in _assert_one_sentence(exc, other)


@pytest.mark.parametrize(
    ("meta", "expect"),
    [
        ({"arch": "stylegan9"}, "unknown arch 'stylegan9'"),
        ({"arch": None}, "unknown arch"),
        ({"config": "{not json"}, "'config' metadata is not valid JSON"),
        ({"config": None}, "'config' metadata is missing"),
        ({"training": "[1, 2"}, "'training' metadata is not valid JSON"),
        ({"direction_names": "pc0, pc1"}, "'direction_names' metadata is not valid JSON"),
        ({"direction_names": "5"}, "direction_names"),
        ({"labels": '{"a": 1}'}, "labels"),
        ({"config": '{"resolution": "big", "z_dim": 128}'}, "resolution"),
        ({"config": "[1, 2]"}, "config"),
        ({"livegan.format": "2"}, "newer"),
        ({"livegan.format": "99"}, "upgrade livegan"),
    ],
)
def test_bad_metadata(tiny_model: Path, tmp_path: Path, meta: dict, expect: str) -> None:
    bad = _rewrite(tiny_model, tmp_path / "bad.safetensors", meta=meta)
    with pytest.raises(ModelFileError) as exc:
        load_model(bad)
    assert expect in _assert_one_sentence(exc, bad)


def test_unknown_format_is_not_called_newer(tiny_model: Path, tmp_path: Path) -> None:
    bad = _rewrite(tiny_model, tmp_path / "odd.safetensors", meta={"livegan.format": "beta"})
    with pytest.raises(ModelFileError) as exc:
        read_info(bad)
    text = _assert_one_sentence(exc, bad)
    assert "beta" in text and "newer" not in text


def test_mismatched_shapes(tiny_model: Path, tmp_path: Path) -> None:
    config = dict(read_info(tiny_model).config)
    config["ngf"] = TINY_NGF * 2
    bad = _rewrite(tiny_model, tmp_path / "wide.safetensors", meta={"config": json.dumps(config)})
    with pytest.raises(ModelFileError) as exc:
        load_model(bad)
    text = _assert_one_sentence(exc, bad)
    assert "shape" in text and "lite" in text


def test_config_that_builds_nothing(tiny_model: Path, tmp_path: Path) -> None:
    config = dict(read_info(tiny_model).config, resolution=33, colour="blue")
    bad = _rewrite(tiny_model, tmp_path / "nobuild.safetensors",
                   meta={"config": json.dumps(config)})
    with pytest.raises(ModelFileError) as exc:
        load_model(bad)
    assert "does not build" in _assert_one_sentence(exc, bad)


def test_missing_and_extra_tensor(tiny_model: Path, tmp_path: Path) -> None:
    missing = _rewrite(tiny_model, tmp_path / "missing.safetensors", drop="to_rgb.0.weight")
    with pytest.raises(ModelFileError) as exc:
        load_model(missing)
    assert "missing" in _assert_one_sentence(exc, missing)
    extra = _rewrite(tiny_model, tmp_path / "extra.safetensors",
                     tensors={"surprise.weight": torch.zeros(3)})
    with pytest.raises(ModelFileError) as exc:
        load_model(extra)
    assert "unexpected" in _assert_one_sentence(exc, extra)


def test_directions_of_the_wrong_size(tiny_model: Path, tmp_path: Path) -> None:
    bad = _rewrite(tiny_model, tmp_path / "dirs.safetensors",
                   tensors={"directions": torch.zeros(4, TINY_Z + 1)})
    with pytest.raises(ModelFileError) as exc:
        load_model(bad)
    assert "directions" in _assert_one_sentence(exc, bad)


def test_direction_names_that_do_not_match(tiny_model: Path, tmp_path: Path) -> None:
    bad = _rewrite(tiny_model, tmp_path / "names.safetensors",
                   meta={"direction_names": json.dumps(["only", "two"])})
    with pytest.raises(ModelFileError) as exc:
        load_model(bad)
    assert "names 2 directions but stores 4" in _assert_one_sentence(exc, bad)
    orphan = _rewrite(tiny_model, tmp_path / "orphan.safetensors", drop="directions")
    with pytest.raises(ModelFileError):
        load_model(orphan)


def test_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as exc:
        load_model(tmp_path / "nothing.safetensors")
    assert "livegan models" in _assert_one_sentence(exc, tmp_path / "nothing.safetensors")
    with pytest.raises(ModelFileError):
        load_model(tmp_path)


# -- finding and listing --------------------------------------------------------------------

def test_find_model_by_name_and_path(models_dir: Path, make_tiny_model) -> None:
    path = make_tiny_model(models_dir / "moth.safetensors", name="moth")
    assert find_model("moth") == path
    assert find_model("moth.safetensors") == path
    assert find_model("moth", allow_paths=False) == path
    assert find_model(str(path)) == path
    with pytest.raises(ModelFileError) as exc:
        find_model("butterfly")
    text = str(exc.value)
    assert "butterfly" in text and str(models_dir) in text and "livegan models" in text


def test_find_model_extra_dirs_come_first(tmp_path: Path, models_dir: Path,
                                          make_tiny_model) -> None:
    make_tiny_model(models_dir / "same.safetensors")
    extra = make_tiny_model(tmp_path / "extra" / "same.safetensors")
    assert find_model("same", extra_dirs=[extra.parent]) == extra


@pytest.mark.parametrize(
    "name",
    ["../x", "../models_dir/moth", "/etc/passwd", "..", ".", "", "sub/moth", "..\\moth",
     "C:\\models\\moth.safetensors", "moth\0"],
)
def test_find_model_refuses_paths_from_remote(models_dir: Path, make_tiny_model,
                                              name: str) -> None:
    make_tiny_model(models_dir / "moth.safetensors")
    (models_dir / "sub").mkdir()
    make_tiny_model(models_dir / "sub" / "moth.safetensors")
    with pytest.raises(ModelFileError):
        find_model(name, allow_paths=False)


def test_find_model_path_to_a_file_outside_the_folders(tiny_model: Path, models_dir: Path) -> None:
    assert find_model(str(tiny_model)) == tiny_model
    with pytest.raises(ModelFileError):
        find_model(str(tiny_model), allow_paths=False)


def test_list_models_reports_broken_files(models_dir: Path, make_tiny_model) -> None:
    make_tiny_model(models_dir / "good.safetensors", name="good")
    (models_dir / "broken.safetensors").write_bytes(b"\x00" * 100)
    (models_dir / "notes.txt").write_text("not a model")
    found = [item for item in list_models() if isinstance(item, ModelFileError)
             or item.path.parent == models_dir]
    good = [item for item in found if isinstance(item, ModelInfo)]
    bad = [item for item in found if isinstance(item, ModelFileError)
           and str(models_dir) in str(item)]
    assert [info.name for info in good] == ["good"]
    assert len(bad) == 1 and "broken.safetensors" in str(bad[0])


def test_format_constant_is_what_is_written(tiny_model: Path) -> None:
    with safe_open(str(tiny_model), framework="pt") as f:
        assert f.metadata()["livegan.format"] == FORMAT
