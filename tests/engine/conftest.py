"""Engine tests keep what backends build (TensorRT engines, OpenVINO models) in a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_engine_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the engine tests of this session: a model converted by one test
    (an OpenVINO conversion costs seconds) is read from it by the next that plays the same
    weights, as a show's second start reads it. Never the user's cache."""
    return tmp_path_factory.mktemp("livegan-cache")


@pytest.fixture(autouse=True)
def _engine_cache_env(shared_engine_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$LIVEGAN_CACHE for every engine test: the session's folder (see shared_engine_cache)."""
    monkeypatch.setenv("LIVEGAN_CACHE", str(shared_engine_cache))


@pytest.fixture
def engine_cache(_engine_cache_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$LIVEGAN_CACHE for this test: an empty folder of its own, for tests of the cache
    itself (what is converted, what is read back)."""
    folder = tmp_path / "livegan-cache"
    monkeypatch.setenv("LIVEGAN_CACHE", str(folder))
    return folder
