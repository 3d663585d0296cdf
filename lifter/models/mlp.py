"""SimpleBaseline (Martinez et al. 2017): a residual MLP lifter, used as a comparison baseline.

Input (B, J, 2) normalised 2D, output (B, J, 3) metres, root-relative (see lifter.skeleton).
"""

from __future__ import annotations

import torch
from torch import nn


class _ResidualBlock(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True), nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SimpleBaseline(nn.Module):
    def __init__(self, num_joints: int = 17, width: int = 1024, num_blocks: int = 2, dropout: float = 0.5):
        super().__init__()
        self.num_joints = num_joints
        self.inp = nn.Sequential(
            nn.Linear(num_joints * 2, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True), nn.Dropout(dropout)
        )
        self.blocks = nn.Sequential(*[_ResidualBlock(width, dropout) for _ in range(num_blocks)])
        self.out = nn.Linear(width, num_joints * 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        return self.out(self.blocks(self.inp(x.reshape(b, -1)))).reshape(b, self.num_joints, 3)
