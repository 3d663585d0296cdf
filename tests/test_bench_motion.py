"""The measuring parts of bench/motion_quality.py and bench/camera_check.py on tiny known inputs."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import camera_check  # noqa: E402
import motion_quality  # noqa: E402


def test_acceleration_of_known_motions():
    t = np.arange(30)[:, None, None] / 30.0
    steady = np.broadcast_to(t * [1.0, 2.0, 0.0], (30, 17, 3))
    np.testing.assert_allclose(motion_quality._accel(steady, 30.0), 0.0, atol=1e-9)
    falling = np.broadcast_to(0.5 * 9.81 * t ** 2 * [0.0, 0.0, 1.0], (30, 17, 3))
    np.testing.assert_allclose(motion_quality._accel(falling, 30.0), 9.81, rtol=1e-9)


def test_steps_count_big_moves_and_those_the_image_does_not_show():
    full = np.zeros((4, 17, 3))
    full[..., 2] = 5.0  # 5 m from a camera of focal 1000 px: 1 px = 5 mm
    kp2d = np.zeros((4, 17, 2))
    full[2, 3, 0] = 0.5     # frame 1 -> 2: the ankle moves 0.5 m across, and the image shows 100 px (0.5 m)
    kp2d[2:, 3, 0] = 100.0
    full[3, 3] = full[2, 3] + [0.0, 0.0, 0.4]  # 2 -> 3: 0.4 m in depth, the image shows nothing
    steps, big, hidden = motion_quality._steps(full, kp2d, 1000.0, np.ones(4, bool))
    assert (steps, big, hidden) == (3, 2, 1)
    assert motion_quality._steps(full, kp2d, 1000.0, np.array([True, True, False, True]))[:2] == (1, 0)


def test_ground_speed_is_net_displacement_over_time():
    fps, speed = 30.0, 1.3
    world = np.zeros((120, 17, 3))
    world[:, 0, 0] = speed * np.arange(120) / fps
    assert motion_quality._ground_speed(world, np.ones(120, bool), fps) == pytest.approx(speed)
    assert math.isnan(motion_quality._ground_speed(world[:40], np.ones(40, bool), fps))  # under 2 s


def test_swaps_are_injected_in_runs_of_one_to_three_frames():
    kp = np.random.default_rng(0).normal(size=(600, 17, 2))
    swapped = motion_quality._inject_swaps(np.random.default_rng(1), kp, 30.0)
    changed = (swapped != kp).any((-1, -2))
    assert 5 <= changed.sum() <= 80  # about one run every 2 s over 20 s, 1-3 frames each
    np.testing.assert_array_equal(np.sort(swapped, axis=1), np.sort(kp, axis=1))  # a permutation of the joints
    np.testing.assert_array_equal(swapped[:, [0, 7, 8, 9, 10]], kp[:, [0, 7, 8, 9, 10]])  # the centre stays


QCA = """<?xml version='1.0' encoding='ASCII'?>
<calibration><cameras>
 <camera serial="cam01"><transform x="1000" y="-2000" z="1500" r11="1" r12="0" r13="0"
   r21="0" r22="{c}" r23="{s}" r31="0" r32="{ms}" r33="{c}"/>
  <intrinsic focalLengthU="64000" focalLengthV="64000" centerPointU="32000" centerPointV="48000"/></camera>
</cameras></calibration>
"""


def test_the_qualisys_reader_and_its_camera_angles(tmp_path):
    """A level camera looking along world +y, then pitched 20 deg down: its rows, in Qualisys'
    camera frame (x right, y up, looking along -z), as the calibration file stores them."""
    down = math.radians(20.0)
    # camera x = world x; camera y (image up) and the viewing direction, tilted down by 20 deg
    up = np.array([0.0, math.sin(down), math.cos(down)])
    back = -np.array([0.0, math.cos(down), -math.sin(down)])  # Qualisys z points backwards
    rows = np.stack([[1.0, 0.0, 0.0], up, back])
    text = QCA.format(c=f"{rows[1, 1]:.12f}", s=f"{rows[1, 2]:.12f}", ms=f"{rows[2, 1]:.12f}")
    text = text.replace(f'r33="{rows[1, 1]:.12f}"', f'r33="{rows[2, 2]:.12f}"')
    path = tmp_path / "Calib.qca.txt"
    path.write_text(text)
    cam = camera_check.read_qca(path)["cam01"]
    assert cam.focal_u == 1000.0 and (cam.centre_u, cam.centre_v) == (500.0, 750.0)
    np.testing.assert_allclose(cam.centre, [1.0, -2.0, 1.5])
    assert cam.height_m == pytest.approx(1.5)
    assert cam.pitch_deg == pytest.approx(20.0, abs=1e-6) and cam.roll_deg == pytest.approx(0.0, abs=1e-6)
    # the optical axis (camera z, OpenCV frame) points forward (+y) and down
    forward = cam.rotation[2]
    assert forward[1] > 0.9 and forward[2] < -0.3
