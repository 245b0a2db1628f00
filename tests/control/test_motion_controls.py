"""Control state and motion: clamping, snapshots, time-based smoothing, walks, glides, latents."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from livegan.control.controls import MODES, PARAMS, Controls
from livegan.control.motion import Motion
from livegan.latent import Walk, random_directions, seed_latent, slerp, smoothstep

Z, K = 16, 3


@pytest.fixture
def controls() -> Controls:
    return Controls(Z, K)


def _motion(controls: Controls, mode: str = "hold", smooth: float = 0.0) -> Motion:
    controls.set_mode(mode)
    controls.set_param("smooth", smooth)
    directions = np.eye(K, Z, dtype=np.float32) * 2.0  # direction i moves component i by 2
    return Motion(Z, directions, seed=3)


def _run(motion: Motion, controls: Controls, seconds: float, dt: float) -> np.ndarray:
    z = None
    for _ in range(round(seconds / dt)):
        z = motion.step(controls.snapshot(), dt)
    return z


# -- Controls ------------------------------------------------------------------------------

def test_params_start_at_defaults_and_clamp(controls: Controls) -> None:
    for name, (default, _, _) in PARAMS.items():
        assert controls.param(name) == default
    assert controls.set_param("speed", 1e6) and controls.param("speed") == PARAMS["speed"][2]
    assert controls.set_param("truncation", -3) and controls.param("truncation") == 0.0
    assert controls.set_param("smooth", 2) and controls.param("smooth") == 2.0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_refused(controls: Controls, bad: float) -> None:
    assert not controls.set_param("speed", bad)
    assert controls.param("speed") == PARAMS["speed"][0]
    assert controls.set_z([1.0, bad, 3.0]) == 2
    assert controls.snapshot().z_updates == {0: 1.0, 2: 3.0}
    assert controls.set_dirs([bad, 0.5]) == 1
    assert controls.snapshot().dirs.tolist() == [0.0, 0.5, 0.0]


def test_unknown_names_are_refused(controls: Controls) -> None:
    assert not controls.set_param("loudness", 1.0)
    assert not controls.set_mode("spin")
    assert controls.mode == "walk"
    for mode in MODES:
        assert controls.set_mode(mode) and controls.mode == mode


def test_indices_past_the_end_are_ignored(controls: Controls) -> None:
    assert controls.set_z([1.0] * (Z + 5)) == Z
    assert controls.set_z([2.0, 2.0], start=Z - 1) == 1
    assert controls.set_dirs([1.0] * 10) == K
    assert controls.set_dirs([1.0], start=-1) == 0


def test_snapshot_drains_updates_and_events(controls: Controls) -> None:
    controls.set_z([0.5], start=4)
    controls.set_z([0.7], start=4)  # newest value wins
    controls.push("seed", 5, 1.0)
    controls.push("key", 2)
    snap = controls.snapshot()
    assert snap.z_updates == {4: 0.7}
    assert snap.events == [("seed", 5, 1.0), ("key", 2)]
    again = controls.snapshot()
    assert again.z_updates == {} and again.events == []
    assert again.version == snap.version
    snap.dirs[0] = 99.0  # a snapshot is a copy
    assert controls.snapshot().dirs[0] == 0.0


def test_version_increments_with_every_accepted_write(controls: Controls) -> None:
    versions = [controls.version]
    for write in (lambda: controls.set_param("speed", 0.3), lambda: controls.set_mode("keys"),
                  lambda: controls.set_z([1.0]), lambda: controls.set_dirs([1.0]),
                  lambda: controls.set_label(2), lambda: controls.push("seed", 1)):
        write()
        versions.append(controls.version)
    assert versions == sorted(set(versions))
    before = controls.version
    controls.set_param("speed", math.nan)
    controls.set_mode("nope")
    assert controls.version == before
    assert controls.snapshot().version == before


def test_app_events_are_separate_and_drained(controls: Controls) -> None:
    controls.push_app("hud", True)
    controls.push_app("model", "moth")
    assert controls.snapshot().events == []
    assert controls.app_events() == [("hud", True), ("model", "moth")]
    assert controls.app_events() == []


def test_event_queue_is_bounded() -> None:
    controls = Controls(Z, K, max_events=8)
    for i in range(100):
        controls.push("seed", i)
    events = controls.snapshot().events
    assert len(events) == 8 and events[-1] == ("seed", 99)


def test_resize_keeps_what_fits(controls: Controls) -> None:
    controls.set_dirs([1.0, 2.0, 3.0])
    controls.set_z([1.0])
    controls.resize(8, 2)
    snap = controls.snapshot()
    assert controls.z_dim == 8 and controls.n_dirs == 2
    assert snap.dirs.tolist() == [1.0, 2.0] and snap.z_updates == {}
    assert controls.set_z([1.0] * 10) == 8


def test_concurrent_writers_and_reader(controls: Controls) -> None:
    def writer(offset: int) -> None:
        for i in range(2000):
            controls.set_z([float(i)], start=offset)
            controls.set_param("speed", i / 1000)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    seen = [controls.snapshot() for _ in range(200)]
    for t in threads:
        t.join()
    assert all(0 <= s.params["speed"] <= 2 for s in seen)
    assert controls.version == 3 * 2000 * 2


# -- Motion ----------------------------------------------------------------------------------

def test_smoothing_is_time_based(controls: Controls) -> None:
    results = []
    for dt in (0.01, 0.001):
        c = Controls(Z, K)
        motion = _motion(c, smooth=0.2)
        start = motion.shown.copy()
        c.set_z([5.0] * Z)
        c.set_dirs([1.0, -1.0, 0.5])
        z = _run(motion, c, 0.1, dt)
        results.append(z)
        assert not np.allclose(z, start) and not np.allclose(z, 5.0)  # on its way
    np.testing.assert_allclose(results[0], results[1], rtol=1e-4, atol=1e-4)
    # an exponential approach: after 0.1 s with a 0.2 s time constant, 1 - e^-0.5 of the way
    assert 0 < (results[0][5] - start[5]) / (5.0 - start[5]) == pytest.approx(
        1 - math.exp(-0.5), abs=1e-4)


def test_zero_smoothing_jumps(controls: Controls) -> None:
    motion = _motion(controls, smooth=0.0)
    controls.set_z([3.0] * Z)
    z = motion.step(controls.snapshot(), 0.01)
    np.testing.assert_allclose(z, 3.0, atol=1e-5)


def test_walk_moves_and_holds(controls: Controls) -> None:
    motion = _motion(controls, mode="walk")
    controls.set_param("speed", 1.0)
    a = motion.step(controls.snapshot(), 0.05).copy()
    b = _run(motion, controls, 0.5, 0.05)
    assert np.linalg.norm(b - a) > 0.1
    assert np.linalg.norm(b) == pytest.approx(math.sqrt(Z), rel=1e-3)  # stays on the sphere

    controls.set_param("speed", 0.0)
    c = motion.step(controls.snapshot(), 0.05).copy()
    np.testing.assert_array_equal(_run(motion, controls, 0.5, 0.05), c)

    controls.set_param("speed", 1.0)
    controls.set_mode("hold")
    d = motion.step(controls.snapshot(), 0.05).copy()
    np.testing.assert_array_equal(_run(motion, controls, 0.5, 0.05), d)


def test_seed_glide_arrives_after_its_seconds(controls: Controls) -> None:
    motion = _motion(controls, mode="hold", smooth=0.0)
    target = seed_latent(5, Z)
    controls.push("seed", 5, 1.0)
    half = _run(motion, controls, 0.5, 0.05)
    assert not np.allclose(half, target, atol=1e-2)
    done = _run(motion, controls, 0.55, 0.05)
    np.testing.assert_allclose(done, target, atol=1e-4)
    assert motion.glide is None


def test_seed_without_seconds_glides_and_zero_seconds_jumps(controls: Controls) -> None:
    motion = _motion(controls, mode="hold", smooth=0.0)
    controls.push("seed", 7)  # default: max(smooth, 0.5) seconds
    assert not np.allclose(motion.step(controls.snapshot(), 0.1), seed_latent(7, Z))
    np.testing.assert_allclose(_run(motion, controls, 0.5, 0.1), seed_latent(7, Z), atol=1e-4)
    controls.push("seed", 8, 0.0)
    np.testing.assert_allclose(motion.step(controls.snapshot(), 0.01), seed_latent(8, Z),
                               atol=1e-5)


def test_walk_continues_from_where_a_glide_ends(controls: Controls) -> None:
    motion = _motion(controls, mode="walk", smooth=0.0)
    controls.set_param("speed", 0.5)
    controls.push("seed", 9, 0.0)
    z = motion.step(controls.snapshot(), 0.02)
    assert np.linalg.norm(z - seed_latent(9, Z) * math.sqrt(Z) /
                          np.linalg.norm(seed_latent(9, Z))) < 0.1


def test_z_update_cancels_a_glide(controls: Controls) -> None:
    motion = _motion(controls, mode="hold", smooth=0.0)
    controls.push("seed", 5, 10.0)
    motion.step(controls.snapshot(), 0.1)
    controls.set_z([1.0] * Z)
    np.testing.assert_allclose(motion.step(controls.snapshot(), 0.1), 1.0, atol=1e-5)
    assert motion.glide is None


def test_keyframes_store_and_recall(controls: Controls) -> None:
    motion = _motion(controls, mode="hold", smooth=0.0)
    controls.push("seed", 1, 0.0)
    motion.step(controls.snapshot(), 0.01)
    controls.push("key_store", 3)
    motion.step(controls.snapshot(), 0.01)
    stored = seed_latent(1, Z)
    np.testing.assert_allclose(motion.keyframes[3], stored, atol=1e-5)
    controls.push("seed", 2, 0.0)
    motion.step(controls.snapshot(), 0.01)
    controls.push("key", 3)  # glides back in max(smooth, 0.5) s
    controls.push("key", 42)  # never stored: ignored
    np.testing.assert_allclose(_run(motion, controls, 0.6, 0.05), stored, atol=1e-4)


def test_keys_mode_loops_through_keyframes(controls: Controls) -> None:
    motion = _motion(controls, mode="hold", smooth=0.0)
    for i in range(2):
        controls.push("seed", 10 + i, 0.0)
        motion.step(controls.snapshot(), 0.01)
        controls.push("key_store", i)
        motion.step(controls.snapshot(), 0.01)
    controls.set_mode("keys")
    controls.set_param("speed", 1.0)
    path = [motion.step(controls.snapshot(), 0.1).copy() for _ in range(10)]
    assert len({p.tobytes() for p in path}) == 10


def test_directions_add_to_the_latent(controls: Controls) -> None:
    motion = _motion(controls, mode="hold", smooth=0.0)
    base = motion.step(controls.snapshot(), 0.01).copy()
    controls.set_dirs([1.0, 0.0, -0.5])
    z = motion.step(controls.snapshot(), 0.01)
    expected = base.copy()
    expected[0] += 2.0
    expected[2] -= 1.0
    np.testing.assert_allclose(z, expected, atol=1e-5)


def test_truncation_scales(controls: Controls) -> None:
    motion = _motion(controls, mode="hold", smooth=0.0)
    full = motion.step(controls.snapshot(), 0.01).copy()
    controls.set_param("truncation", 0.5)
    np.testing.assert_allclose(motion.step(controls.snapshot(), 0.01), full * 0.5, atol=1e-6)
    controls.set_param("truncation", 0.0)
    np.testing.assert_allclose(motion.step(controls.snapshot(), 0.01), 0.0)


def test_new_directions_with_another_count(controls: Controls) -> None:
    motion = _motion(controls, mode="hold", smooth=0.0)
    controls.set_dirs([1.0, 1.0, 1.0])
    motion.step(controls.snapshot(), 0.01)
    motion.set_directions(np.ones((5, Z), np.float32))
    controls.resize(Z, 5)
    z = motion.step(controls.snapshot(), 0.01)
    assert z.shape == (Z,) and np.isfinite(z).all()
    motion.set_directions(np.ones((1, Z), np.float32))
    controls.resize(Z, 1)
    assert motion.step(controls.snapshot(), 0.01).shape == (Z,)


# -- latent geometry -------------------------------------------------------------------------

def test_slerp_endpoints_and_norm() -> None:
    a, b = seed_latent(1, Z), seed_latent(2, Z) * 3
    np.testing.assert_allclose(slerp(a, b, 0.0), a, atol=1e-5)
    np.testing.assert_allclose(slerp(a, b, 1.0), b, atol=1e-5)
    mid = slerp(a, b, 0.5)
    assert np.linalg.norm(mid) == pytest.approx((np.linalg.norm(a) + np.linalg.norm(b)) / 2,
                                                rel=1e-5)
    ua, ub, um = (v / np.linalg.norm(v) for v in (a, b, mid))
    assert np.dot(um, ua) == pytest.approx(np.dot(um, ub), abs=1e-5)  # halfway on the circle
    np.testing.assert_allclose(slerp(a, a * 2, 0.5), a * 1.5, atol=1e-5)
    np.testing.assert_allclose(slerp(np.zeros(Z), a, 0.5), a * 0.5, atol=1e-6)


def test_slerp_between_opposite_points_never_passes_through_zero() -> None:
    a = seed_latent(4, Z)
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        z = slerp(a, -a, t)
        assert np.isfinite(z).all()
        assert np.linalg.norm(z) == pytest.approx(np.linalg.norm(a), rel=1e-5)
    np.testing.assert_allclose(slerp(a, -a, 1.0), -a, atol=1e-5)


def test_a_field_slerps_each_position_on_its_own_circle() -> None:
    """A canvas's latent [Z, h, w] (offline renders) slerps like each of its latents [Z]:
    opposite cells, a cell at zero and the ends exactly included."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((Z, 2, 3)).astype(np.float32)
    b = rng.standard_normal((Z, 2, 3)).astype(np.float32) * 2
    b[:, 0, 1], a[:, 1, 2] = -a[:, 0, 1], 0.0
    for t in (0.25, 0.5, 0.9):
        field = slerp(a, b, t)
        for i, j in np.ndindex(2, 3):
            np.testing.assert_allclose(field[:, i, j], slerp(a[:, i, j], b[:, i, j], t),
                                       atol=1e-5)
        assert np.linalg.norm(field[:, 0, 1]) == pytest.approx(np.linalg.norm(a[:, 0, 1]),
                                                               rel=1e-5)
    assert np.array_equal(slerp(a, b, 0.0), a) and np.array_equal(slerp(a, b, 1.0), b)


def test_seed_latent_is_reproducible() -> None:
    np.testing.assert_array_equal(seed_latent(42, Z), seed_latent(42, Z))
    assert not np.allclose(seed_latent(42, Z), seed_latent(43, Z))
    assert seed_latent(-1, Z).dtype == np.float32


def test_random_directions_are_orthogonal() -> None:
    d = random_directions(6, Z)
    assert d.shape == (6, Z) and d.dtype == np.float32
    gram = d @ d.T
    np.testing.assert_allclose(gram, np.eye(6) * gram[0, 0], atol=1e-4)
    assert gram[0, 0] == pytest.approx(Z / 16, rel=1e-4)
    np.testing.assert_array_equal(d, random_directions(6, Z))
    assert random_directions(100, Z).shape == (Z, Z)


def test_smoothstep_and_walk_radius() -> None:
    assert (smoothstep(-1), smoothstep(0.5), smoothstep(2)) == (0.0, 0.5, 1.0)
    walk = Walk(Z, seed=1)
    for _ in range(50):
        walk.step(0.1, 2.0)
    assert np.linalg.norm(walk.position) == pytest.approx(math.sqrt(Z), rel=1e-4)
