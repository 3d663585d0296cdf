"""The demo's result and its files: the one place that knows the keypoints.npz / keypoints.json formats.

keypoints.npz (numpy, load with ``np.load(path)``, no pickle needed)
---------------------------------------------------------------------
T = number of frames of the video, 17 joints in H36M-17 order (``joint_names``).

==================== ============ ===========================================================
key                  shape, dtype meaning
==================== ============ ===========================================================
keypoints_2d         (T,17,2) f32 2D joints in pixels of the (rotation-applied) video frame:
                                  x right, y down, origin top-left. NaN where a joint or the
                                  whole frame has no detection.
scores               (T,17) f32   detector confidence in [0, 1]; 0 where nothing was found.
keypoints_3d         (T,17,3) f32 lifter output, metres, camera frame (x right, y down, z
                                  forward), root-relative (pelvis = 0). NaN on invalid frames.
keypoints_3d_world   (T,17,3) f32 the world view that is drawn (demo.post): keypoints_3d
                                  rotated by the fixed quaternion ``world_quaternion_wxyz``,
                                  z up, pelvis at x = y = 0, lowest joint on z = 0. Metres.
valid                (T,) bool    a person was found in the frame.
fps                  () f64       frames per second of the video.
width, height        () i64       frame size in pixels (after rotation metadata).
joint_names          (17,) str    H36M-17 joint names (lifter.skeleton.JOINTS_17).
reconstruction       (1,T,17,2)   compatibility with MHFormer's demo: its demo/vis.py saves
                     f32          ``np.savez_compressed(..., reconstruction=keypoints)`` where
                                  keypoints are the 2D (not 3D) H36M-17 keypoints in pixels of
                                  shape (num_person=1, T, 17, 2), and reads them back with
                                  ``np.load(...)['reconstruction']``. Here: keypoints_2d with
                                  missing joints filled (lifter.skeleton.fill_missing) and
                                  invalid frames holding the nearest valid frame (all zeros if
                                  none), so the array has no NaN, as that demo expects.
parents              (17,) i64    parent of each joint (-1 for the pelvis).
world_quaternion_wxyz (4,) f64    camera-to-world rotation used for keypoints_3d_world.
video, detector,     () str       source video path, detector name, lifter name.
lifter
==================== ============ ===========================================================

keypoints.json
--------------
The same per frame, with units, coordinate frames and joint names stated in the file: a header
(``format``, ``video``, ``fps``, ``width``, ``height``, ``num_frames``, ``joint_names``,
``parents``, ``units``, ``coordinate_frames``, ``world_quaternion_wxyz``, ``detector``,
``lifter``) and ``frames``: one object per frame with ``index``, ``time_s``, ``valid``,
``keypoints_2d`` (17 x [x, y] or null per missing joint), ``scores`` (17), ``keypoints_3d`` and
``keypoints_3d_world`` (17 x [x, y, z], or null on an invalid frame). Pixels are rounded to 0.01,
metres to 0.0001, scores to 0.001.

Both files are written atomically (lifter.atomic).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from demo.post import CAMERA_TO_WORLD_QUAT
from lifter.atomic import atomic_path
from lifter.skeleton import JOINTS_17, PARENTS_17, fill_missing

NPZ_NAME = "keypoints.npz"
JSON_NAME = "keypoints.json"
JSON_FORMAT = "pose3d-lifter demo keypoints, version 1"

#: keys always present in keypoints.npz
NPZ_KEYS: tuple[str, ...] = (
    "keypoints_2d", "scores", "keypoints_3d", "keypoints_3d_world", "valid", "fps", "width", "height",
    "joint_names", "reconstruction", "parents", "world_quaternion_wxyz", "video", "detector", "lifter",
)

UNITS = {
    "keypoints_2d": "pixels",
    "scores": "confidence in [0, 1], 0 = not detected",
    "keypoints_3d": "metres",
    "keypoints_3d_world": "metres",
    "time_s": "seconds from the first frame (index / fps)",
}
COORDINATE_FRAMES = {
    "keypoints_2d": "image of the video as displayed (rotation metadata applied): x right, y down, "
                    "origin at the top-left corner",
    "keypoints_3d": "camera frame: x right, y down, z forward from the camera; root-relative "
                    "(pelvis at the origin)",
    "keypoints_3d_world": "keypoints_3d rotated by world_quaternion_wxyz (camera to world, w first): "
                          "z up, pelvis at x = y = 0, each frame shifted so its lowest joint is at z = 0",
}


@dataclass
class Result:
    """Per-frame poses of one video plus metadata (T frames, H36M-17 joints).

    keypoints_2d (T,17,2) float32 pixels, NaN = missing; scores (T,17) float32; keypoints_3d
    (T,17,3) float32 metres, camera frame, root-relative, NaN on invalid frames;
    keypoints_3d_world (T,17,3) float32 metres, world view (demo.post); valid (T,) bool.
    timings_ms: milliseconds per frame spent in each stage (filled by the pipeline).
    """

    keypoints_2d: np.ndarray
    scores: np.ndarray
    keypoints_3d: np.ndarray
    keypoints_3d_world: np.ndarray
    valid: np.ndarray
    fps: float
    width: int
    height: int
    video: str = ""
    detector: str = ""
    lifter: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.valid.shape[0])


def mhformer_reconstruction(keypoints_2d: np.ndarray, scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The ``reconstruction`` array of MHFormer's demo: (1, T, 17, 2) float32 pixels, no NaN.

    Missing joints of valid frames are filled (lifter.skeleton.fill_missing); an invalid frame
    takes the nearest valid frame (the earlier one on a tie); all zeros when no frame is valid.
    """
    t = valid.shape[0]
    out = np.zeros((t, 17, 2), np.float32)
    idx = np.flatnonzero(valid)
    if idx.size:
        out[idx] = fill_missing(keypoints_2d[idx], scores[idx])
        nearest = idx[np.clip(np.searchsorted(idx, np.arange(t)), 0, idx.size - 1)]
        before = idx[np.clip(np.searchsorted(idx, np.arange(t)) - 1, 0, idx.size - 1)]
        use_before = np.abs(np.arange(t) - before) <= np.abs(nearest - np.arange(t))
        out = out[np.where(use_before, before, nearest)]
    return out[None]


def write_npz(path: str | os.PathLike, result: Result) -> Path:
    """Write keypoints.npz (see the module docstring) atomically; returns the path."""
    arrays = {
        "keypoints_2d": result.keypoints_2d.astype(np.float32),
        "scores": result.scores.astype(np.float32),
        "keypoints_3d": result.keypoints_3d.astype(np.float32),
        "keypoints_3d_world": result.keypoints_3d_world.astype(np.float32),
        "valid": result.valid.astype(bool),
        "fps": np.float64(result.fps),
        "width": np.int64(result.width),
        "height": np.int64(result.height),
        "joint_names": np.array(JOINTS_17),
        "reconstruction": mhformer_reconstruction(result.keypoints_2d, result.scores, result.valid),
        "parents": np.array(PARENTS_17, np.int64),
        "world_quaternion_wxyz": np.array(CAMERA_TO_WORLD_QUAT, np.float64),
        "video": np.array(result.video),
        "detector": np.array(result.detector),
        "lifter": np.array(result.lifter),
    }
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def read_npz(path: str | os.PathLike) -> Result:
    """Load a keypoints.npz written by :func:`write_npz` back into a Result (timings empty)."""
    with np.load(path) as z:
        return Result(
            keypoints_2d=z["keypoints_2d"], scores=z["scores"], keypoints_3d=z["keypoints_3d"],
            keypoints_3d_world=z["keypoints_3d_world"], valid=z["valid"], fps=float(z["fps"]),
            width=int(z["width"]), height=int(z["height"]), video=str(z["video"]),
            detector=str(z["detector"]), lifter=str(z["lifter"]),
        )


def _rows(a: np.ndarray, decimals: int) -> list:
    """(J, D) array -> list of J lists of D rounded floats, None for a row that is not finite."""
    a = np.round(a.astype(np.float64), decimals)
    return [row.tolist() if np.isfinite(row).all() else None for row in a]


def _frame_json(result: Result, i: int) -> dict:
    valid = bool(result.valid[i])
    return {
        "index": i,
        "time_s": round(i / result.fps, 6),
        "valid": valid,
        "keypoints_2d": _rows(result.keypoints_2d[i], 2),
        "scores": np.round(np.nan_to_num(result.scores[i].astype(np.float64)), 3).tolist(),
        "keypoints_3d": _rows(result.keypoints_3d[i], 4) if valid else None,
        "keypoints_3d_world": _rows(result.keypoints_3d_world[i], 4) if valid else None,
    }


def write_json(path: str | os.PathLike, result: Result) -> Path:
    """Write keypoints.json (see the module docstring) atomically: one header key or frame per line."""
    header = {
        "format": JSON_FORMAT,
        "video": result.video,
        "fps": result.fps,
        "width": result.width,
        "height": result.height,
        "num_frames": result.num_frames,
        "joint_names": list(JOINTS_17),
        "parents": list(PARENTS_17),
        "units": UNITS,
        "coordinate_frames": COORDINATE_FRAMES,
        "world_quaternion_wxyz": list(CAMERA_TO_WORLD_QUAT),
        "detector": result.detector,
        "lifter": result.lifter,
    }
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in header.items()]
    frames = ",\n".join("    " + json.dumps(_frame_json(result, i), allow_nan=False) for i in range(result.num_frames))
    text = "{\n" + "\n".join(lines) + '\n  "frames": [\n' + frames + ("\n" if frames else "") + "  ]\n}\n"
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_outputs(out_dir: str | os.PathLike, result: Result) -> dict[str, Path]:
    """Write keypoints.npz and keypoints.json into out_dir; returns {"npz": path, "json": path}."""
    out_dir = Path(out_dir)
    return {"npz": write_npz(out_dir / NPZ_NAME, result), "json": write_json(out_dir / JSON_NAME, result)}
