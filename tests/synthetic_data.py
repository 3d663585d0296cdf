"""Tiny generated stand-ins for the training data (random but valid human poses).

- :func:`random_poses` H36M-17 poses, metres, Y up, facing +z, right-handed.
- :func:`write_h36m` a VideoPose3D-layout 3D file (32 joints, Z up world) and a 17-joint 2D file.
- :func:`write_openmocap` a stand-in of ../shared/data/open_mocap_h36m17.npz (same keys, mm).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lifter.data.h36m_cameras import project_distorted, world_to_camera
from lifter.data.make_gt2d import write_2d_file
from lifter.skeleton import H36M32_TO_17, JOINTS_17, LEFT_17, PARENTS_17, RIGHT_17

_TEMPLATE = np.array([
    [0, 0.95, 0], [-0.12, 0.95, 0], [-0.12, 0.52, 0.02], [-0.12, 0.08, 0], [0.12, 0.95, 0], [0.12, 0.52, 0.02],
    [0.12, 0.08, 0], [0, 1.2, 0], [0, 1.45, 0], [0, 1.55, 0.06], [0, 1.68, 0.02], [0.17, 1.42, 0],
    [0.2, 1.15, 0], [0.22, 0.9, 0.05], [-0.17, 1.42, 0], [-0.2, 1.15, 0], [-0.22, 0.9, 0.05]])


def random_poses(rng: np.random.Generator, n: int, jitter: float = 0.35) -> np.ndarray:
    """(n, 17, 3) metres, world Y up: template bones with perturbed directions, random yaw and place."""
    out = np.zeros((n, 17, 3))
    out[:, 0] = _TEMPLATE[0]
    scale = rng.uniform(0.9, 1.1, (n, 1))
    for j, p in enumerate(PARENTS_17):
        if p < 0:
            continue
        bone = _TEMPLATE[j] - _TEMPLATE[p]
        length = np.linalg.norm(bone)
        d = bone / length + rng.normal(0, jitter, (n, 3))
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        out[:, j] = out[:, p] + d * length * scale
    yaw = rng.uniform(0, 2 * np.pi, n)
    c, s = np.cos(yaw), np.sin(yaw)
    x, z = out[..., 0].copy(), out[..., 2].copy()
    out[..., 0], out[..., 2] = c[:, None] * x + s[:, None] * z, -s[:, None] * x + c[:, None] * z
    out[..., [0, 2]] += rng.uniform(-0.5, 0.5, (n, 1, 2))
    return out


def write_h36m(folder: Path, rng: np.random.Generator, frames: int = 40, extra_2d: int = 3,
               subjects=("S1", "S9"), actions=("Walking 1", "Directions")) -> tuple[Path, Path]:
    """3D (32 joints, metres, Z-up world) and 17-joint 2D (pixels, lens distortion, 2D longer by
    ``extra_2d`` frames) files in the VideoPose3D layout. Returns (path_3d, path_2d)."""
    pos3d, pos2d = {}, {}
    for subject in subjects:
        pos3d[subject], pos2d[subject] = {}, {}
        for action in actions:
            yup = random_poses(rng, frames + extra_2d)
            zup = np.stack([yup[..., 0], -yup[..., 2], yup[..., 1]], -1)  # Y up -> Z up, right-handed
            full = np.repeat(zup[:, :1], 32, axis=1)
            full[:, list(H36M32_TO_17)] = zup
            pos3d[subject][action] = full[:frames].astype(np.float32)
            pos2d[subject][action] = [project_distorted(world_to_camera(zup, subject, cam), cam) for cam in range(4)]
    path_3d, path_2d = folder / "data_3d_h36m.npz", folder / "data_2d_h36m_test.npz"
    np.savez_compressed(path_3d, positions_3d=np.array(pos3d, dtype=object))
    write_2d_file(path_2d, pos2d, {"layout_name": "h36m", "num_joints": 17,
                                   "keypoints_symmetry": [list(LEFT_17), list(RIGHT_17)]})
    return path_3d, path_2d


def write_openmocap(path: Path, rng: np.random.Generator, frames_per_split=(300, 60, 80)) -> Path:
    """A stand-in open mocap npz (same keys as the real file; joints in mm, Y up)."""
    n = sum(frames_per_split)
    split = np.concatenate([np.full(k, s, np.int8) for s, k in enumerate(frames_per_split)])
    joints = random_poses(rng, n, jitter=0.2) * 1000.0  # mild: the face stays in front, as in real mocap
    np.savez_compressed(path, joints=joints.astype(np.float32), subject=(split + 1).astype(np.int16),
                        clip=(np.arange(n) // 20).astype(np.int32), primary=np.ones(n, np.int8), split=split,
                        split_names=np.array(["train", "val", "test"]), joint_names=np.array(JOINTS_17),
                        parents=np.array(PARENTS_17, np.int64), fps=np.float32(10))
    return path


def openmocap_slice(real: Path, out: Path, per_split: int = 200) -> Path:
    """A tiny slice of the real file: the first ``per_split`` primary frames of each split."""
    with np.load(real) as d:
        rows = np.concatenate([np.nonzero((d["split"] == s) & (d["primary"] == 1))[0][:per_split] for s in range(3)])
        arrays = {k: (d[k][rows] if d[k].ndim and len(d[k]) == len(d["split"]) else d[k]) for k in d.files}
    np.savez_compressed(out, **arrays)
    return out


#: the real open mocap file, when this checkout sits beside ../shared
SHARED_MOCAP = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "open_mocap_h36m17.npz"
