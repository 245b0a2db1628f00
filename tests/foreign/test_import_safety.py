"""Importing files of other programs: no pickled code runs, and every bad file gets one
sentence, exit code 2 and nothing written to the models folder."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from livegan.cli import main
from livegan.foreign import ForeignFileError, import_file, read_foreign
from livegan.foreign.unpickle import load_pickle


class _WritesFile:
    """Unpickling this calls open(target, 'w'), which writes a file."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


class _StartsProcess:
    """Unpickling this calls os.system, which starts a shell."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


class _Subprocess:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (subprocess.call, (["touch", self.target],))


def _network_like(payload: object) -> dict:
    """A dict shaped like NVIDIA's snapshot, with the payload where a network would be."""
    return {"G": payload, "D": None, "G_ema": payload, "training_set_kwargs": {"path": "x"}}


@pytest.mark.parametrize("make", [_WritesFile, _StartsProcess, _Subprocess])
def test_a_pickle_that_would_run_code_runs_nothing(tmp_path: Path, make, models_dir: Path,
                                                   capsys) -> None:
    target = tmp_path / "pwned"
    bad = tmp_path / "evil.pkl"
    bad.write_bytes(pickle.dumps(_network_like(make(str(target))), protocol=4))
    # the same pickle does run its payload under plain pickle.load: the test is real
    with pytest.raises(ForeignFileError) as refused:
        read_foreign(bad)
    assert not target.exists()
    text = str(refused.value)
    assert "refused" in text and ("io.open" in text or "system" in text
                                  or "subprocess.call" in text)
    assert main(["import", str(bad)]) == 2
    assert not target.exists()
    assert list(models_dir.iterdir()) == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "evil.pkl" in err


def test_the_payload_is_real(tmp_path: Path) -> None:
    """Control: plain pickle.load of the same bytes in another process does write the file."""
    target = tmp_path / "written"
    bad = tmp_path / "evil.pkl"
    bad.write_bytes(pickle.dumps(_network_like(_WritesFile(str(target))), protocol=4))
    code = f"import pickle; pickle.load(open({str(bad)!r}, 'rb'))"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert target.exists()


def test_tensors_and_plain_data_are_read(tmp_path: Path) -> None:
    path = tmp_path / "plain.pkl"
    weight = torch.nn.Parameter(torch.randn(3, 4))
    path.write_bytes(pickle.dumps({"a": OrderedDict(w=weight), "b": [1, 2.5, "x"],
                                   "c": torch.arange(6).reshape(2, 3)[:, 1:]}, protocol=4))
    data = load_pickle(path)
    assert torch.equal(data["a"]["w"], weight.detach())
    assert data["b"] == [1, 2.5, "x"]
    assert torch.equal(data["c"], torch.tensor([[1, 2], [4, 5]]))


def test_a_tensorflow_era_pickle_is_named(tmp_path: Path, capsys) -> None:
    path = tmp_path / "karras2019stylegan-ffhq-1024x1024.pkl"
    # protocol 2: GLOBAL dnnlib.tflib.network.Network, NEWOBJ with no arguments, as the
    # TensorFlow StyleGAN pickles hold their networks
    path.write_bytes(b"\x80\x02cdnnlib.tflib.network\nNetwork\nq\x00)\x81q\x01.")
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "TensorFlow-era" in err and "legacy.py" in err


def test_a_truncated_torch_file_says_so(tmp_path: Path, capsys) -> None:
    good = tmp_path / "ckpt.pt"
    torch.save({"g_ema": {"style.1.weight": torch.randn(64, 64)}}, good)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert main(["import", str(cut)]) == 2
    assert "truncated or corrupt" in capsys.readouterr().err


def test_a_truncated_pickle_says_so(tmp_path: Path, capsys) -> None:
    path = tmp_path / "cut.pkl"
    whole = pickle.dumps({"G_ema": None, "x": list(range(1000))}, protocol=4)
    path.write_bytes(whole[: len(whole) // 2])
    assert main(["import", str(path)]) == 2
    assert "truncated or corrupt" in capsys.readouterr().err


def test_a_torch_file_with_code_is_refused(tmp_path: Path, capsys) -> None:
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"g_ema": _WritesFile(str(target))}, path)
    assert main(["import", str(path)]) == 2
    assert not target.exists()
    assert "livegan does not load" in capsys.readouterr().err


def test_discriminator_only_files_are_named(tmp_path: Path, capsys) -> None:
    path = tmp_path / "d.pt"
    torch.save({"d": {"convs.0.0.weight": torch.randn(8, 3, 1, 1)}}, path)
    assert main(["import", str(path)]) == 2
    assert "only a discriminator" in capsys.readouterr().err


def test_other_files_name_what_livegan_opens(tmp_path: Path, capsys, models_dir: Path) -> None:
    for name, data in (("empty.pkl", b""), ("notes.pkl", b"hello there, not a model"),
                       ("list.pkl", pickle.dumps([1, 2, 3]))):
        path = tmp_path / name
        path.write_bytes(data)
        assert main(["import", str(path)]) == 2
        err = capsys.readouterr().err
        assert "StyleGAN2-ADA or StyleGAN3 .pkl" in err and err.count("\n") == 1
    assert list(models_dir.iterdir()) == []


def test_an_existing_model_is_not_overwritten(tmp_path: Path, tiny_model: Path) -> None:
    before = tiny_model.read_bytes()
    with pytest.raises(ForeignFileError, match="exists"):
        import_file(tmp_path / "whatever.pkl", tiny_model)
    assert tiny_model.read_bytes() == before


def test_a_livegan_model_needs_no_import(tiny_model: Path, capsys) -> None:
    assert main(["import", str(tiny_model)]) == 2
    assert "nothing to import" in capsys.readouterr().err


def test_a_file_too_large_for_memory_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    from livegan.foreign import read

    path = tmp_path / "huge.pkl"
    path.write_bytes(pickle.dumps({"G_ema": None}) * 1000)
    monkeypatch.setattr(read, "_available_memory", lambda: 1000)
    assert main(["import", str(path)]) == 2
    assert "too large for this machine's memory" in capsys.readouterr().err


def test_a_legacy_torch_file_is_told_from_a_network_pickle(tmp_path: Path) -> None:
    """torch.save's pre-zip format is a bare pickle too: its first opcodes say so, and it
    loads with weights_only=True like a zip one; a network pickle is not mistaken for it."""
    from livegan.foreign.read import _is_legacy_torch

    fixtures = Path(__file__).parent.parent / "fixtures" / "foreign"
    checkpoint = torch.load(fixtures / "rosinality_converted32.pt", weights_only=True)
    legacy = tmp_path / "legacy.pt"
    torch.save(checkpoint, legacy, _use_new_zipfile_serialization=False)
    assert _is_legacy_torch(legacy) and not _is_legacy_torch(fixtures / "sg2ada_skip32.pkl")
    assert read_foreign(legacy).arch == "stylegan2"
