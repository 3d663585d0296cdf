"""Constant graph matrices of the skeleton used by the PGFormer trunk.

Everything here depends only on the joint layout (lifter.skeleton) and is computed once, in
float64 numpy, when a model is built; the models keep the results as non-persistent float32
buffers. Shapes use J = number of joints (16 or 17).

- ``normalized_adjacency(J, style)``: (J, J), one of the three normalisations of the release.
- ``laplacian(adj)``: (J, J), ``I - D^-1/2 A D^-1/2`` with D the row sums of A.
- ``chebyshev_basis(lap)``: (3, J, J), ``[I, L, 2 L^2 - I]`` (no eigenvalue rescaling).
- ``pyramid_matrix(J, level2)``: (J + 12, J), rows averaging joint tokens into the token pyramid
  ``[joints; 8 level-1 parts; 4 level-2 tokens]``.
- ``normalize_learned_adjacency(a_hat)``: torch, the GraphFFN normalisation of a learnable A_hat.
"""

from __future__ import annotations

import numpy as np
import torch

from lifter.skeleton import edges

#: adjacency normalisation of each released model family
ADJACENCY_STYLES = ("gt16", "cpn17", "diffpyramid")

#: level-1 part groups (joint indices) of the 16- and 17-joint models
PARTS_LEVEL1: dict[int, tuple[tuple[int, ...], ...]] = {
    16: ((2, 3), (5, 6), (1, 4), (0, 7), (8, 9), (14, 15), (11, 12), (10, 13)),
    17: ((2, 3), (5, 6), (1, 4), (0, 7), (15, 16), (12, 13), (11, 14), (8, 9, 10)),
}
#: level-2 index list, taken in consecutive pairs; the release indexes raw joints with it,
#: the paper's text indexes the level-1 parts with it
LEVEL2_ORDER: dict[int, tuple[int, ...]] = {
    16: (0, 1, 2, 3, 5, 6, 4, 7),
    17: (0, 1, 2, 3, 4, 5, 6, 7),
}
LEVEL2_MODES = ("release", "paper")
#: epsilon added to the degrees of a learned adjacency before the inverse square root
LEARNED_DEGREE_EPS = 1e-5


def skeleton_adjacency(num_joints: int) -> np.ndarray:
    """Symmetric 0/1 bone adjacency (J, J) without self-loops."""
    adj = np.zeros((num_joints, num_joints))
    for p, c in edges(num_joints):
        adj[p, c] = adj[c, p] = 1.0
    return adj


def normalized_adjacency(num_joints: int, style: str) -> np.ndarray:
    """Adjacency (J, J) normalised as one of the released models did it.

    - "gt16" and "diffpyramid": A + I, each row divided by its sum.
    - "cpn17": A without self-loops, each row divided by its sum, then the diagonal set to 1.
    """
    adj = skeleton_adjacency(num_joints)
    if style in ("gt16", "diffpyramid"):
        adj = adj + np.eye(num_joints)
        return adj / adj.sum(1, keepdims=True)
    if style == "cpn17":
        adj = adj / adj.sum(1, keepdims=True)
        np.fill_diagonal(adj, 1.0)
        return adj
    raise ValueError(f"unknown adjacency style {style!r} (expected one of {ADJACENCY_STYLES})")


def laplacian(adj: np.ndarray) -> np.ndarray:
    """Normalised Laplacian ``I - D^-1/2 A D^-1/2`` (J, J), D = diag of the row sums of A."""
    d = adj.sum(1) ** -0.5
    return np.eye(len(adj)) - d[:, None] * adj * d[None, :]


def chebyshev_basis(lap: np.ndarray, order: int = 2) -> np.ndarray:
    """Chebyshev polynomials of ``lap``: (order + 1, J, J) = [I, L, 2 L T1 - T0, ...]."""
    basis = [np.eye(len(lap)), lap]
    while len(basis) < order + 1:
        basis.append(2.0 * lap @ basis[-1] - basis[-2])
    return np.stack(basis[: order + 1])


def part_pooling(num_joints: int, level2: str = "release") -> np.ndarray:
    """Averaging matrix (12, J): rows 0-7 the level-1 parts, rows 8-11 the level-2 tokens.

    level2 = "release": level-2 token i averages raw joints ``LEVEL2_ORDER[2i], [2i+1]`` (what the
    released checkpoints were trained with); "paper": it averages those two level-1 parts.
    """
    if num_joints not in PARTS_LEVEL1:
        raise ValueError(f"no part groups for {num_joints} joints (expected 16 or 17)")
    if level2 not in LEVEL2_MODES:
        raise ValueError(f"unknown level2 mode {level2!r} (expected one of {LEVEL2_MODES})")
    level1 = np.zeros((8, num_joints))
    for row, group in enumerate(PARTS_LEVEL1[num_joints]):
        level1[row, list(group)] = 1.0 / len(group)
    order = LEVEL2_ORDER[num_joints]
    source = np.eye(num_joints) if level2 == "release" else level1
    level2_rows = np.stack([(source[order[2 * i]] + source[order[2 * i + 1]]) / 2 for i in range(4)])
    return np.concatenate([level1, level2_rows])


def pyramid_matrix(num_joints: int, level2: str = "release") -> np.ndarray:
    """(J + 12, J) matrix mapping joint tokens to the token pyramid [joints; level 1; level 2]."""
    return np.concatenate([np.eye(num_joints), part_pooling(num_joints, level2)])


def normalize_learned_adjacency(a_hat: torch.Tensor) -> torch.Tensor:
    """GraphFFN normalisation of a learnable adjacency: ``d_i A_ij d_j``.

    a_hat: (..., J, J). d_j = (sum_i A_ij + 1e-5) ** -0.5 (column sums, as in the release).
    Works on a stack of adjacencies at once (one per layer).
    """
    d = (a_hat.sum(-2) + LEARNED_DEGREE_EPS).rsqrt()
    return d.unsqueeze(-1) * a_hat * d.unsqueeze(-2)
