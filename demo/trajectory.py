"""Where each person is: the camera-frame pelvis position from 2D keypoints + root-relative 3D.

The lifter gives root-relative 3D joints (T, 17, 3), metres, camera frame (x right, y down,
z forward), pelvis = 0. With the 2D keypoints (T, 17, 2) pixels and a pinhole camera
(u = f x / z + cx, v = f y / z + cy; one focal f in pixels, principal point ``center``), the
pelvis position t (T, 3) follows from the reprojection: for every usable joint j,

    f (X_j + t_x) / (Z_j + t_z) + c_x = u_j   ->   t_x - a_j t_z = a_j Z_j - X_j,   a_j = (u_j - c_x) / f
    f (Y_j + t_y) / (Z_j + t_z) + c_y = v_j   ->   t_y - b_j t_z = b_j Z_j - Y_j,   b_j = (v_j - c_y) / f

(linear in t). The residual of each equation divided by the joint's depth Z_j + t_z is its
reprojection error in normalised image units, so the equations are weighted by
score / depth^2 (squared-residual weights) and re-solved a few times (IRLS) with Huber weights on
each joint's pixel reprojection error (a joint whose 2D is far off, e.g. a wrong detection,
counts less). Every frame is a 3x3 linear system; all frames are solved together with numpy.

The depth t_z is what the 2D size of the person says for the lifter's 3D size (a lifter that
makes people 5% too large puts them 5% too far away). The focal length therefore matters: with no
calibration, :func:`focal_length` takes a field of view (``DEFAULT_FOV_DEG``) along the image's
longer side.
"""

from __future__ import annotations

import math

import numpy as np

from lifter.keypoints import joint_present

#: field of view (degrees) along the image's LONGER side used when the focal length is unknown:
#: the pose2sim demo cameras measure 59.5 deg, phone main cameras about 65-70 deg.
DEFAULT_FOV_DEG = 60.0
#: a frame needs at least this many usable joints (3 unknowns, 2 equations per joint; 4 joints
#: leave some redundancy against one bad joint)
MIN_JOINTS = 4
#: IRLS re-weightings after the first solve
IRLS_ITERATIONS = 4
#: Huber threshold = HUBER_K x the frame's robust residual scale (1.4826 x median), at least
#: HUBER_MIN_PX pixels (so noise-free data keep all weights at 1)
HUBER_K = 1.345
HUBER_MIN_PX = 1.0
#: a joint closer to the camera than this fraction of the pelvis depth is clamped there when
#: weighting (a lifter's 3D can put a hand "behind" the camera during the first iterations)
_MIN_DEPTH_FRACTION = 0.2
#: frames whose 3x3 normal matrix is this ill-conditioned (2D points all in one spot) are NaN
_MAX_CONDITION = 1e9


def focal_length(width: float, height: float, focal_px: float | None = None,
                 fov_deg: float | None = None) -> float:
    """Focal length in pixels of a ``width`` x ``height`` image.

    ``focal_px`` (a calibration) wins when given. Otherwise the field of view ``fov_deg``
    (default ``DEFAULT_FOV_DEG``) is taken along the image's longer side:
    f = max(width, height) / 2 / tan(fov / 2). ValueError for a non-positive or non-finite size or
    focal, or a field of view outside (1, 179) degrees.
    """
    if focal_px is not None:
        f = float(focal_px)
        if not math.isfinite(f) or f <= 0:
            raise ValueError(f"focal length must be a positive number of pixels, got {focal_px}")
        return f
    w, h = float(width), float(height)
    if not (math.isfinite(w) and math.isfinite(h)) or w <= 0 or h <= 0:
        raise ValueError(f"image size must be positive, got {width} x {height}")
    fov = DEFAULT_FOV_DEG if fov_deg is None else float(fov_deg)
    if not math.isfinite(fov) or not 1.0 < fov < 179.0:
        raise ValueError(f"field of view must be between 1 and 179 degrees, got {fov_deg}")
    return max(w, h) / 2.0 / math.tan(math.radians(fov) / 2.0)


def _solve(w: np.ndarray, a: np.ndarray, b: np.ndarray, rx: np.ndarray, ry: np.ndarray,
           ok: np.ndarray, check: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares of all frames: weights w (T, J) -> (t (T, 3), solvable (T,)).

    check: test the conditioning (the first solve; Huber re-weighting never zeroes a weight, so
    the later systems stay as well posed)."""
    sw = w.sum(1)
    sa, sb = (w * a).sum(1), (w * b).sum(1)
    normal = np.empty((len(w), 3, 3))
    normal[:, 0, 0] = normal[:, 1, 1] = sw
    normal[:, 0, 1] = normal[:, 1, 0] = 0.0
    normal[:, 0, 2] = normal[:, 2, 0] = -sa
    normal[:, 1, 2] = normal[:, 2, 1] = -sb
    normal[:, 2, 2] = (w * (a * a + b * b)).sum(1)
    rhs = np.stack([(w * rx).sum(1), (w * ry).sum(1), -(w * (a * rx + b * ry)).sum(1)], -1)
    # scale each system to unit trace so the condition test does not depend on the weights' size
    trace = np.trace(normal, axis1=1, axis2=2)
    good = ok & (trace > 0)
    scale = np.where(good, trace, 1.0)
    normal = normal / scale[:, None, None]
    rhs = rhs / scale[:, None]
    if check:
        cond = np.full(len(w), np.inf)
        if good.any():
            cond[good] = np.linalg.cond(normal[good])
        good &= cond < _MAX_CONDITION
    normal[~good] = np.eye(3)
    rhs[~good] = 0.0
    t = np.linalg.solve(normal, rhs[..., None])[..., 0]
    return t, good


def _row_median(values: np.ndarray, mask: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Median of each row's masked entries (T, J) -> (T,); 0 for a row with none."""
    srt = np.sort(np.where(mask, values, np.inf), axis=1)
    lo = np.clip((count - 1) // 2, 0, values.shape[1] - 1)
    hi = np.clip(count // 2, 0, values.shape[1] - 1)
    med = 0.5 * (np.take_along_axis(srt, lo[:, None], 1) + np.take_along_axis(srt, hi[:, None], 1))[:, 0]
    return np.where((count > 0) & np.isfinite(med), med, 0.0)


def root_translation(kp2d: np.ndarray, scores: np.ndarray, kp3d_rel: np.ndarray, valid: np.ndarray | None,
                     focal: float, center, min_score: float = 0.0,
                     iterations: int = IRLS_ITERATIONS) -> np.ndarray:
    """Camera-frame pelvis position (T, 3) metres of one person's track.

    kp2d (T, J, 2) pixels; scores (T, J); kp3d_rel (T, J, 3) metres, camera frame, root-relative;
    valid (T,) bool (None: all frames); focal pixels; center (2,) pixels (principal point).
    A joint is used when ``joint_present(kp2d, scores, min_score)`` and its 3D is finite; its
    weight is its score. Returns float64 (T, 3), NaN where the frame is not valid, has fewer than
    ``MIN_JOINTS`` usable joints, is degenerate, or puts the pelvis behind the camera.
    Adding the result to ``kp3d_rel`` gives the full camera-frame joints.
    """
    kp2d = np.asarray(kp2d, dtype=np.float64)
    kp3d = np.asarray(kp3d_rel, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if kp2d.ndim != 3 or kp2d.shape[-1] != 2 or kp3d.shape != kp2d.shape[:2] + (3,) \
            or scores.shape != kp2d.shape[:2]:
        raise ValueError(f"root_translation needs kp2d (T, J, 2), scores (T, J), kp3d_rel (T, J, 3); "
                         f"got {kp2d.shape}, {scores.shape}, {kp3d.shape}")
    num = kp2d.shape[0]
    out = np.full((num, 3), np.nan)
    if num == 0:
        return out
    valid = np.ones(num, bool) if valid is None else np.asarray(valid, dtype=bool).reshape(num)
    f = float(focal)
    cx, cy = (float(c) for c in np.asarray(center, dtype=np.float64).reshape(2))
    usable = joint_present(kp2d, scores, min_score) & np.isfinite(kp3d).all(-1) & valid[:, None]
    count = usable.sum(1)
    enough = count >= MIN_JOINTS
    usable &= enough[:, None]
    if not usable.any():
        return out
    w0 = np.where(usable, np.nan_to_num(scores), 0.0)
    uv = np.where(usable[..., None], kp2d, 0.0)
    xyz = np.where(usable[..., None], kp3d, 0.0)
    a = (uv[..., 0] - cx) / f
    b = (uv[..., 1] - cy) / f
    X, Y, Z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    rx, ry = a * Z - X, b * Z - Y
    # first solve: all joints at about the same depth, weights = scores
    t, ok = _solve(w0, a, b, rx, ry, enough)
    for _ in range(max(0, int(iterations))):
        tz = t[:, 2:3]
        ok &= tz[:, 0] > 0
        depth = np.maximum(Z + tz, _MIN_DEPTH_FRACTION * np.maximum(tz, 1e-6))
        ex = X + t[:, :1] - a * depth
        ey = Y + t[:, 1:2] - b * depth
        err_px = f * np.hypot(ex, ey) / depth
        sigma = 1.4826 * _row_median(err_px, usable, count)
        k = np.maximum(HUBER_K * sigma, HUBER_MIN_PX)[:, None]
        huber = np.where(err_px <= k, 1.0, k / np.maximum(err_px, 1e-12))
        w = w0 * huber / depth ** 2
        t, ok2 = _solve(w, a, b, rx, ry, ok, check=False)
        ok &= ok2
    ok &= t[:, 2] > 0
    out[ok] = t[ok]
    return out
