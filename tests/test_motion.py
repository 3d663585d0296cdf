"""demo.motion: the whole post-processing chain on a known motion seen by a known camera.

A procedural walk and jump (tests/synthetic_motion.py) is projected by a camera pitched 14 deg
down, 1.8 m high; the 2D gets pixel noise and left/right swaps, the "lifter" returns the true
root-relative 3D with millimetre noise (so what is tested is the chain, not a network).
"""

from dataclasses import replace

import numpy as np
import pytest

from demo.bones import bone_variation
from demo.motion import WORLD_FIXED, WORLD_GROUND, MotionSettings, process
from demo.repair import SWAPPED
from synthetic_motion import add_noise, floating, walk_and_jump

ARM = ([11, 12, 13], [14, 15, 16])
LEG = ([4, 5, 6], [1, 2, 3])
#: injected detector swaps: (frames, limb pair)
SWAPS = (([20, 21], ARM), ([60], LEG), ([100, 101, 102], ARM), ([101, 102], LEG))


class OracleLifter:
    """Gives back the known root-relative 3D of the frames it is asked for, in order."""

    num_joints = 17

    def __init__(self, rel: np.ndarray):
        self.rel = np.asarray(rel, np.float32)
        self.next = 0

    def lift(self, kp: np.ndarray) -> np.ndarray:
        assert np.isfinite(kp).all()
        out = self.rel[self.next: self.next + len(kp)].copy()
        self.next += len(kp)
        return out


def _observed(scene, seed=0):
    noisy = add_noise(scene, np.random.default_rng(seed), px_sigma=2.0, mm_sigma=20.0)
    kp2d = noisy.kp2d.copy()
    for frames, (left, right) in SWAPS:
        for t in frames:
            kp2d[t, left + right] = kp2d[t, right + left]
    return noisy, kp2d


def _run(scene, kp2d, rel, settings=MotionSettings()):
    """The chain on one person, with the camera's true focal length."""
    cam = scene.camera
    return process(kp2d[None], scene.scores[None].astype(np.float32), scene.valid[None], scene.fps, cam.width,
                   cam.height, OracleLifter(rel), replace(settings, focal_px=cam.focal))


def _angle_deg(a, b):
    return np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))


@pytest.fixture(scope="module")
def chain():
    scene = walk_and_jump(fps=30.0)
    noisy, kp2d = _observed(scene)
    return scene, kp2d, _run(scene, kp2d, noisy.kp3d_rel), noisy


def test_the_ground_and_camera_come_back(chain):
    scene, _, m, _ = chain
    assert m.camera.kind == WORLD_GROUND and m.notes == []
    assert _angle_deg(m.camera.to_world[2], scene.camera.up_cam) < 3.0  # the ground's normal
    assert abs(m.camera.height_m - scene.camera.height_m) < 0.15
    assert abs(m.camera.pitch_deg - scene.camera.pitch_deg) < 3.0
    assert abs(m.camera.roll_deg - scene.camera.roll_deg) < 3.0
    np.testing.assert_allclose(m.camera.to_world @ m.camera.to_world.T, np.eye(3), atol=1e-9)


def test_the_trajectory_follows_the_walk(chain):
    scene, _, m, _ = chain
    err = np.linalg.norm(m.root_cam[0] - scene.pelvis_cam, axis=-1)
    assert np.percentile(err, 95) < 0.10 * scene.walked_m, (np.median(err), np.percentile(err, 95))
    # in the world: the pelvis starts above the origin and walks about the true distance
    world_pelvis = m.world[0, :, 0]
    np.testing.assert_allclose(world_pelvis[0, :2], 0.0, atol=0.1)
    walked = np.linalg.norm(np.diff(world_pelvis[:, :2], axis=0), axis=-1).sum()
    assert abs(walked - scene.walked_m) < 0.2 * scene.walked_m, (walked, scene.walked_m)


def test_a_jump_leaves_the_ground_and_planted_feet_rest_on_it(chain):
    scene, _, m, _ = chain
    ankles_z = m.world[0][:, [3, 6], 2]  # r_ankle, l_ankle; 0.08 m above the soles when planted
    planted = ankles_z[scene.contact]
    assert np.median(np.abs(planted - 0.08)) < 0.05, np.median(planted)
    mid_flight = scene.jump_frames[len(scene.jump_frames) // 3: 2 * len(scene.jump_frames) // 3]
    assert ankles_z[mid_flight].min() > 0.2  # both feet well above the ground: no per-frame floor shift
    standing = np.median(m.world[0, scene.contact.all(1), 0, 2])
    assert m.world[0, mid_flight, 0, 2].min() > standing + 0.15  # the pelvis goes up with them


def test_the_swaps_are_repaired(chain):
    scene, kp2d, m, _ = chain
    for frames, (left, right) in SWAPS:
        for t in frames:
            assert (m.repair_flags[0, t, left + right] & SWAPPED).all(), (t, m.repair_flags[0, t])
    swapped_frames = {t for frames, _ in SWAPS for t in frames}
    others = [t for t in range(len(kp2d)) if t not in swapped_frames]
    assert not (m.repair_flags[0, others] & SWAPPED).any()
    assert np.abs(m.kp2d[0] - scene.kp2d).max() < 15.0  # back where the joints are (2 px noise)


def test_smoothing_and_constant_bones(chain):
    scene, _, m, noisy = chain
    assert bone_variation(m.kp3d[0], m.valid[0]).max() < 1e-5
    np.testing.assert_array_equal(m.kp3d_raw[0], noisy.kp3d_rel.astype(np.float32))  # raw kept as lifted

    def accel(x):
        return np.linalg.norm(x[2:] - 2 * x[1:-1] + x[:-2], axis=-1).mean()

    assert accel(m.kp3d[0]) < accel(m.kp3d_raw[0]) / 3
    full = m.kp3d[0] + m.root_cam[0][:, None]
    assert np.linalg.norm(np.diff(full, axis=0), axis=-1).max() < 0.30  # no frame step above 30 cm


def test_smooth_off_keeps_the_raw_arrays():
    scene = walk_and_jump(fps=30.0)
    noisy, kp2d = _observed(scene, seed=1)
    m = _run(scene, kp2d, noisy.kp3d_rel, MotionSettings(smooth="off", bones=False))
    np.testing.assert_array_equal(m.kp3d[0], m.kp3d_raw[0])


def test_no_ground_falls_back_to_the_fixed_view_and_says_why():
    scene = floating(fps=30.0)
    m = _run(scene, scene.kp2d, scene.kp3d_rel)
    assert m.camera.kind == WORLD_FIXED and np.isnan(m.camera.height_m)
    assert len(m.notes) == 1 and m.notes[0].startswith("ground not estimated")
    np.testing.assert_allclose(np.nanmin(m.world[0, :, :, 2], -1), 0.0, atol=1e-5)  # the fixed view's floor


def test_two_tracks_share_one_world():
    scene = walk_and_jump(fps=30.0)
    other = walk_and_jump(fps=30.0, camera=scene.camera, start_xy=(0.5, 2.0))
    kp2d = np.stack([scene.kp2d, other.kp2d]).astype(np.float32)
    scores = np.stack([scene.scores, other.scores]).astype(np.float32)
    valid = np.stack([scene.valid, other.valid])
    rows = np.concatenate([scene.kp3d_rel, other.kp3d_rel])  # the order process lifts in: person, frame
    m = process(kp2d, scores, valid, 30.0, scene.camera.width, scene.camera.height, OracleLifter(rows),
                MotionSettings(focal_px=scene.camera.focal), main=0)
    assert m.camera.kind == WORLD_GROUND
    start = m.world[:, 0, 0, :2]  # each person's first pelvis, on the ground plane
    np.testing.assert_allclose(start[0], 0.0, atol=0.1)  # the origin is under the main person
    true_gap = np.linalg.norm(other.world[0, 0, :2] - scene.world[0, 0, :2])
    assert abs(np.linalg.norm(start[1] - start[0]) - true_gap) < 0.15 * true_gap


def test_empty_input():
    m = process(np.zeros((0, 5, 17, 2), np.float32), np.zeros((0, 5, 17), np.float32), np.zeros((0, 5), bool),
                30.0, 64, 48, OracleLifter(np.zeros((0, 17, 3))))
    assert m.world.shape == (0, 5, 17, 3) and m.camera.kind == WORLD_FIXED


def test_bad_settings():
    with pytest.raises(ValueError, match="smooth"):
        MotionSettings(smooth="kalman")
    with pytest.raises(ValueError, match="not both"):
        MotionSettings(focal_px=1000.0, fov_deg=60.0)
    with pytest.raises(ValueError, match="cut-off"):
        MotionSettings(cutoff_hz=0.0)


def test_rows_lifted_before_the_repair_are_kept_only_where_it_changed_nothing():
    from _demo_fakes import FakeLifter

    scene = walk_and_jump(fps=30.0)
    _, kp2d = _observed(scene)
    args = (kp2d[None].astype(np.float32), scene.scores[None].astype(np.float32), scene.valid[None], 30.0, 1280, 720)
    fresh = process(*args, FakeLifter(), MotionSettings(ground=False))
    marker = np.full_like(fresh.kp3d_raw, 7.0)  # what a "pre-lifted" row holds here
    lifted = np.ones(scene.valid[None].shape, bool)
    lifter = FakeLifter()
    again = process(*args, lifter, MotionSettings(ground=False), prelifted=(marker, lifted))
    changed = fresh.repair_flags.any(-1)
    assert changed.sum() == sum(lifter.batches) > 0  # only the rows the repair changed were lifted again
    np.testing.assert_array_equal(again.kp3d_raw[changed], fresh.kp3d_raw[changed])
    assert (again.kp3d_raw[~changed] == 7.0).all()
