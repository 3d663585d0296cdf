"""Live video sources: a webcam, a network stream, or standard input, read frame by frame as they come.

Every source gives RGB uint8 frames of shape (H, W, 3), C-contiguous, each with its capture time:
``time.perf_counter()`` (seconds, this process's monotonic clock) taken right after the frame was
fully received (the last byte of it read from FFmpeg's pipe or from standard input; the webcam's
``read`` returned), before the conversion to RGB. ``read()`` blocks for the next frame and returns
None at the end of the stream; ``close()`` may be called from any thread and makes a blocked
``read()`` return None promptly. :class:`Grabber` reads a source in its own thread and keeps only
the newest frame (a mailbox of one): a consumer slower than the source gets the newest frame and
the frames it never saw are counted as dropped, never queued.

Network streams and standard input (``open_live``): one FFmpeg process per source (the executable
bundled with imageio-ffmpeg: demo.video.ffmpeg_exe) decodes the first video stream and writes
YUV4MPEG2 (planar YUV 4:2:0) to a pipe; each frame is converted to RGB with OpenCV (BT.601,
limited range: the inverse of FFmpeg's own RGB -> yuv420p). Input options, each measured with the
bundled FFmpeg 9 on tiny streams:

- ``-analyzeduration 200000`` (0.2 s of stream to probe): the first frame arrives 0.02-0.2 s after
  the connection, with the frame rate right (25, 30000/1001). The default (5 s of stream) makes the
  open wait up to 5 s; ``-probesize 32`` states 50 fps for a 25 fps H.264 stream.
- ``-thread_type slice``: no frame threading in the decoder, which holds back one frame per extra
  thread (2 frames on 2 cores); slice threads still decode streams made of slices. A container
  still holds frames back by its own framing: MPEG-TS about 2 (a PES packet ends when the next
  begins), Matroska and Y4M none.
- Not used, on purpose: ``-fflags nobuffer`` drops every packet read while probing, so decoding
  starts at the second key frame (zero frames from a stream whose only key frame is its first,
  x264's default for 10 s); ``-flags low_delay`` makes the MPEG-2 and MPEG-4 part 2 decoders
  output B-frame streams in decoding order (frames shuffled), and gains nothing for H.264/HEVC.
- A protocol timeout where FFmpeg has one, so that FFmpeg never waits forever by itself (e.g. an
  orphan of a killed process on a silent udp:// port): ``-rw_timeout`` (microseconds) for tcp,
  http(s), rtmp(s), srt; ``-timeout`` for udp, rtp, rtsp(s) (not for rtmp, where it means
  "listen"); udp also gets ``-overrun_nonfatal 1``. It is set one second beyond the larger of our
  own timeouts, which apply regardless: ``open_timeout_s`` for the first frame (FFmpeg writes the
  Y4M header with it), ``read_timeout_s`` for each next one.

Output options: ``-map 0:v:0 -an -sn -dn``; ``-fps_mode passthrough``: one output frame per
decoded frame, never duplicated or dropped (FFmpeg's default for Y4M duplicates frames to a
constant rate: 45 frames out of a 30-frame variable-rate file); odd frame sizes are cropped to
even ones (``crop=trunc(iw/2)*2:trunc(ih/2)*2``: the last column and/or row go), as 4:2:0 needs;
a stream that changes its frame size midway is scaled by FFmpeg to its first size. FFmpeg's
stderr goes to a temporary file (it can never block), ``-loglevel error``; its last error line
makes our one-line messages, e.g. "cannot open tcp://127.0.0.1:9: Connection refused".

FFmpeg ends a network input that fails midway (connection reset, its protocol timeout) as a
normal end of stream (exit code 0): ``read()`` then returns None and ``note`` says why; a non-zero
exit midway raises LiveSourceError. A stream that sends nothing for ``read_timeout_s`` also ends
(None) with a note. A password in a URL is shown as ``***`` in names and messages.

Raw frames on standard input (``raw_size``): read directly from the pipe, without FFmpeg, so the
pixels come out exactly as written (an FFmpeg round trip through yuv420p would not keep them);
any size, odd ones included.

Webcams (``open_webcam``): OpenCV's VideoCapture (V4L2 on Linux, the default backend elsewhere),
BGR converted to RGB; OpenCV's own log lines are silenced while opening.

Pipes are read with poll() (POSIX); FFmpeg and stdin sources need Linux or macOS.
"""

from __future__ import annotations

import glob
import math
import os
import re
import select
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple, Protocol

import cv2
import numpy as np

from demo.errors import interrupts_deferred
from demo.video import VideoError, ffmpeg_exe

#: URL schemes that FFmpeg reads as a live stream (is_live_spec)
LIVE_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "udp", "tcp", "http", "https", "srt", "rtp")

#: frame rate of raw frames on standard input when none is given
DEFAULT_RAW_FPS = Fraction(30)

#: a stated frame rate above this is not a frame rate: FFmpeg's Y4M muxer writes the time base
#: (F90000:1) when the stream states no rate
MAX_STATED_FPS = 1000

#: seconds of stream FFmpeg probes before it starts decoding (see the module docstring)
PROBE_SECONDS = 0.2

#: seconds close() waits for a blocked read() to let go before releasing the source anyway
_CLOSE_WAIT_S = 5.0

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*):([^/@]*)@")
_LOG_CONTEXT = re.compile(r"^(\[[^\]]*\]\s*)+")  # "[tcp @ 0x55d...] " before FFmpeg's messages


class LiveSourceError(VideoError):
    """A live source cannot be opened or failed midway; the message is one line for the user."""


@dataclass(frozen=True)
class SourceInfo:
    """What a live source gives: ``name`` for messages and file names ("webcam 0", the URL as given
    with any password shown as ***, "stdin"); ``width`` x ``height`` pixels of the frames ``read``
    returns; ``fps`` the nominal rate the source states (a fraction), None when unknown."""

    name: str
    width: int
    height: int
    fps: Fraction | None


class LiveSource(Protocol):
    """A live source (module docstring). ``read()``: (RGB uint8 (H, W, 3), capture time s) or None
    at the end; raises LiveSourceError when the source fails midway. ``close()``: idempotent, safe
    from another thread. Sources made here also have ``note``: "" or why the stream ended early."""

    info: SourceInfo

    def read(self) -> tuple[np.ndarray, float] | None: ...

    def close(self) -> None: ...


class LiveFrame(NamedTuple):
    """A frame handed out by :class:`Grabber`: ``index`` its 0-based capture order (dropped frames
    get one too), ``image`` RGB uint8 (H, W, 3), ``captured`` time.perf_counter() at capture."""

    index: int
    image: np.ndarray
    captured: float


def is_live_spec(text: str) -> bool:
    """True for "-" (standard input) and URLs with a scheme FFmpeg reads as a stream (LIVE_SCHEMES,
    any case, "scheme://..."); False for file paths."""
    if text == "-":
        return True
    match = _SCHEME.match(text)
    return bool(match) and match.group(1).lower() in LIVE_SCHEMES


def _display_name(url: str) -> str:
    """The URL with its password (if any) replaced by ***."""
    return _PASSWORD.sub(r"\1:***@", url)


# --- YUV4MPEG2 --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Y4MHeader:
    """A YUV4MPEG2 stream header: frame size in pixels, the stated rate (None when the stream
    states none or a time base, see MAX_STATED_FPS) and the colour space tag ("420jpeg"...)."""

    width: int
    height: int
    fps: Fraction | None
    colorspace: str

    @property
    def frame_bytes(self) -> int:
        """Bytes of one 4:2:0 frame: the Y plane, then U and V at half width and height (rounded up)."""
        chroma = ((self.width + 1) // 2) * ((self.height + 1) // 2)
        return self.width * self.height + 2 * chroma


def parse_y4m_header(line: bytes) -> Y4MHeader:
    """Parse the first line of a YUV4MPEG2 stream (with or without its newline), e.g.
    ``b"YUV4MPEG2 W160 H120 F30000:1001 Ip A1:1 C420mpeg2 XYSCSS=420MPEG2"``.

    W and H are required; F (frame rate num:den) is optional; C defaults to 420jpeg, the format's
    default. Only 4:2:0 colour spaces are accepted. Raises LiveSourceError naming what is wrong.
    """
    text = line.rstrip(b"\n").decode("ascii", errors="replace")
    shown = text if len(text) <= 80 else text[:77] + "..."

    def bad(why: str) -> LiveSourceError:
        return LiveSourceError(f"not a YUV4MPEG2 stream header ({why}): {shown!r}")

    fields = text.split(" ")
    if fields[0] != "YUV4MPEG2":
        raise bad("no YUV4MPEG2 signature")
    width = height = None
    fps: Fraction | None = None
    colorspace = "420jpeg"
    for field in fields[1:]:
        if not field:
            continue
        tag, value = field[0], field[1:]
        try:
            if tag == "W":
                width = int(value)
            elif tag == "H":
                height = int(value)
            elif tag == "F":
                num, den = (int(v) for v in value.split(":"))
                fps = Fraction(num, den) if num > 0 and den > 0 and num <= MAX_STATED_FPS * den else None
            elif tag == "C":
                colorspace = value
        except ValueError:
            raise bad(f"bad {tag} field {field!r}") from None
    if width is None or height is None:
        raise bad("no frame size")
    if width <= 0 or height <= 0:
        raise bad(f"frame size {width}x{height}")
    if not colorspace.startswith("420"):
        raise bad(f"colour space {colorspace}, not 4:2:0")
    return Y4MHeader(width, height, fps, colorspace)


# --- reading a pipe with deadlines ------------------------------------------------------------

class _Stop(Exception):
    """close() was called."""


class _Timeout(Exception):
    """The deadline passed."""


class _EOF(Exception):
    """The pipe ended; ``args[0]``: bytes of the unfinished item read before."""


class _Pipe:
    """A file descriptor read with deadlines (poll), which ``wake()`` (any thread) interrupts.

    The descriptor is not owned: ``release()`` closes only the wake-up pipe. Reads never take more
    than asked for with ``read_exact``, so standard input is left just after the last frame.
    """

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = bytearray()  # bytes read by readline beyond its line
        self.closing = False
        self._wake_r, self._wake_w = os.pipe()
        self._lock = threading.Lock()  # guards the wake-up pipe against release()
        self._released = False
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN | select.POLLPRI)
        self._poll.register(self._wake_r, select.POLLIN)

    def wake(self) -> None:
        with self._lock:
            self.closing = True
            if not self._released:
                try:
                    os.write(self._wake_w, b"x")
                except OSError:
                    pass

    def release(self) -> None:
        with self._lock:
            if not self._released:
                self._released = True
                os.close(self._wake_r)
                os.close(self._wake_w)

    def _wait(self, deadline: float | None) -> None:
        """Until the descriptor is readable (data or its end); _Stop after wake(), _Timeout after deadline."""
        while True:
            if self.closing:
                raise _Stop
            timeout_ms = None
            if deadline is not None:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise _Timeout
                timeout_ms = max(1, math.ceil(left * 1000))
            events = self._poll.poll(timeout_ms)
            if self.closing:
                raise _Stop
            if any(fd == self.fd for fd, _ in events):
                return

    def readline(self, deadline: float | None, limit: int = 4096) -> bytes:
        """The next line, without its newline; _EOF if the pipe ends first; LiveSourceError past ``limit``."""
        start = 0
        while True:
            end = self.buffer.find(b"\n", start)
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 1]
                return line
            if len(self.buffer) > limit:
                raise LiveSourceError(f"no line end in the first {limit} bytes: not a YUV4MPEG2 stream")
            start = len(self.buffer)
            self._wait(deadline)
            data = os.read(self.fd, 65536)
            if not data:
                raise _EOF(len(self.buffer))
            self.buffer += data

    def read_exact(self, out: memoryview, deadline: float | None) -> None:
        """Fill ``out`` (bytes); _EOF(bytes filled) if the pipe ends first."""
        pos = min(len(self.buffer), len(out))
        if pos:
            out[:pos] = self.buffer[:pos]
            del self.buffer[:pos]
        while pos < len(out):
            self._wait(deadline)
            got = os.readv(self.fd, [out[pos:]])
            if got == 0:
                raise _EOF(pos)
            pos += got


class _Closable:
    """``close()`` from any thread: ``_interrupt()`` first (wake or stop what a read() waits on),
    then, once the read() in progress let go of ``_io`` (within _CLOSE_WAIT_S), ``_close_locked()``."""

    _io: threading.Lock

    def _interrupt(self) -> None:
        """Make a blocked read() return soon (called without the lock)."""

    def _close_locked(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._interrupt()
        if self._io.acquire(timeout=_CLOSE_WAIT_S):
            try:
                self._close_locked()
            finally:
                self._io.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _PipeSource(_Closable):
    """What FFmpeg and raw stdin sources share: read() under a lock, close() from any thread.

    Subclasses set ``info``, ``_pipe``, ``read_timeout_s`` and define ``_next()`` (one frame, may
    raise _Stop / _Timeout / _EOF), ``_at_eof(exc)`` (None or raise) and ``_release()``.
    """

    info: SourceInfo
    read_timeout_s: float
    _pipe: _Pipe

    def __init__(self) -> None:
        self.note = ""
        self._io = threading.Lock()  # held by read(); close() takes it to release the resources
        self._done = False

    def read(self) -> tuple[np.ndarray, float] | None:
        with self._io:
            if self._done:
                return None
            try:
                return self._next()
            except _Stop:
                self._finish()
                return None
            except _Timeout:
                self.note = f"no frame for {self.read_timeout_s:g} s; treated as the end of the stream"
                self._finish()
                return None
            except _EOF as exc:
                try:
                    if self._pipe.closing:
                        return None
                    return self._at_eof(exc)
                finally:
                    self._finish()
            except BaseException:
                self._finish()
                raise

    def _finish(self) -> None:
        """Release everything (the caller holds the lock, or nobody reads any more); idempotent."""
        self._done = True
        self._release()
        self._pipe.release()

    def _stop_now(self) -> None:
        """What close() does before taking the lock (kill FFmpeg); nothing by default."""

    def _interrupt(self) -> None:
        self._pipe.wake()
        self._stop_now()

    def _close_locked(self) -> None:
        self._finish()


# --- FFmpeg -----------------------------------------------------------------------------------

def _protocol_timeout(scheme: str, seconds: float) -> list[str]:
    """FFmpeg input options that make the protocol give up after ``seconds`` without data."""
    micro = str(int(seconds * 1e6))
    if scheme in ("tcp", "http", "https", "rtmp", "rtmps", "srt"):
        return ["-rw_timeout", micro]
    if scheme == "udp":
        return ["-timeout", micro, "-overrun_nonfatal", "1"]
    if scheme in ("rtp", "rtsp", "rtsps"):
        return ["-timeout", micro]
    return []


def ffmpeg_command(url: str | None, protocol_timeout_s: float) -> list[str]:
    """The FFmpeg command decoding ``url`` (None: standard input) into Y4M on its standard output."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error"]
    if url is not None:
        cmd.append("-nostdin")
        cmd += _protocol_timeout(_SCHEME.match(url).group(1).lower(), protocol_timeout_s)
    cmd += ["-analyzeduration", str(int(PROBE_SECONDS * 1e6)), "-thread_type", "slice",
            "-i", url if url is not None else "pipe:0",
            "-map", "0:v:0", "-an", "-sn", "-dn", "-fps_mode", "passthrough",
            "-vf", "crop=trunc(iw/2)*2:trunc(ih/2)*2", "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", "pipe:1"]
    return cmd


def _log_lines(log) -> list[str]:
    """FFmpeg's last error lines, without their "[context @ 0x...] " prefixes."""
    try:
        size = log.seek(0, os.SEEK_END)
        log.seek(max(0, size - 8192))
        text = log.read().decode(errors="replace")
    except (OSError, ValueError):
        return []
    lines = []
    for line in text.splitlines():
        line = _LOG_CONTEXT.sub("", line).strip()
        if line and not line.startswith("Last message repeated"):
            lines.append(line)
    return lines


#: FFmpeg's lines that only say that it stops, after the line that says why
_WRAP_UP = re.compile(r"^(Terminating thread with return code|Task finished with error code|Error closing file|"
                      r"Error writing trailer|Conversion failed|Nothing was written into output file|"
                      r"Error opening input file |Exiting normally)")


def ffmpeg_error_reason(lines: list[str], returncode: int) -> str:
    """Why FFmpeg stopped, for a one-line message: from its error lines (without their "[context @
    0x...] " prefixes), the last that is more than a wrap-up; its exit code when it said nothing."""
    if any("matches no streams" in line for line in lines):
        return "no video stream in it"
    told = [line for line in lines if not _WRAP_UP.match(line)] or lines
    if told:
        match = re.match(r"Error opening input files?: (.+)", told[-1])
        return match.group(1) if match else told[-1]
    if returncode < 0:
        return f"FFmpeg was stopped by signal {-returncode}"
    return f"FFmpeg exited with code {returncode}"


class _FFmpegSource(_PipeSource):
    """A stream decoded by one FFmpeg process (module docstring); opened at construction."""

    def __init__(self, name: str, url: str | None, stdin, open_timeout_s: float, read_timeout_s: float,
                 secret: str = ""):
        super().__init__()
        self.name = name
        self.read_timeout_s = float(read_timeout_s)
        self._secret = secret
        cmd = ffmpeg_command(url, max(open_timeout_s, read_timeout_s) + 1.0)
        self._log = tempfile.TemporaryFile()  # a file, not a pipe: FFmpeg can never block on it
        try:
            with interrupts_deferred():  # an interrupt inside Popen would leave an FFmpeg nobody owns
                self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL if url is not None else stdin,
                                              stdout=subprocess.PIPE, stderr=self._log,
                                              start_new_session=True)  # Ctrl-C stops us; we stop FFmpeg
        except BaseException:
            self._log.close()
            raise
        try:
            self._pipe = _Pipe(self._proc.stdout.fileno())
            self._open(open_timeout_s)
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._proc.stdout.close()
        self._log.close()
        if hasattr(self, "_pipe"):
            self._pipe.release()

    def _open(self, open_timeout_s: float) -> None:
        """Wait for the Y4M header (FFmpeg writes it with the first frame)."""
        try:
            line = self._pipe.readline(time.perf_counter() + open_timeout_s)
        except _Timeout:
            self._kill()
            lines = _log_lines(self._log)
            detail = f"FFmpeg: {self._hide(lines[-1])}" if lines else "nothing decodable arrived"
            raise LiveSourceError(f"no video from {self.name} within {open_timeout_s:g} s ({detail})") from None
        except _EOF:
            rc = self._wait()
            raise LiveSourceError(f"cannot open {self.name}: {self._reason(rc)}") from None
        except LiveSourceError as exc:
            raise LiveSourceError(f"cannot read {self.name}: {exc}") from None
        try:
            header = parse_y4m_header(line)
        except LiveSourceError as exc:
            raise LiveSourceError(f"cannot read {self.name}: FFmpeg wrote {exc}") from None
        if header.width % 2 or header.height % 2:  # the crop filter makes them even
            raise LiveSourceError(f"cannot read {self.name}: odd frame size {header.width}x{header.height}")
        self.info = SourceInfo(self.name, header.width, header.height, header.fps)
        self._yuv = np.empty((header.height * 3 // 2, header.width), np.uint8)

    def _kill(self) -> None:
        if self._proc.poll() is None:
            try:
                self._proc.kill()
            except OSError:
                pass

    def _wait(self) -> int:
        """FFmpeg's exit code (it closed its output: it is exiting, or killed after 5 s)."""
        try:
            return self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill()
            return self._proc.wait()

    def _hide(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _reason(self, rc: int) -> str:
        """Why FFmpeg stopped, from its last error line."""
        return self._hide(ffmpeg_error_reason(_log_lines(self._log), rc))

    def _next(self) -> tuple[np.ndarray, float]:
        deadline = time.perf_counter() + self.read_timeout_s
        line = self._pipe.readline(deadline)
        if not line.startswith(b"FRAME"):
            raise LiveSourceError(f"{self.name}: FFmpeg wrote no YUV4MPEG2 frame marker ({line[:20]!r})")
        self._pipe.read_exact(memoryview(self._yuv).cast("B"), deadline)
        captured = time.perf_counter()
        return cv2.cvtColor(self._yuv, cv2.COLOR_YUV2RGB_I420), captured

    def _at_eof(self, exc: _EOF) -> None:
        rc = self._wait()
        if rc != 0:
            raise LiveSourceError(f"{self.name} failed: {self._reason(rc)}")
        broke = [line.split(": ", 1)[-1] for line in _log_lines(self._log) if "Error during demuxing" in line]
        if broke:
            self.note = f"the stream broke off: {self._hide(broke[-1])}"
        elif exc.args and exc.args[0]:
            self.note = "the stream ended inside a frame"
        return None

    def _stop_now(self) -> None:
        self._kill()

    def _release(self) -> None:
        self._kill()
        self._wait()
        for stream in (self._proc.stdout, self._log):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


# --- raw rgb24 frames on standard input -------------------------------------------------------

def _fileno(stdin) -> int:
    """The descriptor to read: this process's standard input (0) when ``stdin`` is None."""
    if stdin is None:
        return 0
    if isinstance(stdin, int):
        return stdin
    return stdin.fileno()


class _RawSource(_PipeSource):
    """Headerless rgb24 frames of a known size on a pipe (standard input), read without FFmpeg."""

    def __init__(self, fd: int, size: tuple[int, int], fps: Fraction, open_timeout_s: float,
                 read_timeout_s: float):
        super().__init__()
        width, height = size
        self.info = SourceInfo("stdin", width, height, fps)
        self.read_timeout_s = float(read_timeout_s)
        self._pipe = _Pipe(fd)
        self._first: tuple[np.ndarray, float] | None = None
        what = f"a {width}x{height} rgb24 frame ({width * height * 3} bytes)"
        try:
            self._first = self._frame(time.perf_counter() + open_timeout_s)
        except _Timeout:
            raise LiveSourceError(f"no video from stdin within {open_timeout_s:g} s (waiting for {what})") from None
        except _EOF as exc:
            got = exc.args[0]
            ended = f"{got} bytes" if got else "it is empty"
            raise LiveSourceError(f"stdin ended before {what}: {ended}") from None
        finally:
            if self._first is None:
                self._pipe.release()

    def _frame(self, deadline: float) -> tuple[np.ndarray, float]:
        image = np.empty((self.info.height, self.info.width, 3), np.uint8)
        self._pipe.read_exact(memoryview(image).cast("B"), deadline)
        return image, time.perf_counter()

    def _next(self) -> tuple[np.ndarray, float]:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return self._frame(time.perf_counter() + self.read_timeout_s)

    def _at_eof(self, exc: _EOF) -> None:
        if exc.args and exc.args[0]:
            info = self.info
            self.note = (f"stdin ended inside a frame: its last {exc.args[0]} bytes are not a whole "
                         f"{info.width}x{info.height} rgb24 frame (is the raw size right?)")
        return None

    def _release(self) -> None:
        self._first = None  # standard input itself is the caller's


def open_live(spec: str, *, raw_size: tuple[int, int] | None = None, fps: float | Fraction | None = None,
              open_timeout_s: float = 10.0, read_timeout_s: float = 10.0, stdin=None) -> LiveSource:
    """Open a stream URL (is_live_spec) or "-" (standard input); returns once the first frame came.

    "-" carries anything FFmpeg can probe from a pipe (mpegts, matroska, y4m, mjpeg...) or, with
    ``raw_size`` = (width, height), headerless rgb24 frames of that size stated at ``fps`` frames per
    second (default DEFAULT_RAW_FPS; ``fps`` is used for raw frames only). ``stdin``: a binary file
    object or file descriptor to read instead of this process's standard input (for "-" only).

    ``open_timeout_s``: the first frame must come within it; ``read_timeout_s``: a stream that
    sends no frame for that long ends (read() returns None, ``note`` says so). Raises
    LiveSourceError (one line, e.g. "cannot open tcp://127.0.0.1:9: Connection refused", "no video
    from udp://0.0.0.0:5000 within 10 s (nothing decodable arrived)").
    """
    if not is_live_spec(spec):
        raise LiveSourceError(f"not a live source: {spec!r} (use a stream URL such as "
                              f"{', '.join(s + '://' for s in LIVE_SCHEMES[:3])}... or - for standard input)")
    if spec == "-":
        if raw_size is not None:
            width, height = (int(v) for v in raw_size)
            if width <= 0 or height <= 0:
                raise ValueError(f"raw_size must be positive, got {raw_size}")
            rate = DEFAULT_RAW_FPS if fps is None else Fraction(fps).limit_denominator(1001)
            if rate <= 0:
                raise ValueError(f"fps must be positive, got {fps}")
            return _RawSource(_fileno(stdin), (width, height), rate, open_timeout_s, read_timeout_s)
        return _FFmpegSource("stdin", None, stdin, open_timeout_s, read_timeout_s)
    if raw_size is not None:
        raise ValueError("raw_size is for raw frames on standard input ('-') only")
    password = _PASSWORD.match(spec)
    return _FFmpegSource(_display_name(spec), spec, None, open_timeout_s, read_timeout_s,
                         secret=password.group(2) if password else "")


# --- webcams ----------------------------------------------------------------------------------

def _video_devices() -> list[str]:
    """/dev/video* in index order (Linux)."""
    def index(path: str) -> tuple[int, str]:
        digits = re.sub(r"\D", "", path)
        return (int(digits) if digits else -1, path)
    return sorted(glob.glob("/dev/video*"), key=index)


class _WebcamSource(_Closable):
    """An OpenCV VideoCapture device; opened (first frame read) by open_webcam."""

    def __init__(self, index: int, cap: cv2.VideoCapture, first: np.ndarray, captured: float):
        fps = cap.get(cv2.CAP_PROP_FPS)
        rate = Fraction(fps).limit_denominator(1001) if np.isfinite(fps) and 0 < fps <= MAX_STATED_FPS else None
        height, width = first.shape[:2]
        self.info = SourceInfo(f"webcam {index}", int(width), int(height), rate)
        self.note = ""
        self._cap = cap
        self._first: tuple[np.ndarray, float] | None = (cv2.cvtColor(first, cv2.COLOR_BGR2RGB), captured)
        self._io = threading.Lock()
        self._closed = False
        self._released = False

    def read(self) -> tuple[np.ndarray, float] | None:
        with self._io:
            if self._closed or self._released:
                self._release()
                return None
            if self._first is not None:
                first, self._first = self._first, None
                return first
            ok, bgr = self._cap.read()
            captured = time.perf_counter()
            if self._closed:
                self._release()
                return None
            if not ok or bgr is None:
                self._release()
                raise LiveSourceError(f"{self.info.name} stopped giving frames (unplugged, or taken by another "
                                      f"program?)")
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), captured

    def _release(self) -> None:
        if not self._released:
            self._released = True
            self._cap.release()

    def _interrupt(self) -> None:
        """A read() in progress (at most one frame interval) ends first; if it does not within
        _CLOSE_WAIT_S, that read() releases the device when it returns."""
        self._closed = True

    def _close_locked(self) -> None:
        self._release()


_cv_log_lock = threading.Lock()


def open_webcam(index: int, *, open_timeout_s: float = 10.0) -> LiveSource:
    """Open webcam ``index`` (OpenCV's device index: /dev/video<index> on Linux) and read its first
    frame; raises LiveSourceError, e.g. "no webcam at index 3 (found: /dev/video0)". OpenCV's own
    log lines are silenced while opening. Frames are the camera's size, RGB."""
    index = int(index)
    name = f"webcam {index}"
    api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
    done = threading.Event()
    lock = threading.Lock()
    state: dict = {"abandoned": False}

    def opener() -> None:  # in a thread: a device can hang while opening
        cap = None
        try:
            with _cv_log_lock:
                level = cv2.getLogLevel()
                cv2.setLogLevel(0)  # silent: "can't open camera by index" and the like
                try:
                    cap = cv2.VideoCapture(index, api)
                    ok, bgr = cap.read() if cap.isOpened() else (False, None)
                    captured = time.perf_counter()
                finally:
                    cv2.setLogLevel(level)
            with lock:
                if state["abandoned"]:
                    cap.release()
                    return
                state.update(opened=cap.isOpened(), cap=cap, first=bgr if ok else None, captured=captured)
        except Exception as exc:  # told to the caller
            with lock:
                state["error"] = exc
                if cap is not None and state["abandoned"]:
                    cap.release()
        finally:
            done.set()

    threading.Thread(target=opener, name=f"open-{name}", daemon=True).start()
    if not done.wait(open_timeout_s):
        with lock:
            state["abandoned"] = True
            if "cap" in state:  # finished just now
                state["cap"].release()
        raise LiveSourceError(f"no video from {name} within {open_timeout_s:g} s")
    if "error" in state:
        raise LiveSourceError(f"cannot open {name}: {state['error']}")
    cap = state["cap"]
    if not state["opened"]:
        cap.release()
        if not sys.platform.startswith("linux"):
            raise LiveSourceError(f"no webcam at index {index} (or it cannot be opened)")
        devices = _video_devices()
        device = f"/dev/video{index}"
        if device in devices:
            raise LiveSourceError(f"cannot open {name} ({device}): in use by another program, or not a camera")
        found = "found: " + ", ".join(devices) if devices else "none found"
        raise LiveSourceError(f"no webcam at index {index} ({found})")
    if state["first"] is None:
        cap.release()
        raise LiveSourceError(f"{name} opened but gave no frame")
    return _WebcamSource(index, cap, state["first"], state["captured"])


# --- the newest-frame mailbox -----------------------------------------------------------------

class Grabber:
    """Newest-frame mailbox: a daemon thread calls ``source.read()`` as fast as the source yields
    and keeps only the newest frame; a frame replaced before anyone took it is dropped (counted).

    ``take(timeout)``: the newest frame not yet taken (a LiveFrame; waits for one); None when the
    stream ended (or the grabber was closed) and no untaken frame is left; raises the source's
    LiveSourceError once if it failed (after the frame still in the mailbox, if any; any other
    exception of the source comes as a LiveSourceError too); TimeoutError after ``timeout`` s.

    Counters: ``captured`` frames read from the source, ``taken`` handed out, ``dropped`` replaced
    before being taken or left untaken at close: captured == taken + dropped once the grabber is
    closed, or the stream ended and the mailbox is empty. ``ended``: the source returned None or
    failed (not set by close()). ``note``: "" or why the stream ended early (the source's ``note``,
    e.g. a read timeout). ``close()`` stops the thread and closes the source (idempotent).
    """

    def __init__(self, source: LiveSource):
        self.source = source
        self.info = source.info
        self.captured = 0
        self.taken = 0
        self.dropped = 0
        self.ended = False
        self.note = ""
        self._slot: LiveFrame | None = None
        self._error: LiveSourceError | None = None
        self._stopped = False  # the thread stopped reading
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="live-grab", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        error = None
        try:
            while True:
                item = self.source.read()
                if item is None:
                    break
                image, captured = item
                with self._cond:
                    frame = LiveFrame(self.captured, image, captured)
                    self.captured += 1
                    if self._closed:
                        self.dropped += 1
                        break
                    if self._slot is not None:
                        self.dropped += 1
                    self._slot = frame
                    self._cond.notify_all()
        except LiveSourceError as exc:
            error = exc
        except Exception as exc:  # a bug or an OS error in the source: still one line for the user
            error = LiveSourceError(f"reading {self.info.name} failed: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
        finally:
            with self._cond:
                self._stopped = True
                if not self._closed:
                    self.ended = True
                    self._error = error
                    self.note = getattr(self.source, "note", "") or ""
                self._cond.notify_all()

    def take(self, timeout: float | None = None) -> LiveFrame | None:
        deadline = None if timeout is None else time.perf_counter() + timeout
        with self._cond:
            while True:
                if self._slot is not None:
                    frame, self._slot = self._slot, None
                    self.taken += 1
                    return frame
                if self._error is not None:
                    error, self._error = self._error, None
                    raise error
                if self._stopped or self._closed:
                    return None
                left = None if deadline is None else deadline - time.perf_counter()
                if left is not None and left <= 0:
                    raise TimeoutError(f"no frame from {self.info.name} within {timeout:g} s")
                self._cond.wait(left)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self.source.close()
        self._thread.join(timeout=_CLOSE_WAIT_S)
        with self._cond:
            if self._slot is not None:
                self._slot = None
                self.dropped += 1
            self._cond.notify_all()

    def __enter__(self) -> "Grabber":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
