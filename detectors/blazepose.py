"""MediaPipe BlazePose (legacy ``mediapipe.solutions.pose``, mediapipe 0.10.21) as a Detector.

Video mode (``static_image_mode=False``): one person, detected once and then tracked from the
previous frame's landmarks. Output layout "blazepose33" (``detectors.layouts.BLAZEPOSE_33``).

Models: this never downloads anything. The mediapipe 0.10.21 wheel ships the person detector
(``pose_detection.tflite``) and only the *full* landmark model (``pose_landmark_full.tflite``,
``model_complexity=1``). The lite (0) and heavy (2) landmark models are fetched from the
network by mediapipe itself when missing, so they are accepted only when their file is
already installed in the mediapipe package; otherwise the constructor raises ValueError.

Coordinates: mediapipe gives x, y normalised by the image width and height; they are
multiplied by (W, H) to get pixels. Scores: the landmark ``visibility`` (mediapipe's
sigmoid-ed estimate that the point is in view and not occluded), clipped to [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detectors.base import Detector, FramePose, check_frame
from detectors.layouts import BLAZEPOSE_33

#: model_complexity -> landmark model file name inside mediapipe/modules/pose_landmark/
LANDMARK_MODELS: dict[int, str] = {
    0: "pose_landmark_lite.tflite",
    1: "pose_landmark_full.tflite",
    2: "pose_landmark_heavy.tflite",
}


def _landmark_model_path(model_complexity: int) -> Path:
    import mediapipe
    return Path(mediapipe.__file__).parent / "modules" / "pose_landmark" / \
        LANDMARK_MODELS[model_complexity]


def available_model_complexities() -> tuple[int, ...]:
    """The model_complexity values whose landmark model is installed (usable offline)."""
    return tuple(c for c in LANDMARK_MODELS if _landmark_model_path(c).is_file())


class BlazePoseDetector(Detector):
    """BlazePose 33-keypoint single-person detector, tracked across the frames of a video.

    model_complexity: 0 lite, 1 full (default; the only one the wheel ships), 2 heavy.
    min_detection_confidence: person-detector score threshold, in [0, 1].
    min_tracking_confidence: below this landmark confidence the tracker re-detects, in [0, 1].
    smooth_landmarks: mediapipe's temporal filter over the landmarks.
    """

    name = "blazepose"
    layout = "blazepose33"

    def __init__(self, model_complexity: int = 1, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, smooth_landmarks: bool = True) -> None:
        if model_complexity not in LANDMARK_MODELS:
            raise ValueError(f"model_complexity must be 0, 1 or 2, got {model_complexity!r}")
        model = _landmark_model_path(model_complexity)
        if not model.is_file():  # mediapipe would download it; the project stays offline
            raise ValueError(
                f"model_complexity={model_complexity} needs {model.name}, which the installed "
                f"mediapipe does not ship (available offline: {available_model_complexities()})")
        for label, value in (("min_detection_confidence", min_detection_confidence),
                             ("min_tracking_confidence", min_tracking_confidence)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{label} must be in [0, 1], got {value!r}")
        from mediapipe.python.solutions.pose import Pose

        self._pose = Pose(static_image_mode=False, model_complexity=model_complexity,
                          smooth_landmarks=smooth_landmarks, enable_segmentation=False,
                          min_detection_confidence=min_detection_confidence,
                          min_tracking_confidence=min_tracking_confidence)
        self._closed = False

    def detect(self, frame_rgb: np.ndarray) -> FramePose:
        """Keypoints (33, 2) in pixels and visibility scores (33,) of the tracked person."""
        if self._closed:
            raise RuntimeError("BlazePoseDetector.detect called after close()")
        frame = check_frame(frame_rgb)
        height, width = frame.shape[:2]
        result = self._pose.process(frame)
        if result.pose_landmarks is None:
            return FramePose.empty(len(BLAZEPOSE_33))
        lm = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark],
                      dtype=np.float32)
        xy = lm[:, :2] * np.array([width, height], dtype=np.float32)
        return FramePose(xy=xy, scores=np.clip(lm[:, 2], 0.0, 1.0))

    def reset(self) -> None:
        """Restart the mediapipe graph so no tracking state carries into the next video."""
        if not self._closed:
            self._pose.reset()

    def close(self) -> None:
        """Close the mediapipe graph (idempotent)."""
        if not self._closed:
            self._pose.close()
            self._closed = True
