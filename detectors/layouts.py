"""Detector keypoint layouts and their conversion to the lifter's H36M-17 joints.

Left/right are the person's own sides in every layout (as in H36M). Joint names and order of
the target come from ``lifter.skeleton.JOINTS_17``.

Recipe (the same one the lifter's training synthesises, lifter/data/recipe.py), H36M joint
<- detector keypoints; a joint made from several keypoints is their mean and its score is the
minimum of their scores:

================  =====================================================================
pelvis            midpoint of l_hip and r_hip
r_hip, r_knee,    the detector's r_hip, r_knee, r_ankle
r_ankle
l_hip, l_knee,    the detector's l_hip, l_knee, l_ankle
l_ankle
spine             midpoint of pelvis and thorax (= mean of the two hips and two shoulders)
thorax            midpoint of l_shoulder and r_shoulder
neck_nose         the nose
head              midpoint of l_ear and r_ear
l_shoulder,       the detector's l_shoulder, l_elbow, l_wrist
l_elbow, l_wrist
r_shoulder,       the detector's r_shoulder, r_elbow, r_wrist
r_elbow, r_wrist
================  =====================================================================

BlazePose-33 and COCO-17 both name these 15 source keypoints, so one recipe serves both; the
remaining keypoints (eyes, mouth, hands, feet) are unused. Missing people (NaN coordinates,
score 0) pass through as NaN coordinates and score 0.
"""

from __future__ import annotations

import numpy as np

from lifter.skeleton import JOINTS_17

#: MediaPipe BlazePose landmark order (33 keypoints)
BLAZEPOSE_33: tuple[str, ...] = (
    "nose", "l_eye_inner", "l_eye", "l_eye_outer", "r_eye_inner", "r_eye", "r_eye_outer",
    "l_ear", "r_ear", "mouth_l", "mouth_r", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow",
    "l_wrist", "r_wrist", "l_pinky", "r_pinky", "l_index", "r_index", "l_thumb", "r_thumb",
    "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle", "l_heel", "r_heel",
    "l_foot_index", "r_foot_index",
)

#: MS-COCO keypoint order (17 keypoints)
COCO_17: tuple[str, ...] = (
    "nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder", "l_elbow",
    "r_elbow", "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle",
)

#: layout name (``Detector.layout``) -> keypoint names in order
LAYOUTS: dict[str, tuple[str, ...]] = {"blazepose33": BLAZEPOSE_33, "coco17": COCO_17}

_HIPS = ("l_hip", "r_hip")
_SHOULDERS = ("l_shoulder", "r_shoulder")

#: H36M-17 joint name -> the detector keypoints it is the mean of (score: their minimum)
RECIPE: dict[str, tuple[str, ...]] = {
    "pelvis": _HIPS,
    "r_hip": ("r_hip",), "r_knee": ("r_knee",), "r_ankle": ("r_ankle",),
    "l_hip": ("l_hip",), "l_knee": ("l_knee",), "l_ankle": ("l_ankle",),
    "spine": _HIPS + _SHOULDERS,  # midpoint of (mid-hips, mid-shoulders)
    "thorax": _SHOULDERS,
    "neck_nose": ("nose",),
    "head": ("l_ear", "r_ear"),
    "l_shoulder": ("l_shoulder",), "l_elbow": ("l_elbow",), "l_wrist": ("l_wrist",),
    "r_shoulder": ("r_shoulder",), "r_elbow": ("r_elbow",), "r_wrist": ("r_wrist",),
}
assert tuple(RECIPE) == JOINTS_17, "RECIPE must follow lifter.skeleton.JOINTS_17"


#: layout name -> for each H36M-17 joint, the indices of its source keypoints
_SOURCES: dict[str, tuple[tuple[int, ...], ...]] = {
    layout: tuple(tuple(names.index(s) for s in sources) for sources in RECIPE.values())
    for layout, names in LAYOUTS.items()
}


def to_h36m17(xy: np.ndarray, scores: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert detector keypoints to H36M-17 (``lifter.skeleton.JOINTS_17`` order).

    xy: (..., K, 2) pixels; scores: (..., K) in [0, 1]; layout: a key of ``LAYOUTS``
    (K = 33 for "blazepose33", 17 for "coco17").
    Returns xy17 (..., 17, 2) float32 pixels and scores17 (..., 17) float32. A NaN source
    coordinate makes the joints built from it NaN.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown keypoint layout {layout!r} (known: {', '.join(LAYOUTS)})")
    xy = np.asarray(xy, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float32)
    k = len(LAYOUTS[layout])
    if xy.ndim < 2 or xy.shape[-2:] != (k, 2) or scores.shape != xy.shape[:-1]:
        raise ValueError(f"layout {layout!r} needs xy (..., {k}, 2) and scores (..., {k}); "
                         f"got {xy.shape} and {scores.shape}")
    xy17 = np.stack([xy[..., list(idx), :].mean(-2) for idx in _SOURCES[layout]], axis=-2)
    scores17 = np.stack([scores[..., list(idx)].min(-1) for idx in _SOURCES[layout]], axis=-1)
    return xy17, scores17
