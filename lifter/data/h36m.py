"""Human3.6M in the VideoPose3D npz layout.

- 3D file (data_3d_h36m.npz): 'positions_3d' = {subject: {action: (frames, 32, 3) metres, world}}.
- 2D file (data_2d_h36m_cpn_ft_h36m_dbb.npz, data_2d_h36m_gt.npz, or the 16-joint file written by
  lifter.data.make_gt2d): 'positions_2d' = {subject: {action: [4 arrays (frames, J, 2) pixels]}}
  in the camera order of lifter.data.h36m_cameras, J = 17 (H36M-17), 16 (H36M-16) or 32 (raw);
  'metadata' = {'keypoints_symmetry': [left, right], ...}.
Both are pickled dictionaries inside npz (the format the community distributes), so they are read
with allow_pickle: open only files you trust.

Each (subject, action, camera) gives frames with input = the 2D normalised with the camera's image
size (lifter.skeleton.normalize_screen) and target = the 3D in that camera's frame, reduced to 17
(or 16) joints, root-relative, metres. 2D longer than 3D is truncated to the 3D length. Subjects or
actions missing from a file are skipped with a note. Split: train S1 S5 S6 S7 S8, test S9 S11;
evaluation groups are the actions ('Walking 1' -> 'Walking').
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from lifter.data.h36m_cameras import INTRINSICS, project_distorted, world_to_camera
from lifter.skeleton import H36M32_TO_17, SUBSET_16, layout, normalize_screen

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")


def load_npz_dicts(path: str | Path, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """The pickled dictionaries stored under ``keys`` (and ``optional`` ones, {} when absent)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Human3.6M file not found: {path}")
    with np.load(path, allow_pickle=True) as d:
        missing = [k for k in keys if k not in d.files]
        if missing:
            raise ValueError(f"{path}: no '{missing[0]}' array (found {d.files})")
        return {k: (d[k].item() if k in d.files else {}) for k in keys + optional}


def action_group(action: str) -> str:
    """'Walking 1' -> 'Walking', 'WalkDog' -> 'WalkDog'."""
    return action.split(" ")[0]


def _reduce_2d(xy: np.ndarray, num_joints: int) -> np.ndarray:
    j = xy.shape[-2]
    if j == 32:
        xy, j = xy[..., H36M32_TO_17, :], 17
    if j == num_joints:
        return xy
    if j == 17 and num_joints == 16:
        return xy[..., SUBSET_16, :]
    raise ValueError(f"2D file has {xy.shape[-2]} joints, the model needs {num_joints}")


def _note(msg: str) -> None:
    print(f"note: {msg}", file=sys.stderr)


class Human36M:
    """The Human3.6M source (see lifter.data for the interface)."""

    average = "groups"  # the protocol: MPJPE averaged per action

    def __init__(self, path_3d: str | Path, path_2d: str | Path, num_joints: int = 17):
        self.paths = (Path(path_3d), Path(path_2d))
        self.num_joints = num_joints
        pos3d = load_npz_dicts(path_3d, ("positions_3d",))["positions_3d"]
        d2 = load_npz_dicts(path_2d, ("positions_2d",), ("metadata",))
        pos2d = d2["positions_2d"]
        self._check_symmetry(d2["metadata"].get("keypoints_symmetry"), pos2d)
        self._parts: dict[str, list] = {"train": [], "test": []}
        groups: set[str] = set()
        for split, subjects in (("train", TRAIN_SUBJECTS), ("test", TEST_SUBJECTS)):
            for subject in subjects:
                if subject not in pos3d or subject not in pos2d:
                    _note(f"subject {subject} absent from the {'3D' if subject not in pos3d else '2D'} file, skipped")
                    continue
                for action, world in pos3d[subject].items():
                    if action not in pos2d[subject]:
                        _note(f"{subject} '{action}' absent from the 2D file, skipped")
                        continue
                    self._parts[split] += self._sequence(subject, action, np.asarray(world), pos2d[subject][action])
                    groups.add(action_group(action))
        if not self._parts["train"] and not self._parts["test"]:
            raise ValueError(f"no usable (subject, action) in {path_3d} and {path_2d}")
        self.group_names = tuple(sorted(groups))
        self._arrays = {k: self._stack(v) for k, v in self._parts.items()}
        del self._parts

    def _check_symmetry(self, sym, pos2d: dict) -> None:
        """The file's left/right lists must be those of our layout (when it states them)."""
        first = next((np.asarray(cams[0]) for acts in pos2d.values() for cams in acts.values()), None)
        if sym is None or first is None or first.shape[-2] not in (16, 17):
            return
        lay = layout(first.shape[-2])
        if (tuple(map(int, sym[0])), tuple(map(int, sym[1]))) != (tuple(lay["left"]), tuple(lay["right"])):
            raise ValueError(f"{self.paths[1]}: keypoints_symmetry {sym} is not the H36M-{first.shape[-2]} layout")

    def _sequence(self, subject: str, action: str, world: np.ndarray, cams_2d: list) -> list:
        if world.ndim != 3 or world.shape[1:] not in ((32, 3), (17, 3)):
            raise ValueError(f"{subject} '{action}': 3D array of shape {world.shape}, expected (frames, 32, 3)")
        if len(cams_2d) != len(INTRINSICS):
            raise ValueError(f"{subject} '{action}': {len(cams_2d)} cameras in the 2D file, expected 4")
        world17 = world[:, H36M32_TO_17] if world.shape[1] == 32 else world
        out = []
        for cam, xy in enumerate(cams_2d):
            n = min(len(world17), len(xy))
            if len(xy) < len(world17):
                _note(f"{subject} '{action}' camera {cam}: 2D shorter than 3D, 3D truncated to {n} frames")
            cam3d = world_to_camera(world17[:n], subject, cam)
            target = cam3d - cam3d[:, :1]
            intr = INTRINSICS[cam]
            x = normalize_screen(_reduce_2d(np.asarray(xy[:n], np.float32), self.num_joints),
                                 intr["width"], intr["height"])
            y = target[:, SUBSET_16] if self.num_joints == 16 else target
            out.append((x, y.astype(np.float32), action_group(action), (world17, subject, cam, n)))
        return out

    def _stack(self, parts: list) -> dict:
        j = self.num_joints
        if not parts:
            return {"x": np.zeros((0, j, 2), np.float32), "y": np.zeros((0, j, 3), np.float32),
                    "g": np.zeros(0, np.int64), "sources": []}
        return {"x": np.concatenate([p[0] for p in parts]), "y": np.concatenate([p[1] for p in parts]),
                "g": np.concatenate([np.full(len(p[0]), self.group_names.index(p[2]), np.int64) for p in parts]),
                "sources": [p[3] for p in parts]}

    # -- the data interface -------------------------------------------------------------------
    def train_size(self) -> int:
        return len(self._arrays["train"]["x"])

    def train_batch(self, positions: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Training batch for positions (B,) into the training frames (no randomness needed here)."""
        a = self._arrays["train"]
        return a["x"][positions], a["y"][positions]

    def eval_set(self, split: str):
        from lifter.data import EvalSet

        key = "test" if split in ("val", "test") else split  # the protocol has no separate validation split
        a = self._arrays[key]
        return EvalSet(f"h36m-{key}", a["x"], a["y"], a["g"], self.group_names, self.average)

    def uv_noise_std(self, max_frames: int = 200000) -> np.ndarray:
        """Per-joint std (J,) of (2D input - projection of the 3D ground truth), normalised units.

        The 2D uncertainty of the training inputs (used to scale DiffPyramid's 2D noise).
        """
        a = self._arrays["train"]
        res, start = [], 0
        for world17, subject, cam, n in a["sources"]:
            intr = INTRINSICS[cam]
            px = project_distorted(world_to_camera(world17[:n], subject, cam), cam)
            gt = normalize_screen(px, intr["width"], intr["height"])
            gt = gt[:, SUBSET_16] if self.num_joints == 16 else gt
            res.append(a["x"][start:start + n] - gt)
            start += n
            if start >= max_frames:
                break
        if not res:
            raise ValueError("no training frames to measure the 2D error on")
        r = np.concatenate(res)
        return np.sqrt((r ** 2).mean((0, 2))).astype(np.float32)

    def fingerprint(self) -> dict:
        out = {"source": "h36m", "num_joints": self.num_joints,
               "frames": {k: int(len(v["x"])) for k, v in self._arrays.items()}}
        for tag, p in zip(("file_3d", "file_2d"), self.paths):
            with p.open("rb") as f:
                out[tag] = {"name": p.name, "bytes": p.stat().st_size,
                            "sha256_first_mb": hashlib.sha256(f.read(1 << 20)).hexdigest()}
        return out
