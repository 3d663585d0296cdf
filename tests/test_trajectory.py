"""demo.trajectory: the focal length rules and the pelvis path from 2D + root-relative 3D."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest

from demo.trajectory import DEFAULT_FOV_DEG, focal_length, root_translation
from synthetic_motion import add_noise, drop_joints, scene_from_world, walk_and_jump


def _solve(scene, **kw):
    cam = scene.camera
    return root_translation(scene.kp2d, scene.scores, scene.kp3d_rel, scene.valid, cam.focal, cam.center, **kw)


def test_focal_length_rules():
    f60 = 640.0 / math.tan(math.radians(30.0))
    assert DEFAULT_FOV_DEG == 60.0
    assert focal_length(1280, 720) == pytest.approx(f60)
    assert focal_length(720, 1280) == pytest.approx(f60)  # the longer side, portrait too
    assert focal_length(1000, 500, fov_deg=90.0) == pytest.approx(500.0)
    assert focal_length(1280, 720, focal_px=900.0, fov_deg=90.0) == 900.0  # a calibration wins
    for bad in (0.0, -5.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            focal_length(1280, 720, focal_px=bad)
    for bad in (1.0, 0.5, 179.0, 200.0, -60.0, float("nan")):
        with pytest.raises(ValueError):
            focal_length(1280, 720, fov_deg=bad)
    for w, h in ((0, 720), (1280, -1)):
        with pytest.raises(ValueError):
            focal_length(w, h)


def test_exact_path_with_off_centre_principal_point():
    scene = walk_and_jump(seed=0)
    cam = replace(scene.camera, center=np.array([600.0, 380.0]))
    scene = scene_from_world(scene.world, cam, scene.fps, scene.contact, scene.jump_frames)
    t = _solve(scene)
    assert t.shape == (len(scene.world), 3)
    assert np.abs(t - scene.pelvis_cam).max() < 1e-6
    # a wrong principal point moves the answer (the centre is really used)
    wrong = root_translation(scene.kp2d, scene.scores, scene.kp3d_rel, scene.valid, cam.focal, (640.0, 360.0))
    assert np.abs(wrong - scene.pelvis_cam).max() > 0.05


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_path_within_ten_percent_of_the_walk(seed):
    scene = walk_and_jump(seed=seed)
    noisy = add_noise(scene, np.random.default_rng(seed), px_sigma=2.0, mm_sigma=20.0)
    t = _solve(noisy)
    err = np.linalg.norm(t - scene.pelvis_cam, axis=-1)
    walked = scene.walked_m
    assert walked > 3.0
    assert np.median(err) < 0.05 * walked
    assert np.percentile(err, 95) < 0.10 * walked
    # the displacement from start to end (1 s averages) is right within 10% of the walk
    true_move = scene.pelvis_cam[-30:].mean(0) - scene.pelvis_cam[:30].mean(0)
    est_move = t[-30:].mean(0) - t[:30].mean(0)
    assert np.linalg.norm(est_move - true_move) < 0.10 * walked


def test_a_wrong_joint_per_frame_is_down_weighted():
    scene = walk_and_jump(seed=3)
    rng = np.random.default_rng(3)
    noisy = add_noise(scene, rng, px_sigma=1.0, mm_sigma=5.0)
    kp2d = noisy.kp2d.copy()
    num = len(kp2d)
    joint = rng.integers(1, 17, num)
    kp2d[np.arange(num), joint] += rng.choice([-1.0, 1.0], (num, 2)) * 80.0  # one joint 80 px off
    bad = replace(noisy, kp2d=kp2d)
    robust = np.linalg.norm(_solve(bad) - scene.pelvis_cam, axis=-1)
    plain = np.linalg.norm(_solve(bad, iterations=0) - scene.pelvis_cam, axis=-1)
    assert np.median(robust) < 0.06
    assert np.median(plain) > 3 * np.median(robust)


def test_missing_joints_invalid_frames_and_min_score():
    scene = walk_and_jump(seed=1)
    dropped = drop_joints(scene, np.random.default_rng(0), fraction=0.3)
    t = _solve(dropped)
    enough = np.isfinite(dropped.kp2d).all(-1).sum(1) >= 4
    assert np.isfinite(t[enough]).all()
    assert np.abs(t[enough] - scene.pelvis_cam[enough]).max() < 1e-6
    # three joints are not enough; an invalid frame is NaN
    kp2d = scene.kp2d.copy()
    kp2d[5, 3:] = np.nan
    valid = scene.valid.copy()
    valid[7] = False
    t = root_translation(kp2d, scene.scores, scene.kp3d_rel, valid, scene.camera.focal, scene.camera.center)
    assert np.isnan(t[[5, 7]]).all()
    assert np.isfinite(np.delete(t, [5, 7], axis=0)).all()
    # joints under min_score are not used; NaN 3D joints are not used
    scores = np.full_like(scene.scores, 0.4)
    scores[:, :4] = 0.9
    t = _solve(replace(scene, scores=scores), min_score=0.5)
    assert np.abs(t - scene.pelvis_cam).max() < 1e-6  # 4 joints at 0.9 still solve exactly
    scores[:, 3] = 0.4
    assert np.isnan(_solve(replace(scene, scores=scores), min_score=0.5)).all()
    rel = scene.kp3d_rel.copy()
    rel[:, 1:] = np.nan
    assert np.isnan(_solve(replace(scene, kp3d_rel=rel))).all()


def test_a_larger_3d_body_is_placed_farther_away():
    scene = walk_and_jump(seed=2)
    t = _solve(replace(scene, kp3d_rel=scene.kp3d_rel * 1.05))
    ratio = t[:, 2] / scene.pelvis_cam[:, 2]
    assert np.allclose(ratio, 1.05, atol=0.005)


def test_empty_degenerate_and_bad_shapes():
    empty = root_translation(np.zeros((0, 17, 2)), np.zeros((0, 17)), np.zeros((0, 17, 3)), np.zeros(0, bool),
                             1000.0, (640, 360))
    assert empty.shape == (0, 3)
    scene = walk_and_jump(seed=0)
    n = 4
    same = np.broadcast_to(np.array([700.0, 300.0]), (n, 17, 2))  # every joint at one pixel
    t = root_translation(same, scene.scores[:n], scene.kp3d_rel[:n], None, 1000.0, (640, 360))
    assert np.isnan(t).all()
    none = root_translation(scene.kp2d[:n], scene.scores[:n], scene.kp3d_rel[:n], np.zeros(n, bool), 1000.0,
                            (640, 360))
    assert np.isnan(none).all()
    with pytest.raises(ValueError):
        root_translation(scene.kp2d, scene.scores, scene.kp3d_rel[:, :16], scene.valid, 1000.0, (640, 360))


def test_speed_is_printed():
    scene = add_noise(walk_and_jump(fps=48.0, seed=0), np.random.default_rng(0))  # ~300 frames
    _solve(scene)
    start = time.perf_counter()
    for _ in range(3):
        _solve(scene)
    per_frame = (time.perf_counter() - start) / 3 / len(scene.kp2d)
    print(f"root_translation: {per_frame * 1e3:.4f} ms per frame ({len(scene.kp2d)} frames)")
