"""Video reading and writing for the demo.

Reading uses OpenCV's FFmpeg backend: any container and codec that FFmpeg reads, with the
rotation metadata of phone videos applied (frames come out the way a player shows them).
Frames are RGB uint8 arrays of shape (H, W, 3), H and W after rotation.

Writing converts each RGB frame to planar YUV 4:2:0 (BT.601, limited range: what FFmpeg's own
RGB -> yuv420p conversion gives, at a fraction of its cost) with OpenCV, pipes it into the FFmpeg
executable bundled with imageio-ffmpeg and encodes H.264 (libx264, yuv420p) in an mp4 at exactly
the given frame rate (a fraction such as 30000/1001, so NTSC rates are not rounded); every frame
written is one frame of the output, none dropped or duplicated. The file is written under a temporary name beside the final one and renamed when the
encoder finished cleanly.
"""

from __future__ import annotations

import os
import queue
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from lifter.atomic import atomic_path

#: frame rate assumed when a container states none (image sequences, broken files)
FALLBACK_FPS = Fraction(30)

# FFmpeg's own log lines (e.g. "moov atom not found") would precede our one-line errors; OpenCV
# reads this variable when its FFmpeg backend starts, so it must be set before the first capture.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
_CV_LOG_ERROR = 2  # cv2.setLogLevel value that keeps errors and drops warnings


class VideoError(Exception):
    """A video cannot be opened, decoded or encoded; the message is one line for the user."""


@dataclass(frozen=True)
class VideoInfo:
    """What a video holds, as decoded (rotation applied).

    width, height: pixels of the decoded frames. fps: frames per second as a fraction (exact for
    rates such as 30000/1001). frame_count: the container's frame count, an estimate (-1 when
    unknown); the exact count is the number of frames :func:`iter_frames` yields. rotation: the
    rotation metadata in degrees (already applied to the frames).
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    frame_count: int
    rotation: int


def _fps_fraction(fps: float) -> Fraction:
    """Container fps (float, e.g. 29.97002997) -> exact fraction (30000/1001); fallback if absent."""
    if not np.isfinite(fps) or fps <= 0:
        return FALLBACK_FPS
    return Fraction(fps).limit_denominator(1001)


def _open(path: Path) -> cv2.VideoCapture:
    if not path.exists():
        raise VideoError(f"video not found: {path}")
    if not path.is_file():
        raise VideoError(f"not a file: {path}")
    level = cv2.getLogLevel()
    cv2.setLogLevel(_CV_LOG_ERROR)  # OpenCV warns on stderr when it cannot open a file
    try:
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    finally:
        cv2.setLogLevel(level)
    if not cap.isOpened():
        raise VideoError(f"cannot read {path} as a video")
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)  # apply rotation metadata (OpenCV leaves it off)
    return cap


def probe(path: str | os.PathLike) -> VideoInfo:
    """Size, frame rate, estimated frame count and rotation of a video, without decoding it all.

    Raises VideoError for a missing file or one FFmpeg cannot read as a video (including a file
    with no decodable frame).
    """
    path = Path(path)
    cap = _open(path)
    try:
        ok, frame = cap.read()
        if not ok or frame is None:
            raise VideoError(f"no video frame could be decoded from {path}")
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        return VideoInfo(
            path=path,
            width=int(frame.shape[1]),
            height=int(frame.shape[0]),
            fps=_fps_fraction(cap.get(cv2.CAP_PROP_FPS)),
            frame_count=int(count) if np.isfinite(count) and count > 0 else -1,
            rotation=int(cap.get(cv2.CAP_PROP_ORIENTATION_META)) % 360,
        )
    finally:
        cap.release()


def iter_frames(path: str | os.PathLike, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Decode a video frame by frame: RGB uint8 (H, W, 3), rotation applied."""
    cap = _open(Path(path))
    try:
        n = 0
        while max_frames is None or n < max_frames:
            ok, bgr = cap.read()
            if not ok:
                return
            n += 1
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


class FrameReader:
    """Decode a video in a background thread into a bounded queue (OpenCV releases the GIL).

    Iterate over it to get RGB uint8 (H, W, 3) frames; ``decode_seconds`` is the time the thread
    spent decoding and converting. Memory is bounded by ``buffer`` frames. Use as a context
    manager (or call ``close``) so the thread stops when the consumer stops early.
    """

    _END = object()

    def __init__(self, path: str | os.PathLike, buffer: int = 8, max_frames: int | None = None):
        self.path = Path(path)
        self._cap = _open(self.path)  # opened here so a bad file fails in the caller's thread
        self._max = max_frames
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, buffer))
        self._stop = threading.Event()
        self.decode_seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="frame-reader", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        n = 0
        try:
            while not self._stop.is_set() and (self._max is None or n < self._max):
                t0 = time.perf_counter()
                ok, bgr = self._cap.read()
                if not ok:
                    break
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                self.decode_seconds += time.perf_counter() - t0
                n += 1
                if not self._put(rgb):
                    break
        except Exception as exc:  # handed to the consumer, which raises it
            self._put(exc)
        finally:
            self._cap.release()
            self._put(self._END)

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, Exception):
                raise VideoError(f"decoding {self.path} failed: {item}") from item
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> "FrameReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def ffmpeg_exe() -> str:
    """Path of the FFmpeg executable bundled with imageio-ffmpeg."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


#: libx264 preset of the demo videos. Measured on a 2-core machine, 2000x720 frames fed as YUV:
#: "ultrafast" costs about 7 ms of CPU per frame, "superfast" 10-13, "veryfast" 11-16 (files about
#: 3.5x and 2x smaller than ultrafast's); with BlazePose taking most of the other core, ultrafast
#: keeps the whole pipeline at real time (bench/pipeline_speed.py); pass another for smaller files.
DEFAULT_PRESET = "ultrafast"


class VideoWriter:
    """H.264 mp4 writer: ``write(frame)`` RGB uint8 (height, width, 3), frames at exactly ``fps``.

    width and height must be even (yuv420p). ``preset`` and ``crf`` are libx264's speed/quality
    knobs. The file appears under its final name only when ``close()`` succeeds; ``abort()`` (or
    an exception inside a ``with`` block) removes the partial file.

    Time spent (seconds): ``convert_seconds`` converting frames to YUV in the caller's thread;
    ``encode_seconds`` in ``write`` and ``close`` altogether (conversion, handing frames over,
    blocked while the encoder lags, its final flush); ``encoder_cpu_seconds`` the CPU time (user +
    system, all its threads) of the encoder process, known after ``close`` (NaN before, or where
    the platform cannot tell). The encoder runs in its own process, in parallel with the caller.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: Fraction | float,
                 preset: str = DEFAULT_PRESET, crf: int = 23):
        if width % 2 or height % 2:
            raise ValueError(f"H.264 yuv420p needs an even frame size, got {width}x{height}")
        self.path = Path(path)
        self.size = (int(width), int(height))
        self.fps = fps if isinstance(fps, Fraction) else _fps_fraction(float(fps))
        self.frames_written = 0
        self.encode_seconds = 0.0
        self.convert_seconds = 0.0
        self.encoder_cpu_seconds = float("nan")
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        self._finished = False
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}",
            "-framerate", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "-",
            "-an", "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", str(self._tmp),
        ]
        self._log = tempfile.TemporaryFile()  # a file, not a pipe: a chatty encoder cannot block
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB uint8 frame of exactly the writer's (height, width, 3)."""
        w, h = self.size
        if frame.shape != (h, w, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame must be uint8 ({h}, {w}, 3), got {frame.dtype} {frame.shape}")
        t0 = time.perf_counter()
        yuv = cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)  # (h * 3 / 2, w): Y, then U, then V planes
        self.convert_seconds += time.perf_counter() - t0
        try:
            self._proc.stdin.write(yuv.data)
        except BrokenPipeError:
            raise VideoError(f"the H.264 encoder stopped: {self._stderr()}") from None
        self.encode_seconds += time.perf_counter() - t0
        self.frames_written += 1

    def _stderr(self) -> str:
        """The encoder's last error line (or its exit code)."""
        self._proc.wait()
        self._log.seek(0)
        text = self._log.read().decode(errors="replace").strip()
        return text.splitlines()[-1] if text else f"exit code {self._proc.returncode}"

    def close(self) -> Path:
        """Finish encoding and move the file to its final name; returns that path."""
        t0 = time.perf_counter()
        try:
            self._proc.stdin.close()
        except BrokenPipeError:  # the encoder already exited; its exit code tells why
            pass
        rc = self._wait()
        self.encode_seconds += time.perf_counter() - t0
        if rc != 0 or self.frames_written == 0:
            reason = self._stderr() if rc != 0 else "no frame was written"
            self.abort()
            raise VideoError(f"encoding {self.path} failed: {reason}")
        self._log.close()
        self._finished = True
        self._atomic.__exit__(None, None, None)
        return self.path

    def _wait(self) -> int:
        """Wait for the encoder to exit; records its CPU time; returns its exit code."""
        if not hasattr(os, "wait4"):  # not a POSIX system: no resource usage of one child
            return self._proc.wait()
        try:
            _, status, usage = os.wait4(self._proc.pid, 0)
        except ChildProcessError:  # already reaped
            return self._proc.wait()
        self._proc.returncode = os.waitstatus_to_exitcode(status)
        self.encoder_cpu_seconds = usage.ru_utime + usage.ru_stime
        return self._proc.returncode

    def abort(self) -> None:
        """Stop the encoder and remove the partial file (nothing to do once finished)."""
        if self._finished:
            return
        self._finished = True
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for stream in (self._proc.stdin, self._log):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        err = VideoError("aborted")
        try:
            self._atomic.__exit__(VideoError, err, None)
        except VideoError:
            pass

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
