"""Each person's motion made causally, frame by frame, for live input (no look-ahead, no whole clip).

The offline chain (demo.motion) works on whole tracks: zero-phase smoothing, bone lengths over
the whole clip, the 2D repair's centred windows and the ground from every foot contact. None of
that exists while a stream is still coming; :class:`OnlineMotion` does each step's causal form,
one person in one frame at a time:

- smoothing: the One-Euro filter (demo.smoothing.OneEuro) of the root-relative 3D with
  ``cutoff_hz`` as its rest cut-off (``smooth="off"``: the lifter's output as it is). Any other
  offline method is replaced by One-Euro (``live_settings`` says so in a note).
- constant bones: a track's bone lengths are the median over its confident frames of the last
  ``BONE_HISTORY_S`` seconds (demo.bones.track_bone_lengths), imposed on the new frame with
  demo.bones.set_bone_lengths: the lengths settle within the first second and then hardly move.
- root trajectory: demo.trajectory.root_translation of the frame; its image position filtered
  with One-Euro at ``cutoff_hz``, its depth replaced by the median of the last
  demo.motion.DEPTH_WINDOW_S seconds and filtered with One-Euro at demo.motion.DEPTH_CUTOFF_HZ
  (the offline chain's two cut-offs, applied causally).
- world: the fixed view (demo.motion.fixed_world): root-centred poses, lowest joint on the floor,
  people side by side by their image position. Estimating the ground needs the whole clip, and
  so does the 2D repair: both are offline only.

A track not updated for more than ``RESTART_GAP_S`` seconds restarts its filters (a gap is never
bridged). Shapes and units: kp2d (17, 2) pixels of the frame (NaN = missing), scores (17,),
kp3d (17, 3) metres in the camera frame, root-relative (lifter/skeleton.py); root (3,) metres in
the camera frame; world (17, 3) metres, z up (demo/outputs.py).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, replace

import numpy as np

from demo import bones as bone_ops
from demo.motion import DEPTH_CUTOFF_HZ, DEPTH_WINDOW_S, MotionSettings, fixed_world
from demo.smoothing import OneEuro
from demo.trajectory import focal_length, root_translation
from lifter.keypoints import LIFT_MIN_SCORE

#: seconds of a track's past frames its bone lengths are taken from
BONE_HISTORY_S = 10.0
#: a track not seen for longer than this (seconds) starts its filters again
RESTART_GAP_S = 0.5


def live_settings(settings: MotionSettings) -> tuple[MotionSettings, list[str]]:
    """The causal form of offline motion settings, and one note per step that changed."""
    notes = []
    if settings.smooth not in ("oneeuro", "off"):
        notes.append(f"live: smoothing is causal, One-Euro at {settings.cutoff_hz:g} Hz "
                     f"(--smooth {settings.smooth} needs the whole clip)")
        settings = replace(settings, smooth="oneeuro")
    if settings.repair:
        notes.append("live: no 2D repair (it looks ahead); bone lengths come from the frames so far")
        settings = replace(settings, repair=False)
    if settings.ground:
        notes.append("live: no ground estimate (it needs the whole clip); the 3D is shown in the fixed view, "
                     "people side by side")
        settings = replace(settings, ground=False)
    return settings, notes


@dataclass
class OnlinePose:
    """One person in one frame after the causal chain (units: the module docstring)."""

    kp3d: np.ndarray   # (17, 3) f32 smoothed, constant bones, camera frame, root-relative
    root: np.ndarray   # (3,) f32 pelvis in the camera frame, NaN when it could not be solved
    world: np.ndarray  # (17, 3) f32 fixed-view world


class _TrackState:
    def __init__(self, settings: MotionSettings, history: int, depth_window: int):
        cutoff = settings.cutoff_hz
        self.pose = OneEuro(cutoff)
        self.image = OneEuro(cutoff)
        self.depth = OneEuro(min(DEPTH_CUTOFF_HZ, cutoff))
        self.bones: collections.deque = collections.deque(maxlen=history)      # (kp3d, scores)
        self.depths: collections.deque = collections.deque(maxlen=depth_window)  # recent raw depths
        self.last_time: float | None = None


class OnlineMotion:
    """The causal motion of every track of one stream (module docstring).

    width, height: the frames' size in pixels; fps: the stream's nominal frame rate (sizes the
    history windows; the filters use the real frame times). settings: demo.motion.MotionSettings
    (``live_settings`` gives the causal form; repair and ground are ignored here).
    """

    def __init__(self, width: int, height: int, fps: float, settings: MotionSettings = MotionSettings(),
                 min_score: float = LIFT_MIN_SCORE):
        self.width, self.height = int(width), int(height)
        self.settings = settings
        self.min_score = min_score
        self.focal = focal_length(width, height, settings.focal_px, settings.fov_deg)
        self.center = np.array([width / 2.0, height / 2.0])
        self._history = max(1, int(round(BONE_HISTORY_S * fps)))
        self._depth_window = max(1, int(round(DEPTH_WINDOW_S * fps)))
        self._tracks: dict[int, _TrackState] = {}

    def update(self, track_id: int, kp2d: np.ndarray, scores: np.ndarray, kp3d_raw: np.ndarray,
               time_s: float) -> OnlinePose:
        """The person ``track_id`` at ``time_s`` seconds (strictly increasing per track)."""
        state = self._tracks.get(track_id)
        if state is None or state.last_time is None or time_s - state.last_time > RESTART_GAP_S:
            state = self._tracks[track_id] = _TrackState(self.settings, self._history, self._depth_window)
        state.last_time = time_s
        kp2d = np.asarray(kp2d, np.float32)
        scores = np.asarray(scores, np.float32)
        smoothing = self.settings.smooth != "off"
        pose = state.pose(np.asarray(kp3d_raw, np.float32), time_s) if smoothing else np.asarray(kp3d_raw, np.float32)
        if self.settings.bones:
            state.bones.append((pose, scores))
            lengths = bone_ops.track_bone_lengths(np.stack([b[0] for b in state.bones]),
                                                  np.stack([b[1] for b in state.bones]), None)
            if np.isfinite(lengths).all():
                pose = bone_ops.set_bone_lengths(pose[None], lengths)[0]
        root = root_translation(kp2d[None], scores[None], pose[None], None, self.focal, self.center,
                                min_score=self.min_score)[0]
        if smoothing and np.isfinite(root).all():
            state.depths.append(float(root[2]))
            depth = float(state.depth(np.array([np.median(state.depths)]), time_s)[0])
            image = state.image(root[:2] / root[2] * self.focal + self.center, time_s)
            root = np.array([*((image - self.center) * depth / self.focal), depth])
        world = fixed_world(pose[None, None], kp2d[None, None], self.width)[0, 0]
        return OnlinePose(pose.astype(np.float32), np.asarray(root, np.float32), world.astype(np.float32))

    def forget(self, alive: set[int]) -> None:
        """Drop the state of tracks not in ``alive`` (the tracker forgot them)."""
        for track_id in [t for t in self._tracks if t not in alive]:
            del self._tracks[track_id]
