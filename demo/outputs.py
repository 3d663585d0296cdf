"""The demo's result and its files: the one place that knows the keypoints.npz / keypoints.json formats.

keypoints.npz (numpy, load with ``np.load(path)``, no pickle needed), format_version 3
---------------------------------------------------------------------------------------
P = number of people (tracks) kept, T = number of frames of the video, 17 joints in H36M-17
order (``joint_names``). Person p is the track ``track_ids[p]``; people are ordered by track ID.
A person's row holds NaN / 0 / False on the frames where that person is not present.
Frames: *image* = the video as displayed (rotation metadata applied), pixels, x right, y down,
origin top-left; *camera* = metres, x right, y down, z forward along the optical axis, origin at
the camera; *world* = metres, z up perpendicular to the estimated ground (z = 0 on the ground),
x = the camera's image-right direction along the ground, y = z x x (along the ground, away
from the camera), origin on the ground under the main person's first position; world =
(camera - world_origin_cam) @ camera_to_world.T. When the ground could not be estimated
(``world_kind`` "fixed view", a note says why) the world is the fixed view of demo.post instead:
root-centred poses rotated by a fixed camera rotation, lowest joint on z = 0, people side by
side by image position.

==================== ============== ==========================================================
key                  shape, dtype   meaning
==================== ============== ==========================================================
format_version       () i64         3 (2: no world, repair or raw arrays; 1: no person axis)
track_ids            (P,) i64       the tracker's ID of each person (as drawn in the video)
main_person          () i64         index into P of the main person (the most prominent: the
                                    largest sum over frames of the 2D skeleton's size), -1
                                    when P = 0
keypoints_2d         (P,T,17,2) f32 the 2D joints that were lifted, image frame: the
                                    detector's after the repair (swaps fixed, outliers
                                    replaced, short gaps filled; see repair_flags). NaN where
                                    a joint or the whole person is missing.
keypoints_2d_raw     (P,T,17,2) f32 the detector's 2D joints as found (no repair).
scores               (P,T,17) f32   detector confidence in [0, 1]; 0 where nothing was found;
                                    a filled joint gets the lower score of its neighbours.
repair_flags         (P,T,17) u8    per joint, bits: 1 left/right swap fixed, 2 outlier
                                    replaced, 4 gap filled by interpolation (demo.repair).
keypoints_3d_raw     (P,T,17,3) f32 the lifter's per-frame output, camera frame, root-relative
                                    (pelvis = 0), metres.
keypoints_3d         (P,T,17,3) f32 keypoints_3d_raw smoothed over time and with each track's
                                    constant bone lengths; camera frame, root-relative, metres.
root_translation     (P,T,3) f32    the pelvis position in the camera frame, metres (from the
                                    2D keypoints, the 3D pose and the pinhole camera).
keypoints_3d_world   (P,T,17,3) f32 world positions (keypoints_3d + root_translation moved
                                    into the world), metres; a jump leaves z = 0.
valid                (P,T) bool     person p was found (or a short gap filled) in frame t.
time_s               (T,) f64       presentation time of each frame, seconds from the first
fps                  () f64         frames per second of the video.
width, height        () i64         frame size in pixels (after rotation metadata).
joint_names          (17,) str      H36M-17 joint names (lifter.skeleton.JOINTS_17).
parents              (17,) i64      parent of each joint (-1 for the pelvis).
reconstruction       (1,T,17,2) f32 compatibility with MHFormer's demo: its demo/vis.py saves
                                    ``np.savez_compressed(..., reconstruction=keypoints)`` where
                                    keypoints are the 2D (not 3D) H36M-17 keypoints in pixels of
                                    shape (num_person=1, T, 17, 2). Here: the main person's
                                    keypoints_2d with missing joints filled
                                    (lifter.skeleton.fill_missing) and invalid frames holding
                                    the nearest valid frame (all zeros if none), no NaN.
world_kind           () str         "ground" (estimated from the feet) or "fixed view".
camera_focal_px      () f64         focal length used, pixels (--focal-px, --fov or default).
camera_center_px     (2,) f64       principal point used (the image centre), pixels.
camera_to_world      (3,3) f64      rotation camera frame -> world (rows: world x, y, z axes
                                    in camera coordinates).
world_origin_cam     (3,) f64       the world origin in the camera frame, metres.
camera_height_m      () f64         the camera's height above the ground, metres (NaN in the
                                    fixed view).
camera_pitch_deg     () f64         the optical axis' angle below the horizon, degrees,
                                    positive looking down (NaN in the fixed view).
camera_roll_deg      () f64         the camera's roll, degrees: the angle from the image's up
                                    direction to the world's up as seen in the image, positive
                                    when world up leans to the image's right (NaN: fixed view).
ground_contacts      () i64         foot-contact samples the ground estimate rests on.
smoothing            () str         the temporal filter applied ("off" or "<method> <Hz> Hz").
video, detector,     () str         source video path, detector name, lifter name.
lifter
notes                (N,) str       one line each: what the user should know (identity
                                    changes of the followed person, frames not decoded, the
                                    ground not found, ...)
==================== ============== ==========================================================

keypoints.json
--------------
The same per frame, with units, coordinate frames and joint names stated in the file: a header
(``format``, ``format_version``, ``video``, ``fps``, ``width``, ``height``, ``num_frames``,
``joint_names``, ``parents``, ``units``, ``coordinate_frames``, ``camera`` (world_kind,
focal_px, center_px, to_world, origin_cam, height_m, pitch_deg, roll_deg, contacts; null for
what the fixed view lacks), ``smoothing``, ``detector``, ``lifter``, ``track_ids``,
``main_person_id``, ``notes``) and ``frames``: one object per frame with ``index``, ``time_s``
and ``people``: one object per person present in that frame with ``id`` (track ID),
``keypoints_2d`` (17 x [x, y] or null per missing joint), ``scores`` (17), ``repair_flags``
(17), ``keypoints_3d``, ``keypoints_3d_world`` (17 x [x, y, z]) and ``root_translation``
([x, y, z] or null). Pixels are rounded to 0.01, metres to 0.0001, scores to 0.001. (The raw
arrays are in the npz only.)

Both files are written atomically (lifter.atomic).
"""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from demo.motion import WORLD_GROUND, WorldCamera
from lifter.atomic import atomic_path
from lifter.skeleton import JOINTS_17, PARENTS_17, fill_missing

NPZ_NAME = "keypoints.npz"
JSON_NAME = "keypoints.json"
FORMAT_VERSION = 3
JSON_FORMAT = "pose3d-lifter demo keypoints"

#: keys always present in keypoints.npz
NPZ_KEYS: tuple[str, ...] = (
    "format_version", "track_ids", "main_person", "keypoints_2d", "keypoints_2d_raw", "scores", "repair_flags",
    "keypoints_3d_raw", "keypoints_3d", "root_translation", "keypoints_3d_world", "valid", "time_s", "fps",
    "width", "height", "joint_names", "parents", "reconstruction", "world_kind", "camera_focal_px",
    "camera_center_px", "camera_to_world", "world_origin_cam", "camera_height_m", "camera_pitch_deg",
    "camera_roll_deg", "ground_contacts", "smoothing", "video", "detector", "lifter", "notes",
)

UNITS = {
    "keypoints_2d": "pixels",
    "scores": "confidence in [0, 1], 0 = not detected",
    "keypoints_3d": "metres",
    "keypoints_3d_world": "metres",
    "root_translation": "metres",
    "time_s": "seconds from the first frame (the frame's presentation time)",
    "camera": "focal_px, center_px: pixels; origin_cam, height_m: metres; pitch_deg, roll_deg: degrees",
}
COORDINATE_FRAMES = {
    "keypoints_2d": "image of the video as displayed (rotation metadata applied): x right, y down, "
                    "origin at the top-left corner",
    "keypoints_3d": "camera frame: x right, y down, z forward from the camera; root-relative "
                    "(pelvis at the origin)",
    "root_translation": "camera frame: the pelvis position, metres from the camera",
    "keypoints_3d_world": "world: z up perpendicular to the ground (z = 0 on the ground), x the camera's "
                          "image-right direction along the ground, y = z cross x, origin on the ground under "
                          "the main person's first position; world = (camera point - camera.origin_cam) @ "
                          "camera.to_world transposed. In the 'fixed view' (camera.world_kind): root-centred "
                          "poses rotated by camera.to_world, lowest joint at z = 0, people side by side",
}


def _nan_like(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.full(a.shape[:2] + shape, np.nan, np.float32)


@dataclass
class Result:
    """Per-frame poses of every kept person of one video plus metadata (P people, T frames, H36M-17).

    Arrays and their frames and units: the module docstring (the npz key of the same name).
    The optional arrays default to: keypoints_2d_raw = keypoints_2d, repair_flags = 0,
    keypoints_3d_raw = keypoints_3d, root_translation = NaN; camera to the fixed view with an
    unknown focal length. main_person: index into P (-1: nobody). notes: one line each for the
    user. timings_ms: milliseconds per frame of each stage.
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
    keypoints_2d_raw: np.ndarray | None = None
    repair_flags: np.ndarray | None = None
    keypoints_3d_raw: np.ndarray | None = None
    root_translation: np.ndarray | None = None
    camera: WorldCamera | None = None
    smoothing: str = "off"

    def __post_init__(self):
        if self.keypoints_2d_raw is None:
            self.keypoints_2d_raw = self.keypoints_2d.copy()
        if self.repair_flags is None:
            self.repair_flags = np.zeros(self.scores.shape, np.uint8)
        if self.keypoints_3d_raw is None:
            self.keypoints_3d_raw = self.keypoints_3d.copy()
        if self.root_translation is None:
            self.root_translation = _nan_like(self.keypoints_3d, (3,))
        if self.camera is None:
            self.camera = WorldCamera(focal_px=float("nan"), center_px=np.array([self.width / 2, self.height / 2]))

    @property
    def num_frames(self) -> int:
        return int(self.time_s.shape[0])

    @property
    def num_people(self) -> int:
        return int(self.track_ids.shape[0])

    @property
    def frames_with_person(self) -> int:
        """Frames in which the detector found at least one person (frames only filled by the 2D
        repair do not count)."""
        if not self.num_people:
            return 0
        return int(np.isfinite(self.keypoints_2d_raw).all(-1).any(-1).any(0).sum())


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
    cam = result.camera
    arrays = {
        "format_version": np.int64(FORMAT_VERSION),
        "track_ids": np.asarray(result.track_ids, np.int64),
        "main_person": np.int64(result.main_person),
        "keypoints_2d": result.keypoints_2d.astype(np.float32),
        "keypoints_2d_raw": result.keypoints_2d_raw.astype(np.float32),
        "scores": result.scores.astype(np.float32),
        "repair_flags": result.repair_flags.astype(np.uint8),
        "keypoints_3d_raw": result.keypoints_3d_raw.astype(np.float32),
        "keypoints_3d": result.keypoints_3d.astype(np.float32),
        "root_translation": result.root_translation.astype(np.float32),
        "keypoints_3d_world": result.keypoints_3d_world.astype(np.float32),
        "valid": result.valid.astype(bool),
        "time_s": np.asarray(result.time_s, np.float64),
        "fps": np.float64(result.fps),
        "width": np.int64(result.width),
        "height": np.int64(result.height),
        "joint_names": np.array(JOINTS_17),
        "parents": np.array(PARENTS_17, np.int64),
        "reconstruction": _main_reconstruction(result),
        "world_kind": np.array(cam.kind),
        "camera_focal_px": np.float64(cam.focal_px),
        "camera_center_px": np.asarray(cam.center_px, np.float64),
        "camera_to_world": np.asarray(cam.to_world, np.float64),
        "world_origin_cam": np.asarray(cam.origin_cam, np.float64),
        "camera_height_m": np.float64(cam.height_m),
        "camera_pitch_deg": np.float64(cam.pitch_deg),
        "camera_roll_deg": np.float64(cam.roll_deg),
        "ground_contacts": np.int64(cam.contacts),
        "smoothing": np.array(result.smoothing),
        "video": np.array(result.video),
        "detector": np.array(result.detector),
        "lifter": np.array(result.lifter),
        "notes": np.array(result.notes, dtype=str).reshape(len(result.notes)),
    }
    path = Path(path)
    # Compressed in memory first: numpy leaves its zip writer open when interrupted midway, and that
    # writer's finaliser then fails on an already closed file (a traceback printed at Ctrl-C).
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(buffer.getbuffer())
    return path


def read_npz(path: str | os.PathLike) -> Result:
    """Load a keypoints.npz written by :func:`write_npz` back into a Result (timings empty).

    Raises ValueError for a file of another format version.
    """
    with np.load(path) as z:
        version = int(z["format_version"]) if "format_version" in z.files else 1
        if version != FORMAT_VERSION:
            raise ValueError(f"{path}: keypoints.npz format version {version}, this tool reads {FORMAT_VERSION}")
        camera = WorldCamera(
            focal_px=float(z["camera_focal_px"]), center_px=z["camera_center_px"], kind=str(z["world_kind"]),
            to_world=z["camera_to_world"], origin_cam=z["world_origin_cam"], height_m=float(z["camera_height_m"]),
            pitch_deg=float(z["camera_pitch_deg"]), roll_deg=float(z["camera_roll_deg"]),
            contacts=int(z["ground_contacts"]))
        return Result(
            keypoints_2d=z["keypoints_2d"], scores=z["scores"], keypoints_3d=z["keypoints_3d"],
            keypoints_3d_world=z["keypoints_3d_world"], valid=z["valid"], track_ids=z["track_ids"],
            time_s=z["time_s"], fps=float(z["fps"]), width=int(z["width"]), height=int(z["height"]),
            main_person=int(z["main_person"]), video=str(z["video"]), detector=str(z["detector"]),
            lifter=str(z["lifter"]), notes=[str(n) for n in z["notes"]], keypoints_2d_raw=z["keypoints_2d_raw"],
            repair_flags=z["repair_flags"], keypoints_3d_raw=z["keypoints_3d_raw"],
            root_translation=z["root_translation"], camera=camera, smoothing=str(z["smoothing"]),
        )


def _rows(a: np.ndarray, decimals: int) -> list:
    """(J, D) array -> list of J lists of D rounded floats, None for a row that is not finite."""
    a = np.round(a.astype(np.float64), decimals)
    return [row.tolist() if np.isfinite(row).all() else None for row in a]


def _frame_json(result: Result, t: int) -> dict:
    people = []
    for p in np.flatnonzero(result.valid[:, t]) if result.num_people else ():
        root = result.root_translation[p, t].astype(np.float64)
        people.append({
            "id": int(result.track_ids[p]),
            "keypoints_2d": _rows(result.keypoints_2d[p, t], 2),
            "scores": np.round(np.nan_to_num(result.scores[p, t].astype(np.float64)), 3).tolist(),
            "repair_flags": result.repair_flags[p, t].astype(int).tolist(),
            "keypoints_3d": _rows(result.keypoints_3d[p, t], 4),
            "keypoints_3d_world": _rows(result.keypoints_3d_world[p, t], 4),
            "root_translation": np.round(root, 4).tolist() if np.isfinite(root).all() else None,
        })
    return {"index": t, "time_s": round(float(result.time_s[t]), 6), "people": people}


def _finite_or_none(value: float, decimals: int) -> float | None:
    return round(float(value), decimals) if math.isfinite(value) else None


def _camera_json(cam: WorldCamera) -> dict:
    ground = cam.kind == WORLD_GROUND
    return {
        "world_kind": cam.kind,
        "focal_px": _finite_or_none(cam.focal_px, 3),
        "center_px": np.round(np.asarray(cam.center_px, np.float64), 3).tolist(),
        "to_world": np.round(np.asarray(cam.to_world, np.float64), 8).tolist(),
        "origin_cam": np.round(np.asarray(cam.origin_cam, np.float64), 6).tolist() if ground else None,
        "height_m": _finite_or_none(cam.height_m, 4),
        "pitch_deg": _finite_or_none(cam.pitch_deg, 3),
        "roll_deg": _finite_or_none(cam.roll_deg, 3),
        "contacts": int(cam.contacts),
    }


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
        "camera": _camera_json(result.camera),
        "smoothing": result.smoothing,
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
