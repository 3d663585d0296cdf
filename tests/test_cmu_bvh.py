"""lifter.data.cmu_bvh: BVH parsing, forward kinematics checked against hand-computed positions, the
CMU -> H36M-17 mapping, resampling, the npz that lifter.data.openmocap reads, and bad input."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

from lifter.data import cmu_bvh
from lifter.data.cmu_bvh import BvhError, forward_kinematics, h36m17_joints, parse_bvh
from lifter.skeleton import INDEX_17, JOINTS_17

J = INDEX_17
ROT = "CHANNELS 3 Zrotation Yrotation Xrotation"


def _chain(side: str, sign: int) -> str:
    return f"""
  JOINT {side}UpLeg {{ OFFSET {10 * sign} -5 0 {ROT}
    JOINT {side}Leg {{ OFFSET 0 -40 0 {ROT}
      JOINT {side}Foot {{ OFFSET 0 -40 0 {ROT}
        End Site {{ OFFSET 0 0 10 }} }} }} }}"""


def _arm(side: str, sign: int) -> str:
    return f"""
    JOINT {side}Arm {{ OFFSET {15 * sign} 25 0 {ROT}
      JOINT {side}ForeArm {{ OFFSET {25 * sign} 0 0 {ROT}
        JOINT {side}Hand {{ OFFSET {20 * sign} 0 0 {ROT}
          End Site {{ OFFSET {5 * sign} 0 0 }} }} }} }}"""


#: joint order of the channels below: Hips (6), LeftUpLeg, LeftLeg, LeftFoot, RightUpLeg, RightLeg,
#: RightFoot, Spine, Neck1, Head, LeftArm, LeftForeArm, LeftHand, RightArm, RightForeArm, RightHand (3 each)
HIERARCHY = f"""HIERARCHY
ROOT Hips
{{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation{_chain("Left", 1)}{_chain("Right", -1)}
  JOINT Spine {{ OFFSET 0 20 0 {ROT}
    JOINT Neck1 {{ OFFSET 0 30 0 {ROT}
      JOINT Head {{ OFFSET 0 10 0 {ROT}
        End Site {{ OFFSET 0 15 0 }} }} }}{_arm("Left", 1)}{_arm("Right", -1)} }}
}}
"""
WIDTH = 6 + 3 * 15


def _frame(root=(0, 0, 0), root_zyx=(0, 0, 0), left_leg_zyx=(0, 0, 0)) -> list[float]:
    values = [*root, *root_zyx] + [0.0] * (WIDTH - 6)
    values[6 + 3:6 + 6] = left_leg_zyx  # LeftLeg is the second 3-channel joint
    return values


def _bvh(frames: list[list[float]], frame_time: float = 1 / 120) -> str:
    rows = "\n".join(" ".join(f"{v:g}" for v in f) for f in frames)
    return f"{HIERARCHY}MOTION\nFrames: {len(frames)}\nFrame Time: {frame_time}\n{rows}\n"


def test_rest_pose_is_the_sum_of_offsets_mapped_to_h36m():
    bvh = parse_bvh(_bvh([_frame(root=(100, 90, 50))]))
    assert bvh.names[:4] == ["Hips", "LeftUpLeg", "LeftLeg", "LeftFoot"] and "Head_End" in bvh.names
    out = h36m17_joints(forward_kinematics(bvh), bvh.names, mm_per_unit=1.0)[0]
    expected = {  # root (100, 90, 50) + the offsets along each chain, worked out by hand
        "pelvis": (100, 85, 50), "r_hip": (90, 85, 50), "r_knee": (90, 45, 50), "r_ankle": (90, 5, 50),
        "l_hip": (110, 85, 50), "l_knee": (110, 45, 50), "l_ankle": (110, 5, 50), "spine": (100, 110, 50),
        "thorax": (100, 140, 50), "neck_nose": (100, 150, 50), "head": (100, 165, 50),
        "l_shoulder": (115, 135, 50), "l_elbow": (140, 135, 50), "l_wrist": (160, 135, 50),
        "r_shoulder": (85, 135, 50), "r_elbow": (60, 135, 50), "r_wrist": (40, 135, 50)}
    for name, xyz in expected.items():
        np.testing.assert_allclose(out[J[name]], xyz, atol=1e-4, err_msg=name)
    scaled = h36m17_joints(forward_kinematics(bvh), bvh.names)[0]  # default unit: the CMU skeleton's
    np.testing.assert_allclose(scaled, out * 25.4 / 0.45, rtol=1e-5)


def test_rotations_compose_down_the_chain():
    # root turned 90 degrees about Y (vertical), left knee bent 90 degrees about its X axis
    bvh = parse_bvh(_bvh([_frame(root=(0, 90, 0), root_zyx=(0, 90, 0), left_leg_zyx=(0, 0, 90))]))
    out = h36m17_joints(forward_kinematics(bvh), bvh.names, mm_per_unit=1.0)[0]
    # Ry(90) maps (x, y, z) -> (z, y, -x): the hip offset (10, -5, 0) -> (0, -5, -10)
    np.testing.assert_allclose(out[J["l_hip"]], (0, 85, -10), atol=1e-4)
    np.testing.assert_allclose(out[J["l_knee"]], (0, 45, -10), atol=1e-4)
    # shin (0, -40, 0): Rx(90) -> (0, 0, -40), then Ry(90) -> (-40, 0, 0)
    np.testing.assert_allclose(out[J["l_ankle"]], (-40, 45, -10), atol=1e-4)
    np.testing.assert_allclose(out[J["r_ankle"]], (0, 5, 10), atol=1e-4)  # straight leg, turned
    np.testing.assert_allclose(out[J["l_wrist"]], (0, 135, -60), atol=1e-4)  # arm along +x -> -z


def test_channels_apply_in_the_order_listed():
    text = ("HIERARCHY\nROOT A { OFFSET 0 0 0 CHANNELS 2 Zrotation Xrotation\n"
            "End Site { OFFSET 1 0 0 } }\nMOTION\nFrames: 1\nFrame Time: 0.1\n90 90\n")
    pos = forward_kinematics(parse_bvh(text))
    # Rz(90) @ Rx(90) @ (1, 0, 0) = (0, 1, 0); the other order would give (0, 0, 1)
    np.testing.assert_allclose(pos[0, 1], (0, 1, 0), atol=1e-12)


def test_resample_and_drop_still():
    frames = np.arange(25, dtype=np.float32)[:, None, None] * np.ones((1, 17, 3), np.float32)
    kept = cmu_bvh.resample(frames, 1 / 120, 10.0)  # 0.2 s at 120 fps -> t = 0, 0.1, 0.2 s
    assert kept[:, 0, 0].tolist() == [0, 12, 24]
    assert len(cmu_bvh.resample(frames, 1 / 120, 0)) == 25
    moving = np.zeros((4, 17, 3), np.float32)
    moving[:, :, 0] = [[0], [5], [12], [13]]  # mm: 5 < 10 dropped, 12 kept, 13 is 1 mm from it
    assert cmu_bvh.drop_still(moving, 10.0)[:, 0, 0].tolist() == [0, 12]


def test_npz_is_read_by_the_open_mocap_source(tmp_path):
    from lifter.data.openmocap import OpenMocap

    walk = [_frame(root=(3 * t, 17, 0), left_leg_zyx=(0, 0, 2 * t)) for t in range(25)]
    for name in ("01_01", "01_02", "08_01", "09_01"):  # subjects 1 (train), 8 (val), 9 (test)
        (tmp_path / "bvh").mkdir(exist_ok=True)
        (tmp_path / "bvh" / f"{name}.bvh").write_text(_bvh(walk))
    out = tmp_path / "data" / "mocap.npz"
    assert cmu_bvh.main([str(tmp_path / "bvh"), "--out", str(out), "--quiet"]) == 0
    with np.load(out) as d:
        assert d["joints"].shape == (12, 17, 3) and d["joints"].dtype == np.float32
        assert d["split"].tolist() == [0] * 6 + [1] * 3 + [2] * 3 and d["subject"].tolist()[::3] == [1, 1, 8, 9]
        assert d["clip"].tolist()[::3] == [0, 1, 2, 3] and (d["primary"] == 1).all() and float(d["fps"]) == 10.0
        assert list(d["joint_names"]) == list(JOINTS_17) and list(d["split_names"]) == ["train", "val", "test"]
    with (out.parent / "clips.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["file"] for r in rows] == ["01_01.bvh", "01_02.bvh", "08_01.bvh", "09_01.bvh"]
    assert rows[0]["true_fps"] == "120.0" and rows[3]["split"] == "test"
    source = OpenMocap(out, noise="clean")
    assert source.train_size() == 6
    test = source.eval_set("test")
    assert test.inputs.shape == (3, 17, 2) and np.isfinite(test.targets).all()
    # an existing file is not overwritten without --force
    assert cmu_bvh.main([str(tmp_path / "bvh"), "--out", str(out), "--quiet"]) == 2
    assert cmu_bvh.main([str(tmp_path / "bvh"), "--out", str(out), "--quiet", "--force",
                         "--test-subjects", "8,9"]) == 0


@pytest.mark.parametrize("change, message", [
    # one value short on the frame's line, the file's last (line 30)
    (lambda t: t.replace("Frame Time: 0.1\n0 0 0 0 0 0", "Frame Time: 0.1\n0 0 0 0 0"), "line 30 has 50 values"),
    (lambda t: t.replace("JOINT Neck1", "JOINT Collar"), "no joint 'Neck1'"),
    (lambda t: t.replace("Xrotation\n  JOINT LeftUpLeg", "Qrotation\n  JOINT LeftUpLeg"),
     "unknown channel 'Qrotation'"),
    (lambda t: t.split("MOTION")[0], "file ends early"),
])
def test_bad_input_is_one_line(tmp_path, capsys, change, message):
    path = tmp_path / "01_01.bvh"
    path.write_text(change(_bvh([_frame()], frame_time=0.1)))
    assert cmu_bvh.main([str(path), "--out", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "x.npz").exists()


def test_bad_file_name_and_missing_input(tmp_path):
    (tmp_path / "walk.bvh").write_text(_bvh([_frame()]))
    with pytest.raises(BvhError, match="SUBJECT_TRIAL"):
        cmu_bvh.build(cmu_bvh.find_bvh([tmp_path]))
    with pytest.raises(BvhError, match="no such file"):
        cmu_bvh.find_bvh([tmp_path / "missing"])
    proc = subprocess.run([sys.executable, "-m", "lifter.data.cmu_bvh", str(tmp_path / "walk.bvh"), "--out",
                           str(tmp_path / "o.npz")], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1
