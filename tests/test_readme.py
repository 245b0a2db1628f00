"""The README and docs/ as a reader uses them: their OSC examples send what they say."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from livegan.control.osc.namespace import NAMESPACE

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _oscsend_lines() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for line in page.read_text(encoding="utf-8").splitlines():
            code = line.split("#", 1)[0].strip().strip("`")
            if code.startswith("oscsend "):
                found.append((f"{page.name}: {line.strip()}", code))
    return found


def _known(address: str) -> bool:
    for pattern in NAMESPACE:
        if pattern == address:
            return True
        if "{" in pattern and address.startswith(pattern[: pattern.index("{")]):
            return True
    return False


@pytest.mark.parametrize("where, code", _oscsend_lines())
def test_each_oscsend_example_types_every_argument(where: str, code: str) -> None:
    """liblo's oscsend takes one type string for all the arguments: `ff 0.25 0` sends two
    floats, `f 0.25 0` only one."""
    words = shlex.split(code)
    _, port, address, *rest = words[1:]  # host, port, address, types and values
    assert port.isdigit(), where
    if rest:
        types, args = rest[0], rest[1:]
        assert re.fullmatch(r"[ifsTFNhdc]+", types), f"{where}: '{types}' is not a type string"
        assert len(types) == len(args), f"{where}: {len(types)} types for {len(args)} values"
    if address.startswith("/livegan/"):
        assert _known(address), f"{where}: {address} is not in the namespace"


def test_there_are_examples_to_check() -> None:
    assert len(_oscsend_lines()) >= 10


def _pictures() -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(docs/([^)]+)\)", (ROOT / "README.md").read_text())


def test_every_picture_of_the_readme_comes_from_the_pictures_script() -> None:
    """scripts/pictures.py renders each from today's models, so a retrained model refreshes
    them all."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("pictures", ROOT / "scripts" / "pictures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = {name + getattr(module, "SUFFIX", {}).get(name, ".png") for name in module.PICTURES}
    shown = _pictures()
    assert shown and set(shown) <= made, sorted(set(shown) - made)
    for name in shown:
        assert (ROOT / "docs" / name).is_file(), name


@pytest.mark.slow
def test_the_window_picture_is_a_real_show_with_its_hud(tmp_path: Path) -> None:
    import subprocess
    import sys

    from PIL import Image

    subprocess.run([sys.executable, str(ROOT / "scripts" / "pictures.py"), "--out",
                    str(tmp_path), "--only", "window"], check=True, timeout=300,
                   env={**__import__("os").environ, "SDL_VIDEODRIVER": "dummy"})
    made = Image.open(tmp_path / "window.png").convert("RGB")
    committed = Image.open(ROOT / "docs" / "window.png").convert("RGB")
    assert made.size == committed.size == (640, 640)
    import numpy as np

    corner = np.asarray(made)[:120, :320].min(axis=2)  # the HUD's box: white text on dark
    assert (corner > 200).sum() > 200, "no HUD text in the top-left corner"
    assert (corner < 60).sum() > 1000, "no HUD box in the top-left corner"
