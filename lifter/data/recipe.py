"""The 2D keypoint recipe: which 3D points a 2D detector's keypoints correspond to.

The demo turns a 2D detector's keypoints into H36M-17 like this (documented in the demo's
converters too; keep both in step):

- pelvis = midpoint of the detector's hips; thorax = midpoint of the shoulders;
  spine = midpoint of pelvis and thorax;
- hips, knees, ankles, shoulders, elbows, wrists = the detector's points;
- neck_nose = the detector's nose; head = midpoint of the two ears.

The mocap's own pelvis, spine, thorax, neck_nose and head are not those points, so training
projects the points below instead (the 3D target stays the mocap joints). The nose and ear
offsets are approximations of an average adult head, stated as named constants.
"""

from __future__ import annotations

import numpy as np

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
    """Recompute pelvis, thorax and spine from the (noisy) 2D hips and shoulders, as the demo does.

    xy (..., 17, 2), scores (..., 17) -> new arrays; a derived joint's score is the smallest score
    of the points it is made from (0 when one of them was not detected).
    """
    xy = np.array(xy, dtype=np.float32, copy=True)
    s = np.array(scores, dtype=np.float32, copy=True)
    xy[..., PELVIS, :] = (xy[..., L_HIP, :] + xy[..., R_HIP, :]) / 2
    xy[..., THORAX, :] = (xy[..., L_SHOULDER, :] + xy[..., R_SHOULDER, :]) / 2
    xy[..., SPINE, :] = (xy[..., PELVIS, :] + xy[..., THORAX, :]) / 2
    s[..., PELVIS] = np.minimum(s[..., L_HIP], s[..., R_HIP])
    s[..., THORAX] = np.minimum(s[..., L_SHOULDER], s[..., R_SHOULDER])
    s[..., SPINE] = np.minimum(s[..., PELVIS], s[..., THORAX])
    return xy, s
