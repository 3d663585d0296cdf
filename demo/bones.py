"""Bone lengths of a 3D track: measure them robustly and make them constant.

Shapes and units: 3D joints (T, 17, 3) (or (..., 17, 3) where noted) in metres, H36M-17 order,
any frame (camera or world; only differences between joints are used, so root-relative and
absolute tracks give the same lengths). ``scores`` (T, 17) in [0, 1] are the 2D detection scores
of the joints; ``valid`` (T,) bool marks the frames where the person exists; NaN = missing.

Bones are ``BONES`` = ``lifter.skeleton.edges(17)``: 16 (parent, child) pairs, bone b ends at
joint b + 1. A bone's direction is the unit vector parent -> child.

A lifter predicts every frame on its own, so a person's limbs grow and shrink over time.
``track_bone_lengths`` measures one length per bone for the whole track (median over the frames
where both of its joints were seen well), and ``set_bone_lengths`` rebuilds each frame from the
pelvis outwards with those lengths and each frame's own bone directions.
"""

from __future__ import annotations

import numpy as np

from lifter.skeleton import LEFT_17, PARENTS_17, RIGHT_17, edges

BONES: list[tuple[int, int]] = edges(17)
NUM_BONES: int = len(BONES)
#: bone index of each child joint
_BONE_OF_CHILD: dict[int, int] = {child: b for b, (_, child) in enumerate(BONES)}
#: (left bone, right bone) index pairs: the bones ending at LEFT_17[i] and RIGHT_17[i]
SYMMETRIC_PAIRS: list[tuple[int, int]] = [
    (_BONE_OF_CHILD[left], _BONE_OF_CHILD[right]) for left, right in zip(LEFT_17, RIGHT_17)
]


def _depth(joint: int) -> int:
    """Number of bones between the pelvis and a joint."""
    depth = 0
    while PARENTS_17[joint] >= 0:
        depth, joint = depth + 1, PARENTS_17[joint]
    return depth


#: bones in an order where every parent joint is placed before its children
_FK_ORDER: list[int] = sorted(range(NUM_BONES), key=lambda b: _depth(BONES[b][1]))
#: directions (camera frame: x right, y down) of the bones leaving the pelvis, for a person facing
#: the camera; used only when such a bone has zero length in every frame of a track
_REST_DIRECTION: dict[int, tuple[float, float, float]] = {
    _BONE_OF_CHILD[RIGHT_17[0]]: (-1.0, 0.0, 0.0),  # pelvis -> r_hip: the person's right = image left
    _BONE_OF_CHILD[LEFT_17[0]]: (1.0, 0.0, 0.0),    # pelvis -> l_hip
}
_UP = (0.0, -1.0, 0.0)  # pelvis -> spine and any other root bone
#: a bone shorter than this (metres) has no usable direction
MIN_BONE_M: float = 1e-9


def _check_track(kp3d: np.ndarray) -> np.ndarray:
    kp3d = np.asarray(kp3d)
    if kp3d.ndim != 3 or kp3d.shape[1:] != (17, 3):
        raise ValueError(f"expected a 3D track of shape (T, 17, 3), got {kp3d.shape}")
    return kp3d


def _frames_mask(mask: np.ndarray | None, T: int, name: str) -> np.ndarray:
    if mask is None:
        return np.ones(T, dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (T,):
        raise ValueError(f"{name} must have shape ({T},), got {mask.shape}")
    return mask


def bone_lengths(kp3d: np.ndarray) -> np.ndarray:
    """Lengths (..., 16) of the bones of joints (..., 17, 3); NaN where a joint is missing."""
    kp3d = np.asarray(kp3d, dtype=np.float64)
    if kp3d.shape[-2:] != (17, 3):
        raise ValueError(f"expected joints of shape (..., 17, 3), got {kp3d.shape}")
    parents = [p for p, _ in BONES]
    children = [c for _, c in BONES]
    return np.linalg.norm(kp3d[..., children, :] - kp3d[..., parents, :], axis=-1)


def track_bone_lengths(kp3d: np.ndarray, scores: np.ndarray | None, valid: np.ndarray | None,
                       min_score: float = 0.5, symmetric: bool = True) -> np.ndarray:
    """One length per bone (16,) metres for the whole track, robust to bad frames.

    The median over the frames where the track is valid, the bone's length is finite and both of
    its joints score >= min_score; a bone with no such frame falls back to all valid frames with a
    finite length; NaN when there is none. scores None: no score condition. symmetric: the two
    bones of each left/right pair (SYMMETRIC_PAIRS) both get their mean (the one measured length
    when the other is NaN).
    """
    kp3d = _check_track(kp3d)
    T = kp3d.shape[0]
    valid = _frames_mask(valid, T, "valid")
    lengths = bone_lengths(kp3d)  # (T, 16)
    usable = valid[:, None] & np.isfinite(lengths)
    good = usable
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (T, 17):
            raise ValueError(f"scores must have shape ({T}, 17), got {scores.shape}")
        seen = scores >= min_score
        parents = [p for p, _ in BONES]
        children = [c for _, c in BONES]
        good = usable & seen[:, parents] & seen[:, children]
    pick = np.where(good.any(0)[None, :], good, usable)  # per bone: the good frames, else all usable
    out = _column_median(lengths, pick)
    if symmetric:
        for left, right in SYMMETRIC_PAIRS:
            pair = out[[left, right]]
            if np.isfinite(pair).any():
                out[left] = out[right] = np.nanmean(pair)
    return out


def _column_median(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Median of each column over its masked rows; NaN for a column with none."""
    out = np.full(values.shape[1], np.nan)
    counts = mask.sum(0)
    if values.shape[0] == 0:
        return out
    ordered = np.sort(np.where(mask, values, np.inf), axis=0)  # masked-out rows sort to the end
    has = counts > 0
    cols = np.nonzero(has)[0]
    lo = ordered[(counts[has] - 1) // 2, cols]
    hi = ordered[counts[has] // 2, cols]
    out[has] = (lo + hi) / 2
    return out


def set_bone_lengths(kp3d: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Rebuild every frame of kp3d (T, 17, 3) with the given bone lengths (16,) metres.

    Forward kinematics from the pelvis: the pelvis keeps its position, each child joint is placed
    at its (already placed) parent + length * the bone's direction in that frame. A frame or joint
    that is NaN stays NaN (and so do the joints below it). A bone of zero length in a frame takes
    its direction from the nearest frame in time where it has one; if it has none in any frame,
    the direction its parent bone has (the bones leaving the pelvis: a rest direction, person
    facing the camera). A NaN target length keeps that bone's vector as it is. Returns a new
    array, float dtype kept (float64 for other input).
    """
    kp3d = _check_track(kp3d)
    lengths = np.asarray(lengths, dtype=np.float64)
    if lengths.shape != (NUM_BONES,):
        raise ValueError(f"lengths must have shape ({NUM_BONES},), got {lengths.shape}")
    if (lengths[np.isfinite(lengths)] < 0).any() or np.isinf(lengths).any():
        raise ValueError("bone lengths must be >= 0 (or NaN to keep a bone as it is)")
    dtype = kp3d.dtype if np.issubdtype(kp3d.dtype, np.floating) else np.dtype(np.float64)
    src = kp3d.astype(np.float64)
    out = np.empty_like(src)
    out[:, 0] = src[:, 0]
    directions = np.empty((src.shape[0], NUM_BONES, 3))
    for b in _FK_ORDER:
        parent, child = BONES[b]
        vec = src[:, child] - src[:, parent]
        directions[:, b] = _unit_or_fallback(vec, directions, b)
        if np.isnan(lengths[b]):
            out[:, child] = out[:, parent] + vec
        else:
            out[:, child] = out[:, parent] + lengths[b] * directions[:, b]
    return out.astype(dtype)


def _unit_or_fallback(vec: np.ndarray, directions: np.ndarray, b: int) -> np.ndarray:
    """Unit vectors (T, 3) of bone b's vectors vec; zero-length frames borrow a direction.

    directions (T, 16, 3) holds the directions of the bones already placed. NaN stays NaN.
    """
    norm = np.linalg.norm(vec, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = vec / norm[:, None]
    zero = np.isfinite(norm) & (norm <= MIN_BONE_M)
    if not zero.any():
        return unit
    good = np.nonzero(np.isfinite(norm) & (norm > MIN_BONE_M))[0]
    bad = np.nonzero(zero)[0]
    if good.size:  # nearest frame in time with a direction (ties: the earlier one)
        pos = np.searchsorted(good, bad)
        before = good[np.clip(pos - 1, 0, good.size - 1)]
        after = good[np.clip(pos, 0, good.size - 1)]
        nearest = np.where(np.abs(bad - before) <= np.abs(after - bad), before, after)
        unit[bad] = unit[nearest]
        return unit
    parent = BONES[b][0]
    if parent in _BONE_OF_CHILD:
        unit[bad] = directions[bad, _BONE_OF_CHILD[parent]]
    else:
        unit[bad] = _REST_DIRECTION.get(b, _UP)
    return unit


def bone_variation(kp3d: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Coefficient of variation (16,) of each bone's length: std / mean over the valid frames.

    Only frames with a finite length count; NaN for a bone with no such frame or a zero mean.
    """
    kp3d = _check_track(kp3d)
    valid = _frames_mask(valid, kp3d.shape[0], "valid")
    lengths = bone_lengths(kp3d)
    mask = valid[:, None] & np.isfinite(lengths)
    counts = mask.sum(0)
    filled = np.where(mask, lengths, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(0) / counts
        var = np.where(mask, (lengths - mean) ** 2, 0.0).sum(0) / counts
        cv = np.sqrt(var) / mean
    cv[(counts == 0) | ~(mean > 0)] = np.nan
    return cv
