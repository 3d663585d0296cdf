"""The one keypoint module: detector layouts, the recipe to H36M-17, and the "is this joint present" rule.

Left/right are the person's own sides in every layout (as in H36M). The target's joint names and
order are ``lifter.skeleton.JOINTS_17``. Coordinates are pixels (x right, y down), scores are in
[0, 1]; shapes are (..., K, 2) and (..., K) with any leading batch dimensions.

Recipe, H36M joint <- detector keypoints; a joint made from several keypoints is their mean and its
score is the minimum of their scores (``RECIPE``):

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

Layouts ``to_h36m17`` converts from:

- "blazepose33" (``BLAZEPOSE_33``) and "coco17" (``COCO_17``): detectors (``LAYOUTS``). Their other
  keypoints (eyes, mouth, hands, feet) are unused.
- "body25" (``BODY_25``, OpenPose BODY_25), "coco18" (``COCO_18``, OpenPose's COCO model) and
  "halpe26" (``HALPE_26``, AlphaPose's Halpe-26: COCO-17 then head, neck, hip centre, big toes,
  small toes, heels): keypoint files made elsewhere (``detectors.keypoint_files``), also in
  ``LAYOUTS``. Their neck, hip centre, head and foot points are unused: the recipe rebuilds the
  midpoints from hips and shoulders as for every layout. Orders: OpenPose's output documentation
  ("Keypoint Ordering") and the Halpe-FullBody dataset README.
- "h36m17": already H36M-17 (a detector trained on it); passed through unchanged.
- "mocap_points17" (``MOCAP_POINTS``): the training's synthetic 2D, the projections of
  ``lifter.data.recipe.detector_points_3d`` in H36M-17 order. Its neck_nose entry is the nose and its
  head entry the ear midpoint, so both ears read that entry; its pelvis, spine and thorax entries
  are not read (rebuilt from hips and shoulders). Training and demo thus share this one recipe.

A joint is present (``joint_present``) when its position is finite and not exactly (0, 0) (how
several detectors write a missing joint) and its score is > 0 and >= the threshold ``min_score``.
Absent joints are filled before lifting (``lifter.skeleton.fill_missing``, same rule). The lifting
and the drawing use one threshold, ``LIFT_MIN_SCORE`` by default (measured: bench/min_score.py).
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

#: OpenPose BODY_25 keypoint order (25 keypoints; mid_hip is OpenPose's MidHip)
BODY_25: tuple[str, ...] = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
    "mid_hip", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye",
    "r_ear", "l_ear", "l_big_toe", "l_small_toe", "l_heel", "r_big_toe", "r_small_toe", "r_heel",
)

#: OpenPose COCO-18 keypoint order (18 keypoints; not the MS-COCO order)
COCO_18: tuple[str, ...] = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
    "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
)

#: AlphaPose Halpe-26 keypoint order: MS-COCO's 17, then Halpe's Head, Neck, Hip (the hip centre)
#: and the feet (26 keypoints)
HALPE_26: tuple[str, ...] = COCO_17 + (
    "head", "neck", "mid_hip", "l_big_toe", "r_big_toe", "l_small_toe", "r_small_toe", "l_heel", "r_heel",
)

#: layout name (``Detector.layout``, ``detectors.keypoint_files``) -> keypoint names in order
LAYOUTS: dict[str, tuple[str, ...]] = {"blazepose33": BLAZEPOSE_33, "coco17": COCO_17, "body25": BODY_25,
                                       "coco18": COCO_18, "halpe26": HALPE_26}
#: a layout that is already H36M-17 (``to_h36m17`` passes it through)
H36M_17 = "h36m17"
#: the training's synthetic layout (see the module docstring)
MOCAP_POINTS = "mocap_points17"

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
if tuple(RECIPE) != JOINTS_17:
    raise ImportError("lifter.keypoints.RECIPE must follow lifter.skeleton.JOINTS_17")

#: the 15 keypoint names the recipe reads
SOURCE_KEYPOINTS: tuple[str, ...] = tuple(dict.fromkeys(s for sources in RECIPE.values() for s in sources))

#: MOCAP_POINTS: recipe keypoint name -> its index in the H36M-17-ordered synthetic points
_MOCAP_INDEX: dict[str, int] = {**{n: JOINTS_17.index(n) for n in SOURCE_KEYPOINTS if n in JOINTS_17},
                                "nose": JOINTS_17.index("neck_nose"),
                                "l_ear": JOINTS_17.index("head"), "r_ear": JOINTS_17.index("head")}

#: layout -> (number of keypoints K, for each H36M-17 joint the indices of its source keypoints)
_SOURCES: dict[str, tuple[int, tuple[tuple[int, ...], ...]]] = {
    **{layout: (len(names), tuple(tuple(names.index(s) for s in src) for src in RECIPE.values()))
       for layout, names in LAYOUTS.items()},
    MOCAP_POINTS: (len(JOINTS_17), tuple(tuple(_MOCAP_INDEX[s] for s in src) for src in RECIPE.values())),
}
#: every layout name ``to_h36m17`` accepts
KNOWN_LAYOUTS: tuple[str, ...] = (*LAYOUTS, H36M_17, MOCAP_POINTS)

#: default score threshold of lifting and drawing: a joint scored below it is treated as missing
#: by the lifting (filled by fill_missing) and drawn as low confidence; 0 lifts every detected joint.
#: Measured (bench/min_score.py, bench/min_score.json): BlazePose's guesses of joints outside the
#: frame score 0.06-0.7 and miss by 8-17% of the person's size (median); lifting them as guessed beats
#: filling them at every threshold tried (0.1, 0.3, 0.5), on real clips (MPJPE against the full
#: frame's lift) and on mocap (filling wins only past a 21% guess error, never for whole lower legs).
LIFT_MIN_SCORE: float = 0.0


def num_keypoints(layout: str) -> int:
    """K, the number of keypoints of a layout accepted by ``to_h36m17``."""
    if layout == H36M_17:
        return len(JOINTS_17)
    if layout not in _SOURCES:
        raise ValueError(f"unknown keypoint layout {layout!r} (known: {', '.join(KNOWN_LAYOUTS)})")
    return _SOURCES[layout][0]


def to_h36m17(xy: np.ndarray, scores: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert keypoints of ``layout`` to H36M-17 (``lifter.skeleton.JOINTS_17`` order) by ``RECIPE``.

    xy: (..., K, 2) pixels; scores: (..., K) in [0, 1]; K = ``num_keypoints(layout)``.
    Returns new arrays xy17 (..., 17, 2) float32 pixels and scores17 (..., 17) float32. A NaN source
    coordinate makes the joints built from it NaN; a missing person (NaN, score 0) stays missing.
    """
    k = num_keypoints(layout)
    xy = np.asarray(xy, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float32)
    if xy.ndim < 2 or xy.shape[-2:] != (k, 2) or scores.shape != xy.shape[:-1]:
        raise ValueError(f"layout {layout!r} needs xy (..., {k}, 2) and scores (..., {k}); "
                         f"got {xy.shape} and {scores.shape}")
    if layout == H36M_17:
        return xy.copy(), scores.copy()
    sources = _SOURCES[layout][1]
    xy17 = np.stack([xy[..., list(idx), :].mean(-2) for idx in sources], axis=-2)
    scores17 = np.stack([scores[..., list(idx)].min(-1) for idx in sources], axis=-1)
    return xy17, scores17


def check_min_score(min_score: float) -> float:
    """``min_score`` as a float in [0, 1], else ValueError."""
    value = float(min_score)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"min_score must be in [0, 1], got {min_score!r}")
    return value


def joint_present(xy: np.ndarray, scores: np.ndarray, min_score: float = 0.0) -> np.ndarray:
    """The one "is this joint present" rule: (..., K, 2) pixels, (..., K) scores -> (..., K) bool.

    Present: a finite position that is not exactly (0, 0), and a score > 0 and >= ``min_score``
    (a NaN score counts as 0). ``min_score`` in [0, 1]; pass ``LIFT_MIN_SCORE`` (or the user's
    --min-score) when deciding what is lifted or drawn as confident.
    """
    min_score = check_min_score(min_score)
    xy = np.asarray(xy)
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float32), nan=0.0)
    if xy.ndim < 2 or xy.shape[-1] != 2 or scores.shape != xy.shape[:-1]:
        raise ValueError(f"joint_present needs xy (..., K, 2) and scores (..., K); got {xy.shape} and {scores.shape}")
    finite = np.isfinite(xy).all(-1)
    origin = (np.nan_to_num(xy) == 0).all(-1)
    return finite & ~origin & (scores > 0) & (scores >= min_score)
