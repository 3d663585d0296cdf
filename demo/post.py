"""Camera frame -> the fixed world view: the fallback when no ground can be estimated.

The demo places people in a world with an estimated ground (demo.motion, demo.ground). When the
ground cannot be estimated (too few foot contacts; or ``--no-ground``), the root-relative 3D
joints in the camera frame (x right, y down, z forward, metres; see lifter.skeleton) are shown
and saved in this fixed view instead, made the same way the reference demo pattern (MHFormer /
VideoPose3D) does:

1. rotate by the fixed unit quaternion ``CAMERA_TO_WORLD_QUAT`` = (w, x, y, z) =
   (0.14070565, -0.15007018, -0.75524080, 0.62232801), the camera orientation of one
   Human3.6M camera; it maps the camera's "up" (-y) to almost world +z (about 11 degrees of tilt
   remain, the pitch of that camera), so world z is "up"; then turn about z so that the camera's
   image-right direction, along the floor, is world +x, as in the estimated world (``FIXED_VIEW``,
   the rotation used by default);
2. no translation: the pelvis stays at x = y = 0;
3. shift z so that the lowest joint of each frame touches the floor z = 0.

Several people (:func:`place_people`): without a world trajectory, each person is moved along
the floor in the direction of the input camera's x axis (image right), by their
horizontal image position: a person at the left edge of the image stands ``PLACEMENT_HALF_SPAN``
metres left of the origin, one at the right edge that far right. This is a function so that a
real placement can replace it.

The poses given are rotated and shifted only (demo.motion smooths them before). Invalid
frames (NaN) stay NaN.
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


def _image_right_on_floor(rotation: np.ndarray) -> np.ndarray:
    """World direction (3,) of the camera's x axis (image right), projected onto the floor, unit length."""
    right = rotation @ np.array([1.0, 0.0, 0.0])
    right[2] = 0.0
    return right / np.linalg.norm(right)


def _yaw_aligned(rotation: np.ndarray) -> np.ndarray:
    """``rotation`` followed by the turn about z that brings the camera's image right onto world +x."""
    right = _image_right_on_floor(rotation)
    c, s = right[0], -right[1]  # cos and sin of minus the yaw of image right
    turn = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return turn @ rotation


#: the fixed view's camera-to-world rotation: CAMERA_TO_WORLD turned so image right is world +x
FIXED_VIEW: np.ndarray = _yaw_aligned(CAMERA_TO_WORLD)


def camera_to_world(points: np.ndarray, rotation: np.ndarray = FIXED_VIEW) -> np.ndarray:
    """Rotate camera-frame points (..., 3) metres into the world view (..., 3), float32."""
    pts = np.asarray(points, dtype=np.float32)
    return pts @ rotation.T.astype(np.float32)


def to_world_view(kp3d_cam: np.ndarray, rotation: np.ndarray = FIXED_VIEW) -> np.ndarray:
    """Camera-frame root-relative joints (..., J, 3) -> drawn world view (..., J, 3), float32.

    Rotated by ``rotation`` (default ``FIXED_VIEW``), then each pose is lifted so
    that its lowest joint lies on z = 0. Poses containing NaN come back all NaN.
    """
    world = camera_to_world(kp3d_cam, rotation)
    bad = ~np.isfinite(world).all(axis=(-1, -2))
    floor = np.min(np.where(bad[..., None], 0.0, world[..., 2]), axis=-1)
    world[..., 2] -= floor[..., None]
    world[bad] = np.nan
    return world


#: metres between the origin and a person at the image's left or right edge (see place_people)
PLACEMENT_HALF_SPAN = 1.5


def place_people(world: np.ndarray, image_x: np.ndarray, rotation: np.ndarray = FIXED_VIEW) -> np.ndarray:
    """Side-by-side placement of several people's world-view poses by their image position.

    world: (N, J, 3) metres from :func:`to_world_view` (pelvis at x = y = 0); image_x: (N,) the
    person's horizontal image position normalised to [-1, 1] (left edge -1, right edge 1).
    Returns (N, J, 3) float32: each pose moved by ``image_x * PLACEMENT_HALF_SPAN`` metres along
    the floor direction of image right. NaN poses stay NaN.
    """
    world = np.asarray(world, np.float32)
    offsets = np.asarray(image_x, np.float64)[:, None] * PLACEMENT_HALF_SPAN * _image_right_on_floor(rotation)
    return (world + offsets[:, None, :].astype(np.float32)).astype(np.float32)
