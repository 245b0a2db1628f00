"""The `livegan` command: help texts, model listing, errors as one sentence, osc, data synth."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from livegan.cli import build_parser, main

# subcommand -> flags its --help must mention (the CLI contract)
HELP_FLAGS = {
    "perform": ["--model", "--backend", "--osc-port", "--host", "--size", "--fullscreen",
                "--display", "--frames", "--record", "--feedback", "--midi", "--max-res",
                "--space"],
    "train": ["--out", "--arch", "--res", "--steps", "--batch", "--resume"],
    "export": ["--out", "--name", "--directions"],
    "data": ["prepare", "synth"],
    "render": ["--seconds", "--fps", "--seeds", "--grid", "--canvas", "--upscale", "--max-res",
               "--space"],
    "bench": ["--model", "--backend", "--frames", "--json", "--max-res", "--distil"],
    "distil": ["--out", "--run", "--minutes", "--steps", "--resume", "--arch", "--width",
               "--truncation", "--max-res", "--cache", "--device", "--force"],
    "import": ["--out", "--force", "StyleGAN2-ADA", "rosinality", "lightweight-gan",
               "stylegan2-pytorch", "no code from the file ever runs"],
    "models": ["--help"],
    "osc": ["patch"],
    "midi": ["learn"],
}


def _help(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture) -> None:
    text = _help([], capsys)
    for command in HELP_FLAGS:
        assert command in text
    assert "examples:" in text and "livegan perform" in text


@pytest.mark.parametrize("command", sorted(HELP_FLAGS))
def test_subcommand_help(command: str, capsys: pytest.CaptureFixture) -> None:
    text = _help([command], capsys)
    assert text.startswith(f"usage: livegan {command}")
    for flag in HELP_FLAGS[command]:
        assert flag in text, f"{command} --help does not mention {flag}"


@pytest.mark.parametrize("sub", ["prepare", "synth"])
def test_data_subcommand_help(sub: str, capsys: pytest.CaptureFixture) -> None:
    text = _help(["data", sub], capsys)
    assert "--res" in text


def test_every_subcommand_is_covered() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(commands) == set(HELP_FLAGS)


def test_console_script_is_installed() -> None:
    done = subprocess.run(["livegan", "--help"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0 and "usage: livegan" in done.stdout
    assert "pygame" not in done.stdout.lower()  # no import greeting on stdout


def test_unknown_subcommand_and_bad_flag_exit_2(capsys: pytest.CaptureFixture) -> None:
    for argv in (["dance"], ["perform", "--size", "huge"], ["bench", "--frames", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert "usage:" in err and "Traceback" not in err


def test_models_lists_good_and_broken(models_dir: Path, make_tiny_model, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    make_tiny_model(models_dir / "moth.safetensors", name="moth")
    (models_dir / "cut.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    good = [line for line in lines if "moth" in line]
    bad = [line for line in lines if "cut.safetensors" in line]
    assert len(good) == 1 and "32px" in good[0] and "lite" in good[0]
    assert "4 directions" in good[0]
    assert len(bad) == 1 and "unusable" in bad[0]


def test_models_in_an_empty_folder_says_what_to_do(models_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("livegan.modelfile.BUNDLED_DIR", tmp_path / "no_bundled_models")
    assert main(["models"]) == 0
    assert "livegan train" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--model", "no_such_model", "--frames", "5"],
        ["render", "no_such_model", "out.png", "--grid", "1x1"],
        ["export", "no_such_run", "--out", "x.safetensors"],
        ["data", "synth", "synth_out", "--count", "2", "--res", "20"],
        ["data", "synth", "synth_out", "--count", "2", "--res", "32", "--style", "cubism"],
        ["data", "prepare", "no_such_folder", "prepared", "--res", "32"],
        ["train", "no_such_folder", "--out", "run", "--steps", "1"],
        ["osc", "no_such_patch.toml"],
    ],
)
def test_errors_are_one_sentence_and_exit_2(argv: list[str], models_dir: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("livegan: ") and "Traceback" not in err
    assert err.strip().count("\n") == 0, err


def test_osc_prints_the_namespace(capsys: pytest.CaptureFixture) -> None:
    assert main(["osc"]) == 0
    out = capsys.readouterr().out
    for address in ("/livegan/z", "/livegan/dir/", "/livegan/seed", "/livegan/mode",
                    "/livegan/model", "/livegan/hud", "/wek/outputs", "12000"):
        assert address in out


def test_data_synth_writes_count_files(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    assert main(["data", "synth", str(out), "--count", "5", "--res", "32"]) == 0
    files = sorted(out.glob("*.png"))
    assert len(files) == 5
    from PIL import Image

    with Image.open(files[0]) as image:
        assert image.size == (32, 32) and image.mode == "RGB"


@pytest.mark.parametrize("flag", ["--osc-port", "--oscquery-port"])
@pytest.mark.parametrize("value", ["70000", "-1", "twelve"])
def test_a_port_out_of_range_is_one_sentence(flag: str, value: str,
                                             capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["perform", flag, value, "--frames", "1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "port" in err and "Traceback" not in err and "OverflowError" not in err
