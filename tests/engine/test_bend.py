"""Network bending on the engines: every op bends the frame, zero amounts are exactly the
unbent frame, and frozen and converted graphs render the same bends as eager torch."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from livegan.bendops import BY_NAME, OPS
from livegan.engine import Engine
from livegan.engine.bend import BendHooks, bend_amounts
from livegan.engine.canvas import CanvasRequest
from livegan.engine.cpu import CpuBackend, freeze
from livegan.modelfile import load_model
from livegan.nets.taps import feature_layers

Z = np.random.default_rng(3).standard_normal(128).astype(np.float32)
# one bend of each op, somewhere in its range, as a show would send them
SOME = {"ablate": (0.5, 0.2), "invert": (1.0,), "erode": (2.0,), "dilate": (2.0,),
        "translate": (0.25, -0.25), "rotate": (90.0,), "scale": (1.0,), "flip": (1.0, 0.0),
        "noise": (0.7, 3.0)}


def _mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture
def eager(tiny_model: Path) -> Engine:
    engine = Engine(load_model(tiny_model), "cpu")
    engine.backend.close()
    engine.backend = CpuBackend(engine.model.generator, engine.z_dim, precision="eager")
    yield engine
    engine.close()


def test_the_ops_table_covers_every_op_once() -> None:
    assert sorted(SOME) == sorted(op.name for op in OPS)
    for name, amounts in SOME.items():
        op = BY_NAME[name]
        assert len(amounts) == op.size
        assert all(lo <= a <= hi for a, lo, hi in zip(amounts, op.low, op.high))


@pytest.mark.parametrize("op", sorted(SOME))
def test_each_op_changes_the_frame_and_zero_is_identity(eager: Engine, op: str) -> None:
    plain = eager.render(Z)
    eager.set_bends({("8", op): SOME[op]})
    bent = eager.render(Z)
    assert _mean_diff(bent, plain) > 1.0, f"{op} did not change the frame"
    eager.set_bends({("8", op): (0.0,) * BY_NAME[op].size})
    assert np.array_equal(eager.render(Z), plain), f"{op} at 0 is not the unbent frame"
    eager.set_bends({})
    assert np.array_equal(eager.render(Z), plain)


@pytest.mark.parametrize("op", ["ablate", "noise"])
def test_the_second_amount_alone_changes_nothing(eager: Engine, op: str) -> None:
    plain = eager.render(Z)
    eager.set_bends({("16", op): (0.0, 0.6)})
    assert np.array_equal(eager.render(Z), plain)


def test_each_layer_is_named_by_its_map_size(make_tiny_model, tmp_path: Path) -> None:
    """dcgan and lite: 4 .. R; fastgan: 4 .. R/2 (its last doubling is a pixel shuffle)."""
    expect = {"dcgan": ["4", "8", "16", "32"], "lite": ["4", "8", "16", "32"],
              "fastgan": ["4", "8", "16"]}
    for arch, names in expect.items():
        model = load_model(make_tiny_model(tmp_path / f"{arch}.safetensors", arch=arch))
        layers = feature_layers(model.generator)
        assert list(layers) == names, arch
        sizes: dict[str, tuple[int, ...]] = {}
        hooks = [m.register_forward_hook(
            lambda mod, i, out, name=name, sizes=sizes: sizes.__setitem__(
                name, tuple(out.shape[-2:])))
            for name, m in layers.items()]
        with torch.no_grad():
            model.generator.eval()(torch.zeros(1, model.info.z_dim))
        for h in hooks:
            h.remove()
        assert sizes == {n: (int(n), int(n)) for n in names}, arch
        engine = Engine(model, "cpu")
        assert engine.bend_layers == names
        plain = engine.render(Z)
        engine.set_bends({(names[1], "rotate"): (90.0,)})
        assert _mean_diff(engine.render(Z), plain) > 1.0, arch
        engine.close()


def test_a_frozen_graph_renders_the_same_bends_as_eager(tiny_model: Path) -> None:
    model = load_model(tiny_model)
    g = model.generator.float().eval()
    frozen = freeze(g, model.info.z_dim, 0, torch.float32)
    assert frozen is not g, "the tiny model did not freeze"
    assert not g._forward_hooks, "tracing left hooks on the generator"
    layers = list(feature_layers(g))
    bends = {(layer, op): SOME[op] for layer, op in zip(layers * 3, sorted(SOME))}
    amounts = bend_amounts(layers, bends)
    z = torch.from_numpy(Z)[None]
    hooks = BendHooks(g)
    hooks.set(amounts)
    with torch.inference_mode():
        want = g(z)
        got = frozen(z, None, torch.from_numpy(amounts))
        unbent = frozen(z)
        hooks.remove()
        plain = g(z)
    assert float((got - want).abs().max()) < 1e-3  # BatchNorm folded: float rounding only
    assert float((unbent - plain).abs().max()) < 1e-3
    assert float((got - plain).abs().mean()) > 0.01


def test_the_cpu_backend_bends_in_whichever_variant_it_chose(tiny_model: Path) -> None:
    model = load_model(tiny_model)
    reference = CpuBackend(model.generator, model.info.z_dim, precision="eager")
    backend = CpuBackend(model.generator, model.info.z_dim, precision="fp32")
    layers = list(feature_layers(model.generator))
    amounts = bend_amounts(layers, {("8", "rotate"): (45.0,), ("16", "noise"): (0.5, 1.0)})
    plain = backend.render(Z)
    for b in (reference, backend):
        b.set_bends(amounts)
    bent = backend.render(Z)
    assert np.abs(bent.astype(int) - reference.render(Z)).max() <= 2, backend.describe()
    assert _mean_diff(bent, plain) > 1.0
    backend.set_bends(np.zeros_like(amounts))
    assert np.abs(backend.render(Z).astype(int) - plain).max() == 0


def test_openvino_renders_the_same_bends_as_eager(tiny_model: Path) -> None:
    pytest.importorskip("openvino")
    from livegan.engine.openvino import OpenVinoBackend

    model = load_model(tiny_model)
    reference = CpuBackend(model.generator, model.info.z_dim, precision="eager")
    ov = OpenVinoBackend(model.generator, model.info.z_dim, precision="fp32")
    layers = list(feature_layers(model.generator))
    plain = ov.render(Z)
    assert np.abs(plain.astype(int) - reference.render(Z)).max() <= 2
    for op, amounts in SOME.items():
        a = bend_amounts(layers, {("8", op): amounts})
        ov.set_bends(a)
        reference.set_bends(a)
        got, want = ov.render(Z), reference.render(Z)
        assert np.abs(got.astype(int) - want).max() <= 3, op
        assert _mean_diff(got, plain) > 1.0, op
    ov.set_bends(np.zeros_like(a))
    assert np.abs(ov.render(Z).astype(int) - plain).max() == 0
    ov.close()


def test_a_backend_without_bends_hands_bent_frames_to_an_eager_one(
        tiny_model: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    """As TensorRT does: its engine has no bends, so bent frames render eagerly (one line)."""
    class Compiled(CpuBackend):
        def set_bends(self, amounts: np.ndarray) -> bool:
            return not np.any(amounts)

    monkeypatch.setattr("livegan.engine.create_backend", lambda model, backend, caches=None: Compiled(
        model.generator, model.info.z_dim, precision="eager"))
    engine = Engine(load_model(tiny_model), "cpu")
    plain = engine.render(Z)
    with caplog.at_level(logging.WARNING, logger="livegan.engine"):
        for angle in (30.0, 60.0, 90.0):
            engine.set_bends({("8", "rotate"): (angle,)})
            bent = engine.render(Z)
    lines = [r for r in caplog.records if "no bends in its compiled graph" in r.getMessage()]
    assert len(lines) == 1
    assert _mean_diff(bent, plain) > 1.0
    engine.set_bends({})
    assert np.array_equal(engine.render(Z), plain)
    engine.close()


def test_a_canvas_is_bent_too(eager: Engine) -> None:
    eager.set_canvas(CanvasRequest(size=(64, 32)))
    assert eager.canvas is not None
    plain = eager.render(Z)
    eager.set_bends({("8", "flip"): (1.0, 0.0)})
    bent = eager.render(Z)
    assert bent.shape == plain.shape and _mean_diff(bent, plain) > 1.0


@pytest.mark.parametrize("name", ["cuda", "tensorrt"])
def test_gpu_backends_bend_and_tensorrt_hands_bent_frames_to_cuda(
        name: str, tiny_model: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        caplog) -> None:
    """The cuda and tensorrt backends' own code, the GPU faked (tests/engine/fakegpu.py)."""
    from tests.engine import fakegpu

    fakegpu.install(monkeypatch, tmp_path)
    model = load_model(tiny_model)
    reference = CpuBackend(model.generator, model.info.z_dim, precision="eager")
    engine = Engine(model, name)
    assert engine.backend.name == name
    plain = engine.render(Z)
    bends = {("8", "rotate"): (90.0,), ("16", "noise"): (0.5, 2.0)}
    reference.set_bends(bend_amounts(engine.bend_layers, bends))
    with caplog.at_level(logging.WARNING, logger="livegan.engine"):
        for _ in range(3):
            engine.set_bends(bends)
            bent = engine.render(Z)
    assert _mean_diff(bent, plain) > 1.0
    assert np.abs(bent.astype(int) - reference.render(Z)).mean() < 1.0  # fp16 against fp32
    lines = [r for r in caplog.records if "no bends in its compiled graph" in r.getMessage()]
    assert len(lines) == (1 if name == "tensorrt" else 0)
    assert engine.bending_backend(bends).name == "cuda"
    engine.set_bends({})
    assert np.array_equal(engine.render(Z), plain)
    engine.close()


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["cuda", "tensorrt", "mps"])
def test_bends_on_a_real_gpu_match_eager_fp32(name: str) -> None:
    """On the device: amounts that move (a CUDA graph replays them) and ops that come on
    (the graph is captured again) render as eager fp32 on the CPU does."""
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if (name != "mps" and not cuda) or (name == "mps" and not mps):
        pytest.skip(f"needs a GPU for {name}")
    if name == "tensorrt":
        pytest.importorskip("torch_tensorrt", reason="needs livegan[tensorrt]")
    from livegan.modelfile import find_model

    model = load_model(find_model("default"))
    engine = Engine(model, name)
    assert engine.backend.name == name
    reference = CpuBackend(model.generator, model.info.z_dim, precision="eager")
    steps = [{("8", "rotate"): (30.0,)}, {("8", "rotate"): (60.0,)},
             {("8", "rotate"): (60.0,), ("32", "noise"): (0.5, 1.0), ("16", "dilate"): (1.5,)},
             {}]
    for bends in steps:
        engine.set_bends(bends)
        reference.set_bends(bend_amounts(engine.bend_layers, bends))
        got, want = engine.render(Z), reference.render(Z)
        assert np.abs(got.astype(int) - want).mean() < 1.5, bends
    engine.close()
