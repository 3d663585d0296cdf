"""Plausibility measures of 3D poses that need no ground truth: left/right bone asymmetry and knee bend.

Poses: (N, 17, 3) H36M-17 joints (lifter.skeleton.JOINTS_17), any right-handed frame, metres.

- bone asymmetry: |L - R| / ((L + R) / 2) for thigh, shin, upper arm and forearm, averaged over
  frames (per bone) and over the four bones (``mean``);
- natural knee bend: the pelvis' forward direction is normalize(cross(l_hip - r_hip, thorax -
  pelvis)) (the facing direction in any right-handed frame, the camera frame included); a knee's
  forward offset is the component along it of the knee's offset from the hip-ankle line; a knee
  bends the natural way when that offset is >= -KNEE_TOLERANCE_M (a straight leg counts, a knee
  more than 15 mm behind the line does not). ``knee_natural_fraction``: frames where both knees do.

Used by bench/evaluate_shipped.py (the real-video sanity check of eval.json) and the model card.
"""

from __future__ import annotations

import numpy as np

from lifter.skeleton import INDEX_17

#: a knee more than this far (metres) behind the hip-ankle line counts as bent backwards
KNEE_TOLERANCE_M = 0.015
#: bone name -> ((left parent, left child), (right parent, right child)) by joint name
BONE_PAIRS = {"thigh": (("l_hip", "l_knee"), ("r_hip", "r_knee")),
              "shin": (("l_knee", "l_ankle"), ("r_knee", "r_ankle")),
              "upper_arm": (("l_shoulder", "l_elbow"), ("r_shoulder", "r_elbow")),
              "forearm": (("l_elbow", "l_wrist"), ("r_elbow", "r_wrist"))}
_J = INDEX_17


def bone_asymmetry(poses: np.ndarray) -> dict:
    """Poses (N, 17, 3) -> {bone: mean |L - R| / mean(L, R)} over frames, plus "mean" over the bones."""
    out = {}
    for bone, ((lp, lc), (rp, rc)) in BONE_PAIRS.items():
        left = np.linalg.norm(poses[:, _J[lc]] - poses[:, _J[lp]], axis=-1)
        right = np.linalg.norm(poses[:, _J[rc]] - poses[:, _J[rp]], axis=-1)
        out[bone] = float(np.mean(np.abs(left - right) / np.maximum((left + right) / 2, 1e-9)))
    out["mean"] = float(np.mean(list(out.values())))
    return out


def knee_forward_offsets(poses: np.ndarray) -> np.ndarray:
    """Poses (N, 17, 3) -> (N, 2) forward offset (metres) of the left and right knee from the hip-ankle line."""
    up = poses[:, _J["thorax"]] - poses[:, _J["pelvis"]]
    forward = np.cross(poses[:, _J["l_hip"]] - poses[:, _J["r_hip"]], up)
    forward /= np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-9)
    out = np.empty((len(poses), 2))
    for k, side in enumerate("lr"):
        hip, knee, ankle = (poses[:, _J[f"{side}_{n}"]] for n in ("hip", "knee", "ankle"))
        axis = ankle - hip
        axis /= np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-9)
        rel = knee - hip
        off = rel - np.sum(rel * axis, -1, keepdims=True) * axis
        out[:, k] = np.sum(off * forward, -1)
    return out


def pose_sanity(poses: np.ndarray) -> dict:
    """Asymmetry and natural-knee figures of poses (N, 17, 3) metres (see the module docstring)."""
    off = knee_forward_offsets(poses)
    ok = off >= -KNEE_TOLERANCE_M
    return {"frames": int(len(poses)), "bone_asymmetry": bone_asymmetry(poses),
            "knee_natural_fraction": float(ok.all(-1).mean()),
            "knee_natural_fraction_left": float(ok[:, 0].mean()), "knee_natural_fraction_right": float(ok[:, 1].mean()),
            "knee_forward_offset_median_mm": [float(v) for v in np.median(off, 0) * 1000]}
