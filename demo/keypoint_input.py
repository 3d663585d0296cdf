"""Keypoints made elsewhere as the pipeline's input (``--keypoints FILE|DIR``).

With a video, the video gives the frames (drawn in the side-by-side output), their times and
size, and ``detectors.replay.ReplayDetector`` hands the file's people to the pipeline frame by
frame. Without one (``--keypoints FILE --no-video``), :class:`KeypointFrames` stands in for the
video: it yields ``(None, time_s)`` for each of the file's frames, with the frame size and rate
the file states (this project's keypoints.npz, COCO files with an ``images`` list) or the ones
given (``--frame-size``, ``--fps``, which win). Nothing is drawn then: the outputs are the
keypoint files and the exports.

``open_input(path, options)`` opens whichever the job's input is: a video (demo.video.FrameReader)
or, when ``path`` is the keypoints file itself, its clock.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np

from demo.pipeline import Options
from demo.video import FrameReader, VideoInfo, fps_fraction
from detectors.base import REPLAY
from detectors.replay import load_keypoints


def keypoints_path(options: Options) -> Path | None:
    """The keypoints file the options replay, or None when a detector looks at the frames."""
    return Path(options.detector_options["path"]) if options.detector == REPLAY else None


class KeypointFrames:
    """A keypoints file's frames without pixels: iterating yields ``(None, time_s)``, ``info`` is
    a VideoInfo of the file's size, rate and frame count (see the module docstring). Raises
    ValueError when the file states no frame rate or size and none is given."""

    def __init__(self, path: str | os.PathLike, fps: float | None = None, size: tuple[int, int] | None = None,
                 max_frames: int | None = None):
        kf = load_keypoints(path)
        if fps is None and kf.fps is None:
            raise ValueError(f"{kf.path}: the keypoints do not say their frame rate; pass --fps N (or --video)")
        if size is None and (kf.width is None or kf.height is None):
            raise ValueError(f"{kf.path}: the keypoints do not say the frame size; pass --frame-size WxH "
                             "(or --video)")
        if kf.num_frames < 1:
            raise ValueError(f"{kf.path}: no frames")
        width, height = size if size is not None else (kf.width, kf.height)
        rate = fps_fraction(float(fps if fps is not None else kf.fps))
        count = kf.num_frames if max_frames is None else min(kf.num_frames, max_frames)
        if fps is None and kf.time_s is not None:
            self.times = np.asarray(kf.time_s[:count], np.float64)
        else:
            self.times = np.arange(count) / float(rate)
        self.info = VideoInfo(path=kf.path, width=int(width), height=int(height), fps=rate, frame_count=count,
                              rotation=0, stated_frame_count=count)
        self.decode_seconds = 0.0

    def __iter__(self) -> Iterator[tuple[None, float]]:
        for t in self.times:
            yield None, float(t)

    def close(self) -> None:
        pass

    def __enter__(self) -> "KeypointFrames":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_input(path: str | os.PathLike, options: Options) -> FrameReader | KeypointFrames:
    """The frames of a job's input: the keypoints' clock when ``path`` is the keypoints file the
    options replay, else the video (FrameReader; raises demo.video.VideoError)."""
    replayed = keypoints_path(options)
    if replayed is not None and Path(path).resolve() == replayed.resolve():
        return KeypointFrames(path, options.fps, options.frame_size, options.max_frames)
    return FrameReader(path, max_frames=options.max_frames)
