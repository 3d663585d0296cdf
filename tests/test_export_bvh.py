"""The BVH export (demo/export/bvh.py): read back with pybvh and with Blender's own importer."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pybvh
import pytest
from pybvh.rotations import euler_to_rotmat

from demo.export.bvh import (BVH_TO_H36M, SKELETON, bone_lengths, bvh_motion, continuous_euler, held_frames,
                             local_rotations, world_rotations, write_bvh)
from demo.export.common import present, y_up
from lifter.skeleton import INDEX_17, PARENTS_17
from tests.export_fixtures import FIRST_MISSING, SECOND_ABSENT_UNTIL, SECOND_MISSING, make_result
from tests.real_programs import require

J = INDEX_17
ORDERS = [s.order for s in SKELETON]


def _fk_error(bvh: pybvh.Bvh, points: np.ndarray) -> np.ndarray:
    """(T, 21) distance (m) of each BVH joint (forward kinematics) from its H36M joint in points."""
    pos = bvh.node_positions()
    return np.stack([np.linalg.norm(pos[:, bvh.node_index[name]] - points[:, J[h36m]], axis=-1)
                     for name, h36m in BVH_TO_H36M.items()], axis=1)


def _max_step_deg(angles: np.ndarray) -> float:
    return float(np.degrees(np.abs(np.diff(angles, axis=0))).max())


def _spin(world: np.ndarray, turns: float) -> np.ndarray:
    """world (T, 17, 3) z up, turned about the vertical through the first pelvis by an angle
    growing linearly to ``turns`` full turns."""
    t = len(world)
    angle = np.linspace(0.0, 2 * np.pi * turns, t)
    c, s = np.cos(angle), np.sin(angle)
    rot = np.zeros((t, 3, 3))
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1.0
    centre = np.array([*world[0, 0, :2], 0.0])
    return np.einsum("tij,tkj->tki", rot, world - centre) + centre


# --------------------------------------------------------------------------------------------
def test_file_reproduces_every_joint_and_holds_missing_frames(tmp_path):
    result = make_result(people=2, frames=90, fps=30.0, gaps=True)
    worst = 0.0
    for p in range(2):
        path = write_bvh(tmp_path / f"person{p}.bvh", result, p)
        bvh = pybvh.read_bvh_file(path)
        world = y_up(result.keypoints_3d_world[p])
        ok = present(world)
        assert bvh.frame_count == result.num_frames == 90
        assert bvh.frame_time == 1.0 / 30.0
        err = _fk_error(bvh, world)
        assert err[ok].max() < 1e-3, err[ok].max()
        worst = max(worst, float(err[ok].max()))
        # a missing frame shows the last present pose (the first one before any)
        shown = held_frames(ok)
        np.testing.assert_array_equal(bvh.joint_angles, bvh.joint_angles[shown])
        np.testing.assert_array_equal(bvh.root_pos, bvh.root_pos[shown])
        assert _fk_error(bvh, world[shown]).max() < 1e-3
    assert list(held_frames(present(result.keypoints_3d_world[0]))[list(FIRST_MISSING)]) == [19, 19]
    assert set(held_frames(present(result.keypoints_3d_world[1]))[:SECOND_ABSENT_UNTIL]) == {SECOND_ABSENT_UNTIL}
    assert set(held_frames(present(result.keypoints_3d_world[1]))[list(SECOND_MISSING)]) == {SECOND_MISSING[0] - 1}
    print(f"\nBVH forward kinematics: max error {worst * 1000:.4f} mm over every joint of the present frames")
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_hierarchy_channels_offsets_and_frame_time(tmp_path):
    fps = 30000 / 1001  # 29.97: not a round rate, pybvh alone would write 10 digits
    result = make_result(people=1, frames=40, fps=fps, gaps=False)
    path = write_bvh(tmp_path / "p.bvh", result, 0)
    text = path.read_text()
    line = next(row for row in text.splitlines() if row.startswith("Frame Time:"))
    assert float(line.split(":")[1]) == 1.0 / fps
    assert "Frames: 40" in text
    assert "CHANNELS 6 Xposition Yposition Zposition Yrotation Zrotation Xrotation" in text
    bvh = pybvh.read_bvh_file(path)
    assert bvh.frame_time == 1.0 / fps
    assert bvh.joint_names == [s.name for s in SKELETON]
    assert bvh.euler_orders == ORDERS
    ends = {n.parent.name for n in bvh.nodes if n.is_end_site()}
    assert ends == {"RightFoot", "LeftFoot", "RightHand", "LeftHand", "Head"}
    lengths = bone_lengths(result.keypoints_3d_world[0])
    by_name = {n.name: n for n in bvh.nodes}
    for spec in SKELETON[1:]:
        offset = np.linalg.norm(by_name[spec.name].offset)
        parent_h36m = BVH_TO_H36M[spec.parent]
        if spec.h36m == parent_h36m:  # the zero-offset hip / clavicle joints
            assert offset == 0.0
        else:
            assert PARENTS_17[J[spec.h36m]] == J[parent_h36m]
            assert abs(offset - lengths[J[spec.h36m]]) < 2e-6
    # rest pose: T-pose, Y up, facing +Z, left = +X
    rest = {n: bvh.rest_pose_positions()[bvh.node_index[n]] for n in ("LeftHand", "RightHand", "Head", "LeftFoot")}
    assert rest["LeftHand"][0] > 0.5 > -0.5 > rest["RightHand"][0]
    assert rest["Head"][1] > 0.5 > -0.5 > rest["LeftFoot"][1]
    toes = next(n for n in bvh.nodes if n.is_end_site() and n.parent.name == "LeftFoot")
    assert toes.offset[2] > 0 > toes.offset[1]  # toes forward (+Z) and down


def test_no_person_is_an_error(tmp_path):
    world = np.full((10, 17, 3), np.nan)
    world[3, 5] = 1.0  # one joint is not a pose
    with pytest.raises(ValueError):
        bvh_motion(world, 30.0)
    with pytest.raises(ValueError):
        bvh_motion(np.zeros((3, 17, 3)), 0.0)


# --------------------------------------------------------------------------------------------
def test_euler_angles_continuous_through_full_turns(tmp_path):
    base = make_result(people=1, frames=90, fps=30.0, gaps=False)
    world = _spin(base.keypoints_3d_world[0].astype(np.float64), turns=2.5)  # 10 deg a frame
    bvh = bvh_motion(world, 30.0)
    # the unwrapped angles are the same rotations
    local = local_rotations(world_rotations(y_up(world)))
    np.testing.assert_allclose(euler_to_rotmat(bvh.joint_angles, ORDERS), local, atol=1e-9)
    # no channel jumps (the motion itself turns at most ~15 degrees a frame)
    assert _max_step_deg(bvh.joint_angles) < 30.0
    heading = np.degrees(bvh.joint_angles[:, 0, 0])  # Hips, Yrotation (the outermost)
    assert abs(abs(heading[-1] - heading[0]) - 900.0) < 20.0
    # the motion is one where a plain conversion wraps (so the check above can fail)
    naive = bvh.from_rotmat(bvh.root_pos, local)
    assert _max_step_deg(naive.joint_angles) > 300.0
    # and the file holds the same
    path = tmp_path / "spin.bvh"
    pybvh.write_bvh_file(bvh, path)
    back = pybvh.read_bvh_file(path)
    assert _max_step_deg(back.joint_angles) < 30.0
    assert _fk_error(back, y_up(world)).max() < 1e-3


def test_continuous_euler_through_gimbal_lock():
    # the middle angle sweeps 0 -> 180 degrees, through the lock at 90: a plain conversion folds it
    # back and jumps the outer angles by 180 degrees; the continuous one gives the input back
    for order in ("ZXY", "YZX"):
        b = np.radians(np.arange(0.0, 181.0, 2.0))
        angles = np.stack([np.radians(30.0) + 0 * b, b, np.radians(-20.0) + 0.01 * b], axis=-1)[:, None]
        rot = euler_to_rotmat(angles, [order])
        out = continuous_euler(rot, [order])
        np.testing.assert_allclose(out, angles, atol=1e-6)
        np.testing.assert_allclose(euler_to_rotmat(out, [order]), rot, atol=1e-9)
        plain = pybvh.rotations.rotmat_to_euler(rot, [order])
        assert _max_step_deg(plain) > 90.0


# --------------------------------------------------------------------------------------------
def _squat_pose(knee_deg: float, elbow_deg: float, knees_out_deg: float = 0.0) -> np.ndarray:
    """(17, 3) z-up world pose facing world +y (right = +x): straight trunk, legs bent by
    knee_deg at the knee (knees forward, turned outwards by knees_out_deg; ankles under the
    hips), arms hanging with the elbows bent forward by elbow_deg; constant bones."""
    up, fwd, right = np.array([0.0, 0, 1]), np.array([0.0, 1, 0]), np.array([1.0, 0, 0])
    thigh, shank, upper, fore = 0.43, 0.44, 0.27, 0.25
    half, out = math.radians(knee_deg) / 2, math.radians(knees_out_deg)
    pelvis = (0.08 + (thigh + shank) * math.cos(half)) * up
    pts = np.zeros((17, 3))
    pts[J["pelvis"]] = pelvis
    for side, s in (("r", 1.0), ("l", -1.0)):
        knee_fwd = math.cos(out) * fwd + s * math.sin(out) * right
        thigh_dir = -math.cos(half) * up + math.sin(half) * knee_fwd
        shank_dir = -math.cos(half) * up - math.sin(half) * knee_fwd
        hip = pelvis + s * 0.12 * right
        pts[J[f"{side}_hip"]] = hip
        pts[J[f"{side}_knee"]] = hip + thigh * thigh_dir
        pts[J[f"{side}_ankle"]] = hip + thigh * thigh_dir + shank * shank_dir
    pts[J["spine"]] = pelvis + 0.25 * up
    thorax = pelvis + 0.5 * up
    pts[J["thorax"]] = thorax
    pts[J["neck_nose"]] = thorax + 0.1 * up + 0.08 * fwd
    pts[J["head"]] = thorax + 0.23 * up + 0.02 * fwd
    e = math.radians(elbow_deg)
    for side, s in (("r", 1.0), ("l", -1.0)):
        shoulder = thorax + s * 0.17 * right - 0.03 * up
        pts[J[f"{side}_shoulder"]] = shoulder
        pts[J[f"{side}_elbow"]] = shoulder - upper * up
        pts[J[f"{side}_wrist"]] = shoulder - upper * up + fore * (-math.cos(e) * up + math.sin(e) * fwd)
    return pts


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip((a * b).sum(-1), -1.0, 1.0)))


@pytest.mark.parametrize("knees_out_deg", [0.0, 25.0])
def test_straight_and_bent_limbs_hinge_is_continuous(knees_out_deg):
    # exactly straight legs and arms (no bend plane) for 10 frames, bending to 110 / 90 degrees
    # (3.7 / 3 degrees a frame) and back to exactly straight; knees forward or turned outwards
    ramp = np.concatenate([np.zeros(10), np.linspace(0, 1, 30), np.ones(5), np.linspace(1, 0, 30), np.zeros(5)])
    world = np.stack([_squat_pose(110 * q, 90 * q, knees_out_deg) for q in ramp])
    bvh = bvh_motion(world, 30.0)
    assert np.isfinite(bvh.joint_angles).all()
    points = y_up(world)
    assert _fk_error(bvh, points).max() < 1e-6
    wr = world_rotations(points)
    local = local_rotations(wr)
    idx = {s.name: k for k, s in enumerate(SKELETON)}
    for thigh, knee in (("RightUpLeg", "RightLeg"), ("LeftUpLeg", "LeftLeg"),
                        ("RightArm", "RightForeArm"), ("LeftArm", "LeftForeArm")):
        hinge = wr[:, idx[thigh], :, 0] if "Leg" in thigh else wr[:, idx[thigh], :, 1]
        step = _angle_deg(hinge[1:], hinge[:-1]).max()
        assert step < 10.0, (thigh, step)  # the twist never jumps
        # a knee / elbow bent 30 degrees or more is a pure hinge: its local rotation is about the
        # hinge axis only; below, the straight limb's reference leaves it nearly one
        axis = "XYZ".index("X" if "Leg" in thigh else "Y")
        rotvec = pybvh.rotations.rotmat_to_axisangle(local[:, idx[knee]])
        bend = np.linalg.norm(rotvec, axis=-1)
        off_axis = np.degrees(np.abs(np.delete(rotvec, axis, axis=-1))).max(-1)
        assert (bend > math.radians(29)).sum() >= 30
        assert off_axis[bend >= math.radians(30)].max() < 1e-6, knee
        assert off_axis.max() < 4.0, knee
    # the knees bend forward: a positive X rotation of the shin, the elbows forward too
    assert np.degrees(bvh.joint_angles[40, idx["RightLeg"], 2]) == pytest.approx(110.0, abs=0.5)
    assert _max_step_deg(bvh.joint_angles) < 10.0


# --------------------------------------------------------------------------------------------
@pytest.mark.heavy
@pytest.mark.parametrize("fps", [25.0, 30000 / 1001])
def test_blender_imports_the_file(tmp_path, fps):
    blender = require("blender")
    result = make_result(people=2, frames=90, fps=fps, gaps=True)
    paths = [write_bvh(tmp_path / f"person{p}.bvh", result, p) for p in range(2)]
    out = tmp_path / "blender.json"
    script = Path(__file__).with_name("blender_bvh_check.py")
    done = subprocess.run([blender, "-b", "--factory-startup", "--python", str(script), "--", str(out),
                           *map(str, paths)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and out.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    entries = json.loads(out.read_text())
    worst = 0.0
    for p, entry in enumerate(entries):
        assert entry["frame_range"] == [1.0, 90.0]
        assert entry["fps"] / entry["fps_base"] == pytest.approx(fps, rel=1e-6)
        world = result.keypoints_3d_world[p].astype(np.float64)
        shown = world[held_frames(present(world))]  # Blender's world is z up: keypoints.npz's own
        assert set(entry["bones"]) == set(BVH_TO_H36M)
        for name, h36m in BVH_TO_H36M.items():
            got = np.asarray(entry["bones"][name])
            assert got.shape == (90, 3)
            worst = max(worst, float(np.linalg.norm(got - shown[:, J[h36m]], axis=-1).max()))
    assert worst < 0.001  # the issue asks for 2 cm; the skeleton is exact by construction
    print(f"\nBlender {blender}: max error {worst * 1000:.4f} mm (every bone head, every frame, 2 people)")
