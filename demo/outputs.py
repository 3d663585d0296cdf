"""The demo's result and its files: the one place that knows the keypoints.npz / keypoints.json formats.

keypoints.npz (numpy, load with ``np.load(path)``, no pickle needed), format_version 2
---------------------------------------------------------------------------------------
P = number of people (tracks) kept, T = number of frames of the video, 17 joints in H36M-17
order (``joint_names``). Person p is the track ``track_ids[p]``; people are ordered by track ID.
A person's row holds NaN / 0 / False on the frames where that person is not present.

==================== ============== ==========================================================
key                  shape, dtype   meaning
==================== ============== ==========================================================
format_version       () i64         2 (version 1 had no person axis)
track_ids            (P,) i64       the tracker's ID of each person (as drawn in the video)
main_person          () i64         index into P of the main person (the most prominent: the
                                    largest sum over frames of the 2D skeleton's size), -1
                                    when P = 0
keypoints_2d         (P,T,17,2) f32 2D joints in pixels of the (rotation-applied) video frame:
                                    x right, y down, origin top-left. NaN where a joint or the
                                    whole person has no detection.
scores               (P,T,17) f32   detector confidence in [0, 1]; 0 where nothing was found.
keypoints_3d         (P,T,17,3) f32 lifter output, metres, camera frame (x right, y down, z
                                    forward), root-relative (pelvis = 0). NaN where not valid.
keypoints_3d_world   (P,T,17,3) f32 the world view that is drawn (demo.post): keypoints_3d
                                    rotated by the fixed quaternion ``world_quaternion_wxyz``,
                                    z up, lowest joint on z = 0, the pelvis moved along the
                                    floor by the person's image position (demo.post
                                    .place_people). Metres.
valid                (P,T) bool     person p was found in frame t.
time_s               (T,) f64       presentation time of each frame, seconds from the first
fps                  () f64         frames per second of the video.
width, height        () i64         frame size in pixels (after rotation metadata).
joint_names          (17,) str      H36M-17 joint names (lifter.skeleton.JOINTS_17).
reconstruction       (1,T,17,2) f32 compatibility with MHFormer's demo: its demo/vis.py saves
                                    ``np.savez_compressed(..., reconstruction=keypoints)`` where
                                    keypoints are the 2D (not 3D) H36M-17 keypoints in pixels of
                                    shape (num_person=1, T, 17, 2). Here: the main person's
                                    keypoints_2d with missing joints filled
                                    (lifter.skeleton.fill_missing) and invalid frames holding
                                    the nearest valid frame (all zeros if none), no NaN.
parents              (17,) i64      parent of each joint (-1 for the pelvis).
world_quaternion_wxyz (4,) f64      camera-to-world rotation used for keypoints_3d_world.
video, detector,     () str         source video path, detector name, lifter name.
lifter
notes                (N,) str       one line each: what the user should know (identity
                                    changes of the followed person, frames not decoded, ...)
==================== ============== ==========================================================

keypoints.json
--------------
The same per frame, with units, coordinate frames and joint names stated in the file: a header
(``format``, ``format_version``, ``video``, ``fps``, ``width``, ``height``, ``num_frames``,
``joint_names``, ``parents``, ``units``, ``coordinate_frames``, ``world_quaternion_wxyz``,
``detector``, ``lifter``, ``track_ids``, ``main_person_id``, ``notes``) and ``frames``: one
object per frame with ``index``, ``time_s`` and ``people``: one object per person present in
that frame with ``id`` (track ID), ``keypoints_2d`` (17 x [x, y] or null per missing joint),
``scores`` (17), ``keypoints_3d`` and ``keypoints_3d_world`` (17 x [x, y, z]). Pixels are
rounded to 0.01, metres to 0.0001, scores to 0.001.

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
FORMAT_VERSION = 2
JSON_FORMAT = "pose3d-lifter demo keypoints"

#: keys always present in keypoints.npz
NPZ_KEYS: tuple[str, ...] = (
    "format_version", "track_ids", "main_person", "keypoints_2d", "scores", "keypoints_3d",
    "keypoints_3d_world", "valid", "time_s", "fps", "width", "height", "joint_names", "reconstruction",
    "parents", "world_quaternion_wxyz", "video", "detector", "lifter", "notes",
)

UNITS = {
    "keypoints_2d": "pixels",
    "scores": "confidence in [0, 1], 0 = not detected",
    "keypoints_3d": "metres",
    "keypoints_3d_world": "metres",
    "time_s": "seconds from the first frame (the frame's presentation time)",
}
COORDINATE_FRAMES = {
    "keypoints_2d": "image of the video as displayed (rotation metadata applied): x right, y down, "
                    "origin at the top-left corner",
    "keypoints_3d": "camera frame: x right, y down, z forward from the camera; root-relative "
                    "(pelvis at the origin)",
    "keypoints_3d_world": "keypoints_3d rotated by world_quaternion_wxyz (camera to world, w first): "
                          "z up, each pose shifted so its lowest joint is at z = 0, and moved along the "
                          "floor by the person's horizontal image position (people side by side)",
}


@dataclass
class Result:
    """Per-frame poses of every kept person of one video plus metadata (P people, T frames, H36M-17).

    keypoints_2d (P,T,17,2) float32 pixels, NaN = missing; scores (P,T,17) float32;
    keypoints_3d (P,T,17,3) float32 metres, camera frame, root-relative, NaN where not valid;
    keypoints_3d_world (P,T,17,3) float32 metres, world view (demo.post); valid (P,T) bool;
    track_ids (P,) int64; time_s (T,) float64 seconds. main_person: index into P (-1: nobody).
    notes: one line each for the user. timings_ms: milliseconds per frame of each stage.
    """

    keypoints_2d: np.ndarray
    scores: np.ndarray
    keypoints_3d: np.ndarray
    keypoints_3d_world: np.ndarray
    valid: np.ndarray
    track_ids: np.ndarray
    time_s: np.ndarray
    fps: float
    width: int
    height: int
    main_person: int = -1
    video: str = ""
    detector: str = ""
    lifter: str = ""
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.time_s.shape[0])

    @property
    def num_people(self) -> int:
        return int(self.track_ids.shape[0])

    @property
    def frames_with_person(self) -> int:
        """Frames in which at least one person was found."""
        return int(self.valid.any(0).sum()) if self.num_people else 0


def most_prominent(keypoints_2d: np.ndarray, valid: np.ndarray) -> int:
    """Index of the main person: the largest sum over valid frames of the 2D skeleton's size
    (diagonal of the box of its found joints, pixels); -1 when there is nobody.

    keypoints_2d (P, T, 17, 2) pixels with NaN for missing joints; valid (P, T).
    """
    if keypoints_2d.shape[0] == 0 or not valid.any():
        return -1
    found = np.isfinite(keypoints_2d).all(-1)[..., None]  # (P, T, 17, 1)
    extent = (np.where(found, keypoints_2d, -np.inf).max(2) - np.where(found, keypoints_2d, np.inf).min(2))
    size = np.hypot(extent[..., 0], extent[..., 1])  # (P, T), inf/nan where nothing was found
    size = np.where(valid & np.isfinite(size), size, 0.0)
    return int(np.argmax(size.sum(1)))


def mhformer_reconstruction(keypoints_2d: np.ndarray, scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The ``reconstruction`` array of MHFormer's demo for one person: (1, T, 17, 2) float32 pixels, no NaN.

    keypoints_2d (T, 17, 2), scores (T, 17), valid (T,). Missing joints of valid frames are
    filled (lifter.skeleton.fill_missing); an invalid frame takes the nearest valid frame (the
    earlier one on a tie); all zeros when no frame is valid.
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


def _main_reconstruction(result: Result) -> np.ndarray:
    if result.main_person < 0:
        return np.zeros((1, result.num_frames, 17, 2), np.float32)
    m = result.main_person
    return mhformer_reconstruction(result.keypoints_2d[m], result.scores[m], result.valid[m])


def write_npz(path: str | os.PathLike, result: Result) -> Path:
    """Write keypoints.npz (see the module docstring) atomically; returns the path."""
    arrays = {
        "format_version": np.int64(FORMAT_VERSION),
        "track_ids": np.asarray(result.track_ids, np.int64),
        "main_person": np.int64(result.main_person),
        "keypoints_2d": result.keypoints_2d.astype(np.float32),
        "scores": result.scores.astype(np.float32),
        "keypoints_3d": result.keypoints_3d.astype(np.float32),
        "keypoints_3d_world": result.keypoints_3d_world.astype(np.float32),
        "valid": result.valid.astype(bool),
        "time_s": np.asarray(result.time_s, np.float64),
        "fps": np.float64(result.fps),
        "width": np.int64(result.width),
        "height": np.int64(result.height),
        "joint_names": np.array(JOINTS_17),
        "reconstruction": _main_reconstruction(result),
        "parents": np.array(PARENTS_17, np.int64),
        "world_quaternion_wxyz": np.array(CAMERA_TO_WORLD_QUAT, np.float64),
        "video": np.array(result.video),
        "detector": np.array(result.detector),
        "lifter": np.array(result.lifter),
        "notes": np.array(result.notes, dtype=str).reshape(len(result.notes)),
    }
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def read_npz(path: str | os.PathLike) -> Result:
    """Load a keypoints.npz written by :func:`write_npz` back into a Result (timings empty).

    Raises ValueError for a file of another format version.
    """
    with np.load(path) as z:
        version = int(z["format_version"]) if "format_version" in z.files else 1
        if version != FORMAT_VERSION:
            raise ValueError(f"{path}: keypoints.npz format version {version}, this tool reads {FORMAT_VERSION}")
        return Result(
            keypoints_2d=z["keypoints_2d"], scores=z["scores"], keypoints_3d=z["keypoints_3d"],
            keypoints_3d_world=z["keypoints_3d_world"], valid=z["valid"], track_ids=z["track_ids"],
            time_s=z["time_s"], fps=float(z["fps"]), width=int(z["width"]), height=int(z["height"]),
            main_person=int(z["main_person"]), video=str(z["video"]), detector=str(z["detector"]),
            lifter=str(z["lifter"]), notes=[str(n) for n in z["notes"]],
        )


def _rows(a: np.ndarray, decimals: int) -> list:
    """(J, D) array -> list of J lists of D rounded floats, None for a row that is not finite."""
    a = np.round(a.astype(np.float64), decimals)
    return [row.tolist() if np.isfinite(row).all() else None for row in a]


def _frame_json(result: Result, t: int) -> dict:
    people = []
    for p in np.flatnonzero(result.valid[:, t]) if result.num_people else ():
        people.append({
            "id": int(result.track_ids[p]),
            "keypoints_2d": _rows(result.keypoints_2d[p, t], 2),
            "scores": np.round(np.nan_to_num(result.scores[p, t].astype(np.float64)), 3).tolist(),
            "keypoints_3d": _rows(result.keypoints_3d[p, t], 4),
            "keypoints_3d_world": _rows(result.keypoints_3d_world[p, t], 4),
        })
    return {"index": t, "time_s": round(float(result.time_s[t]), 6), "people": people}


def write_json(path: str | os.PathLike, result: Result) -> Path:
    """Write keypoints.json (see the module docstring) atomically: one header key or frame per line."""
    header = {
        "format": JSON_FORMAT,
        "format_version": FORMAT_VERSION,
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
        "track_ids": [int(i) for i in result.track_ids],
        "main_person_id": int(result.track_ids[result.main_person]) if result.main_person >= 0 else None,
        "notes": list(result.notes),
    }
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in header.items()]
    frames = ",\n".join("    " + json.dumps(_frame_json(result, t), allow_nan=False) for t in range(result.num_frames))
    text = "{\n" + "\n".join(lines) + '\n  "frames": [\n' + frames + ("\n" if frames else "") + "  ]\n}\n"
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_outputs(out_dir: str | os.PathLike, result: Result) -> dict[str, Path]:
    """Write keypoints.npz and keypoints.json into out_dir; returns {"npz": path, "json": path}."""
    out_dir = Path(out_dir)
    return {"npz": write_npz(out_dir / NPZ_NAME, result), "json": write_json(out_dir / JSON_NAME, result)}
