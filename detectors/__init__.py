"""2D keypoint detectors: video frames in, every person's keypoints per frame out.

``create_detector("blazepose", max_people=4)`` makes the embedded default (MediaPipe BlazePose
through the Tasks API, offline); "mmpose" the optional mmdet + mmpose top-down stack
(``detectors.mmpose_backend``, ``make mmpose``); ``REPLAY`` ("keypoints") replays keypoints made
elsewhere (``detectors.replay``, ``detectors.keypoint_files``). Keypoint layouts and their
conversion to the lifter's H36M-17 joints live in ``lifter.keypoints``.
"""

from detectors.base import DETECTOR_NAMES, REPLAY, Detector, PersonPose, create_detector

__all__ = ["DETECTOR_NAMES", "REPLAY", "Detector", "PersonPose", "create_detector"]
