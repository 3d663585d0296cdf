"""demo.bones: robust per-track bone lengths, constant bones after set_bone_lengths, directions kept."""

from __future__ import annotations

import time

import numpy as np
import pytest

from demo.bones import (
    BONES,
    SYMMETRIC_PAIRS,
    bone_lengths,
    bone_variation,
    set_bone_lengths,
    track_bone_lengths,
)
from lifter.skeleton import LEFT_17, PARENTS_17, RIGHT_17, edges

#: a plausible body (metres), one length per bone of edges(17); left and right differ on purpose
TRUE_LENGTHS = np.array([0.13, 0.45, 0.44, 0.13, 0.45, 0.44, 0.23, 0.25, 0.11, 0.12,
                         0.15, 0.28, 0.25, 0.15, 0.28, 0.25])


def _directions(T: int, seed: int = 0) -> np.ndarray:
    """(T, 16, 3) unit bone directions that wander smoothly over time."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(1, 16, 3))
    drift = np.cumsum(rng.normal(0, 0.05, (T, 16, 3)), axis=0)
    d = base + drift
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def _pose(directions: np.ndarray, lengths: np.ndarray, root: np.ndarray) -> np.ndarray:
    """Forward kinematics written independently of demo.bones: (T, 17, 3)."""
    T = directions.shape[0]
    out = np.zeros((T, 17, 3))
    out[:, 0] = root
    for child in range(1, 17):  # parents come first in the H36M-17 table
        out[:, child] = out[:, PARENTS_17[child]] + lengths[..., child - 1, None] * directions[:, child - 1]
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_bones_are_the_skeleton_edges():
    assert BONES == edges(17) and len(BONES) == 16
    assert len(SYMMETRIC_PAIRS) == 6
    for left, right in SYMMETRIC_PAIRS:
        assert BONES[left][1] in LEFT_17 and BONES[right][1] in RIGHT_17
        assert LEFT_17.index(BONES[left][1]) == RIGHT_17.index(BONES[right][1])


def test_bone_lengths_known_pose_and_batch_shapes():
    kp = _pose(_directions(4), TRUE_LENGTHS, np.array([0.1, -0.2, 3.0]))
    np.testing.assert_allclose(bone_lengths(kp), np.tile(TRUE_LENGTHS, (4, 1)), atol=1e-12)
    assert bone_lengths(kp[0]).shape == (16,)
    assert bone_lengths(np.stack([kp, kp])).shape == (2, 4, 16)
    kp[2, 13] = np.nan
    lengths = bone_lengths(kp)
    assert np.isnan(lengths[2, 12]) and np.isfinite(np.delete(lengths[2], 12)).all()


def test_track_bone_lengths_median_ignores_bad_frames_and_low_scores():
    rng = np.random.default_rng(2)
    T = 101
    per_frame = TRUE_LENGTHS * (1 + rng.normal(0, 0.03, (T, 16)))
    per_frame[::10] *= 1.6  # 11 wild frames
    kp = _pose(_directions(T), per_frame, np.zeros(3))
    scores = np.full((T, 17), 0.9)
    # frames 50..100: the right forearm is badly detected and far too long
    kp[50:, 16] = kp[50:, 15] + 3.0 * (kp[50:, 16] - kp[50:, 15])
    scores[50:, 16] = 0.2
    valid = np.ones(T, bool)
    valid[20:30] = False
    kp[20:30] *= 5.0  # garbage in invalid frames
    got = track_bone_lengths(kp, scores, valid, min_score=0.5, symmetric=False)
    np.testing.assert_allclose(got, TRUE_LENGTHS, rtol=0.03)
    # with the scores ignored, the bad forearm frames (more than half) pull the median up
    assert track_bone_lengths(kp, None, valid, symmetric=False)[15] > 1.5 * TRUE_LENGTHS[15]


def test_track_bone_lengths_fallback_symmetry_and_nan():
    T = 20
    kp = _pose(_directions(T), TRUE_LENGTHS, np.zeros(3))
    low = np.full((T, 17), 0.1)  # nothing scores >= min_score: fall back to all valid frames
    np.testing.assert_allclose(track_bone_lengths(kp, low, None, symmetric=False), TRUE_LENGTHS, atol=1e-9)
    sym = track_bone_lengths(kp, np.ones((T, 17)), np.ones(T, bool), symmetric=True)
    for left, right in SYMMETRIC_PAIRS:
        mean = (TRUE_LENGTHS[left] + TRUE_LENGTHS[right]) / 2
        assert sym[left] == pytest.approx(mean) and sym[right] == pytest.approx(mean)
    assert sym[6] == pytest.approx(TRUE_LENGTHS[6])  # pelvis -> spine has no pair
    # no valid frame: NaN
    assert np.isnan(track_bone_lengths(kp, None, np.zeros(T, bool))).all()
    assert np.isnan(track_bone_lengths(kp[:0], None, None)).all()
    # one side never seen: the pair takes the other side's length
    kp_nan = kp.copy()
    kp_nan[:, 13] = np.nan
    got = track_bone_lengths(kp_nan, None, None, symmetric=True)
    assert got[12] == pytest.approx(TRUE_LENGTHS[15]) and got[15] == pytest.approx(TRUE_LENGTHS[15])


def test_set_bone_lengths_makes_bones_constant_and_keeps_directions():
    rng = np.random.default_rng(3)
    T = 120
    dirs = _directions(T)
    wobbly = TRUE_LENGTHS * (1 + rng.normal(0, 0.08, (T, 16)))  # a lifter's growing/shrinking limbs
    root = rng.normal(0, 1.0, (T, 3))
    kp = _pose(dirs, wobbly, root).astype(np.float32)
    assert (bone_variation(kp) > 0.03).all()
    out = set_bone_lengths(kp, TRUE_LENGTHS)
    assert out.shape == kp.shape and out.dtype == np.float32
    out64 = set_bone_lengths(kp.astype(np.float64), TRUE_LENGTHS)
    assert (bone_variation(out64) < 1e-6).all()
    np.testing.assert_allclose(bone_lengths(out64), np.tile(TRUE_LENGTHS, (T, 1)), atol=1e-6)
    np.testing.assert_array_equal(out[:, 0], kp[:, 0])  # root kept
    new_dirs = _unit(np.stack([out64[:, c] - out64[:, p] for p, c in BONES], axis=1))
    np.testing.assert_allclose(new_dirs, dirs, atol=1e-5)
    assert (bone_variation(out) < 1e-5).all()  # float32 output: rounding only


def test_set_bone_lengths_nan_frames_and_joints():
    T = 30
    kp = _pose(_directions(T), TRUE_LENGTHS * 1.1, np.zeros(3))
    kp[10:13] = np.nan
    kp[20, 12] = np.nan  # l_elbow missing: l_elbow and l_wrist cannot be placed
    out = set_bone_lengths(kp, TRUE_LENGTHS)
    assert out.shape == (T, 17, 3)
    assert np.isnan(out[10:13]).all()
    assert np.isnan(out[20, [12, 13]]).all() and np.isfinite(np.delete(out[20], [12, 13], axis=0)).all()
    assert np.isfinite(np.delete(out, [10, 11, 12, 20], axis=0)).all()
    np.testing.assert_allclose(bone_lengths(out[:10]), np.tile(TRUE_LENGTHS, (10, 1)), atol=1e-9)


def test_set_bone_lengths_zero_length_bone_borrows_the_nearest_direction():
    T = 10
    dirs = _directions(T)
    kp = _pose(dirs, TRUE_LENGTHS, np.zeros(3))
    kp[4, 3] = kp[4, 2]  # r_ankle on top of r_knee in frame 4 only
    kp[6, 3] = kp[6, 2]  # and in frame 6: nearest usable frames 5 and 7 (tie -> the earlier one)
    out = set_bone_lengths(kp, TRUE_LENGTHS)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(bone_lengths(out), np.tile(TRUE_LENGTHS, (T, 1)), atol=1e-9)
    np.testing.assert_allclose(_unit(out[4, 3] - out[4, 2]), dirs[3, 2], atol=1e-9)  # from frame 3
    np.testing.assert_allclose(_unit(out[6, 3] - out[6, 2]), dirs[5, 2], atol=1e-9)  # from frame 5
    # zero in every frame: the parent bone's direction (the shin continues the thigh)
    kp[:, 3] = kp[:, 2]
    out = set_bone_lengths(kp, TRUE_LENGTHS)
    np.testing.assert_allclose(_unit(out[:, 3] - out[:, 2]), _unit(out[:, 2] - out[:, 1]), atol=1e-9)
    # a bone leaving the pelvis, zero everywhere: the person's right hip points to image left
    kp[:, 1] = kp[:, 0]
    out = set_bone_lengths(kp, TRUE_LENGTHS)
    np.testing.assert_allclose(out[:, 1] - out[:, 0], np.tile([-TRUE_LENGTHS[0], 0, 0], (T, 1)), atol=1e-12)


def test_set_bone_lengths_nan_length_keeps_that_bone():
    T = 8
    kp = _pose(_directions(T), TRUE_LENGTHS * 1.2, np.zeros(3))
    target = TRUE_LENGTHS.copy()
    target[6] = np.nan  # pelvis -> spine unknown
    out = set_bone_lengths(kp, target)
    np.testing.assert_allclose(bone_lengths(out)[:, 6], TRUE_LENGTHS[6] * 1.2, atol=1e-9)
    np.testing.assert_allclose(np.delete(bone_lengths(out), 6, axis=1),
                               np.tile(np.delete(TRUE_LENGTHS, 6), (T, 1)), atol=1e-9)


def test_tiny_tracks_and_bad_arguments():
    for T in (0, 1, 2):
        kp = _pose(_directions(max(T, 1)), TRUE_LENGTHS * 0.9, np.zeros(3))[:T]
        out = set_bone_lengths(kp, TRUE_LENGTHS)
        assert out.shape == (T, 17, 3)
        np.testing.assert_allclose(bone_lengths(out), np.tile(TRUE_LENGTHS, (T, 1)), atol=1e-9)
        assert track_bone_lengths(kp, None, None).shape == (16,)
        assert bone_variation(kp).shape == (16,)
    with pytest.raises(ValueError):
        set_bone_lengths(np.zeros((5, 16, 3)), TRUE_LENGTHS)
    with pytest.raises(ValueError):
        set_bone_lengths(np.zeros((5, 17, 3)), TRUE_LENGTHS[:15])
    with pytest.raises(ValueError):
        set_bone_lengths(np.zeros((5, 17, 3)), -TRUE_LENGTHS)
    with pytest.raises(ValueError):
        track_bone_lengths(np.zeros((5, 17, 3)), np.ones((5, 16)), None)


def test_bone_variation_values():
    T = 4
    lengths = np.tile(TRUE_LENGTHS, (T, 1))
    lengths[:, 0] = [0.1, 0.3, 0.1, 0.3]  # mean 0.2, std 0.1
    kp = _pose(_directions(T), lengths, np.zeros(3))
    var = bone_variation(kp)
    assert var[0] == pytest.approx(0.5)
    np.testing.assert_allclose(var[1:], 0.0, atol=1e-12)
    valid = np.array([True, False, True, False])  # only the 0.1 frames: no variation
    assert bone_variation(kp, valid)[0] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(bone_variation(kp, np.zeros(T, bool))).all()


def test_speed_report():
    T = 300
    kp = _pose(_directions(T), TRUE_LENGTHS, np.zeros(3)).astype(np.float32)
    scores = np.full((T, 17), 0.9, np.float32)
    valid = np.ones(T, bool)
    start = time.perf_counter()
    for _ in range(5):
        lengths = track_bone_lengths(kp, scores, valid)
        set_bone_lengths(kp, lengths)
    per_frame_ms = (time.perf_counter() - start) / 5 / T * 1e3
    print(f"bones (track_bone_lengths + set_bone_lengths): {per_frame_ms:.4f} ms per frame (T={T})")
