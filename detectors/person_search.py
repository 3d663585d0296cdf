"""BlazePose's person detector alone: where people are in a frame, without their keypoints.

The Tasks ``PoseLandmarker`` has no detector-only mode: its image mode runs the landmark network
on every person found, people already followed included. The mediapipe 0.10.21 wheel also
carries the legacy graph ``PoseDetectionCpu`` (the same ``pose_detection.tflite``, as used by
``mediapipe.solutions.pose``), which this module runs alone through mediapipe's
``SolutionBase``; the model is read from the installed package, nothing is downloaded. It runs
on one CPU thread (measured on the Sports2D clip at 1280x720 on 2 cores: 12 ms a frame, against
about 30 ms for an image-mode landmarker search with two people in view).

Each person found is a :class:`Candidate` in pixels of the frame: BlazePose's detector gives the
midpoint of the hips and a second point on the circle around the whole body (its radius is the
distance between them), and a score in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors.native_log import filtered_stderr

_GRAPH = """
input_stream: "image"
output_stream: "detections"
node {
  calculator: "PoseDetectionCpu"
  input_stream: "IMAGE:image"
  output_stream: "DETECTIONS:detections"
}
"""


@dataclass(frozen=True)
class Candidate:
    """A person found by the detector: hip midpoint (x, y) pixels, body radius pixels, score."""

    centre: tuple[float, float]
    radius: float
    score: float

    @property
    def box(self) -> np.ndarray:
        """(4,) x0, y0, x1, y1 pixels: the square around the body circle."""
        x, y = self.centre
        return np.array([x - self.radius, y - self.radius, x + self.radius, y + self.radius], np.float32)

    def inside(self, box: np.ndarray, margin: float = 0.1) -> bool:
        """Whether the hip midpoint lies in ``box`` (x0, y0, x1, y1) grown by ``margin`` of its size."""
        x0, y0, x1, y1 = (float(v) for v in box)
        grow_x, grow_y = margin * (x1 - x0), margin * (y1 - y0)
        x, y = self.centre
        return x0 - grow_x <= x <= x1 + grow_x and y0 - grow_y <= y <= y1 + grow_y


class PersonSearch:
    """Runs the person detector on whole RGB frames (no state between frames)."""

    def __init__(self, verbose: bool = False) -> None:
        from google.protobuf import text_format
        from mediapipe.framework import calculator_pb2
        from mediapipe.python.solution_base import SolutionBase

        self.verbose = verbose
        graph = text_format.Parse(_GRAPH, calculator_pb2.CalculatorGraphConfig())
        with filtered_stderr(not verbose):
            self._solution = SolutionBase(graph_config=graph, outputs=["detections"])

    def find(self, frame_rgb: np.ndarray, min_score: float = 0.5) -> list[Candidate]:
        """The people in an (H, W, 3) uint8 RGB frame scoring at least ``min_score``, best first."""
        if self._solution is None:
            raise RuntimeError("PersonSearch.find called after close()")
        height, width = frame_rgb.shape[:2]
        with filtered_stderr(not self.verbose):
            detections = self._solution.process({"image": frame_rgb}).detections or []
        found = []
        for detection in detections:
            points = detection.location_data.relative_keypoints
            score = float(detection.score[0]) if detection.score else 0.0
            if len(points) < 2 or score < min_score:
                continue
            hips = (points[0].x * width, points[0].y * height)
            rim = (points[1].x * width, points[1].y * height)
            found.append(Candidate(hips, float(np.hypot(rim[0] - hips[0], rim[1] - hips[1])), score))
        return sorted(found, key=lambda c: -c.score)

    def close(self) -> None:
        """Release the graph (idempotent)."""
        if self._solution is not None:
            self._solution.close()
            self._solution = None
