"""Robust weighted triangulation of keypoints seen by several calibrated views.

Inputs are undistorted pixels (bench.calibration.CalibratedCamera.undistort) and each view's
projection matrix P (3, 4) (world metres -> homogeneous pixels); outputs are world points in
metres. Every function works on whole batches of points: V views, N points.

:func:`dlt` is the weighted direct linear transform: each view adds the two rows
w (u P3 - P1) and w (v P3 - P2) and the point is the right singular vector of the smallest
singular value. :func:`robust_triangulate` tries every subset of two or more views in which the
point was seen and keeps the largest one whose reprojection errors are all below ``max_error_px``
(ties: the smaller mean error), so one view with a wrong keypoint (a left/right swap, an occluded
limb guessed elsewhere) is left out instead of pulling the point.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np


def dlt(pixels: np.ndarray, weights: np.ndarray, projections: np.ndarray) -> np.ndarray:
    """Weighted DLT. pixels (V, N, 2) undistorted px, weights (V, N) >= 0 (0: view unused),
    projections (V, 3, 4) -> world points (N, 3); NaN where fewer than two views have weight."""
    px = np.nan_to_num(np.asarray(pixels, np.float64))
    w = np.asarray(weights, np.float64)
    p = np.asarray(projections, np.float64)
    rows_u = px[..., 0:1] * p[:, None, 2] - p[:, None, 0]  # (V, N, 4)
    rows_v = px[..., 1:2] * p[:, None, 2] - p[:, None, 1]
    a = np.concatenate([rows_u, rows_v], 0)  # (2V, N, 4)
    # each row scaled to unit length, then by its view's weight: the weight, not the pixel scale,
    # sets a view's say
    norms = np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    a = a / norms * np.concatenate([w, w], 0)[..., None]
    _, _, vt = np.linalg.svd(a.transpose(1, 0, 2))  # (N, 4, 4)
    h = vt[:, -1]
    out = h[:, :3] / h[:, 3:4]
    out[(w > 0).sum(0) < 2] = np.nan
    return out


def reproject(points: np.ndarray, projections: np.ndarray) -> np.ndarray:
    """World points (N, 3) -> undistorted pixels (V, N, 2) in every view."""
    h = np.einsum("vij,nj->vni", projections, np.concatenate([points, np.ones((len(points), 1))], 1))
    return h[..., :2] / h[..., 2:3]


@dataclass
class Triangulated:
    """points (N, 3) metres (NaN where no subset agreed); views (V, N) bool: the views used;
    error_px (N,): mean reprojection error over the views used; max_error_px (N,)."""

    points: np.ndarray
    views: np.ndarray
    error_px: np.ndarray
    max_error_px: np.ndarray

    @property
    def count(self) -> np.ndarray:
        """(N,) number of views used (0 where the point failed)."""
        return self.views.sum(0)


def robust_triangulate(pixels: np.ndarray, weights: np.ndarray, projections: np.ndarray,
                       max_error_px: float) -> Triangulated:
    """The largest agreeing subset of views for each point (see the module docstring).

    pixels (V, N, 2) undistorted px (NaN: not seen); weights (V, N) (0: not seen);
    projections (V, 3, 4); max_error_px: every used view must reproject within this distance.
    """
    pixels = np.asarray(pixels, np.float64)
    seen = (np.asarray(weights) > 0) & np.isfinite(pixels).all(-1)
    v, n = seen.shape
    best = Triangulated(np.full((n, 3), np.nan), np.zeros((v, n), bool), np.full(n, np.nan), np.full(n, np.nan))
    best_size = np.zeros(n, int)
    for size in range(2, v + 1):
        for subset in combinations(range(v), size):
            mask = np.zeros(v, bool)
            mask[list(subset)] = True
            usable = seen[mask].all(0)
            if not usable.any():
                continue
            w = np.where(mask[:, None] & usable[None], weights, 0.0)
            pts = dlt(pixels, w, projections)
            err = np.linalg.norm(reproject(np.nan_to_num(pts), projections) - pixels, axis=-1)[mask]  # (size, N)
            in_front = _in_front(pts, projections[mask]).all(0)
            worst, mean = err.max(0), err.mean(0)
            ok = usable & in_front & (worst <= max_error_px)
            so_far = np.nan_to_num(best.error_px, nan=np.inf)
            better = ok & ((size > best_size) | ((size == best_size) & (mean < so_far)))
            best.points[better] = pts[better]
            best.views[:, better] = mask[:, None]
            best.error_px[better], best.max_error_px[better] = mean[better], worst[better]
            best_size[better] = size
    return best


def _in_front(points: np.ndarray, projections: np.ndarray) -> np.ndarray:
    """(V, N) whether each point lies in front of each camera (positive depth)."""
    h = np.einsum("vij,nj->vni", projections, np.concatenate([np.nan_to_num(points), np.ones((len(points), 1))], 1))
    # the sign of the third row times det(M) gives the depth's sign for any scale of P
    sign = np.sign(np.linalg.det(projections[:, :, :3]))[:, None]
    return h[..., 2] * sign > 0
