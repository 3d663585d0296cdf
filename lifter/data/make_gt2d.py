"""Make the 16-joint ground-truth 2D file of Human3.6M from the 3D file.

    python -m lifter.data.make_gt2d --data-3d data_3d_h36m.npz --out data_2d_h36m_gt16.npz [--joints 16|17]

Each subject's 3D joints (32, world, metres) are moved into each of the 4 cameras' frames and
projected with the camera's lens distortion (lifter.data.h36m_cameras.project_distorted); the
output has the VideoPose3D 2D layout ('positions_2d'[subject][action] = 4 arrays (frames, J, 2)
pixels, 'metadata' with keypoints_symmetry), in H36M-16 (default) or H36M-17 order.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from lifter.atomic import atomic_path
from lifter.data.h36m import load_npz_dicts
from lifter.data.h36m_cameras import EXTRINSICS, INTRINSICS, project_distorted, world_to_camera
from lifter.skeleton import H36M32_TO_17, SUBSET_16, layout


def make_gt2d(positions_3d: dict, num_joints: int = 16) -> tuple[dict, dict]:
    """{subject: {action: (F, 32, 3)}} -> (positions_2d, metadata) for subjects with known cameras."""
    if num_joints not in (16, 17):
        raise ValueError(f"--joints must be 16 or 17, got {num_joints}")
    out: dict = {}
    for subject, actions in positions_3d.items():
        if subject not in EXTRINSICS:
            print(f"note: no cameras for subject {subject}, skipped", file=sys.stderr)
            continue
        out[subject] = {}
        for action, world in actions.items():
            world = np.asarray(world)
            world17 = world[:, H36M32_TO_17] if world.shape[1] == 32 else world
            cams = []
            for cam in range(len(INTRINSICS)):
                px = project_distorted(world_to_camera(world17, subject, cam), cam)
                cams.append((px[:, SUBSET_16] if num_joints == 16 else px).astype(np.float32))
            out[subject][action] = cams
    lay = layout(num_joints)
    meta = {"layout_name": f"h36m{num_joints}", "num_joints": num_joints,
            "keypoints_symmetry": [list(lay["left"]), list(lay["right"])]}
    return out, meta


def write_2d_file(path: str | Path, positions_2d: dict, metadata: dict) -> None:
    """Write a VideoPose3D-layout 2D npz atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, positions_2d=np.array(positions_2d, dtype=object),
                                metadata=np.array(metadata, dtype=object))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Make the ground-truth 2D file of Human3.6M from the 3D file.")
    p.add_argument("--data-3d", required=True, help="data_3d_h36m.npz (VideoPose3D layout)")
    p.add_argument("--out", required=True, help="output npz")
    p.add_argument("--joints", type=int, default=16, choices=[16, 17], help="H36M-16 or H36M-17 joints")
    args = p.parse_args(argv)
    try:
        pos3d = load_npz_dicts(args.data_3d, ("positions_3d",))["positions_3d"]
        pos2d, meta = make_gt2d(pos3d, args.joints)
        write_2d_file(args.out, pos2d, meta)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {sum(len(a) for a in pos2d.values())} sequences x 4 cameras")
    return 0


if __name__ == "__main__":
    sys.exit(main())
