"""`livegan distil` end to end on a small random-weight StyleGAN2 teacher: a real short
distillation, the student's model file read back, played by the engines, resumed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from livegan.cli import main
from livegan.distil import agreement
from livegan.foreign import file_hash
from livegan.modelfile import load_model, read_info
from livegan.nets import TRAINABLE
from livegan.nets.pretrained import available
from livegan.train.metrics import read_metrics
from tests.distil.teachers import Z_DIM, write_teacher

PIXELS_ONLY = ["--perceptual", "0", "--adversarial", "0"]


def distil(teacher: Path, out: Path, run: Path, *flags: str) -> int:
    return main(["distil", str(teacher), "--out", str(out), "--run", str(run), "--width", "8",
                 "--batch", "8", "--no-progress", *flags])


@pytest.fixture(scope="module")
def taught(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One real distillation (pixels only, 80 steps) of a 32x32 StyleGAN2."""
    folder = tmp_path_factory.mktemp("distil")
    teacher = write_teacher(folder / "teacher.safetensors")
    out, run = folder / "student.safetensors", folder / "run"
    assert distil(teacher, out, run, "--steps", "80", *PIXELS_ONLY) == 0
    return {"teacher": teacher, "out": out, "run": run}


def test_the_student_is_a_livegan_model_that_names_its_teacher(taught, capsys) -> None:
    student, teacher = load_model(taught["out"]), load_model(taught["teacher"])
    info = student.info
    assert info.arch in TRAINABLE and info.arch != "stylegan2"
    assert (info.resolution, info.z_dim) == (32, Z_DIM)
    was = info.training["distilled_from"]
    assert was["sha256"] == file_hash(taught["teacher"]) and was["name"] == "tinysg2"
    assert was["truncation"] == 1.0 and was["noise"] == "const"
    assert info.source["teacher"] == "tinysg2" and info.source["sha256"] == was["sha256"][:16]
    # the teacher's directions in z carry over as they are: the student shares its z
    assert info.direction_names == teacher.info.direction_names
    assert torch.equal(student.directions, teacher.directions)
    import os

    os.environ["LIVEGAN_MODELS"] = str(taught["out"].parent)
    try:
        assert main(["models"]) == 0
    finally:
        del os.environ["LIVEGAN_MODELS"]
    listed = [line for line in capsys.readouterr().out.splitlines() if "student" in line]
    assert listed and "distilled from tinysg2 (teacher.safetensors)" in listed[0]


def test_a_short_distillation_draws_closer_to_the_teacher(taught) -> None:
    rows = read_metrics(taught["run"])
    first, last = rows[0], rows[-1]
    assert first["step"] == 1 and last["step"] == 80
    student, teacher = load_model(taught["out"]), load_model(taught["teacher"])
    z = agreement.held_out_latents(Z_DIM, 64)
    now = agreement.psnr(agreement.draw(student.generator, z),
                         agreement.draw(teacher.generator, z))
    assert now == pytest.approx(student.info.training["psnr_held_out"], abs=0.01)
    assert now > first["psnr"] + 1.5, (first["psnr"], now)
    assert (taught["run"] / "side_by_side.png").is_file()


@pytest.mark.parametrize("backend", ["cpu", "auto"])
def test_every_cpu_backend_plays_the_student_as_eager(taught, backend: str) -> None:
    from livegan.engine import create_backend

    model = load_model(taught["out"])
    built = create_backend(model, backend)
    z = np.random.default_rng(1).standard_normal(Z_DIM).astype(np.float32)
    frame = built.render(z)
    with torch.no_grad():
        eager = model.generator(torch.from_numpy(z)[None])[0]
    expected = ((eager.clamp(-1, 1) + 1) * 127.5).permute(1, 2, 0).numpy()
    assert frame.shape == (32, 32, 3) and frame.dtype == np.uint8
    assert np.abs(frame.astype(np.float32) - expected).mean() < 2.0


def test_resume_continues_the_run_and_rewrites_the_student(tmp_path: Path) -> None:
    teacher = write_teacher(tmp_path / "teacher.safetensors")
    out, run = tmp_path / "s.safetensors", tmp_path / "run"
    assert distil(teacher, out, run, "--steps", "6", *PIXELS_ONLY) == 0
    assert read_info(out).training["steps"] == 6
    assert distil(teacher, out, run, "--steps", "10", "--resume", *PIXELS_ONLY) == 0
    assert read_info(out).training["steps"] == 10
    steps = [row["step"] for row in read_metrics(run)]
    assert steps == sorted(set(steps)) and steps[-1] == 10
    state = torch.load(max((run / "checkpoints").glob("*.pt")), weights_only=True)
    assert state["step"] == 10 and state["teacher"]["sha256"] == file_hash(teacher)


def test_cached_pairs_are_the_teachers_frames_and_are_read_back(tmp_path: Path) -> None:
    teacher = write_teacher(tmp_path / "teacher.safetensors")
    out, run = tmp_path / "s.safetensors", tmp_path / "run"
    flags = ["--cache", "16", "--precision", "fp32", *PIXELS_ONLY]
    assert distil(teacher, out, run, "--steps", "3", *flags) == 0
    from safetensors.torch import load_file

    files = sorted((run / "pairs").glob("pairs_*.safetensors"))
    assert len(files) == 1
    pairs = load_file(str(files[0]))
    assert pairs["z"].shape == (16, Z_DIM) and pairs["frames"].dtype == torch.uint8
    drawn = agreement.draw(load_model(teacher).generator, pairs["z"])
    levels = (drawn + 1) * 127.5 - pairs["frames"].float()
    assert levels.abs().max() <= 0.51
    assert distil(teacher, out, run, "--steps", "5", "--resume", *flags) == 0
    assert sorted((run / "pairs").glob("pairs_*.safetensors")) == files  # drawn from, not added


@pytest.mark.skipif(not available(), reason="needs the quality extra (InceptionV3)")
def test_the_feature_and_discriminator_losses_train_too(tmp_path: Path) -> None:
    teacher = write_teacher(tmp_path / "teacher.safetensors")
    out, run = tmp_path / "s.safetensors", tmp_path / "run"
    assert distil(teacher, out, run, "--steps", "4") == 0
    row = read_metrics(run)[0]
    assert {"psnr", "l1", "features", "g_adv", "d_loss"} <= set(row)
    state = torch.load(max((run / "checkpoints").glob("*.pt")), weights_only=True)
    assert state["d"] is not None and state["opt_d"] is not None


def test_a_foreign_file_is_imported_once_and_distilled(tmp_path: Path, models_dir: Path) -> None:
    """A rosinality checkpoint as the teacher, by its path: imported into the models folder
    on the way (as `perform --model FILE` does), and named in the student."""
    foreign = Path(__file__).parent.parent / "fixtures" / "foreign" / "rosinality_converted32.pt"
    out, run = tmp_path / "s.safetensors", tmp_path / "run"
    assert distil(foreign, out, run, "--steps", "2", *PIXELS_ONLY) == 0
    imported = list(models_dir.glob("*.safetensors"))
    assert len(imported) == 1
    was = read_info(out).training["distilled_from"]
    assert was["sha256"] == file_hash(imported[0])
    assert was["source"]["file"] == foreign.name
    assert read_info(out).z_dim == read_info(imported[0]).z_dim


def test_a_livegan_model_can_teach_too(tmp_path: Path, make_tiny_model) -> None:
    """A model of livegan's own (no w, no truncation) as the teacher: its directions in z
    carry over as they are."""
    teacher = make_tiny_model(tmp_path / "lite.safetensors", name="lite-teacher")
    out, run = tmp_path / "s.safetensors", tmp_path / "run"
    assert distil(teacher, out, run, "--steps", "2", *PIXELS_ONLY) == 0
    student, taught_by = load_model(out), load_model(teacher)
    assert student.info.z_dim == taught_by.info.z_dim and student.info.resolution == 32
    assert torch.equal(student.directions, taught_by.directions)
    assert student.info.source["teacher"] == "lite-teacher"


def test_the_students_mapping_network_starts_as_the_teachers(tmp_path: Path) -> None:
    """A StyleGAN teacher's mapping network (equalised learning rate and gains folded in)
    starts the student's: at step 0 the student computes the teacher's w, scaled."""
    from livegan.distil.config import DistilConfig
    from livegan.distil.student import plan_student, start_from_teacher
    from livegan.distil.teacher import open_teacher
    from livegan.nets import build_generator

    teacher = open_teacher(write_teacher(tmp_path / "teacher.safetensors"))
    arch, config = plan_student(DistilConfig(width=8), teacher)
    assert arch == "fastgan" and config["mapping"] == 2
    student = build_generator(arch, config)
    assert start_from_teacher(student, teacher.generator)
    z = torch.randn(8, Z_DIM)
    with torch.no_grad():
        w = teacher.generator.mapping_forward(z)
        assert torch.allclose(student.mapping(z), w / 2 ** 0.5, atol=1e-5)
    _, plain = plan_student(DistilConfig(width=8, mapping=False), teacher)
    assert plain["mapping"] == 0


def test_a_student_with_a_mapping_network_is_a_livegan_model(taught) -> None:
    info = read_info(taught["out"])
    assert info.config.get("mapping") == 2 and info.config["norm"] == "batch"


def test_fastgans_mapping_option_maps_a_canvas_and_leaves_old_files_alone() -> None:
    from livegan.nets import build_generator, generator_config

    plain = build_generator("fastgan", generator_config("fastgan", resolution=32, ngf=4))
    assert not any("mapping" in key for key in plain.state_dict())  # files made before
    mapped = build_generator("fastgan", generator_config("fastgan", resolution=32, ngf=4,
                                                         mapping=2)).eval()
    z = torch.randn(1, 128, 2, 3)  # a canvas: a latent per position
    with torch.no_grad():
        assert mapped(z).shape == plain.eval()(z).shape  # the same canvas
        cell = mapped.mapping(z[:, :, 1, 2])
        assert torch.allclose(mapped.mapping(z)[:, :, 1, 2], cell, atol=1e-6)
