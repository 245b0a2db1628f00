"""Engine tests keep what backends build (TensorRT engines, OpenVINO models) in a temp folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def engine_cache(tmp_path, monkeypatch):
    """$LIVEGAN_CACHE for this test: a folder of its own, never the user's cache."""
    folder = tmp_path / "livegan-cache"
    monkeypatch.setenv("LIVEGAN_CACHE", str(folder))
    return folder
