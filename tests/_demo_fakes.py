"""Generated videos and stand-in detector / lifter for the demo tests (no model, no download)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import numpy as np

from demo.motion import MotionSettings
from demo.video import ffmpeg_exe
from detectors.base import PersonPose
from lifter.skeleton import normalize_screen

#: the post-processing off (no repair, smoothing, constant bones or ground): frames stay independent
RAW_MOTION = MotionSettings(repair=False, smooth="off", bones=False, ground=False)

#: an upright person in the camera frame (x right, y down, z forward), metres, pelvis at 0
STANDING_17 = np.array([
    [0, 0, 0], [-.13, 0, 0], [-.15, .45, 0], [-.15, .9, .05], [.13, 0, 0], [.15, .45, 0], [.15, .9, .05],
    [0, -.25, 0], [0, -.5, 0], [0, -.6, -.05], [0, -.72, 0], [.18, -.48, 0], [.3, -.22, .05],
    [.35, 0, -.1], [-.18, -.48, 0], [-.3, -.22, .05], [-.35, 0, -.1],
], np.float32)


def make_video(path: Path, frames: int = 12, size: tuple[int, int] = (96, 64), rate: str = "30000/1001",
               source: str = "testsrc", extra_input: list[str] | None = None) -> Path:
    """Encode a synthetic H.264 mp4 with FFmpeg's lavfi source (independent of demo.video's writer)."""
    w, h = size
    sep = ":" if "=" in source else "="  # "testsrc" or "color=c=gray"
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
           "-i", f"{source}{sep}size={w}x{h}:rate={rate}", "-frames:v", str(frames),
           "-c:v", "libx264", "-pix_fmt", "yuv444p", str(path)]
    subprocess.run(cmd, check=True)
    if extra_input:  # re-mux with input options, e.g. ["-display_rotation", "90"]
        tmp = path.with_name("remux_" + path.name)
        subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *extra_input, "-i", str(path),
                        "-c", "copy", str(tmp)], check=True)
        tmp.replace(path)
    return path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A local port nobody listens on now (TCP, or UDP with ``socket.SOCK_DGRAM``)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pixels_of(pose3d: np.ndarray, width: int, height: int, centre_x: float | None = None,
              scale: float = 0.4) -> np.ndarray:
    """A simple orthographic picture of a camera-frame pose (17, 3) -> pixels (17, 2), the pelvis
    at (centre_x, height / 2) (centre_x: the image centre when None)."""
    cx = width / 2 if centre_x is None else centre_x
    return (pose3d[:, :2] * scale * height + [cx, height / 2]).astype(np.float32)


def person(xy: np.ndarray, scores: np.ndarray) -> PersonPose:
    """A PersonPose of these keypoints (its box from the present ones, its score their mean)."""
    return PersonPose.from_keypoints(xy, scores)


class FakeDetector:
    """Finds ``people`` standing poses (H36M-17 layout) side by side in every frame except those
    where ``empty(i)`` is true; each moves one pixel per frame. ``low`` joints get score 0.1.
    Checks that frame times strictly increase."""

    name = "fake"
    layout = "h36m17"

    def __init__(self, empty=lambda i: False, low: tuple[int, ...] = (), people: int = 1):
        self.empty = empty
        self.low = low
        self.people = people
        self.max_people = 4
        self.calls = 0
        self.closed = False
        self.last_time = -np.inf

    def detect(self, frame_rgb: np.ndarray, time_s: float) -> list[PersonPose]:
        assert frame_rgb.dtype == np.uint8 and frame_rgb.ndim == 3
        assert time_s > self.last_time, (time_s, self.last_time)
        self.last_time = time_s
        i, self.calls = self.calls, self.calls + 1
        if self.empty(i):
            return []
        h, w = frame_rgb.shape[:2]
        found = []
        for k in range(self.people):
            centre = w * (k + 1) / (self.people + 1)
            xy = pixels_of(STANDING_17, w, h, centre, 0.4 / self.people) + np.float32(i)
            scores = np.full(17, 0.9, np.float32)
            scores[list(self.low)] = 0.1
            found.append(person(xy, scores))
        return found

    def reset(self) -> None:
        self.calls = 0
        self.last_time = -np.inf

    def close(self) -> None:
        self.closed = True


class ContentDetector(FakeDetector):
    """FakeDetector that finds nobody in a uniform frame (pixel std < 3, e.g. FFmpeg's color
    source) and sleeps ``delay`` seconds per frame (for kill / interrupt tests)."""

    def __init__(self, delay: float = 0.0):
        super().__init__()
        self.delay = delay

    def detect(self, frame_rgb: np.ndarray, time_s: float) -> list[PersonPose]:
        time.sleep(self.delay)
        people = super().detect(frame_rgb, time_s)
        return [] if frame_rgb.std() < 3 else people


def components(options):
    """A model factory (demo.runner) of stand-ins -> (detector, lifter), for the CLI and batch tests.

    The detector is a ContentDetector (FAKE_DETECT_DELAY, seconds per frame, slows it down), or the
    real replay of a keypoints file with --keypoints.
    """
    from demo.pipeline import make_detector
    from detectors import REPLAY

    if options.detector == REPLAY:
        return make_detector(options), FakeLifter()
    return ContentDetector(float(os.environ.get("FAKE_DETECT_DELAY", "0"))), FakeLifter()


class FakeLifter:
    """Returns (x, y) = its normalised 2D input and z = 0, so tests can see what it was given."""

    def __init__(self, num_joints: int = 17):
        self.num_joints = num_joints
        self.batches: list[int] = []

    def lift(self, kp: np.ndarray) -> np.ndarray:
        assert kp.dtype == np.float32 and kp.shape[1:] == (self.num_joints, 2)
        assert np.isfinite(kp).all()
        self.batches.append(len(kp))
        out = np.zeros((len(kp), self.num_joints, 3), np.float32)
        out[..., :2] = kp - kp[:, :1]  # root-relative
        return out


class ExplodingLifter(FakeLifter):
    def lift(self, kp: np.ndarray) -> np.ndarray:
        raise AssertionError("the lifter must not be called when no frame has a person")


def expected_lift_xy(kp2d: np.ndarray, width: int, height: int) -> np.ndarray:
    """What FakeLifter returns for pixel keypoints (N, 17, 2) with no missing joint."""
    norm = normalize_screen(kp2d, width, height)
    return norm - norm[:, :1]


def export_names(stem: str, people: int = 1) -> list[str]:
    """The file names of the default exports (demo.export) of a video with people 1..``people``."""
    from demo.export import DEFAULT_EXPORTS, PER_PERSON, file_name

    return [file_name(f, stem, i) for f in DEFAULT_EXPORTS if f in PER_PERSON for i in range(1, people + 1)] + \
        [file_name(f, stem) for f in DEFAULT_EXPORTS if f not in PER_PERSON]
