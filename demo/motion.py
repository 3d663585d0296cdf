"""Per-frame 2D tracks -> people moving through one world: the post-processing chain of the demo.

Input: every kept track's 2D keypoints over the whole clip (P tracks, T frames, H36M-17):
``kp2d`` (P,T,17,2) pixels (NaN = missing), ``scores`` (P,T,17), ``valid`` (P,T). Output: a
:class:`Motion` with everything the writers and the renderer need. The steps, each in its own
module and each working on one track's arrays:

1. 2D repair (demo.repair): left/right swaps fixed, outlier keypoints replaced (Hampel), short
   gaps filled by interpolation; every change is flagged per joint (``repair_flags``).
2. Lifting (demo.lifting): every valid (track, frame) pair, ``batch`` rows per lifter call;
   flip averaging as set on the lifter. The result is ``kp3d_raw``: root-relative, camera frame.
3. Smoothing (demo.smoothing) of the root-relative 3D along time, then constant bones
   (demo.bones): each track's bone lengths estimated robustly over its confident frames and
   imposed on every frame, directions kept.
4. Root trajectory (demo.trajectory): the pelvis position in the camera frame per frame, from
   the 2D keypoints and the 3D pose with a pinhole camera (focal from ``focal_px`` / ``fov_deg``,
   default demo.trajectory.DEFAULT_FOV_DEG along the longer image side, centre = image centre),
   then smoothed as its image position (with the pose's filter) and its depth. The depth comes
   from the body's size in the image, the noisiest quantity of the chain (a 2-pixel error on a
   300-pixel body is 4 cm at 6.5 m), so it gets a lower cut-off, ``DEPTH_CUTOFF_HZ``: on the
   synthetic walk of tests/test_motion.py this halves the 95th-percentile trajectory error
   against the pose's 6 Hz (10.2 -> 4.8 cm) and brings the walked path length from 1.9x to
   1.1x the true one, while a jump (vertical, seen in the image) keeps its height. Before that,
   the depth is replaced by its running median over half a second: frames whose 2D has the
   wrong size (a first detection with the legs misplaced, arms swung out of the lifter's reach)
   would otherwise be spread over half a second by the low-pass, and at a track's start the
   filter's padding would extend their trend.
5. Ground and world (demo.ground): from the feet at rest of every track, a robust plane fit gives
   the ground, the camera's height, pitch and roll, and the world frame (z up, origin on the
   ground under the main person's first position); all tracks go into that one world. When the
   ground cannot be estimated reliably, the fixed view of demo.post is used instead (root-centred
   poses, lowest joint on the floor, people side by side) and a note says why.

With ``smooth="off"`` nothing is filtered; ``repair=False`` and ``bones=False`` turn those steps
off. Frames and units of every array: demo/outputs.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from demo import bones as bone_ops
from demo.ground import Ground, estimate_ground
from demo.lifting import LifterLike, lift_pixels
from demo.post import FIXED_VIEW, place_people, to_world_view
from demo.repair import RepairSettings, hampel, repair_track, running_median
from demo.smoothing import DEFAULT_CUTOFF_HZ, DEFAULT_SMOOTH, SMOOTH_METHODS, cutoff_note, smooth
from demo.trajectory import focal_length, root_translation
from lifter.keypoints import LIFT_MIN_SCORE

#: world kinds: the estimated ground, or the fixed fallback view
WORLD_GROUND, WORLD_FIXED = "ground", "fixed view"

#: cut-off (Hz) of the root depth's smoothing (at most the pose's cut-off); see the module docstring
DEPTH_CUTOFF_HZ = 1.0
#: before it is smoothed, the root depth is replaced by its running median over +-DEPTH_WINDOW_S
DEPTH_WINDOW_S = 0.25
#: before the pose is smoothed, a root-relative joint further than 3 sigmas (and than
#: POSE_SPIKE_FLOOR_M) from the median of the +-POSE_WINDOW_S around it is replaced by that median:
#: the lifter's one- or two-frame depth flips of a limb, which a low-pass would only spread
POSE_WINDOW_S = 0.1
POSE_SPIKE_FLOOR_M = 0.05


@dataclass(frozen=True)
class MotionSettings:
    """What the post-processing does (see the module docstring).

    repair: fix 2D swaps / outliers / short gaps before lifting. smooth: one of
    demo.smoothing.SMOOTH_METHODS ("off": no filtering). cutoff_hz: the smoothing filter's
    cut-off frequency in Hz. bones: impose each track's constant bone lengths. focal_px /
    fov_deg: the camera's focal length in pixels, or its field of view in degrees along the
    longer image side (None, None: demo.trajectory.DEFAULT_FOV_DEG). ground: estimate the ground
    and world (False: the fixed view).
    """

    repair: bool = True
    smooth: str = DEFAULT_SMOOTH
    cutoff_hz: float = DEFAULT_CUTOFF_HZ
    bones: bool = True
    focal_px: float | None = None
    fov_deg: float | None = None
    ground: bool = True

    def __post_init__(self):
        if self.smooth not in SMOOTH_METHODS:
            raise ValueError(f"smooth must be one of {', '.join(SMOOTH_METHODS)}; got {self.smooth!r}")
        if not self.cutoff_hz > 0:
            raise ValueError(f"the smoothing cut-off must be positive, got {self.cutoff_hz} Hz")
        if self.focal_px is not None and self.fov_deg is not None:
            raise ValueError("give a focal length in pixels or a field of view, not both")


@dataclass
class WorldCamera:
    """The video's camera and the world frame (see demo/outputs.py for the file keys).

    focal_px: focal length in pixels; center_px (2,): principal point (the image centre).
    kind: WORLD_GROUND or WORLD_FIXED. to_world (3, 3): rotation camera frame -> world (rows: the
    world x, y, z axes in camera coordinates); origin_cam (3,): the world origin in the camera
    frame (metres; zeros in the fixed view). height_m, pitch_deg, roll_deg: the camera above the
    ground, its optical axis below the horizon (positive looking down) and its roll (NaN in the
    fixed view). contacts: foot-contact samples the ground rests on.
    """

    focal_px: float
    center_px: np.ndarray
    kind: str = WORLD_FIXED
    to_world: np.ndarray = field(default_factory=lambda: FIXED_VIEW.copy())
    origin_cam: np.ndarray = field(default_factory=lambda: np.zeros(3))
    height_m: float = float("nan")
    pitch_deg: float = float("nan")
    roll_deg: float = float("nan")
    contacts: int = 0

    @property
    def position_world(self) -> np.ndarray:
        """The camera's centre in world coordinates (3,) metres."""
        return (-np.asarray(self.origin_cam)) @ np.asarray(self.to_world).T


@dataclass
class Motion:
    """Everything the chain made for P tracks over T frames (frames and units: demo/outputs.py)."""

    kp2d: np.ndarray            # (P,T,17,2) f32 pixels: the 2D that was lifted (after repair)
    scores: np.ndarray          # (P,T,17) f32
    valid: np.ndarray           # (P,T) bool, filled frames included
    repair_flags: np.ndarray    # (P,T,17) u8: demo.repair.SWAPPED | OUTLIER | FILLED
    kp3d_raw: np.ndarray        # (P,T,17,3) f32 lifter output, camera frame, root-relative
    kp3d: np.ndarray            # (P,T,17,3) f32 smoothed, constant bones, camera frame, root-relative
    root_cam: np.ndarray        # (P,T,3) f32 pelvis position in the camera frame
    world: np.ndarray           # (P,T,17,3) f32 world positions (z up)
    camera: WorldCamera
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # "repair", "lift", "world"


def _lift_rows(out: np.ndarray, lifter: LifterLike, kp2d, scores, rows_mask, width, height, min_score,
               batch) -> None:
    """Lift the (track, frame) rows of ``rows_mask`` (P,T) into ``out`` (P,T,17,3), in batches."""
    rows = np.argwhere(rows_mask)
    for s in range(0, len(rows), batch):
        p, t = rows[s: s + batch].T
        out[p, t] = lift_pixels(lifter, kp2d[p, t], scores[p, t], width, height, min_score)


def _despike_pose(pose: np.ndarray, fps: float) -> np.ndarray:
    """Root-relative poses (T, 17, 3) with single-frame joint spikes replaced (POSE_WINDOW_S)."""
    half = max(2, int(round(POSE_WINDOW_S * fps)))
    med, far = hampel(pose.astype(np.float64), half, 3.0, POSE_SPIKE_FLOOR_M, min_count=half + 1)
    spike = far.any(-1)
    return np.where(spike[..., None], med, pose).astype(np.float32)


def _smooth_root(root: np.ndarray, valid: np.ndarray, focal: float, center: np.ndarray, fps: float,
                 settings: MotionSettings) -> np.ndarray:
    """Smooth a camera-frame root trajectory (T, 3): its image position with the pose's cut-off,
    its depth with DEPTH_CUTOFF_HZ (module docstring); NaN rows stay NaN."""
    if settings.smooth == "off":
        return root.astype(np.float32)
    depth = root[:, 2].astype(np.float64)
    image = root[:, :2] / depth[:, None] * focal + center
    depth = running_median(depth, max(2, int(round(DEPTH_WINDOW_S * fps))))
    image = smooth(image, fps, settings.smooth, settings.cutoff_hz, valid=valid)
    depth = smooth(depth, fps, settings.smooth, min(DEPTH_CUTOFF_HZ, settings.cutoff_hz), valid=valid)
    xy = (image - center) * depth[:, None] / focal
    return np.concatenate([xy, depth[:, None]], axis=1).astype(np.float32)


def fixed_world(kp3d: np.ndarray, kp2d: np.ndarray, width: int) -> np.ndarray:
    """The fallback view (demo.post) of (P,T,17,3) root-relative poses, people side by side by image x."""
    world = to_world_view(kp3d)
    x = kp2d[..., 0]
    found = np.isfinite(x)
    centre_x = np.where(found, x, 0.0).sum(-1) / np.maximum(found.sum(-1), 1)  # (P,T), 0 where nobody
    flat = world.reshape(-1, 17, 3)
    placed = place_people(flat, centre_x.reshape(-1) / width * 2.0 - 1.0)
    return placed.reshape(world.shape)


def process(kp2d: np.ndarray, scores: np.ndarray, valid: np.ndarray, fps: float, width: int, height: int,
            lifter: LifterLike, settings: MotionSettings = MotionSettings(), *, main: int = 0,
            min_score: float = LIFT_MIN_SCORE, batch: int = 1024,
            prelifted: tuple[np.ndarray, np.ndarray] | None = None) -> Motion:
    """Run the whole chain (module docstring) on P tracks; ``main`` is the main person's index
    (the world origin lies under them), ``batch`` the rows per lifter call.

    prelifted: (kp3d (P,T,17,3), lifted (P,T) bool): rows the caller already lifted from exactly
    ``kp2d`` and ``scores`` with this lifter and ``min_score`` (the pipeline lifts while it is still
    detecting); those the repair leaves unchanged are taken as they are (lifting one row does not
    depend on the others), the rest are lifted here.
    """
    kp2d = np.asarray(kp2d, np.float32)
    scores = np.asarray(scores, np.float32)
    valid = np.asarray(valid, bool)
    p_count, t_count = valid.shape
    seconds = {}
    notes: list[str] = []

    t0 = time.perf_counter()
    flags = np.zeros((p_count, t_count, 17), np.uint8)
    kp2d_r, scores_r, valid_r = kp2d.copy(), scores.copy(), valid.copy()
    if settings.repair:
        repair = RepairSettings(min_score=min_score)
        for p in range(p_count):
            r = repair_track(kp2d[p], scores[p], valid[p], fps, repair)
            kp2d_r[p], scores_r[p], valid_r[p], flags[p] = r.kp2d, r.scores, r.valid, r.flags
    seconds["repair"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    kp3d_raw = np.full((p_count, t_count, 17, 3), np.nan, np.float32)
    todo = valid_r.copy()
    if prelifted is not None:
        done, lifted = prelifted
        reuse = lifted & valid & valid_r & ~flags.any(-1)
        kp3d_raw[reuse] = done[reuse]
        todo &= ~reuse
    _lift_rows(kp3d_raw, lifter, kp2d_r, scores_r, todo, width, height, min_score, batch)
    seconds["lift"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    note = cutoff_note(fps, settings.smooth, settings.cutoff_hz)
    if note:
        notes.append(note)
    focal = focal_length(width, height, settings.focal_px, settings.fov_deg)
    center = np.array([width / 2.0, height / 2.0])
    kp3d = kp3d_raw.copy()
    root = np.full((p_count, t_count, 3), np.nan, np.float32)
    for p in range(p_count):
        pose = _despike_pose(kp3d_raw[p], fps) if settings.smooth != "off" else kp3d_raw[p]
        pose = smooth(pose, fps, settings.smooth, settings.cutoff_hz, valid=valid_r[p])
        if settings.bones:
            lengths = bone_ops.track_bone_lengths(pose, scores_r[p], valid_r[p])
            if np.isfinite(lengths).all():
                pose = bone_ops.set_bone_lengths(pose, lengths)
        kp3d[p] = pose
        raw_root = root_translation(kp2d_r[p], scores_r[p], pose, valid_r[p], focal, center, min_score=min_score)
        root[p] = _smooth_root(raw_root, valid_r[p], focal, center, fps, settings)
    camera = WorldCamera(focal_px=float(focal), center_px=center)
    ground: Ground | None = None
    if settings.ground and p_count:
        full = [(kp3d[p] + root[p][:, None, :], valid_r[p] & np.isfinite(root[p]).all(-1)) for p in range(p_count)]
        ground, reason = estimate_ground(full, fps, main=max(main, 0))
        if ground is None:
            notes.append(f"{reason}; the 3D is shown in the fixed view (root-centred, people side by side)")
    if ground is not None:
        world = ground.to_world(kp3d + root[:, :, None, :]).astype(np.float32)
        camera = WorldCamera(focal_px=float(focal), center_px=center, kind=WORLD_GROUND,
                             to_world=np.asarray(ground.rotation, np.float64),
                             origin_cam=np.asarray(ground.origin_cam, np.float64), height_m=float(ground.height_m),
                             pitch_deg=float(ground.pitch_deg), roll_deg=float(ground.roll_deg),
                             contacts=int(ground.contacts))
    else:
        world = fixed_world(kp3d, kp2d_r, width)
    invalid = ~valid_r
    world[invalid] = np.nan
    seconds["world"] = time.perf_counter() - t0
    return Motion(kp2d=kp2d_r, scores=scores_r, valid=valid_r, repair_flags=flags, kp3d_raw=kp3d_raw,
                  kp3d=kp3d.astype(np.float32), root_cam=root, world=world, camera=camera, notes=notes,
                  seconds=seconds)
