"""Video reading and writing for the demo.

Reading uses OpenCV's FFmpeg backend: any container and codec that FFmpeg reads, with the
rotation metadata of phone videos applied (frames come out the way a player shows them) and edit
lists applied (an mp4 whose edit list hides its first frames plays without them, as in FFmpeg and
players). Frames are RGB uint8 arrays of shape (H, W, 3), H and W after rotation, each with its
presentation time in seconds from the first frame.

The exact number of frames a video plays is counted before decoding: the FFmpeg executable
bundled with imageio-ffmpeg reads the video stream's packets without decoding them (stream copy
into FFmpeg's per-packet "framecrc" listing) and the packets an edit list drops (flagged
"discard") are left out. That costs a read of the file (about 0.05 s for an 8 s 1768x994 clip,
where decoding it costs 2 s). The container's own frame count ignores edit lists (207 stated
where 185 play, say), so it is kept only to tell a damaged file.

Writing converts each RGB frame to planar YUV 4:2:0 (BT.601, limited range: what FFmpeg's own
RGB -> yuv420p conversion gives, at a fraction of its cost) with OpenCV, pipes it into the same
FFmpeg executable and encodes H.264 (libx264, yuv420p) in an mp4 at exactly the given frame rate
(a fraction such as 30000/1001, so NTSC rates are not rounded); every frame written is one frame
of the output, none dropped or duplicated. The file is written under a temporary name beside the
final one and renamed when the encoder finished cleanly.
"""

from __future__ import annotations

import math
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

from demo.errors import interrupts_deferred
from lifter.atomic import atomic_path

#: frame rate assumed when a container states none (image sequences, broken files)
FALLBACK_FPS = Fraction(30)

#: bytes of decoded frames FrameReader may hold in its queue by default (2 to 8 frames)
DEFAULT_BUFFER_BYTES = 64 << 20

# FFmpeg's own log lines (e.g. "moov atom not found") would precede our one-line errors; OpenCV
# reads this variable when its FFmpeg backend starts, so it must be set before the first capture.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
_CV_LOG_ERROR = 2  # cv2.setLogLevel value that keeps errors and drops warnings
_DISCARD = 0x4  # AV_PKT_FLAG_DISCARD: a packet decoded only as a reference, never shown (edit lists)


class VideoError(Exception):
    """A video cannot be opened, decoded or encoded; the message is one line for the user."""


@dataclass(frozen=True)
class VideoInfo:
    """What a video holds, as it plays (rotation and edit lists applied).

    width, height: pixels of the decoded frames. fps: the container's frame rate as a fraction
    (exact for rates such as 30000/1001; FALLBACK_FPS when it states none). rotation: the rotation
    metadata in degrees (already applied to the frames).

    frame_count: the frames the video plays, counted before decoding (its video packets, less
    those an edit list drops): exactly the frames FrameReader yields from a sound file (before
    ``max_frames``). For a damaged file, the packets that could be read (the decoder may still
    give fewer). -1 when FFmpeg could not count them.
    stated_frame_count: the frames the file should play: frame_count for a sound file; for a
    damaged one (``damage`` set) the container's count less the frames the edit list drops
    (-1 when unknown). Never below frame_count.
    damage: "" for a sound file, else FFmpeg's last error while reading the packets (e.g.
    "stream 0, offset 0xd5b: partial file"), or why they could not be counted.
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    frame_count: int
    rotation: int
    stated_frame_count: int = -1
    damage: str = ""

    def missing_frames(self, decoded: int, max_frames: int | None = None) -> int:
        """How many of the frames the file should play were not decoded: 0 for a sound file.

        decoded: frames the reader yielded; max_frames: the limit it was given (None: none).
        """
        expected = max(self.stated_frame_count, self.frame_count)
        if expected < 0:
            return 0
        if max_frames is not None:
            expected = min(expected, max_frames)
        return max(0, expected - decoded)


def fps_fraction(fps: float) -> Fraction:
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


class FrameClock:
    """Presentation times of a video's frames in decoding order: seconds from the first frame.

    ``time(decoder_ms)`` takes the decoder's timestamp of the next frame (OpenCV's
    CAP_PROP_POS_MSEC, milliseconds; NaN or None when missing) and returns its time: the first
    frame is at 0; a later frame at its timestamp less the first frame's, when that is later than
    the previous frame's time; otherwise (missing, repeated or backward timestamps) one frame
    interval (1 / fps) after the previous frame. Times are strictly increasing, and a video
    without usable timestamps gets index / fps.
    """

    #: timestamps beyond this many milliseconds are garbage (a missing start time, say)
    _MAX_MS = 1e12

    def __init__(self, fps: Fraction | float):
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.step = 1.0 / float(fps)
        self._origin: float | None = None
        self._last: float | None = None

    def time(self, decoder_ms: float | None) -> float:
        t = None
        if decoder_ms is not None and math.isfinite(decoder_ms) and abs(decoder_ms) < self._MAX_MS:
            if self._origin is None:
                self._origin = decoder_ms
            t = (decoder_ms - self._origin) / 1000.0
        if self._last is None:
            t = 0.0
        elif t is None or not t > self._last:
            t = self._last + self.step
        self._last = t
        return t


class _Decoder:
    """One open capture decoding frames in order: ``read()`` -> (RGB (H, W, 3) uint8, time s) or None."""

    def __init__(self, path: Path):
        self.path = path
        self.cap = _open(path)
        self.fps = fps_fraction(self.cap.get(cv2.CAP_PROP_FPS))
        self.clock = FrameClock(self.fps)

    def read(self) -> tuple[np.ndarray, float] | None:
        ok, bgr = self.cap.read()
        if not ok or bgr is None:
            return None
        t = self.clock.time(self.cap.get(cv2.CAP_PROP_POS_MSEC))
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t

    def container_frame_count(self) -> int:
        """The count the container states (edit lists not applied), -1 when it states none."""
        count = self.cap.get(cv2.CAP_PROP_FRAME_COUNT)
        return int(count) if np.isfinite(count) and count > 0 else -1

    def release(self) -> None:
        self.cap.release()


class _PacketCount:
    """FFmpeg counting the packets of a video's first video stream, in its own process.

    Started at construction so that it runs while the caller opens the video; ``result()``
    waits for it and returns (packets played, packets an edit list drops, last error or "").
    A packet without the "discard" flag is one frame the decoder outputs. -copyinkf: also the
    packets before the first key frame, which stream copy would otherwise skip.
    """

    def __init__(self, path: Path):
        cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-i", str(path),
               "-map", "0:v:0", "-c", "copy", "-copyinkf", "-f", "framecrc", "-"]
        self._log = tempfile.TemporaryFile()  # a file, not a pipe: cannot block FFmpeg
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log)

    def result(self) -> tuple[int, int, str]:
        played = dropped = 0
        try:
            for line in self._proc.stdout:  # "stream, dts, pts, duration, size, hash[, F=0xflags][, side data]"
                if line.startswith(b"#"):
                    continue
                flags = 0x1  # key frame: framecrc writes F= only for other flags
                for field in line.split(b","):
                    field = field.strip()
                    if field.startswith(b"F=0x"):
                        flags = int(field[4:], 16)
                        break
                if flags & _DISCARD:
                    dropped += 1
                else:
                    played += 1
            rc = self._proc.wait()
            self._log.seek(0)
            errors = self._log.read().decode(errors="replace").strip().splitlines()
        finally:
            self.close()
        error = errors[-1].split("] ", 1)[-1].strip() if errors else ""  # without "[context @ 0x..] "
        if rc != 0:
            return -1, dropped, error or f"FFmpeg could not count the frames (exit code {rc})"
        return played, dropped, error

    def close(self) -> None:
        """Stop FFmpeg (nothing to do once it finished)."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._proc.stdout.close()
        self._log.close()


def _start(path: Path) -> tuple[_Decoder, tuple[np.ndarray, float], VideoInfo]:
    """Open a video, decode its first frame and count its frames: (decoder, first frame, info).

    Raises VideoError for a missing file, one FFmpeg cannot read, or one without a decodable frame.
    """
    decoder = _Decoder(path)
    try:
        count = _PacketCount(path)  # runs while the first frame is decoded
        try:
            first = decoder.read()
            if first is None:
                raise VideoError(f"no video frame could be decoded from {path}")
        except BaseException:
            count.close()
            raise
        played, dropped, damage = count.result()
        stated = played
        container = decoder.container_frame_count()
        if damage and container > 0:
            stated = max(played, container - dropped)
        frame = first[0]
        info = VideoInfo(
            path=path, width=int(frame.shape[1]), height=int(frame.shape[0]), fps=decoder.fps,
            frame_count=played, rotation=int(decoder.cap.get(cv2.CAP_PROP_ORIENTATION_META)) % 360,
            stated_frame_count=stated, damage=damage,
        )
        return decoder, first, info
    except BaseException:
        decoder.release()
        raise


def probe(path: str | os.PathLike) -> VideoInfo:
    """Size, frame rate, exact frame count (see VideoInfo) and rotation of a video.

    Decodes one frame only. Raises VideoError for a missing file or one FFmpeg cannot read as a
    video (including a file with no decodable frame). To read the frames too, open the video once
    with FrameReader and use its ``info``.
    """
    decoder, _, info = _start(Path(path))
    decoder.release()
    return info


def iter_frames(path: str | os.PathLike, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Decode a video frame by frame in the caller's thread: RGB uint8 (H, W, 3), rotation applied.

    A plain decoder (no frame count, no timestamps): for checks and tools; FrameReader is the
    pipeline's reader.
    """
    decoder = _Decoder(Path(path))
    try:
        n = 0
        while max_frames is None or n < max_frames:
            item = decoder.read()
            if item is None:
                return
            n += 1
            yield item[0]
    finally:
        decoder.release()


class FrameReader:
    """The video, opened once: decoded in a background thread into a bounded queue.

    The constructor opens the video, decodes its first frame and counts its frames (so ``info``,
    a VideoInfo, is known before iterating) and raises VideoError for a missing file, one FFmpeg
    cannot read, or one without a decodable frame. Iterating yields ``(frame, time_s)``: the RGB
    uint8 (H, W, 3) frame (rotation applied) and its presentation time in seconds from the first
    frame (decoder timestamps, strictly increasing; see FrameClock), at most ``max_frames``
    of them; with ``size`` = (width, height) the frames come resized to it (in the decoding
    thread, OpenCV's linear interpolation), while ``info`` describes the video. Iterate once.

    Memory: the queue holds ``buffer_bytes`` of frames, at least 2 and at most 8 frames.
    ``decode_seconds``: time spent opening the video, counting, decoding and converting frames. Use as a context manager (or
    call ``close``) so the thread stops when the consumer stops early. OpenCV releases the GIL
    while decoding, so decoding overlaps the consumer's work.
    """

    _END = object()

    def __init__(self, path: str | os.PathLike, buffer_bytes: int = DEFAULT_BUFFER_BYTES,
                 max_frames: int | None = None, size: tuple[int, int] | None = None):
        if max_frames is not None and max_frames < 1:
            raise ValueError(f"max_frames must be at least 1, got {max_frames}")
        self.path = Path(path)
        self._size = None if size is None else (int(size[0]), int(size[1]))
        t0 = time.perf_counter()
        self._decoder, first, self.info = _start(self.path)  # in the caller's thread: errors raise here
        first = self._resized(first)
        self.decode_seconds = time.perf_counter() - t0
        frame_bytes = self.info.width * self.info.height * 3
        self._queue: queue.Queue = queue.Queue(maxsize=int(np.clip(buffer_bytes // max(1, frame_bytes), 2, 8)))
        self._queue.put(first)
        self._max = max_frames
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="frame-reader", daemon=True)
        self._thread.start()

    def _resized(self, item: tuple[np.ndarray, float]) -> tuple[np.ndarray, float]:
        frame, time_s = item
        if self._size is None or frame.shape[1::-1] == self._size:
            return item
        return cv2.resize(frame, self._size, interpolation=cv2.INTER_LINEAR), time_s

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        n = 1  # the first frame is already queued
        try:
            while not self._stop.is_set() and (self._max is None or n < self._max):
                t0 = time.perf_counter()
                item = self._decoder.read()
                if item is None:
                    break
                item = self._resized(item)
                self.decode_seconds += time.perf_counter() - t0
                n += 1
                if not self._put(item):
                    break
        except Exception as exc:  # handed to the consumer, which raises it
            self._put(exc)
        finally:
            self._decoder.release()
            self._put(self._END)

    def __iter__(self) -> Iterator[tuple[np.ndarray, float]]:
        while True:
            item = self._queue.get()
            if item is self._END:
                self._queue.put(item)  # a second iteration ends at once
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
        self.fps = fps if isinstance(fps, Fraction) else fps_fraction(float(fps))
        self.frames_written = 0
        self.encode_seconds = 0.0
        self.convert_seconds = 0.0
        self.encoder_cpu_seconds = float("nan")
        self._proc: subprocess.Popen | None = None
        self._log = None
        self._finished = False
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        try:
            self._start(preset, crf)
        except BaseException:  # an interrupt while starting too: no encoder and no temporary file stay
            self.abort()
            raise

    def _start(self, preset: str, crf: int) -> None:
        width, height = self.size
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}",
            "-framerate", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "-",
            "-an", "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", str(self._tmp),
        ]
        self._log = tempfile.TemporaryFile()  # a file, not a pipe: a chatty encoder cannot block
        with interrupts_deferred():  # an interrupt now would leave an encoder that recreates the file
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
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for stream in (self._proc.stdin if self._proc is not None else None, self._log):
            try:
                if stream is not None:
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
