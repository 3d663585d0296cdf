"""The 2D detector interface: video frames in, one person's keypoints per frame out.

A detector reports keypoints in its own layout (``Detector.layout``, see ``detectors.layouts``);
``detectors.layouts.to_h36m17`` converts them to the lifter's H36M-17 order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

import numpy as np


@dataclass
class FramePose:
    """One person's 2D keypoints in one frame, in the detector's layout.

    xy: (K, 2) float32 pixels (x right, y down, origin at the top-left corner); NaN when no
        person was found. Keypoints may lie slightly outside the image.
    scores: (K,) float32 confidence in [0, 1]; 0 when not found.
    """

    xy: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls, num_keypoints: int) -> "FramePose":
        """The pose of a frame with no person: NaN coordinates, zero scores."""
        return cls(np.full((num_keypoints, 2), np.nan, np.float32),
                   np.zeros(num_keypoints, np.float32))

    @property
    def found(self) -> bool:
        """Whether a person was found (some keypoint has a finite position and a score > 0)."""
        return bool(np.any((self.scores > 0) & np.isfinite(self.xy).all(-1)))


@runtime_checkable
class Detector(Protocol):
    """A stateful single-person 2D keypoint detector in video mode.

    Frames of one video go to ``detect`` in order; the detector may track the person across
    them. ``reset`` starts a new video; ``close`` frees the backend. Usable as a context
    manager (``with create_detector() as det: ...`` closes it on exit).
    """

    name: str
    layout: str  # "blazepose33" | "coco17", a key of detectors.layouts.LAYOUTS

    def detect(self, frame_rgb: np.ndarray) -> FramePose:
        """Keypoints of the person in ``frame_rgb``, an (H, W, 3) uint8 RGB image."""
        ...

    def reset(self) -> None:
        """Forget the tracking state; the next frame starts a new video."""
        ...

    def close(self) -> None:
        """Release the backend; the detector cannot be used afterwards."""
        ...

    def __enter__(self) -> "Detector":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _blazepose(**options: object) -> Detector:
    from detectors.blazepose import BlazePoseDetector  # mediapipe is imported only when used
    return BlazePoseDetector(**options)


#: detector name -> constructor taking the detector's keyword options
_FACTORIES: dict[str, Callable[..., Detector]] = {"blazepose": _blazepose}
DETECTOR_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def create_detector(name: str = "blazepose", **options: object) -> Detector:
    """A new detector by name (one of ``DETECTOR_NAMES``) with backend-specific options."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown detector {name!r} (available: {', '.join(DETECTOR_NAMES)})") from None
    return factory(**options)


def check_frame(frame_rgb: np.ndarray) -> np.ndarray:
    """Validate an (H, W, 3) uint8 RGB frame; returns it C-contiguous."""
    if not isinstance(frame_rgb, np.ndarray) or frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 \
            or frame_rgb.dtype != np.uint8:
        shape = getattr(frame_rgb, "shape", None)
        dtype = getattr(frame_rgb, "dtype", type(frame_rgb).__name__)
        raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got shape {shape} dtype {dtype}")
    return np.ascontiguousarray(frame_rgb)
