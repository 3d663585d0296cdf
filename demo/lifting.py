"""Lift a batch of people's H36M-17 pixel keypoints to 3D: a pure function, no state, no threads.

The pipeline gathers every (frame, person) pair of a chunk into one batch, so several people
cost one lifter call. What goes in and out (conventions: lifter/skeleton.py):

- in: keypoints (N, 17, 2) float32 pixels of the frame (x right, y down), NaN for a missing
  joint; scores (N, 17) float32 in [0, 1], 0 for a missing joint; the frame's width and height;
- out: (N, 17, 3) float32 metres, camera frame (x right, y down, z forward), root-relative.

Joints not present (lifter.keypoints.joint_present), or scored below ``min_score``, are filled
before lifting (lifter.skeleton.fill_missing), so no NaN reaches the lifter. Lifters with 16 joints (H36M-17 without Neck/Nose, the "GT" models) get the 16-joint
subset; their Neck/Nose is then placed half-way between Thorax and Head so that the output keeps
the 17-joint layout.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from lifter.skeleton import SUBSET_16, fill_missing, normalize_screen


class LifterLike(Protocol):
    """What the pipeline needs from a lifter (lifter.lift.Lifter fits)."""

    num_joints: int

    def lift(self, kp: np.ndarray) -> np.ndarray:
        """(N, J, 2) float32 normalised 2D -> (N, J, 3) float32 metres, camera frame, root-relative."""


def lift_pixels(lifter: LifterLike, keypoints: np.ndarray, scores: np.ndarray, width: int, height: int,
                min_score: float = 0.0) -> np.ndarray:
    """H36M-17 pixels (N, 17, 2) with scores (N, 17) -> camera-frame 3D (N, 17, 3) metres."""
    n = len(keypoints)
    if n == 0:
        return np.zeros((0, 17, 3), np.float32)
    norm = normalize_screen(fill_missing(keypoints, scores, min_score=min_score), width, height)
    if lifter.num_joints == 17:
        return np.asarray(lifter.lift(norm), np.float32)
    if lifter.num_joints == 16:
        out16 = np.asarray(lifter.lift(np.ascontiguousarray(norm[:, SUBSET_16])), np.float32)
        out = np.empty((n, 17, 3), np.float32)
        out[:, SUBSET_16] = out16
        out[:, 9] = (out[:, 8] + out[:, 10]) / 2  # Neck/Nose between Thorax and Head
        return out
    raise ValueError(f"lifter has {lifter.num_joints} joints; the demo supports 16 or 17")
