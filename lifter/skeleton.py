"""The one joint table and the one 2D normalisation of the project.

Every module that needs joint names, parents, left/right pairs, the 16-joint subset or the
screen normalisation imports them from here.

Conventions used across the project (array shapes, units, frames)
-----------------------------------------------------------------
- Joint order: H36M-17 (VideoPose3D / MHFormer order), ``JOINTS_17`` below. The 16-joint
  "GT" models use ``JOINTS_16`` = H36M-17 without Neck/Nose (index 9).
- 2D keypoints in pixels: float array (..., J, 2), x to the right, y down, origin at the
  top-left corner of the image.
- Normalised 2D (what a lifter takes): ``normalize_screen`` below, x and y both divided by the
  image width so the aspect ratio is kept: x in [-1, 1], y in [-h/w, h/w].
- 3D from a lifter: float array (..., J, 3) in metres, camera frame (x right, y down, z forward
  from the camera), root-relative (Pelvis at the origin).
- Confidence scores: float array (..., J) in [0, 1]; 0 means the joint was not detected.
"""

from __future__ import annotations

import numpy as np

JOINTS_17: tuple[str, ...] = (
    "pelvis", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "spine", "thorax",
    "neck_nose", "head", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist",
)
#: joint name -> its index in JOINTS_17
INDEX_17: dict[str, int] = {name: i for i, name in enumerate(JOINTS_17)}
PARENTS_17: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
LEFT_17: tuple[int, ...] = (4, 5, 6, 11, 12, 13)
RIGHT_17: tuple[int, ...] = (1, 2, 3, 14, 15, 16)

#: indices into H36M-17 of the 16-joint layout (Neck/Nose dropped)
SUBSET_16: tuple[int, ...] = tuple(i for i in range(17) if i != 9)
JOINTS_16: tuple[str, ...] = tuple(JOINTS_17[i] for i in SUBSET_16)


def _reindex_parents(subset: tuple[int, ...]) -> tuple[int, ...]:
    """Parents of a joint subset, skipping removed ancestors (head's parent becomes thorax)."""
    pos = {j: k for k, j in enumerate(subset)}
    out = []
    for j in subset:
        p = PARENTS_17[j]
        while p != -1 and p not in pos:
            p = PARENTS_17[p]
        out.append(-1 if p == -1 else pos[p])
    return tuple(out)


PARENTS_16: tuple[int, ...] = _reindex_parents(SUBSET_16)
LEFT_16: tuple[int, ...] = tuple(SUBSET_16.index(j) for j in LEFT_17)
RIGHT_16: tuple[int, ...] = tuple(SUBSET_16.index(j) for j in RIGHT_17)

#: Human3.6M raw 32-joint data -> H36M-17
H36M32_TO_17: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)


def layout(num_joints: int) -> dict:
    """Names, parents and left/right lists of the 17- or 16-joint layout."""
    if num_joints == 17:
        return {"names": JOINTS_17, "parents": PARENTS_17, "left": LEFT_17, "right": RIGHT_17}
    if num_joints == 16:
        return {"names": JOINTS_16, "parents": PARENTS_16, "left": LEFT_16, "right": RIGHT_16}
    raise ValueError(f"unsupported number of joints: {num_joints} (expected 16 or 17)")


def flip_permutation(num_joints: int) -> np.ndarray:
    """Index array that swaps left and right joints: ``x_flipped = x[..., perm, :]``."""
    lay = layout(num_joints)
    perm = np.arange(num_joints)
    perm[list(lay["left"])] = lay["right"]
    perm[list(lay["right"])] = lay["left"]
    return perm


def edges(num_joints: int) -> list[tuple[int, int]]:
    """Skeleton bones as (parent, child) pairs."""
    return [(p, c) for c, p in enumerate(layout(num_joints)["parents"]) if p >= 0]


def normalize_screen(xy: np.ndarray, width: float, height: float) -> np.ndarray:
    """Pixels (..., 2) -> normalised coordinates: ``xy / w * 2 - [1, h / w]``."""
    xy = np.asarray(xy, dtype=np.float32)
    return xy / width * 2.0 - np.array([1.0, height / width], dtype=np.float32)


def denormalize_screen(xy: np.ndarray, width: float, height: float) -> np.ndarray:
    """Inverse of :func:`normalize_screen`: normalised (..., 2) -> pixels."""
    xy = np.asarray(xy, dtype=np.float32)
    return (xy + np.array([1.0, height / width], dtype=np.float32)) * width / 2.0


def fill_missing(xy: np.ndarray, scores: np.ndarray, parents: tuple[int, ...] = PARENTS_17,
                 min_score: float = 0.0) -> np.ndarray:
    """Replace absent joints so that no NaN reaches a lifter.

    xy: (..., J, 2) pixels; scores: (..., J); min_score in [0, 1]. A joint is absent unless
    ``lifter.keypoints.joint_present(xy, scores, min_score)`` (finite, not exactly (0, 0), score > 0
    and >= min_score). It takes the position of its nearest present ancestor; when no ancestor is
    present, the mean of the present joints; when no joint is present, 0. Returns a new float32 array.
    The same rule is used by the demo and by the training noise model (dropped joints).
    """
    from lifter.keypoints import joint_present  # imported here: lifter.keypoints imports this module

    xy = np.array(xy, dtype=np.float32, copy=True)
    present = joint_present(xy, scores, min_score)
    if present.all():
        return xy
    num_joints = xy.shape[-2]
    flat_xy = xy.reshape(-1, num_joints, 2)
    flat_ok = present.reshape(-1, num_joints)
    # vectorised over poses, one pass over the joints (parents come before children in this table)
    count = flat_ok.sum(-1, keepdims=True)
    fallback = np.where(flat_ok[..., None], np.nan_to_num(flat_xy), 0.0).sum(1) / np.maximum(count, 1)
    anchored = flat_ok.copy()  # the joint now holds the position of a present joint
    for j, p in enumerate(parents):
        missing = ~flat_ok[:, j]
        if not missing.any():
            continue
        if p < 0:
            flat_xy[missing, j] = fallback[missing]
            continue
        from_parent = missing & anchored[:, p]
        flat_xy[from_parent, j] = flat_xy[from_parent, p]
        flat_xy[missing & ~anchored[:, p], j] = fallback[missing & ~anchored[:, p]]
        anchored[:, j] |= from_parent
    return flat_xy.reshape(xy.shape).astype(np.float32)
