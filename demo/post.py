"""Camera frame -> the fixed world view that the demo draws and saves as ``keypoints_3d_world``.

The lifter gives root-relative 3D joints in the camera frame (x right, y down, z forward,
metres; see lifter.skeleton). The demo turns them into a world view the same way the reference
demo pattern (MHFormer / VideoPose3D) does, so results can be compared with it:

1. rotate by the fixed unit quaternion ``CAMERA_TO_WORLD_QUAT`` = (w, x, y, z) =
   (0.14070565, -0.15007018, -0.75524080, 0.62232801), the camera orientation of one
   Human3.6M camera; it maps the camera's "up" (-y) to almost world +z (about 11 degrees of tilt
   remain, the pitch of that camera), so world z is "up";
2. no translation: the pelvis stays at x = y = 0;
3. shift z so that the lowest joint of each frame touches the floor z = 0.

No temporal smoothing is applied: the saved world poses are the lifter's per-frame output,
rotated and shifted. Invalid frames (NaN) stay NaN.
"""

from __future__ import annotations

import numpy as np

#: camera-to-world rotation of the reference demo pattern, unit quaternion (w, x, y, z)
CAMERA_TO_WORLD_QUAT: tuple[float, float, float, float] = (
    0.1407056450843811, -0.1500701755285263, -0.755240797996521, 0.6223280429840088,
)


def quaternion_matrix(quat: tuple[float, float, float, float] | np.ndarray) -> np.ndarray:
    """Rotation matrix (3, 3) of a quaternion (w, x, y, z); the quaternion is normalised first.

    ``R @ v`` rotates the column vector v the way the quaternion product q v q* does.
    """
    w, x, y, z = np.asarray(quat, dtype=np.float64) / np.linalg.norm(quat)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


CAMERA_TO_WORLD: np.ndarray = quaternion_matrix(CAMERA_TO_WORLD_QUAT)


def camera_to_world(points: np.ndarray, rotation: np.ndarray = CAMERA_TO_WORLD) -> np.ndarray:
    """Rotate camera-frame points (..., 3) metres into the world view (..., 3), float32."""
    pts = np.asarray(points, dtype=np.float32)
    return pts @ rotation.T.astype(np.float32)


def to_world_view(kp3d_cam: np.ndarray, rotation: np.ndarray = CAMERA_TO_WORLD) -> np.ndarray:
    """Camera-frame root-relative joints (..., J, 3) -> drawn world view (..., J, 3), float32.

    Rotated by ``rotation`` (default the fixed quaternion above), then each pose is lifted so
    that its lowest joint lies on z = 0. Poses containing NaN come back all NaN.
    """
    world = camera_to_world(kp3d_cam, rotation)
    bad = ~np.isfinite(world).all(axis=(-1, -2))
    floor = np.min(np.where(bad[..., None], 0.0, world[..., 2]), axis=-1)
    world[..., 2] -= floor[..., None]
    world[bad] = np.nan
    return world
