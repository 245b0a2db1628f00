"""Security: OSC on loopback unless opened up (with a warning and an allowlist), models only
by name from the model folders and only as safetensors, nothing from a patch or message ever
run as code."""

from __future__ import annotations

import io
import logging
import os
import pickle
import tokenize
from pathlib import Path

import pytest
import torch

import livegan
from livegan import perform as perform_module
from livegan.cli import main
from livegan.control.controls import Controls
from livegan.control.inputs import ShowInputs
from livegan.control.osc.namespace import OscNamespace
from livegan.control.osc.server import OscServer
from livegan.engine.guard import load_checked
from livegan.errors import LiveganError, ModelFileError, PatchError
from livegan.modelfile import find_model, load_model
from livegan.patchfile.load import load_patch, parse_patch

PACKAGE = Path(livegan.__file__).parent
ATTACK = "__import__('os').system('touch PWNED')"


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list:
    """The PerformConfig `livegan perform` would play, without playing it."""
    configs: list = []
    monkeypatch.setattr(perform_module, "perform", lambda cfg: configs.append(cfg) or 0)
    return configs


# -- where OSC listens -----------------------------------------------------------------------------

def test_osc_listens_on_loopback_by_default(captured: list, tmp_path: Path) -> None:
    assert main(["perform", "--model", "x", "--frames", "1"]) == 0
    cfg = captured[0]
    assert cfg.osc.host == "127.0.0.1" and cfg.osc.allow is None
    server = OscServer(lambda *a: None, cfg.osc.host, 0).start()
    try:
        assert server._sock.getsockname()[0] == "127.0.0.1"
    finally:
        server.stop()


def test_perform_on_every_interface_warns(dummy_video, tiny_model: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.WARNING, logger="livegan.control.osc")
    assert main(["perform", "--model", str(tiny_model), "--host", "0.0.0.0", "--osc-port", "0",
                 "--frames", "3", "--size", "32x32", "--backend", "cpu"]) == 0
    assert "anyone on the network can steer the show" in caplog.text
    assert "osc.allow" in caplog.text  # and says how to restrict it


def test_a_patch_allowlist_opens_up_safely(captured: list, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    patch = tmp_path / "open.toml"
    patch.write_text('[osc]\nhost = "0.0.0.0"\nallow = ["127.0.0.1", "192.168.1.0/24"]\n')
    assert main(["perform", str(patch), "--model", "x"]) == 0
    cfg = captured[0]
    assert cfg.osc.host == "0.0.0.0" and cfg.osc.allow == ("127.0.0.1", "192.168.1.0/24")
    got: list[str] = []
    server = OscServer(lambda address, args, sender: got.append(sender[0]), cfg.osc.host, 0,
                       list(cfg.osc.allow))
    caplog.set_level(logging.WARNING, logger="livegan.control.osc")
    server.start()
    try:
        assert "anyone on the network" not in caplog.text
        message = b"/livegan/speed\0\0,f\0\0\x3f\0\0\0"
        for sender in ("127.0.0.1", "192.168.1.77", "10.0.0.5", "192.168.2.1", "::1"):
            server.feed(message, (sender, 5000))
        assert got == ["127.0.0.1", "192.168.1.77"]
        assert server.stats()["not_allowed"] == 3
    finally:
        server.stop()


# -- which files a show may read ----------------------------------------------------------------

TRAVERSALS = ["../x", "/etc/passwd", "models/../../x", "..", ".", "", "x/../../x", "..\\x",
              "C:\\Windows\\x", "~/x", "./x", "x/", "/", "../models_dir/tiny", "x" * 5000,
              "tiny\0.safetensors"]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_hot_swap_names_cannot_leave_the_model_folders(name: str, tmp_path: Path,
                                                       models_dir: Path, make_tiny_model) -> None:
    make_tiny_model(tmp_path / "x.safetensors")  # a real model just outside the folder
    make_tiny_model(models_dir / "tiny.safetensors")
    with pytest.raises(ModelFileError):
        find_model(name, allow_paths=False)


def test_a_symlink_in_a_model_folder_is_the_owners_choice(tmp_path: Path, models_dir: Path,
                                                          make_tiny_model) -> None:
    """Decided: a link placed in a model folder is followed (only someone who can write
    there can plant one, and they could copy any file there as well); a sender can only
    pick names. What it points at must still be a valid safetensors model."""
    outside = make_tiny_model(tmp_path / "elsewhere" / "mine.safetensors")
    (models_dir / "linked.safetensors").symlink_to(outside)
    assert find_model("linked", allow_paths=False) == models_dir / "linked.safetensors"
    assert load_model(find_model("linked", allow_paths=False)).info.resolution == 32
    (models_dir / "passwd.safetensors").symlink_to("/etc/passwd")
    with pytest.raises(ModelFileError, match="not a readable .safetensors"):
        load_checked("passwd", "cpu")


class _Trap:
    """Unpickling this creates a file: proof that something unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_named_like_a_model_is_refused_and_never_unpickled(
        tmp_path: Path, models_dir: Path, capsys: pytest.CaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "UNPICKLED"
    (models_dir / "evil.safetensors").write_bytes(pickle.dumps(_Trap(marker)))
    buffer = io.BytesIO()
    torch.save({"g": _Trap(marker)}, buffer)  # torch's zip+pickle format, renamed
    (models_dir / "evil2.safetensors").write_bytes(buffer.getvalue())
    for name in ("evil", "evil2"):
        with pytest.raises(ModelFileError, match="not a readable .safetensors"):
            load_checked(name, "cpu")
    monkeypatch.chdir(tmp_path)
    # given as a file, its content says pickle: the import's restricted reader refuses it
    for name, words in (("evil", "livegan refused it and ran nothing"),
                        ("evil2", "which livegan does not load")):
        assert main(["perform", "--model", str(models_dir / f"{name}.safetensors"),
                     "--frames", "1", "--osc-port", "0"]) == 2
        assert words in capsys.readouterr().err
    assert not marker.exists()
    assert sorted(p.name for p in models_dir.iterdir()) == ["evil.safetensors",
                                                            "evil2.safetensors"]


# -- nothing is evaluated as code -------------------------------------------------------------------

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "yaml",
                     "joblib"}


def _code_tokens(path: Path) -> list[tokenize.TokenInfo]:
    with open(path, "rb") as f:
        return [t for t in tokenize.tokenize(f.readline)
                if t.type in (tokenize.NAME, tokenize.OP)]


# the one module that imports pickle: a reader that resolves no global outside its table
RESTRICTED_UNPICKLER = "foreign/unpickle.py"


def test_the_restricted_unpickler_resolves_only_its_table() -> None:
    from livegan.foreign.base import ForeignFileError
    from livegan.foreign.unpickle import ADMITTED, RestrictedUnpickler

    reader = RestrictedUnpickler(io.BytesIO(b""))
    for module, name in (("os", "system"), ("builtins", "eval"), ("builtins", "getattr"),
                         ("subprocess", "Popen"), ("torch", "load"), ("numpy", "load"),
                         ("torch_utils.persistence", "_src_to_module")):
        with pytest.raises(ForeignFileError):
            reader.find_class(module, name)
    assert all(not getattr(v, "__module__", "").startswith(("os", "subprocess", "builtins.e"))
               for v in ADMITTED.values())


def test_the_package_never_evaluates_or_unpickles() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tokens = _code_tokens(path)
        for i, token in enumerate(tokens):
            nxt = tokens[i + 1].string if i + 1 < len(tokens) else ""
            prev = tokens[i - 1].string if i else ""
            if token.string in FORBIDDEN_CALLS and nxt == "(" and prev != ".":
                found.append(f"{path.name}:{token.start[0]} {token.string}(")
            if token.string in FORBIDDEN_MODULES and prev in ("import", "from") \
                    and path.relative_to(PACKAGE).as_posix() != RESTRICTED_UNPICKLER:
                found.append(f"{path.name}:{token.start[0]} import {token.string}")
            if token.string in ("load", "loads", "Unpickler") and prev == "." \
                    and i >= 2 and tokens[i - 2].string == "pickle" and not (
                        token.string == "Unpickler"
                        and path.relative_to(PACKAGE).as_posix() == RESTRICTED_UNPICKLER):
                found.append(f"{path.name}:{token.start[0]} pickle.{token.string}")
        text = path.read_text()
        for n, line in enumerate(text.splitlines(), 1):
            if "torch.load(" in line and "weights_only=True" not in line:
                found.append(f"{path.name}:{n} torch.load without weights_only=True")
    assert not found, found


def test_code_in_a_patch_or_a_message_stays_a_string(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = (f'model = "{ATTACK}"\n[midi]\ninput = "{ATTACK}"\n'
            f'[[map]]\nosc = "/x"\nto = "scene"\nvalue = "{ATTACK}"\n'
            f'[[map]]\nosc = "/y"\nto = "model"\nvalue = "{ATTACK}"\n'
            f'[scenes."{ATTACK}"]\nspeed = 0.5\n')
    (tmp_path / "p.toml").write_text(text)
    patch = load_patch(tmp_path / "p.toml")
    assert patch.model == ATTACK and patch.midi.input == (ATTACK,)
    assert list(patch.scenes) == [ATTACK]
    controls = Controls(16, 4)
    namespace = OscNamespace(controls)
    inputs = ShowInputs(controls, namespace, patch)
    server = OscServer(inputs.dispatcher, port=0)
    for address in ("/x", "/y", "/livegan/scene", "/livegan/label", "/livegan/mode",
                    "/livegan/model"):
        server.feed(b"".join([address.encode() + b"\0" * (4 - len(address) % 4),
                              b",s\0\0", ATTACK.encode() + b"\0" * (4 - len(ATTACK) % 4)]))
    events = controls.app_events()
    assert ("model", ATTACK) in events and ("scene", ATTACK) in events
    handlers = inputs.app_handlers()
    handlers["scene"](ATTACK)  # as the show's main loop does
    assert inputs.router.scene == ATTACK  # a scene recalled by its (odd) name, nothing more
    with pytest.raises(LiveganError):
        find_model(ATTACK, allow_paths=False)
    for curve in (ATTACK, "x**2", "lambda t: t"):
        with pytest.raises(PatchError):
            parse_patch(f'[[map]]\nosc = "/a"\nto = "speed"\ncurve = "{curve}"\n', "c.toml")
    assert not (tmp_path / "PWNED").exists() and not os.path.exists("PWNED")
