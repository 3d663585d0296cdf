"""Pose errors: MPJPE (protocol 1), P-MPJPE (protocol 2, Procrustes with scale), N-MPJPE (scale only).

Numpy functions return the error of each pose, (N,), in the unit of the inputs (metres in ->
metres out; the evaluation reports millimetres). Torch losses for training are at the end.
"""

from __future__ import annotations

import numpy as np
import torch


def mpjpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Mean per-joint position error of each pose: pred, gt (N, J, 3) -> (N,)."""
    return np.linalg.norm(np.asarray(pred, np.float64) - np.asarray(gt, np.float64), axis=-1).mean(-1)


def n_mpjpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """MPJPE after the least-squares scale of pred onto gt (Rhodin et al. 2018): (N, J, 3) -> (N,)."""
    p, g = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    scale = (p * g).sum((1, 2)) / np.maximum((p * p).sum((1, 2)), 1e-12)
    return mpjpe(scale[:, None, None] * p, g)


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """pred (N, J, 3) moved onto gt by the best similarity transform (rotation, scale, translation)."""
    p, g = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    mu_p, mu_g = p.mean(1, keepdims=True), g.mean(1, keepdims=True)
    p0, g0 = p - mu_p, g - mu_g
    norm_p = np.maximum(np.sqrt((p0 ** 2).sum((1, 2))), 1e-12)
    norm_g = np.maximum(np.sqrt((g0 ** 2).sum((1, 2))), 1e-12)
    p0 /= norm_p[:, None, None]
    g0 /= norm_g[:, None, None]
    u, s, vt = np.linalg.svd(np.einsum("nji,njk->nik", g0, p0))  # H = g0^T p0, (N, 3, 3)
    v = vt.transpose(0, 2, 1)
    # no reflection: flip the last singular vector where det(R) < 0
    sign = np.sign(np.linalg.det(np.einsum("nij,nkj->nik", v, u)))
    v[:, :, -1] *= sign[:, None]
    s[:, -1] *= sign
    rot = np.einsum("nij,nkj->nik", v, u)  # applied as p0 @ rot
    scale = s.sum(-1) * norm_g / norm_p
    return scale[:, None, None] * np.einsum("nji,nik->njk", p - mu_p, rot) + mu_g


def p_mpjpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """MPJPE after Procrustes alignment with scale (protocol 2): (N, J, 3) -> (N,)."""
    return mpjpe(procrustes_align(pred, gt), gt)


def mpjpe_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean joint error (training loss), scalar, in the unit of the inputs."""
    return torch.linalg.vector_norm(pred - target, dim=-1).mean()


def mse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared coordinate error (training loss)."""
    return torch.mean((pred - target) ** 2)


LOSSES = {"mpjpe": mpjpe_loss, "mse": mse_loss}
