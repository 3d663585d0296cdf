"""The 2D detector interface: video frames in, every person's keypoints per frame out.

A detector reports keypoints in its own layout (``Detector.layout``, a key of
``lifter.keypoints.LAYOUTS`` or "h36m17"); ``lifter.keypoints.to_h36m17`` converts them to the
lifter's H36M-17 order. It gives no identities across frames: ``demo.tracking.Tracker`` does.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from lifter.keypoints import joint_present


@dataclass(eq=False)  # compared by identity (element-wise array equality is not a bool)
class PersonPose:
    """One person in one frame, in the detector's keypoint layout.

    xy: (K, 2) float32 pixels of the input frame (x right, y down, origin at the top-left
        corner); NaN where the joint is missing. Keypoints may lie outside the image.
    scores: (K,) float32 confidence in [0, 1]; 0 where the joint is missing.
    box: (4,) float32 x0, y0, x1, y1 pixels, the bounds of the found keypoints (finite position,
        score > 0); not clipped to the image.
    score: the person's confidence in [0, 1] (each detector documents how it is made).
    track_id: an identity the source already gave this person (keypoint files made by a tracker);
        None from detectors, whose people get identities from ``demo.tracking``.
    world: (K, 3) float32 metres, the detector's own 3D estimate of the same keypoints where it
        makes one (BlazePose's world landmarks: origin between the hips, x right, y down, z away
        from the camera, its own body scale), else None. The pipeline does not use it; benchmarks
        compare against it.
    """

    xy: np.ndarray
    scores: np.ndarray
    box: np.ndarray
    score: float
    track_id: int | None = None
    world: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.xy = np.asarray(self.xy, dtype=np.float32)
        if self.world is not None:
            self.world = np.asarray(self.world, dtype=np.float32)
            if self.world.shape != (len(self.xy), 3):
                raise ValueError(f"PersonPose world must be (K, 3) like xy, got {self.world.shape}")
        self.scores = np.asarray(self.scores, dtype=np.float32)
        self.box = np.asarray(self.box, dtype=np.float32)
        self.score = float(self.score)
        if self.xy.ndim != 2 or self.xy.shape[1] != 2 or self.scores.shape != self.xy.shape[:1] \
                or self.box.shape != (4,):
            raise ValueError(f"PersonPose needs xy (K, 2), scores (K,) and box (4,); got "
                             f"{self.xy.shape}, {self.scores.shape}, {self.box.shape}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"PersonPose score must be in [0, 1], got {self.score}")

    @classmethod
    def from_keypoints(cls, xy: np.ndarray, scores: np.ndarray, score: float | None = None,
                       track_id: int | None = None) -> "PersonPose | None":
        """A person from (K, 2) pixel keypoints and (K,) scores, or None if no keypoint is found.

        Scores are clipped to [0, 1] (NaN -> 0); a joint that is not present
        (lifter.keypoints.joint_present) gets NaN coordinates and score 0. The box bounds the
        found joints. score: the person's confidence; None -> the mean of the K scores.
        track_id: the identity the source gave, if any.
        """
        xy = np.array(xy, dtype=np.float32)  # copies: the caller's arrays are not modified
        scores = np.clip(np.nan_to_num(np.asarray(scores, dtype=np.float32), nan=0.0), 0.0, 1.0)
        found = joint_present(xy, scores)
        if not found.any():
            return None
        xy[~found] = np.nan
        scores = np.where(found, scores, np.float32(0.0)).astype(np.float32)
        box = np.concatenate([xy[found].min(axis=0), xy[found].max(axis=0)])
        return cls(xy=xy, scores=scores, box=box,
                   score=float(scores.mean()) if score is None else float(np.clip(score, 0.0, 1.0)),
                   track_id=None if track_id is None else int(track_id))


def _diagonal(box: np.ndarray) -> float:
    return float(np.hypot(box[2] - box[0], box[3] - box[1]))


def same_person(a: PersonPose, b: PersonPose, max_distance: float = 0.15) -> bool:
    """Whether two detections (same layout) are one person: the median distance between their
    joints found in both is below ``max_distance`` times the larger of their box diagonals.
    Measured on the Sports2D sample: one person reported twice by BlazePose 0.01-0.12, distinct
    people >= 0.3."""
    if a.xy.shape != b.xy.shape:
        return False
    both = np.isfinite(a.xy).all(1) & np.isfinite(b.xy).all(1)
    if not both.any():
        return False
    distance = float(np.median(np.linalg.norm(a.xy[both] - b.xy[both], axis=1)))
    return distance < max_distance * max(_diagonal(a.box), _diagonal(b.box), 1.0)


@runtime_checkable
class Detector(Protocol):
    """A stateful multi-person 2D keypoint detector in video mode.

    Frames of one video go to ``detect`` in order, with strictly increasing times; the detector
    may use the previous frames (tracking). ``reset`` starts a new video (times may start again);
    ``close`` frees the backend. Usable as a context manager (``with create_detector() as det:``
    closes it on exit).
    """

    name: str
    layout: str      # "blazepose33" | "coco17" | "h36m17"
    max_people: int  # at most this many people are returned per frame

    def detect(self, frame_rgb: np.ndarray, time_s: float) -> list[PersonPose]:
        """The people in ``frame_rgb``, an (H, W, 3) uint8 RGB image shown at ``time_s`` seconds.

        Order is unspecified; an empty list when nobody is found.
        """
        ...

    def reset(self) -> None:
        """Forget the previous frames; the next frame starts a new video."""
        ...

    def close(self) -> None:
        """Release the backend; the detector cannot be used afterwards."""
        ...

    def __enter__(self) -> "Detector":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _blazepose_class() -> type:
    from detectors.blazepose import BlazePoseDetector  # mediapipe is imported only when used
    return BlazePoseDetector


def _mmpose_class() -> type:
    from detectors.mmpose_backend import MMPoseDetector  # mmcv, mmdet and mmpose are imported only when built
    return MMPoseDetector


def _replay_class() -> type:
    from detectors.replay import ReplayDetector
    return ReplayDetector


#: detector name -> function returning its class (constructor: max_people, verbose, options)
_CLASSES: dict[str, Callable[[], type]] = {"blazepose": _blazepose_class, "mmpose": _mmpose_class}
#: the detectors that look at the frames (``--detector``)
DETECTOR_NAMES: tuple[str, ...] = tuple(_CLASSES)
#: the name that replays keypoints made elsewhere instead (option ``path``; ``--keypoints``)
REPLAY = "keypoints"
_CLASSES[REPLAY] = _replay_class


def create_detector(name: str = "blazepose", *, max_people: int = 4, verbose: bool = False,
                    **options: object) -> Detector:
    """A new detector by name (one of ``DETECTOR_NAMES``, or ``REPLAY``).

    max_people: at most this many people per frame (>= 1). verbose: let the backend's own log
    lines reach stderr (off: they are filtered out). options: backend-specific keyword options
    (see the detector's class); an unknown name raises ValueError.
    """
    try:
        cls = _CLASSES[name]()
    except KeyError:
        raise ValueError(f"unknown detector {name!r} (available: {', '.join(_CLASSES)})") from None
    known = [p for p in inspect.signature(cls).parameters if p not in ("max_people", "verbose")]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for detector {name!r} "
                         f"(known: {', '.join(known)})")
    return cls(max_people=max_people, verbose=verbose, **options)


#: environment variable: a detector's default CPU thread count (batch workers get their share)
THREADS_ENV = "POSE3D_DETECTOR_THREADS"


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check_frame(frame_rgb: np.ndarray) -> np.ndarray:
    """Validate an (H, W, 3) uint8 RGB frame with H, W >= 1; returns it C-contiguous."""
    if not isinstance(frame_rgb, np.ndarray) or frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 \
            or frame_rgb.dtype != np.uint8 or frame_rgb.shape[0] < 1 or frame_rgb.shape[1] < 1:
        shape = getattr(frame_rgb, "shape", None)
        dtype = getattr(frame_rgb, "dtype", type(frame_rgb).__name__)
        raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got shape {shape} dtype {dtype}")
    return np.ascontiguousarray(frame_rgb)


def check_probability(label: str, value: object) -> float:
    """``value`` as a float in [0, 1], else ValueError naming ``label``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{label} must be a number in [0, 1], got {value!r}")
    return float(value)


def check_max_people(value: object) -> int:
    """``value`` as an int >= 1, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"max_people must be an integer >= 1, got {value!r}")
    return int(value)


def check_time(time_s: object) -> float:
    """``time_s`` as a finite float (seconds), else ValueError."""
    if isinstance(time_s, bool) or not isinstance(time_s, numbers.Real) \
            or not math.isfinite(time_s):
        raise ValueError(f"time_s must be a finite number of seconds, got {time_s!r}")
    return float(time_s)
