"""2D keypoint detectors (frames in, one person's keypoints out) and layout converters.

``create_detector("blazepose")`` makes the embedded default (MediaPipe BlazePose, offline);
``to_h36m17`` converts a detector's keypoints to the lifter's H36M-17 joints.
"""

from detectors.base import DETECTOR_NAMES, Detector, FramePose, create_detector
from detectors.layouts import BLAZEPOSE_33, COCO_17, LAYOUTS, RECIPE, to_h36m17

__all__ = [
    "BLAZEPOSE_33", "COCO_17", "DETECTOR_NAMES", "Detector", "FramePose", "LAYOUTS", "RECIPE",
    "create_detector", "to_h36m17",
]
