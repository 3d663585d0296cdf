"""A 2D detector-like noise model with named parameters, applied to whole batches.

Works on H36M-17 keypoints in pixels. Scale of the errors: the person's size in the image,
``max(box width, box height)`` of the clean keypoints (pixels), called *size* below.

Per sample, with probability ``clean_fraction`` the keypoints stay clean; otherwise:
1. box jitter: the whole pose is shifted by N(0, box_shift) x size and scaled about the box
   centre by 1 + N(0, box_scale) (a detector's crop is never exactly the person);
2. per-joint Gaussian error of std ``sigma`` x size x the joint's factor (``joint_factors``, by
   default ``JOINT_FACTORS``: larger on wrists and ankles), with ``sigma`` itself drawn per sample
   from ``sigma_range``, plus a fixed shift along the limb (``limb_bias``: a fraction of the 2D
   length of the bone from the joint's parent; positive lengthens it);
3. with probability ``swap_prob`` one left/right pair (knees, ankles, wrists, elbows, hips or
   shoulders) exchanged;
4. each limb end (``COLLAPSING``: elbows, wrists, knees, ankles) collapsed with probability
   ``collapse_prob``: moved onto its bone, at a fraction drawn from ``collapse_range`` of the
   bone's length from the parent (a limb seen end-on or hidden, guessed short);
5. each joint an outlier with probability ``outlier_prob``: moved by up to ``outlier_radius`` x size;
6. each joint dropped with probability ``drop_prob``: confidence 0.
Pelvis, thorax and spine of every sample, clean ones included, are then rebuilt from its 2D hips
and shoulders by the demo's recipe (lifter.data.recipe.derive_midpoints_2d, i.e.
lifter.keypoints.to_h36m17), and dropped joints are filled with lifter.skeleton.fill_missing, the
demo's rule (``apply_noise``). ``noisy_keypoints`` gives the same draw before the fill: a dropped
joint keeps its noisy position, score 0.

Scores are binary: 1, or 0 for a dropped joint; the model draws no graded confidences.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from lifter.data.recipe import derive_midpoints_2d
from lifter.skeleton import JOINTS_17, LEFT_17, PARENTS_17, RIGHT_17, fill_missing

#: per-joint factor on the Gaussian error (detectors are worst on the extremities)
JOINT_FACTORS: dict[str, float] = {
    "pelvis": 1.0, "r_hip": 1.3, "r_knee": 1.3, "r_ankle": 1.8, "l_hip": 1.3, "l_knee": 1.3,
    "l_ankle": 1.8, "spine": 1.0, "thorax": 1.0, "neck_nose": 1.0, "head": 1.0,
    "l_shoulder": 1.0, "l_elbow": 1.4, "l_wrist": 2.0, "r_shoulder": 1.0, "r_elbow": 1.4, "r_wrist": 2.0,
}
_SWAP_PAIRS = [(LEFT_17[k], RIGHT_17[k]) for k in range(len(LEFT_17))]
#: joints that can collapse onto their bone (step 4)
COLLAPSING: tuple[str, ...] = ("r_knee", "r_ankle", "l_knee", "l_ankle", "l_elbow", "l_wrist", "r_elbow", "r_wrist")


@dataclass(frozen=True)
class DetectorNoise:
    """Named parameters of the noise model (fractions of the person's size unless said otherwise)."""

    clean_fraction: float = 0.15
    sigma_range: tuple[float, float] = (0.004, 0.02)
    outlier_prob: float = 0.01
    outlier_radius: float = 0.25
    swap_prob: float = 0.02
    drop_prob: float = 0.01
    box_shift: float = 0.01
    box_scale: float = 0.02
    joint_factors: tuple[float, ...] | None = None  # 17, JOINTS_17 order; None: JOINT_FACTORS
    limb_bias: tuple[float, ...] | None = None      # 17, fraction of the bone from the parent; None: 0
    collapse_prob: float = 0.0
    collapse_range: tuple[float, float] = (0.2, 0.6)

    def __post_init__(self) -> None:
        for name in ("joint_factors", "limb_bias"):
            value = getattr(self, name)
            if value is not None and len(value) != len(JOINTS_17):
                raise ValueError(f"{name} needs {len(JOINTS_17)} values (JOINTS_17 order), got {len(value)}")

    def factors(self) -> np.ndarray:
        """(17,) the per-joint factors on sigma."""
        if self.joint_factors is not None:
            return np.asarray(self.joint_factors, dtype=np.float64)
        return np.array([JOINT_FACTORS[n] for n in JOINTS_17])

    def as_dict(self) -> dict:
        return asdict(self)


def person_size(xy: np.ndarray) -> np.ndarray:
    """max(box width, box height) of keypoints (B, J, 2) -> (B,) pixels."""
    return (xy.max(1) - xy.min(1)).max(-1)


def noisy_keypoints(rng: np.random.Generator, xy: np.ndarray, params: DetectorNoise) -> tuple[np.ndarray, np.ndarray]:
    """Noisy copies of clean H36M-17 keypoints, dropped joints not filled.

    xy: (B, 17, 2) pixels (the projections of lifter.data.recipe.detector_points_3d).
    Returns (xy (B, 17, 2) float32 pixels, every joint at its noisy position; scores (B, 17) float32:
    1, or 0 for a dropped joint and for the joints derived from it).
    """
    b, j, _ = xy.shape
    if j != len(JOINTS_17):
        raise ValueError(f"the noise model works on H36M-17 keypoints, got {j} joints")
    xy = np.asarray(xy, dtype=np.float64)
    size = person_size(xy)[:, None, None]
    noisy = ~(rng.random(b) < params.clean_fraction)
    centre = (xy.max(1, keepdims=True) + xy.min(1, keepdims=True)) / 2
    out = centre + (xy - centre) * (1 + rng.normal(0, params.box_scale, (b, 1, 1)))
    out = out + rng.normal(0, params.box_shift, (b, 1, 2)) * size
    factors = params.factors()[None, :, None]
    sigma = rng.uniform(*params.sigma_range, (b, 1, 1))
    out = out + rng.normal(0, 1, (b, j, 2)) * sigma * factors * size
    parents = np.array([max(p, 0) for p in PARENTS_17])
    if params.limb_bias is not None:
        out = out + np.asarray(params.limb_bias)[None, :, None] * (xy - xy[:, parents])
    swap = rng.random(b) < params.swap_prob
    pair = rng.integers(0, len(_SWAP_PAIRS), b)
    for k, (left, right) in enumerate(_SWAP_PAIRS):
        rows = swap & (pair == k)
        out[rows, left], out[rows, right] = out[rows, right], out[rows, left].copy()
    if params.collapse_prob > 0:
        for name in COLLAPSING:
            k, parent = JOINTS_17.index(name), PARENTS_17[JOINTS_17.index(name)]
            rows = rng.random(b) < params.collapse_prob
            frac = rng.uniform(*params.collapse_range, b)[:, None]
            out[rows, k] = (out[:, parent] + frac * (xy[:, k] - xy[:, parent]))[rows]
    outlier = rng.random((b, j)) < params.outlier_prob
    angle = rng.uniform(0, 2 * np.pi, (b, j))
    radius = rng.uniform(0, params.outlier_radius, (b, j))[..., None] * size
    jump = np.stack([np.cos(angle), np.sin(angle)], -1) * radius
    out = np.where(outlier[..., None], out + jump, out)
    scores = np.where(rng.random((b, j)) < params.drop_prob, 0.0, 1.0)
    out = np.where(noisy[:, None, None], out, xy)
    scores = np.where(noisy[:, None], scores, 1.0)
    out, scores = derive_midpoints_2d(out, scores)
    return out, scores


def apply_noise(rng: np.random.Generator, xy: np.ndarray, params: DetectorNoise) -> tuple[np.ndarray, np.ndarray]:
    """Noisy copies of clean H36M-17 keypoints, as the lifter is trained on.

    xy: (B, 17, 2) pixels (the projections of lifter.data.recipe.detector_points_3d).
    Returns (xy (B, 17, 2) float32 pixels with dropped joints filled by fill_missing, scores (B, 17):
    1, or 0 for dropped).
    """
    out, scores = noisy_keypoints(rng, xy, params)
    return fill_missing(out, scores), scores


#: the model fitted to BlazePose's real 2D error (bench/wild_accuracy.py, its JSON's "fitted_noise"
#: and "detector_2d": four calibrated views of pose2sim's Demo_MultiPerson, the detector's 2D
#: against the reprojected triangulation). Measured there: sigma_range, joint_factors, limb_bias,
#: swap_prob, collapse_prob, collapse_range, outlier_prob, drop_prob; kept from the default model
#: (not measurable there): clean_fraction, outlier_radius, box_shift, box_scale. Refitted when the
#: detector changed (one landmarker per person) and when the pseudo ground truth learnt to drop
#: joints whose bones jump and frames on the other person; runs trained before keep the values
#: they used in their data fingerprint (``noise_params``).
FITTED_NOISE = DetectorNoise(
    clean_fraction=0.15, sigma_range=(0.00509, 0.02546), outlier_prob=0.0558,
    outlier_radius=0.25, swap_prob=0.12, drop_prob=0.0,
    box_shift=0.01, box_scale=0.02,
    joint_factors=(0.881, 1.536, 1.166, 0.899, 0.714, 0.922, 1.07, 0.591, 0.644,
                   1.111, 0.836, 0.796, 0.954, 1.046, 0.895, 1.193, 1.097),
    limb_bias=(0.0, -0.0944, 0.0143, -0.0013, 0.0096, 0.0006, 0.0052, -0.0024, -0.0011,
               -0.0229, 0.0732, -0.0214, 0.0053, -0.0486, -0.0136, 0.0327, -0.0107),
    collapse_prob=0.0257, collapse_range=(0.213, 0.579))

#: the noise models a training scene can name (lifter.data.open_source); "default" is the one
#: the evaluation sets use
NOISE_MODELS: dict[str, DetectorNoise] = {"default": DetectorNoise(), "fitted": FITTED_NOISE}
