"""demo/sources.py: live sources (network streams, standard input, webcams) and the Grabber.

Streams are tiny (160x120, a second or less) and made with the bundled FFmpeg's lavfi; network
servers are Python sockets (listening before the source opens: no start-up race) that relay an
FFmpeg encoder's output or send prepared bytes and then stall. Every wait is bounded.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import struct
import subprocess
import threading
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from _demo_fakes import free_port
from demo.sources import (Grabber, LiveFrame, LiveSourceError, SourceInfo, ffmpeg_command, ffmpeg_error_reason,
                          is_live_spec, open_live, open_webcam, parse_y4m_header)
from demo.video import ffmpeg_exe

W, H = 160, 120


# --- helpers ------------------------------------------------------------------------------------

def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=60)


def _lavfi(out: Path, *, src: str = f"testsrc2=size={W}x{H}:rate=25", frames: int = 15,
           codec: tuple[str, ...] = ("-c:v", "libx264", "-tune", "zerolatency"), fmt: str = "mpegts") -> Path:
    _ffmpeg("-f", "lavfi", "-i", src, "-frames:v", str(frames), *codec, "-f", fmt, str(out))
    return out


def _reference_frames(path: Path) -> np.ndarray:
    """Every frame of a file decoded by FFmpeg straight to rgb24: (N, H, W, 3)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-fps_mode", "passthrough",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    raw = subprocess.run(cmd, capture_output=True, check=True, timeout=60).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)


class _Server:
    """A TCP server on 127.0.0.1 (listening once constructed) for one client: sends ``data`` (bytes)
    or what ``cmd`` (an FFmpeg encoder writing to its stdout) writes, then keeps the connection
    open ``hold_s`` seconds (a stalled stream), then closes it (``reset``: aborts it, a TCP RST)."""

    def __init__(self, data: bytes | None = None, cmd: list[str] | None = None, hold_s: float = 0.0,
                 reset: bool = False):
        self.reset = reset
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(data, cmd, hold_s), daemon=True)
        self.thread.start()

    def _run(self, data, cmd, hold_s) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                if cmd is not None:
                    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                    try:
                        while chunk := proc.stdout.read1(65536):
                            conn.sendall(chunk)
                    finally:
                        proc.kill()
                        proc.wait()
                        proc.stdout.close()
                else:
                    conn.sendall(data)
                self.stop.wait(hold_s)
                if self.reset:  # abort the connection (RST) instead of closing it
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:  # the client went away
                pass

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=10)


@pytest.fixture
def servers():
    made: list[_Server] = []
    yield lambda *a, **k: made.append(_Server(*a, **k)) or made[-1]
    for server in made:
        server.close()


def _read_all(source, limit: int = 1000) -> list[tuple[np.ndarray, float]]:
    items = []
    while (item := source.read()) is not None:
        items.append(item)
        assert len(items) <= limit
    return items


def _check_frames(items, n: int) -> None:
    assert len(items) == n
    for image, _ in items:
        assert image.shape == (H, W, 3) and image.dtype == np.uint8 and image.flags.c_contiguous
    times = [t for _, t in items]
    assert all(b > a for a, b in zip(times, times[1:]))
    assert times[-1] <= time.perf_counter()


def _wait_until(condition, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


# --- pure parts -----------------------------------------------------------------------------------

def test_y4m_header_parser():
    h = parse_y4m_header(b"YUV4MPEG2 W160 H120 F25:1 Ip A1:1 C420mpeg2 XYSCSS=420MPEG2\n")
    assert (h.width, h.height, h.fps, h.colorspace) == (160, 120, Fraction(25), "420mpeg2")
    assert h.frame_bytes == 160 * 120 * 3 // 2
    assert parse_y4m_header(b"YUV4MPEG2 W1920 H1080 F30000:1001 Ip C420jpeg").fps == Fraction(30000, 1001)
    assert parse_y4m_header(b"YUV4MPEG2 W2 H2").colorspace == "420jpeg"  # no C: the format's default
    assert parse_y4m_header(b"YUV4MPEG2 W2 H2").fps is None  # no F
    assert parse_y4m_header(b"YUV4MPEG2 W2 H2 F90000:1").fps is None  # a time base, not a rate
    assert parse_y4m_header(b"YUV4MPEG2 W2 H2 F0:0").fps is None
    assert parse_y4m_header(b"YUV4MPEG2 W3 H3").frame_bytes == 9 + 2 * 4
    for bad, why in [(b"RIFF W2 H2", "signature"), (b"YUV4MPEG2 W160 F25:1", "no frame size"),
                     (b"YUV4MPEG2 Wx H2", "bad W field"), (b"YUV4MPEG2 W2 H2 F25", "bad F field"),
                     (b"YUV4MPEG2 W2 H2 C444", "not 4:2:0"), (b"YUV4MPEG2 W0 H2", "frame size 0x2")]:
        with pytest.raises(LiveSourceError, match=why) as info:
            parse_y4m_header(bad)
        assert "\n" not in str(info.value) and "YUV4MPEG2" in str(info.value)


def test_is_live_spec():
    for spec in ["-", "rtsp://cam/stream", "RTSP://cam", "rtsps://h/x", "rtmp://h/live/k", "rtmps://h/a",
                 "udp://0.0.0.0:5000", "tcp://127.0.0.1:9", "http://h/x.ts", "https://h/x.m3u8", "srt://h:9000",
                 "rtp://127.0.0.1:5004"]:
        assert is_live_spec(spec), spec
    for spec in ["video.mp4", "/data/a.mkv", "./-", "--", "file:///a.mp4", "C:\\videos\\a.mp4", "rtsp:/x", "ftp://h/a",
                 "sample_videos/cam01.mp4"]:
        assert not is_live_spec(spec), spec


def test_ffmpeg_command_flags():
    cmd = ffmpeg_command("udp://127.0.0.1:5000", 3.0)
    assert cmd[cmd.index("-timeout") + 1] == "3000000" and "-overrun_nonfatal" in cmd and "-nostdin" in cmd
    tcp = ffmpeg_command("tcp://h:1", 2.5)
    assert tcp[tcp.index("-rw_timeout") + 1] == "2500000" and "-timeout" not in tcp
    assert "-timeout" not in ffmpeg_command("rtmp://h/live/k", 2.0)  # rtmp's -timeout means "listen"
    stdin = ffmpeg_command(None, 2.0)
    assert stdin[stdin.index("-i") + 1] == "pipe:0" and "-nostdin" not in stdin and "-rw_timeout" not in stdin
    for flags in (["-fps_mode", "passthrough"], ["-map", "0:v:0"], ["-f", "yuv4mpegpipe"], ["-pix_fmt", "yuv420p"]):
        assert any(stdin[i:i + 2] == flags for i in range(len(stdin))), flags
    assert stdin.index("-analyzeduration") < stdin.index("-i") < stdin.index("-fps_mode")


def test_ffmpeg_error_reason():
    refused = ["Connection to tcp://127.0.0.1:9 failed: Connection refused", "Error opening input: Connection refused",
               "Error opening input file tcp://127.0.0.1:9.", "Error opening input files: Connection refused"]
    assert ffmpeg_error_reason(refused, 145) == "Connection refused"
    no_video = ["Stream map '' matches no streams.", "To ignore this, add a trailing '?' to the map.",
                "Error opening output files: Invalid argument"]
    assert ffmpeg_error_reason(no_video, 234) == "no video stream in it"
    wrapped = ["Invalid NAL unit size (1234 > 56).", "Error submitting packet to decoder: Invalid data found",
               "Task finished with error code: -1094995529 (Invalid data found when processing input)",
               "Terminating thread with return code -1094995529 (Invalid data found when processing input)"]
    assert ffmpeg_error_reason(wrapped, 183) == "Error submitting packet to decoder: Invalid data found"
    assert ffmpeg_error_reason(wrapped[2:], 183).startswith("Terminating thread")  # nothing better said
    assert ffmpeg_error_reason([], -9) == "FFmpeg was stopped by signal 9"
    assert ffmpeg_error_reason([], 1) == "FFmpeg exited with code 1"


# --- network streams ------------------------------------------------------------------------------

def test_tcp_live_stream_every_frame_then_end(servers):
    """A real-time (-re) H.264 stream of a solid red: exactly the 20 frames sent, red, then the end."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi",
           "-i", f"color=c=red:size={W}x{H}:rate=25", "-frames:v", "20", "-c:v", "libx264", "-tune", "zerolatency",
           "-f", "mpegts", "pipe:1"]
    server = servers(cmd=cmd)
    t0 = time.perf_counter()
    source = open_live(server.url, open_timeout_s=10)
    opened = time.perf_counter() - t0
    assert source.info == SourceInfo(server.url, W, H, Fraction(25))
    items = _read_all(source)
    _check_frames(items, 20)
    assert opened < 3.0
    for image, _ in items:
        mean = image.reshape(-1, 3).mean(axis=0)
        assert mean[0] > 240 and mean[1] < 15 and mean[2] < 15, mean
    assert source.read() is None and source.note == ""
    assert source._proc.returncode == 0
    source.close()
    source.close()


def test_tcp_stream_frames_match_a_direct_decode(servers, tmp_path):
    """Content and order: each frame as FFmpeg decodes the same file straight to RGB (within the
    rounding of two YUV -> RGB conversions)."""
    ts = _lavfi(tmp_path / "a.ts", frames=12)
    expected = _reference_frames(ts)
    server = servers(ts.read_bytes())
    with open_live(server.url) as source:
        items = _read_all(source)
    _check_frames(items, 12)
    diffs = [np.abs(image.astype(int) - ref).mean() for (image, _), ref in zip(items, expected)]
    assert max(diffs) < 3.0, diffs
    shuffled = np.abs(items[3][0].astype(int) - expected[4]).mean()
    assert shuffled > 3 * max(diffs)  # the comparison tells neighbouring frames apart


def test_udp_stream_ends_by_read_timeout(tmp_path):
    """mpegts over udp: the receiver waits for a sender; a stream that stops sending ends after
    read_timeout_s, with a note."""
    port = free_port(socket.SOCK_DGRAM)
    url = f"udp://127.0.0.1:{port}"
    result: dict = {}

    def receive() -> None:
        try:
            source = open_live(url, open_timeout_s=15, read_timeout_s=0.7)
            result["info"] = source.info
            result["items"] = _read_all(source)
            result["ended"] = time.perf_counter()
            result["note"] = source.note
            result["rc"] = source._proc.returncode
        except BaseException as exc:  # told by the assertions below
            result["error"] = exc

    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    time.sleep(0.3)  # FFmpeg binds the port (a lost start only delays decoding to the next key frame)
    _ffmpeg("-re", "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=25", "-frames:v", "30", "-c:v", "libx264",
            "-tune", "zerolatency", "-g", "5", "-f", "mpegts", f"{url}?pkt_size=1316")
    sent = time.perf_counter()
    receiver.join(timeout=15)
    assert not receiver.is_alive()
    assert "error" not in result, result.get("error")
    assert result["info"].width == W and result["info"].height == H
    assert 10 <= len(result["items"]) <= 30
    assert 0.5 < result["ended"] - sent < 3.0
    assert result["note"] == "no frame for 0.7 s; treated as the end of the stream"
    assert result["rc"] is not None


@pytest.mark.parametrize("fmt, codec", [("yuv4mpegpipe", ()),
                                        ("matroska", ("-c:v", "libx264", "-tune", "zerolatency"))])
def test_read_timeout_on_a_stalled_stream(servers, tmp_path, fmt, codec):
    """A server sends 10 frames and goes silent: exactly 10 frames (neither Y4M nor Matroska holds
    one back, nor the H.264 decoder of a stream without B-frames: no frame threads), then None
    about read_timeout_s later, with a note; FFmpeg is gone."""
    video = _lavfi(tmp_path / "a.video", frames=10, codec=codec, fmt=fmt)
    server = servers(video.read_bytes(), hold_s=20)
    source = open_live(server.url, read_timeout_s=1.0)
    items = [source.read() for _ in range(10)]
    _check_frames(items, 10)
    t0 = time.perf_counter()
    assert source.read() is None
    waited = time.perf_counter() - t0
    assert 0.9 < waited < 3.0, waited
    assert source.note == "no frame for 1 s; treated as the end of the stream"
    assert source._proc.returncode is not None
    assert source.read() is None
    source.close()


def test_connection_reset_midway_ends_the_stream_with_a_note(servers, tmp_path):
    """FFmpeg ends a network input that fails midway as a normal end (exit code 0); the note says why."""
    y4m = _lavfi(tmp_path / "a.y4m", frames=3, codec=(), fmt="yuv4mpegpipe")
    server = servers(y4m.read_bytes(), hold_s=0.5, reset=True)
    with open_live(server.url, read_timeout_s=10) as source:
        _check_frames(_read_all(source), 3)
        assert source.note == "the stream broke off: Connection reset by peer"
        assert source._proc.returncode == 0


def test_close_from_another_thread_ends_a_blocked_read(servers, tmp_path):
    y4m = _lavfi(tmp_path / "a.y4m", frames=3, codec=(), fmt="yuv4mpegpipe")
    server = servers(y4m.read_bytes(), hold_s=20)
    source = open_live(server.url, read_timeout_s=30)
    for _ in range(3):
        assert source.read() is not None
    threading.Timer(0.3, source.close).start()
    t0 = time.perf_counter()
    assert source.read() is None  # blocked until close()
    assert time.perf_counter() - t0 < 2.0
    _wait_until(lambda: source._proc.returncode is not None, 5)
    assert source._proc.stdout.closed
    assert source.note == ""
    source.close()


def test_ffmpeg_dying_midway_is_an_error(servers):
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi",
           "-i", f"testsrc2=size={W}x{H}:rate=25", "-t", "20", "-c:v", "libx264", "-tune", "zerolatency",
           "-f", "mpegts", "pipe:1"]
    server = servers(cmd=cmd)
    source = open_live(server.url)
    assert source.read() is not None
    os.kill(source._proc.pid, signal.SIGKILL)
    t0 = time.perf_counter()
    with pytest.raises(LiveSourceError, match=f"{server.url} failed: FFmpeg was stopped by signal 9"):
        while source.read() is not None:
            pass
    assert time.perf_counter() - t0 < 3.0
    assert source.read() is None
    source.close()


def test_closed_port_fails_at_once_with_the_reason():
    url = f"tcp://127.0.0.1:{free_port()}"
    t0 = time.perf_counter()
    with pytest.raises(LiveSourceError) as info:
        open_live(url)
    assert time.perf_counter() - t0 < 5.0
    assert str(info.value) == f"cannot open {url}: Connection refused"


def test_silent_udp_port_gives_up_after_the_open_timeout():
    url = f"udp://127.0.0.1:{free_port(socket.SOCK_DGRAM)}"
    t0 = time.perf_counter()
    with pytest.raises(LiveSourceError, match=rf"^no video from {url} within 1 s \("):
        open_live(url, open_timeout_s=1.0)
    assert time.perf_counter() - t0 < 3.0


def test_password_is_not_shown():
    port = free_port()
    with pytest.raises(LiveSourceError) as info:
        open_live(f"rtsp://admin:s3cret@127.0.0.1:{port}/live", open_timeout_s=3)
    assert "s3cret" not in str(info.value) and f"rtsp://admin:***@127.0.0.1:{port}/live" in str(info.value)


def test_not_a_live_spec():
    with pytest.raises(LiveSourceError, match="not a live source"):
        open_live("video.mp4")
    with pytest.raises(ValueError, match="raw_size"):
        open_live("udp://127.0.0.1:5000", raw_size=(4, 4))


# --- standard input -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, ext, codec", [
    ("matroska", "mkv", ("-c:v", "libx264")),
    ("mpegts", "ts", ("-c:v", "libx264", "-tune", "zerolatency")),
    ("mpegts", "ts", ("-c:v", "mpeg2video", "-bf", "2")),  # B-frames: "-flags low_delay" would shuffle them
])
def test_stdin_container(tmp_path, fmt, ext, codec):
    video = _lavfi(tmp_path / f"a.{ext}", frames=15, fmt=fmt, codec=codec)
    expected = _reference_frames(video)
    with open(video, "rb") as f, open_live("-", stdin=f) as source:
        assert source.info == SourceInfo("stdin", W, H, Fraction(25))
        items = _read_all(source)
        assert source._proc.returncode == 0
    _check_frames(items, 15)
    assert max(np.abs(image.astype(int) - ref).mean() for (image, _), ref in zip(items, expected)) < 3.0


def test_stdin_variable_frame_rate_passes_every_frame_once(tmp_path):
    """Every decoded frame comes out once: FFmpeg's default for Y4M would duplicate frames to a
    constant rate (-fps_mode passthrough)."""
    video = tmp_path / "vfr.mkv"
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=25", "-frames:v", "30",
            "-vf", "select='not(eq(mod(n,3),1))'", "-fps_mode", "vfr", "-c:v", "libx264", str(video))
    expected = _reference_frames(video)
    assert len(expected) == 30  # a frame every 40 or 80 ms: 45 at a constant 25 fps
    with open(video, "rb") as f, open_live("-", stdin=f) as source:
        items = _read_all(source)
    _check_frames(items, 30)
    assert max(np.abs(image.astype(int) - ref).mean() for (image, _), ref in zip(items, expected)) < 3.0


def test_stdin_odd_frame_size_is_cropped_to_even(tmp_path):
    video = _lavfi(tmp_path / "odd.mkv", src="testsrc2=size=161x121:rate=25", frames=3,
                   codec=("-c:v", "ffv1"), fmt="matroska")
    with open(video, "rb") as f, open_live("-", stdin=f) as source:
        assert (source.info.width, source.info.height) == (160, 120)
        assert [image.shape for image, _ in _read_all(source)] == [(120, 160, 3)] * 3


def test_stdin_raw_frames_come_back_exactly(tmp_path):
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (4, 17, 33, 3), dtype=np.uint8)  # odd sizes too: no FFmpeg, no 4:2:0
    path = tmp_path / "raw.rgb"
    path.write_bytes(frames.tobytes())
    with open(path, "rb") as f, open_live("-", raw_size=(33, 17), fps=25, stdin=f) as source:
        assert source.info == SourceInfo("stdin", 33, 17, Fraction(25))
        items = _read_all(source)
        assert source.note == ""
    assert len(items) == 4
    for (image, _), frame in zip(items, frames):
        assert image.flags.c_contiguous and np.array_equal(image, frame)
    with open(path, "rb") as f, open_live("-", raw_size=(33, 17), stdin=f) as source:
        assert source.info.fps == 30  # the default rate


def test_stdin_raw_truncated_and_empty(tmp_path):
    path = tmp_path / "raw.rgb"
    path.write_bytes(bytes(8 * 8 * 3 + 100))
    with open(path, "rb") as f, open_live("-", raw_size=(8, 8), stdin=f) as source:
        assert source.read() is not None and source.read() is None
        assert "last 100 bytes are not a whole 8x8 rgb24 frame" in source.note
    path.write_bytes(b"")
    with open(path, "rb") as f, pytest.raises(LiveSourceError, match="stdin ended before a 8x8 rgb24 frame"):
        open_live("-", raw_size=(8, 8), stdin=f)


def test_stdin_raw_pipe_read_timeout_and_close():
    r, w = os.pipe()
    try:
        frame = np.full((4, 6, 3), 7, np.uint8)
        os.write(w, frame.tobytes() * 2)
        source = open_live("-", raw_size=(6, 4), stdin=r, read_timeout_s=0.4, open_timeout_s=2)
        assert np.array_equal(source.read()[0], frame) and np.array_equal(source.read()[0], frame)
        t0 = time.perf_counter()
        assert source.read() is None
        assert 0.3 < time.perf_counter() - t0 < 2.0
        assert source.note == "no frame for 0.4 s; treated as the end of the stream"
        source.close()

        os.write(w, frame.tobytes())
        source = open_live("-", raw_size=(6, 4), stdin=r, read_timeout_s=30, open_timeout_s=0.3)
        assert source.read() is not None
        threading.Timer(0.2, source.close).start()
        t0 = time.perf_counter()
        assert source.read() is None  # a blocked read ends when another thread closes
        assert time.perf_counter() - t0 < 2.0 and source.note == ""
        os.fstat(r)  # the caller's descriptor stays open

        t0 = time.perf_counter()
        with pytest.raises(LiveSourceError, match=r"no video from stdin within 0.3 s"):
            open_live("-", raw_size=(6, 4), stdin=r, open_timeout_s=0.3)
        assert time.perf_counter() - t0 < 2.0
    finally:
        os.close(r)
        os.close(w)


def test_garbage_and_no_video_on_stdin(tmp_path):
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"this is not a video\n" * 5000)
    with open(garbage, "rb") as f, pytest.raises(LiveSourceError) as info:
        open_live("-", stdin=f)
    assert str(info.value) == "cannot open stdin: Invalid data found when processing input"
    wav = tmp_path / "a.wav"
    _ffmpeg("-f", "lavfi", "-i", "anullsrc", "-t", "0.2", str(wav))
    with open(wav, "rb") as f, pytest.raises(LiveSourceError, match="cannot open stdin: no video stream in it"):
        open_live("-", stdin=f)


# --- webcams --------------------------------------------------------------------------------------

def test_missing_webcam_is_one_quiet_line(capfd):
    with pytest.raises(LiveSourceError) as info:
        open_webcam(99, open_timeout_s=5)
    message = str(info.value)
    assert message.startswith("no webcam at index 99 (") and "\n" not in message
    out, err = capfd.readouterr()
    assert err == "" and out == ""


class FakeCapture:
    """Stands in for cv2.VideoCapture: ``frames`` BGR frames (blue, value = number), then a failure;
    ``opened`` False: a missing device; ``hang`` seconds spent opening."""

    instances: list["FakeCapture"] = []
    frames, opened, hang, fps = 3, True, 0.0, 30.0

    def __init__(self, index, api=None):
        time.sleep(self.hang)
        self.index, self.sent, self.released = index, 0, False
        FakeCapture.instances.append(self)

    def isOpened(self):
        return self.opened

    def get(self, prop):
        return self.fps if prop == cv2.CAP_PROP_FPS else 0.0

    def read(self):
        if self.sent >= self.frames:
            return False, None
        image = np.zeros((6, 10, 3), np.uint8)
        image[..., 0] = 100 + self.sent  # BGR: blue
        self.sent += 1
        return True, image

    def release(self):
        self.released = True


@pytest.fixture
def fake_capture(monkeypatch):
    FakeCapture.instances = []
    monkeypatch.setattr(cv2, "VideoCapture", type("Capture", (FakeCapture,), {}))
    return cv2.VideoCapture


def test_webcam_frames_are_rgb_and_a_failure_is_an_error(fake_capture):
    source = open_webcam(2, open_timeout_s=5)
    assert source.info == SourceInfo("webcam 2", 10, 6, Fraction(30))
    items = [source.read() for _ in range(3)]
    for n, (image, t) in enumerate(items):
        assert image.shape == (6, 10, 3) and image.flags.c_contiguous
        assert image[0, 0].tolist() == [0, 0, 100 + n]  # RGB: blue last
    assert items[0][1] < items[1][1] < items[2][1]
    with pytest.raises(LiveSourceError, match="webcam 2 stopped giving frames"):
        source.read()
    assert FakeCapture.instances[-1].released and source.read() is None
    source.close()


def test_webcam_close_from_another_thread_waits_for_the_read(fake_capture):
    fake_capture.frames = 100
    source = open_webcam(0)
    capture = FakeCapture.instances[-1]
    slow_read = capture.read

    def read():  # a camera delivering its next frame 0.3 s later
        time.sleep(0.3)
        return slow_read()

    capture.read = read
    assert source.read() is not None  # the first frame, read while opening
    threading.Timer(0.1, source.close).start()
    t0 = time.perf_counter()
    assert source.read() is None  # closed while the camera was busy: no frame, the device released
    assert time.perf_counter() - t0 < 1.0 and capture.released
    assert source.read() is None


def test_webcam_unknown_fps_missing_busy_and_hanging(fake_capture, monkeypatch):
    fake_capture.fps = 0.0
    with open_webcam(0) as source:
        assert source.info.fps is None
    fake_capture.opened = False
    monkeypatch.setattr("demo.sources._video_devices", lambda: ["/dev/video0", "/dev/video1"])
    with pytest.raises(LiveSourceError, match=r"^no webcam at index 3 \(found: /dev/video0, /dev/video1\)$"):
        open_webcam(3)
    with pytest.raises(LiveSourceError, match=r"^cannot open webcam 1 \(/dev/video1\): in use"):
        open_webcam(1)
    assert all(cap.released for cap in FakeCapture.instances)
    fake_capture.opened, fake_capture.hang = True, 1.0
    t0 = time.perf_counter()
    with pytest.raises(LiveSourceError, match=r"^no video from webcam 0 within 0.2 s$"):
        open_webcam(0, open_timeout_s=0.2)
    assert time.perf_counter() - t0 < 0.8
    _wait_until(lambda: FakeCapture.instances[-1].released, 5)  # released once its open finished


# --- Grabber --------------------------------------------------------------------------------------

class StepSource:
    """Frames when the test says so: push() queues frames (4x2, value = number), end(), fail(exc).
    read() blocks until told; close() makes it return None."""

    def __init__(self, note: str = ""):
        self.info = SourceInfo("step", 4, 2, Fraction(30))
        self.note = ""
        self._final_note = note
        self._queue: queue.Queue = queue.Queue()
        self.sent = 0
        self.closed = threading.Event()
        self.reading = threading.Event()

    def push(self, n: int = 1) -> None:
        for _ in range(n):
            self._queue.put("frame")

    def end(self) -> None:
        self._queue.put(None)

    def fail(self, exc: BaseException) -> None:
        self._queue.put(exc)

    def read(self):
        self.reading.set()
        cmd = self._queue.get()
        if cmd is None or self.closed.is_set():
            self.note = self._final_note
            return None
        if isinstance(cmd, BaseException):
            raise cmd
        image = np.full((2, 4, 3), self.sent % 256, np.uint8)
        self.sent += 1
        return image, time.perf_counter()

    def close(self) -> None:
        self.closed.set()
        self._queue.put(None)


def _balanced(g: Grabber) -> bool:
    return g.captured == g.taken + g.dropped


def test_grabber_keeps_the_newest_frame_and_counts_drops():
    source = StepSource()
    with Grabber(source) as g:
        source.push()
        first = g.take(timeout=5)
        assert isinstance(first, LiveFrame) and first.index == 0 and first.image.shape == (2, 4, 3)
        source.push(3)
        _wait_until(lambda: g.captured == 4)
        newest = g.take(timeout=5)
        assert newest.index == 3 and int(newest.image[0, 0, 0]) == 3 and newest.captured > first.captured
        assert (g.captured, g.taken, g.dropped) == (4, 2, 2)
        source.push()
        _wait_until(lambda: g.captured == 5)
        source.end()
        _wait_until(lambda: g.ended)
        assert g.take(timeout=5).index == 4  # the frame left in the mailbox comes before the end
        assert g.take(timeout=5) is None and g.take() is None
        assert (g.captured, g.taken, g.dropped) == (5, 3, 2) and _balanced(g) and g.note == ""
    assert source.closed.is_set()


def test_grabber_waits_for_a_frame_and_times_out():
    source = StepSource()
    with Grabber(source) as g:
        t0 = time.perf_counter()
        with pytest.raises(TimeoutError):
            g.take(timeout=0.1)
        assert 0.09 < time.perf_counter() - t0 < 1.0
        threading.Timer(0.1, source.push).start()
        assert g.take(timeout=5).index == 0


def test_grabber_with_a_slow_consumer():
    """A source at 200 fps, a consumer at about 40: most frames dropped, the taken ones in order,
    and captured == taken + dropped exactly at the end."""

    class Paced:
        info = SourceInfo("paced", 8, 8, Fraction(200))

        def __init__(self):
            self.n = 0

        def read(self):
            if self.n >= 60:
                return None
            time.sleep(0.005)
            self.n += 1
            return np.zeros((8, 8, 3), np.uint8), time.perf_counter()

        def close(self):
            pass

    g = Grabber(Paced())
    indices = []
    while (frame := g.take(timeout=5)) is not None:
        indices.append(frame.index)
        time.sleep(0.025)
    assert g.ended and g.note == "" and g.captured == 60
    assert g.dropped > 10 and g.taken == len(indices) and _balanced(g)
    assert indices == sorted(set(indices)) and indices[-1] == 59  # the last frame is never lost at the end
    g.close()
    assert _balanced(g)


def test_grabber_raises_the_source_error_once():
    source = StepSource()
    g = Grabber(source)
    source.push()
    source.fail(LiveSourceError("tcp://x failed: Connection reset by peer"))
    _wait_until(lambda: g.ended)
    assert g.take(timeout=5).index == 0
    with pytest.raises(LiveSourceError, match="Connection reset"):
        g.take(timeout=5)
    assert g.take(timeout=5) is None and _balanced(g)
    g.close()


def test_grabber_wraps_other_source_exceptions():
    source = StepSource()
    g = Grabber(source)
    source.fail(OSError(5, "Input/output error"))
    with pytest.raises(LiveSourceError, match="reading step failed: OSError") as info:
        g.take(timeout=5)
    assert isinstance(info.value.__cause__, OSError)
    g.close()


def test_grabber_note_and_a_source_without_one():
    source = StepSource(note="no frame for 1 s; treated as the end of the stream")
    g = Grabber(source)
    source.end()
    assert g.take(timeout=5) is None and g.note == source.note and g.ended
    g.close()

    class Bare:  # a LiveSource with no note attribute
        info = SourceInfo("bare", 2, 2, None)

        def read(self):
            return None

        def close(self):
            pass

    g = Grabber(Bare())
    assert g.take(timeout=5) is None and g.note == ""
    g.close()


def test_grabber_close_while_the_source_blocks():
    source = StepSource()
    g = Grabber(source)
    source.push()
    _wait_until(lambda: g.captured == 1)
    t0 = time.perf_counter()
    g.close()  # the source's read() is blocked; close() unblocks it
    assert time.perf_counter() - t0 < 1.0
    assert (g.captured, g.taken, g.dropped) == (1, 0, 1) and not g.ended
    assert g.take(timeout=1) is None
    g.close()
    assert source.closed.is_set() and not g._thread.is_alive()


def test_grabber_close_wakes_a_waiting_take():
    source = StepSource()
    g = Grabber(source)
    threading.Timer(0.2, g.close).start()
    t0 = time.perf_counter()
    assert g.take(timeout=10) is None
    assert time.perf_counter() - t0 < 2.0


def test_grabber_over_a_real_stream_leaves_no_ffmpeg(servers, tmp_path):
    y4m = _lavfi(tmp_path / "a.y4m", frames=5, codec=(), fmt="yuv4mpegpipe")
    server = servers(y4m.read_bytes(), hold_s=20)
    source = open_live(server.url, read_timeout_s=30)
    g = Grabber(source)
    _wait_until(lambda: g.captured == 5)
    frame = g.take(timeout=5)
    assert frame.index == 4 and frame.image.shape == (H, W, 3)
    t0 = time.perf_counter()
    g.close()
    assert time.perf_counter() - t0 < 2.0
    assert source._proc.returncode is not None and (g.captured, g.taken, g.dropped) == (5, 1, 4)
