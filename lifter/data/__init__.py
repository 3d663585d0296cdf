"""The one data interface: every source gives training batches and evaluation sets alike.

A source (lifter.data.h36m.Human36M, lifter.data.openmocap.OpenMocap) has:
- ``num_joints`` (16 or 17), ``group_names`` (tuple of evaluation group names),
  ``average`` ('groups': overall figure = mean of per-group means, the Human3.6M protocol;
  'frames': mean over frames);
- ``train_size() -> int``;
- ``train_batch(positions (B,) int, rng) -> (x (B, J, 2) float32 normalised 2D,
  y (B, J, 3) float32 metres, camera frame, root-relative)``;
- ``eval_set(split: 'val' | 'test') -> EvalSet``;
- ``uv_noise_std() -> (J,)`` std of the 2D input error in normalised units;
- ``fingerprint() -> dict`` (JSON-able description of the files and options).

:func:`open_source` builds one from names; :class:`EpochBatches` turns a source into the batches
of one epoch of one process (DistributedSampler order, seeded per batch, so any epoch can be
regenerated exactly, on any number of processes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler

from lifter.skeleton import flip_permutation


@dataclass
class EvalSet:
    """An evaluation set: inputs (N, J, 2) normalised 2D, targets (N, J, 3) metres root-relative,
    groups (N,) int index into group_names; ``average`` as described in the module docstring."""

    name: str
    inputs: np.ndarray
    targets: np.ndarray
    groups: np.ndarray
    group_names: tuple[str, ...]
    average: str

    def __len__(self) -> int:
        return len(self.inputs)

    def subsample(self, max_frames: int | None) -> "EvalSet":
        """At most ``max_frames`` frames, evenly spaced (all when None or larger)."""
        if not max_frames or max_frames >= len(self):
            return self
        idx = np.linspace(0, len(self) - 1, max_frames).round().astype(np.int64)
        return EvalSet(self.name, self.inputs[idx], self.targets[idx], self.groups[idx], self.group_names, self.average)


def flip_poses(x: np.ndarray, y: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror the selected rows (bool (B,)) of 2D (B, J, 2) and 3D (B, J, 3): negate x, swap left/right."""
    perm = flip_permutation(x.shape[-2])
    x, y = x.copy(), y.copy()
    x[rows] = x[rows][:, perm] * np.array([-1.0, 1.0], np.float32)
    y[rows] = y[rows][:, perm] * np.array([-1.0, 1.0, 1.0], np.float32)
    return x, y


class EpochBatches(Dataset):
    """Batch ``i`` of epoch ``epoch`` for process ``rank`` of ``world_size``: (x, y) float tensors.

    The frame order is DistributedSampler's (shuffled with ``seed`` and the epoch); the random
    numbers of batch i come from numpy's generator seeded with (seed, epoch, rank, i). The last
    incomplete batch is dropped (every process runs the same number of steps), unless the epoch
    has fewer frames than one batch. ``flip``: mirror each sample with probability 0.5.
    """

    def __init__(self, source, epoch: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1,
                 flip: bool = False):
        sampler = DistributedSampler(range(source.train_size()), num_replicas=world_size, rank=rank,
                                     shuffle=True, seed=seed)
        sampler.set_epoch(epoch)
        self.order = np.fromiter(iter(sampler), dtype=np.int64)
        self.source, self.epoch, self.batch_size, self.seed, self.rank, self.flip = source, epoch, batch_size, seed, rank, flip

    def __len__(self) -> int:
        return max(1, len(self.order) // self.batch_size) if len(self.order) else 0

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= i < len(self):
            raise IndexError(i)
        rng = np.random.default_rng([self.seed, self.epoch, self.rank, i])
        x, y = self.source.train_batch(self.order[i * self.batch_size:(i + 1) * self.batch_size], rng)
        if self.flip:
            x, y = flip_poses(x, y, rng.random(len(x)) < 0.5)
        return torch.from_numpy(np.ascontiguousarray(x, np.float32)), torch.from_numpy(np.ascontiguousarray(y, np.float32))


def open_source(kind: str, num_joints: int, path_3d: str | Path | None = None, path_2d: str | Path | None = None,
                noise: str = "detector", scene: dict | None = None):
    """Build a source: kind 'h36m' (needs path_3d and path_2d) or 'openmocap' (path_3d optional:
    the open mocap npz, default ../shared/data/open_mocap_h36m17.npz; ``noise`` 'clean' | 'detector').

    scene (openmocap only): the training scene, a dict with any of "cameras" (fields of
    lifter.data.cameras.CameraRanges), "augment" (fields of lifter.data.openmocap.Augment) and
    "noise_params" (a name of lifter.data.noise.NOISE_MODELS); None or {} keeps the defaults.
    Evaluation sets never use it: their cameras and noise stay fixed.
    """
    if kind == "h36m":
        from lifter.data.h36m import Human36M

        if path_3d is None or path_2d is None:
            raise ValueError("--data h36m needs --data-3d and --data-2d")
        if scene:
            raise ValueError("a training scene (cameras, augmentation, noise) applies to --data openmocap only")
        return Human36M(path_3d, path_2d, num_joints=num_joints)
    if kind == "openmocap":
        from lifter.data.openmocap import DEFAULT_PATH, OpenMocap, scene_settings

        return OpenMocap(path_3d or DEFAULT_PATH, num_joints=num_joints, noise=noise, **scene_settings(scene))
    raise ValueError(f"unknown data source {kind!r} (expected 'h36m' or 'openmocap')")


def steps_per_epoch(train_size: int, batch_size: int, world_size: int = 1) -> int:
    """Number of optimisation steps of one epoch (as EpochBatches counts them)."""
    per_rank = math.ceil(train_size / world_size)
    return max(1, per_rank // batch_size) if per_rank else 0
