"""Bad input to `livegan distil`: one sentence, exit code 2, and nothing written or
overwritten."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from livegan.cli import main
from tests.distil.teachers import write_teacher

FAST = ["--width", "8", "--batch", "4", "--perceptual", "0", "--adversarial", "0",
        "--no-progress"]


def distil(teacher: Path, out: Path, run: Path, *flags: str) -> int:
    return main(["distil", str(teacher), "--out", str(out), "--run", str(run), *FAST, *flags])


def said(capsys: pytest.CaptureFixture) -> str:
    """The error: the last line on stderr, which must be the whole sentence."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and lines[-1].startswith("livegan: ")
    assert "Traceback" not in "\n".join(lines)
    return lines[-1]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("content", [b"\x80\x04not a network pickle at all" * 40, "cut"])
def test_a_teacher_that_cannot_be_read_is_one_sentence(tmp_path, models_dir, capsys,
                                                       content) -> None:
    if content == "cut":
        whole = write_teacher(tmp_path / "whole.safetensors").read_bytes()
        teacher = tmp_path / "teacher.safetensors"
        teacher.write_bytes(whole[: len(whole) // 2])
    else:
        teacher = tmp_path / "teacher.pkl"
        teacher.write_bytes(content)
    out, run = tmp_path / "student.safetensors", tmp_path / "run"
    assert distil(teacher, out, run, "--steps", "2") == 2
    assert "cannot distil from" in said(capsys)
    assert not out.exists() and not run.exists() and not list(models_dir.iterdir())


def test_a_teacher_smaller_than_any_student_is_one_sentence(tmp_path, capsys) -> None:
    teacher = write_teacher(tmp_path / "teacher.safetensors", resolution=8)
    out, run = tmp_path / "student.safetensors", tmp_path / "run"
    assert distil(teacher, out, run, "--steps", "2") == 2
    sentence = said(capsys)
    assert "cannot draw" in sentence and "8x8" in sentence
    assert not out.exists() and not run.exists()


def test_a_student_that_is_not_livegans_own_is_one_sentence(tmp_path, capsys) -> None:
    teacher = write_teacher(tmp_path / "teacher.safetensors")
    out, run = tmp_path / "student.safetensors", tmp_path / "run"
    assert distil(teacher, out, run, "--steps", "2", "--arch", "stylegan2") == 2
    assert "livegan's own generators" in said(capsys)
    assert not out.exists() and not run.exists()


def test_resuming_a_run_of_another_teacher_is_one_sentence_and_changes_nothing(
        tmp_path, capsys) -> None:
    first = write_teacher(tmp_path / "first.safetensors", seed=0, name="first")
    other = write_teacher(tmp_path / "other.safetensors", seed=1, name="other")
    out, run = tmp_path / "student.safetensors", tmp_path / "run"
    assert distil(first, out, run, "--steps", "2") == 0
    before, model = snapshot(run), out.read_bytes()
    capsys.readouterr()
    assert distil(other, out, run, "--steps", "4", "--resume") == 2
    sentence = said(capsys)
    assert "distils first" in sentence and "not other" in sentence
    assert snapshot(run) == before and out.read_bytes() == model


def test_a_run_or_a_model_already_there_is_kept_unless_asked(tmp_path, capsys) -> None:
    teacher = write_teacher(tmp_path / "teacher.safetensors")
    out, run = tmp_path / "student.safetensors", tmp_path / "run"
    assert distil(teacher, out, run, "--steps", "2") == 0
    before, model = snapshot(run), out.read_bytes()
    capsys.readouterr()
    assert distil(teacher, out, run, "--steps", "2") == 2  # the run is there: --resume
    assert "--resume" in said(capsys)
    assert distil(teacher, out, tmp_path / "run2", "--steps", "2") == 2  # the model is there
    assert "exists" in said(capsys)
    assert snapshot(run) == before and out.read_bytes() == model
    assert not (tmp_path / "run2").exists()
    assert distil(teacher, out, tmp_path / "run2", "--steps", "2", "--force") == 0
    assert out.read_bytes() != model and os.path.getsize(out) > 0


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU is here")
def test_asking_for_a_gpu_where_there_is_none_is_one_sentence(tmp_path, capsys) -> None:
    teacher = write_teacher(tmp_path / "teacher.safetensors")
    out, run = tmp_path / "student.safetensors", tmp_path / "run"
    assert distil(teacher, out, run, "--steps", "2", "--device", "cuda") == 2
    assert "no CUDA GPU" in said(capsys)
    assert not out.exists() and not run.exists()
