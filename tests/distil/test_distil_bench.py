"""`livegan bench --distil`: a student's agreement with its teacher on held-out latents, at
each CPU-minute mark its run kept, beside a blurred copy of the teacher's frames."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livegan.cli import main
from livegan.nets.pretrained import available
from tests.distil.teachers import write_teacher

pytestmark = pytest.mark.skipif(not available(), reason="needs the quality extra (InceptionV3)")


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 32x32 StyleGAN2 distilled for 40 steps, its run keeping a copy at 0.001 CPU-minutes."""
    import livegan.distil.run as run_module

    folder = tmp_path_factory.mktemp("bench")
    teacher = write_teacher(folder / "teacher.safetensors")
    out = folder / "student.safetensors"
    mp = pytest.MonkeyPatch()
    mp.setattr(run_module, "LADDER", (0.001,))
    try:
        assert main(["distil", str(teacher), "--out", str(out), "--run", str(folder / "run"),
                     "--width", "8", "--batch", "8", "--steps", "40", "--perceptual", "0",
                     "--adversarial", "0", "--no-progress"]) == 0
    finally:
        mp.undo()
    return out


@pytest.mark.slow
def test_the_command_line_bench_judges_each_kept_student_and_adds_both_frame_rates(
        student: Path, capsys) -> None:
    """One run of the command (its InceptionV3 judge and both models' shows cost tens of
    seconds): the figures of every kept student, the references and both frame rates."""
    from livegan.bench.distil import format_distil

    assert main(["bench", "--distil", "--model", str(student), "--pairs", "16", "--frames",
                 "20", "--backend", "cpu", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    ref = result["reference"]
    assert ref["teacher"]["psnr"] > 99 and ref["blurred"]["psnr"] < 40
    assert ref["blurred"]["kid"] > ref["teacher"]["kid"]
    early, final = result["students"]
    assert "ladder" in early["file"] and final["file"] == str(student)
    assert early["cpu_minutes"] < final["cpu_minutes"] and early["steps"] < final["steps"] == 40
    assert final["psnr"] > early["psnr"]
    assert result["teacher"].endswith("teacher.safetensors") and result["pairs"] == 16
    text = format_distil(result)
    assert "teacher blurred" in text and "student.safetensors" in text
    for who in ("student", "teacher"):
        speed = result["speed"][who]
        assert speed["end_to_end_fps"] > 0 and speed["resolution"] == 32
        assert f"{who}: " in text and speed["backend"] == "cpu"
    assert result["speed"]["student"]["gflop_per_frame"] < 1.0


def test_a_model_that_is_no_student_is_one_sentence(tmp_path: Path, capsys) -> None:
    teacher = write_teacher(tmp_path / "teacher.safetensors")
    assert main(["bench", "--distil", "--model", str(teacher), "--pairs", "8"]) == 2
    assert "not a student of `livegan distil`" in capsys.readouterr().err
