"""lucidrains' lightweight-gan and stylegan2-pytorch, the real packages, for livegan's tests.

`lucidrains` (a session fixture) installs `lightweight-gan==1.2.1` and
`stylegan2-pytorch==1.9.0` once with `pip install --no-deps --target` into a cache folder
($LIVEGAN_TEST_CACHE, else tests/.cache/; git ignores it), imports them and hands back the
two modules. Their networks need torch, einops and kornia (the test extra). The modules they
import only for training, logging, data loading and image files (torchvision, aim,
adabelief_pytorch, vector_quantize_pytorch, fire) are given small stand-ins while they
import, and taken out of sys.modules again: the generator arithmetic under test is the
packages' own. Both packages insist on CUDA at import and move their networks there;
`on_cpu()` keeps them on the CPU.

Where pip cannot install them the tests skip with the reason, except under CI=true, where
they fail.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from torch import nn

PACKAGES = ("lightweight-gan==1.2.1", "stylegan2-pytorch==1.9.0")
MODULES = ("lightweight_gan", "stylegan2_pytorch")
STAND_INS = ("torchvision", "torchvision.transforms", "torchvision.utils", "aim",
             "adabelief_pytorch", "vector_quantize_pytorch", "fire")
PIP_TIMEOUT_S = 300


def cache_dir() -> Path:
    """Where the packages are installed: $LIVEGAN_TEST_CACHE, else tests/.cache/."""
    root = os.environ.get("LIVEGAN_TEST_CACHE")
    base = Path(root) if root else Path(__file__).resolve().parents[1] / ".cache"
    return base / ("lucidrains-" + "-".join(p.replace("==", "_") for p in PACKAGES))


def _unavailable(name: str) -> types.FunctionType:
    def call(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"{name} is a stand-in in livegan's tests (training/logging only)")

    return call


def _stand_in(name: str) -> types.ModuleType:
    """A module whose every attribute is a callable that refuses to run."""
    module = types.ModuleType(name)
    module.__getattr__ = lambda attr: _unavailable(f"{name}.{attr}")  # PEP 562
    return module


def _unavailable_reason(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"lucidrains reference packages unavailable under CI: {reason}")
    pytest.skip(f"lucidrains reference packages unavailable: {reason}")


def install(target: Path) -> float:
    """pip-install PACKAGES into `target` unless there; returns the seconds it took."""
    if all((target / m).is_dir() for m in MODULES):
        return 0.0
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
               "--disable-pip-version-check", "--target", tmp, *PACKAGES]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                  timeout=PIP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _unavailable_reason(f"pip took over {PIP_TIMEOUT_S} s")
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
            _unavailable_reason("pip failed: " + " ".join(errors or done.stderr.splitlines()[-2:]))
        if not target.exists():  # another test process may have finished first
            shutil.move(tmp, target)
            os.makedirs(tmp)  # for TemporaryDirectory's cleanup
    return time.perf_counter() - start


@contextmanager
def on_cpu() -> Iterator[None]:
    """Let the packages' `.cuda()` calls (on modules and tensors) leave things on the CPU."""
    saved = nn.Module.cuda, torch.Tensor.cuda
    nn.Module.cuda = lambda self, device=None: self
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    try:
        yield
    finally:
        nn.Module.cuda, torch.Tensor.cuda = saved


def _import_packages(target: Path) -> dict[str, types.ModuleType]:
    for needed in ("einops", "kornia"):
        try:
            importlib.import_module(needed)
        except ImportError as exc:
            _unavailable_reason(f"{needed} is missing ({exc}); pip install -e '.[test]'")
    if str(target) not in sys.path:
        sys.path.insert(0, str(target))
    saved = {name: sys.modules.get(name) for name in STAND_INS}
    stand_ins = {name: _stand_in(name) for name in STAND_INS}
    stand_ins["torchvision"].transforms = stand_ins["torchvision.transforms"]
    stand_ins["torchvision"].utils = stand_ins["torchvision.utils"]
    is_available = torch.cuda.is_available
    sys.modules.update(stand_ins)
    torch.cuda.is_available = lambda: True  # both packages assert it at import
    try:
        return {name: importlib.import_module(name) for name in MODULES}
    finally:
        torch.cuda.is_available = is_available
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


@pytest.fixture(scope="session")
def lucidrains() -> types.SimpleNamespace:
    """The imported packages: .lightweight_gan, .stylegan2_pytorch (their main modules),
    and .install_s (seconds pip took in this session, 0 when cached)."""
    target = cache_dir()
    seconds = install(target)
    modules = _import_packages(target)
    return types.SimpleNamespace(
        lightweight_gan=sys.modules["lightweight_gan.lightweight_gan"],
        stylegan2_pytorch=sys.modules["stylegan2_pytorch.stylegan2_pytorch"],
        packages=modules, install_s=seconds,
    )
