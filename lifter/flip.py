"""Flip test-time augmentation around any lifter.

The pose is mirrored (x negated, left and right joints swapped, lifter.skeleton.flip_permutation),
lifted, mirrored back, and averaged with the lift of the original. Both go through the model in
one batch of 2B. For any model, ``FlipAverage(model)(flip(x)) == flip(FlipAverage(model)(x))``.
"""

from __future__ import annotations

import torch
from torch import nn

from lifter.skeleton import flip_permutation


def flip_pose(x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Mirror poses (..., J, C>=1): x coordinate negated, joints permuted by ``perm`` (J,)."""
    out = x.index_select(-2, perm)
    return torch.cat([-out[..., :1], out[..., 1:]], dim=-1)


class FlipAverage(nn.Module):
    """Wrap a lifter (B, J, 2) -> (B, J, 3) so that it averages the pose and its mirror image."""

    def __init__(self, model: nn.Module, num_joints: int):
        super().__init__()
        self.model = model
        self.num_joints = num_joints
        self.register_buffer("perm", torch.as_tensor(flip_permutation(num_joints)), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, J, 2) normalised 2D -> (B, J, 3), the mean of the direct and the mirrored lift."""
        b = x.shape[0]
        y = self.model(torch.cat([x, flip_pose(x, self.perm)], dim=0))
        return (y[:b] + flip_pose(y[b:], self.perm)) / 2
