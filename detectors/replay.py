"""Keypoints made elsewhere, replayed as a Detector (``--keypoints FILE|DIR``).

``ReplayDetector(path)`` reads a keypoints file or folder once (``detectors.keypoint_files``:
COCO, AlphaPose, OpenPose, mmpose predictions, this project's keypoints.npz) and hands the people
of frame k to the k-th call of ``detect``, whatever the frame's pixels: frame 0 is the first frame
of the video (or of the keypoints' own clock, ``demo.keypoint_input``). ``frame_rgb`` may be None
when there is no video. People keep the track IDs the file gives (``PersonPose.track_id``); the
pipeline then uses them instead of its own tracker (``demo.tracking``).

Checks: when the file states its frame size and frames come with pixels, a frame of another size
is a ValueError (the keypoints would be drawn and lifted in the wrong frame). ``notes`` tells the
user when the file and the video disagree on the number of frames (frames the file has beyond
the video are unused; frames of the video beyond the file have nobody in them).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from detectors.base import PersonPose, check_max_people
from detectors.keypoint_files import KeypointFile, read_keypoints

_cache: dict[tuple, KeypointFile] = {}  # the last file read


def load_keypoints(path: str | os.PathLike) -> KeypointFile:
    """``read_keypoints(path)``, read once while it does not change (the detector and the frame
    clock of a run share it). Raises ``KeypointFileError`` (a ValueError) for a malformed file,
    FileNotFoundError for a missing one."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "keypoints file not found", str(path))
    st = path.stat()  # for a folder its time changes when files are added or removed
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _cache:
        _cache.clear()  # one file at a time: a run replays one
        _cache[key] = read_keypoints(path)
    return _cache[key]


class ReplayDetector:
    """The people of a keypoints file, frame after frame (see the module docstring)."""

    def __init__(self, max_people: int = 4, verbose: bool = False, path: str | os.PathLike = ""):
        self.max_people = check_max_people(max_people)
        self.keypoints = load_keypoints(path)
        self.name = f"{self.keypoints.format} keypoints from {self.keypoints.path.name}"
        self.layout = self.keypoints.layout
        everyone = [p for people in self.keypoints.frames.values() for p in people]
        #: every person of the file has a track ID: the pipeline keeps them instead of tracking
        self.gives_ids = bool(everyone) and all(p.track_id is not None for p in everyone)
        self.index = 0

    def detect(self, frame_rgb: np.ndarray | None, time_s: float) -> list[PersonPose]:
        """The people of the next frame (in the file's layout, pixels); ``frame_rgb`` is only checked for size."""
        kf = self.keypoints
        if frame_rgb is not None and kf.width is not None and kf.height is not None \
                and frame_rgb.shape[:2] != (kf.height, kf.width):
            raise ValueError(f"{kf.path}: the keypoints are for {kf.width}x{kf.height} frames, the video's are "
                             f"{frame_rgb.shape[1]}x{frame_rgb.shape[0]}")
        people = kf.frames.get(self.index, [])
        self.index += 1
        return list(people)

    @property
    def notes(self) -> list[str]:
        """What the user should know once the frames are done: the file's own notes, and a frame
        count that differs from the video's."""
        kf, seen = self.keypoints, self.index
        notes = list(kf.notes)
        if seen < kf.num_frames:
            notes.append(f"{kf.path.name} has {kf.num_frames} frames, {seen} were used (the video is shorter, "
                         "or --max-frames)")
        elif seen > kf.num_frames:
            notes.append(f"{kf.path.name} has keypoints for {kf.num_frames} frames; the {seen - kf.num_frames} "
                         "later frames of the video have nobody in them")
        return notes

    def reset(self) -> None:
        self.index = 0

    def close(self) -> None:
        pass

    def __enter__(self) -> "ReplayDetector":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
