"""The 2D keypoint recipe in training: which 3D points a 2D detector's keypoints correspond to.

The recipe itself (H36M-17 joint <- detector keypoints) lives in one place, ``lifter.keypoints``
(``RECIPE``, ``to_h36m17``); the demo applies it to the detector's keypoints and training applies
the same function to the projections of the 3D points made here:

- hips, knees, ankles, shoulders, elbows, wrists: the mocap joints;
- the nose: in front of the mocap's neck_nose joint; the ear midpoint: behind the midpoint of
  neck_nose and head (the mocap's own neck_nose and head are head bones, not those points);
- pelvis, thorax, spine: the 3D midpoints of hips and shoulders (their 2D is rebuilt from the
  projected hips and shoulders by ``derive_midpoints_2d``, as the demo does).

The 3D target stays the mocap joints. The nose and ear offsets are approximations of an average
adult head, stated as named constants.
"""

from __future__ import annotations

import numpy as np

from lifter.keypoints import MOCAP_POINTS, to_h36m17

#: the nose tip lies this far in front of the mocap's neck_nose joint (metres)
NOSE_FORWARD_M = 0.06
#: the midpoint of the ears lies this far behind the midpoint of neck_nose and head (metres)
EAR_BACK_M = 0.02

PELVIS, R_HIP, L_HIP, SPINE, THORAX, NECK_NOSE, HEAD, L_SHOULDER, R_SHOULDER = 0, 1, 4, 7, 8, 9, 10, 11, 14


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def detector_points_3d(joints: np.ndarray) -> np.ndarray:
    """Mocap H36M-17 joints (..., 17, 3) -> the 3D points behind the demo's H36M-17 (..., 17, 3).

    Any right-handed frame and unit; 'up' is taken as thorax - pelvis and 'forward' as
    normalize(cross(l_shoulder - r_shoulder, up)). Offsets are in metres, so give metres.
    """
    j = np.asarray(joints, dtype=np.float64)
    out = j.copy()
    up = j[..., THORAX, :] - j[..., PELVIS, :]
    forward = _normalize(np.cross(j[..., L_SHOULDER, :] - j[..., R_SHOULDER, :], up))
    pelvis = (j[..., L_HIP, :] + j[..., R_HIP, :]) / 2
    thorax = (j[..., L_SHOULDER, :] + j[..., R_SHOULDER, :]) / 2
    out[..., PELVIS, :] = pelvis
    out[..., THORAX, :] = thorax
    out[..., SPINE, :] = (pelvis + thorax) / 2
    out[..., NECK_NOSE, :] = j[..., NECK_NOSE, :] + NOSE_FORWARD_M * forward
    out[..., HEAD, :] = (j[..., NECK_NOSE, :] + j[..., HEAD, :]) / 2 - EAR_BACK_M * forward
    return out.astype(np.float32)


def derive_midpoints_2d(xy: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The demo's recipe on projected detector points: pelvis, thorax and spine rebuilt from the 2D.

    xy (..., 17, 2) pixels, the projections of ``detector_points_3d`` (possibly noisy); scores
    (..., 17). Returns new float32 arrays: ``lifter.keypoints.to_h36m17`` of the layout
    ``MOCAP_POINTS``; a derived joint's score is the smallest score of the points it is made from.
    """
    return to_h36m17(xy, scores, MOCAP_POINTS)
