"""MediaPipe BlazePose through mediapipe's Tasks ``PoseLandmarker`` as a multi-person Detector.

Runs in VIDEO mode: people are found by BlazePose's person detector (which keys on the face),
then followed from frame to frame by the landmark model. Observed on the Sports2D sample: a
person the detector finds only in some frames (seen side-on, small) stays followed once found,
so frames must come in order from the start of the video. No identities across frames;
``demo.tracking`` gives them. Output layout "blazepose33" (``lifter.keypoints.BLAZEPOSE_33``).

Model: the full landmark model, from a ``.task`` bundle built offline from the networks the
mediapipe wheel ships (``detectors.task_bundle``); nothing is downloaded. ``model_path`` may name
another PoseLandmarker ``.task`` file instead (e.g. the lite or heavy one, fetched by the user).

Coordinates: mediapipe gives x, y normalised by the image width and height; they are multiplied
by (W, H) to get pixels. Keypoint scores: the landmark ``visibility`` (mediapipe's estimate that
the point is in view and not occluded), clipped to [0, 1]. Person score: the mean of the 33
keypoint scores (the Tasks API reports no per-person score). Box: the bounds of the 33 keypoints
(BlazePose places all of them, the hidden ones too), not clipped to the image. The same person
returned twice by mediapipe (it happens when ``max_people`` exceeds the people in view) is
reported once (``detectors.base.drop_duplicates``).

Times: ``detect`` passes the frame's real time to mediapipe as an integer millisecond timestamp,
which must strictly increase within a video: a time equal to the previous one after rounding to
milliseconds is moved 1 ms after it; a time earlier than the previous frame's raises ValueError.
``reset`` starts a new video (a new landmarker, so times may start again from 0).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from detectors.base import (PersonPose, check_frame, check_max_people, check_probability,
                            check_time, drop_duplicates)
from detectors.native_log import filtered_stderr

#: whether this process already logged mediapipe's once-per-process warning about the first
#: person's landmarks (after that, ``detect`` needs no stderr filtering)
_first_person_logged = False


def _mp_image(frame: np.ndarray):
    """A mediapipe SRGB image viewing a C-contiguous (H, W, 3) uint8 frame."""
    import mediapipe as mp
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=frame)


class _VideoClock:
    """Frame times (seconds) -> mediapipe timestamps (integer ms), strictly increasing."""

    def __init__(self) -> None:
        self.last_s: float | None = None
        self.last_ms: int | None = None

    def timestamp_ms(self, time_s: object) -> int:
        t = check_time(time_s)
        if self.last_s is not None and t < self.last_s:
            raise ValueError(f"frame time went back from {self.last_s:.6f} s to {t:.6f} s; "
                             f"call reset() before the frames of another video")
        ms = round(t * 1000.0)
        if self.last_ms is not None and ms <= self.last_ms:
            ms = self.last_ms + 1
        self.last_s, self.last_ms = t, ms
        return ms


class BlazePoseDetector:
    """BlazePose 33-keypoint detector for up to ``max_people`` people per frame, in video mode.

    max_people: at most this many people per frame (mediapipe's ``num_poses``), >= 1. The time
        per frame grows with it (see README).
    min_detection_confidence: person-detector score threshold, in [0, 1].
    min_presence_confidence: landmark-model "a person is there" threshold, in [0, 1].
    min_tracking_confidence: below this, a followed person is searched again by the person
        detector, in [0, 1].
    model_path: a PoseLandmarker ``.task`` file to use; None: the bundle built from the wheel.
    cache_dir: where that bundle is built (None: ``detectors.task_bundle.default_cache_dir``).
    verbose: let mediapipe's own info/warning log lines reach stderr (default: filtered out).
    """

    name = "blazepose"
    layout = "blazepose33"

    def __init__(self, max_people: int = 4, *, min_detection_confidence: float = 0.5,
                 min_presence_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 model_path: str | os.PathLike | None = None,
                 cache_dir: str | os.PathLike | None = None, verbose: bool = False) -> None:
        self.max_people = check_max_people(max_people)
        self._thresholds = {
            "min_pose_detection_confidence": check_probability("min_detection_confidence",
                                                               min_detection_confidence),
            "min_pose_presence_confidence": check_probability("min_presence_confidence",
                                                              min_presence_confidence),
            "min_tracking_confidence": check_probability("min_tracking_confidence",
                                                         min_tracking_confidence),
        }
        self.verbose = bool(verbose)
        if model_path is not None:
            model = Path(model_path).expanduser()
            if not model.is_file():
                raise ValueError(f"model_path {str(model)!r} is not a file")
        else:
            from detectors.task_bundle import ensure_bundle
            model = ensure_bundle(cache_dir)
        self.model_path = model
        self._clock = _VideoClock()
        self._used = False  # a frame went through the current landmarker
        self._landmarker = None
        self._landmarker = self._create()

    def _create(self):
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=vision.RunningMode.VIDEO, num_poses=self.max_people,
            output_segmentation_masks=False, **self._thresholds)
        try:
            with filtered_stderr(not self.verbose):
                return vision.PoseLandmarker.create_from_options(options)
        except RuntimeError as exc:
            raise ValueError(f"cannot load the pose model {self.model_path}: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc

    def detect(self, frame_rgb: np.ndarray, time_s: float) -> list[PersonPose]:
        """The people in an (H, W, 3) uint8 RGB frame shown at ``time_s`` seconds.

        Each: xy (33, 2) pixels, scores (33,) visibility, box, score (mean visibility), world
        (33, 3) metres (mediapipe's world landmarks).
        """
        global _first_person_logged
        if self._landmarker is None:
            raise RuntimeError("BlazePoseDetector.detect called after close()")
        frame = check_frame(frame_rgb)
        timestamp = self._clock.timestamp_ms(time_s)
        height, width = frame.shape[:2]
        with filtered_stderr(not (self.verbose or _first_person_logged)):
            result = self._landmarker.detect_for_video(_mp_image(frame), timestamp)
        self._used = True
        people = []
        size = np.array([width, height], dtype=np.float32)
        worlds = result.pose_world_landmarks or [None] * len(result.pose_landmarks)
        for landmarks, world in zip(result.pose_landmarks, worlds):
            _first_person_logged = True
            xyv = np.array([(p.x, p.y, np.nan if p.visibility is None else p.visibility)
                            for p in landmarks], dtype=np.float32)  # (33, 3)
            person = PersonPose.from_keypoints(xyv[:, :2] * size, xyv[:, 2])
            if person is not None:
                if world is not None and len(world) == len(landmarks):
                    person.world = np.array([(p.x, p.y, p.z) for p in world], dtype=np.float32)
                people.append(person)
        return drop_duplicates(people)

    def reset(self) -> None:
        """Start a new video: a fresh landmarker (no state carried over), times may restart."""
        self._clock = _VideoClock()
        if self._landmarker is not None and self._used:
            self._landmarker.close()
            self._landmarker = None
            self._landmarker = self._create()
            self._used = False

    def close(self) -> None:
        """Release the landmarker (idempotent)."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> "BlazePoseDetector":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
