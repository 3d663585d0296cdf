"""demo.post: the fixed camera-to-world view."""

import numpy as np

from _demo_fakes import STANDING_17
from demo.post import (CAMERA_TO_WORLD, CAMERA_TO_WORLD_QUAT, FIXED_VIEW, camera_to_world, quaternion_matrix,
                       to_world_view)
from lifter.skeleton import edges


def _hamilton(a, b):
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2])


def test_matrix_is_a_rotation_equal_to_the_quaternion_product():
    r = quaternion_matrix(CAMERA_TO_WORLD_QUAT)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-7)
    assert np.isclose(np.linalg.det(r), 1.0)
    q = np.asarray(CAMERA_TO_WORLD_QUAT) / np.linalg.norm(CAMERA_TO_WORLD_QUAT)
    q_conj = q * [1, -1, -1, -1]
    for v in np.random.default_rng(0).normal(size=(5, 3)):
        rotated = _hamilton(_hamilton(q, np.r_[0.0, v]), q_conj)[1:]
        np.testing.assert_allclose(r @ v, rotated, atol=1e-9)
        np.testing.assert_allclose(camera_to_world(v[None], CAMERA_TO_WORLD), rotated[None], atol=1e-6)


def test_the_fixed_view_turns_image_right_onto_world_x_and_keeps_up():
    np.testing.assert_allclose(FIXED_VIEW @ FIXED_VIEW.T, np.eye(3), atol=1e-9)
    assert np.isclose(np.linalg.det(FIXED_VIEW), 1.0)
    right = FIXED_VIEW @ [1.0, 0.0, 0.0]
    assert abs(right[1]) < 1e-9 and right[0] > 0.99  # image right along the floor = world +x
    np.testing.assert_allclose(FIXED_VIEW[2], CAMERA_TO_WORLD[2], atol=1e-12)  # a turn about z only


def test_world_view_is_upright_on_the_floor_and_keeps_bone_lengths():
    poses = np.stack([STANDING_17, STANDING_17 * 0.9])
    world = to_world_view(poses)
    assert world.shape == (2, 17, 3) and world.dtype == np.float32
    np.testing.assert_allclose(world[..., 2].min(-1), 0.0, atol=1e-6)
    np.testing.assert_allclose(world[:, 0, :2], 0.0, atol=1e-6)  # pelvis stays at x = y = 0
    head, ankles = world[:, 10, 2], world[:, [3, 6], 2].max(-1)
    assert (head > ankles + 1.0).all()  # camera "up" (-y) became world +z
    for p, c in edges(17):
        np.testing.assert_allclose(np.linalg.norm(world[:, p] - world[:, c], axis=-1),
                                   np.linalg.norm(poses[:, p] - poses[:, c], axis=-1), atol=1e-5)


def test_world_view_keeps_invalid_poses_nan_and_takes_one_pose():
    poses = np.stack([STANDING_17, np.full((17, 3), np.nan, np.float32)])
    world = to_world_view(poses)
    assert np.isfinite(world[0]).all() and np.isnan(world[1]).all()
    np.testing.assert_allclose(to_world_view(STANDING_17), world[0], atol=1e-6)
    z_up = CAMERA_TO_WORLD @ np.array([0.0, -1.0, 0.0])
    assert z_up[2] > 0.95
