"""Live input (demo/live.py, demo/online.py, the CLI's live mode): causal motion, exact frame
accounting, outputs written on every way of stopping, real streams served by FFmpeg on localhost,
and the window under Xvfb."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from _demo_fakes import RAW_MOTION, STANDING_17, ContentDetector, FakeDetector, FakeLifter, free_port
from demo.live import LiveSettings, output_stem, run_session, write_live_outputs
from demo.motion import MotionSettings
from demo.online import OnlineMotion, live_settings
from demo.outputs import read_npz
from demo.pipeline import Options
from demo.render import PANEL_BG
from demo.sources import SourceInfo
from demo.video import ffmpeg_exe, probe

ROOT = Path(__file__).resolve().parents[1]
VIS = ROOT / "tests" / "fake_cli.py"  # demo/vis.py with the stand-in models


# --- a source in memory --------------------------------------------------------------------------

class FakeSource:
    """``frames`` textured frames, one every ``interval`` seconds (a camera's pace)."""

    def __init__(self, frames: int, interval: float = 0.0, size=(64, 48), fps=Fraction(30)):
        self.info = SourceInfo(name="fake", width=size[0], height=size[1], fps=fps)
        self.frames, self.interval = frames, interval
        self.sent = 0
        self.closed = False
        rng = np.random.default_rng(0)
        self.image = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)  # textured: people found
        self.next_time = None

    def read(self):
        if self.closed or self.sent >= self.frames:
            return None
        now = time.perf_counter()
        if self.next_time is not None and now < self.next_time:
            time.sleep(self.next_time - now)
        self.next_time = time.perf_counter() + self.interval
        self.sent += 1
        return self.image.copy(), time.perf_counter()

    def close(self):
        self.closed = True


def _session(source, detector=None, **options):
    options.setdefault("progress", False)
    options.setdefault("motion", MotionSettings())
    return run_session(source, LiveSettings(Options(**options)), detector or FakeDetector(), FakeLifter())


def test_every_frame_processed_when_the_analysis_keeps_up():
    result, stats = _session(FakeSource(20, interval=0.01))
    assert stats.captured == 20 and stats.processed == 20 and stats.dropped == 0
    assert result.num_frames == 20 and result.keypoints_3d.shape == (1, 20, 17, 3)
    assert result.valid.all() and np.isfinite(result.keypoints_3d_world).all()
    assert len(stats.latency_ms) == 20 and min(stats.latency_ms) > 0
    assert np.all(np.diff(result.time_s) > 0) and result.time_s[0] == 0
    assert stats.stopped_by == "end of stream"
    assert result.smoothing == "oneeuro 6 Hz"


def test_a_slow_analysis_drops_frames_and_counts_them_exactly():
    # the detector takes 30 ms, frames come every 5 ms: most are dropped, none queued
    result, stats = _session(FakeSource(60, interval=0.005), ContentDetector(delay=0.03))
    assert stats.dropped > 20
    assert stats.captured == 60 == stats.processed + stats.dropped
    assert result.num_frames == stats.processed
    # the newest frame is taken: latency stays near one analysis, not a growing queue
    assert np.median(stats.latency_ms) < 200


def test_max_frames_stops_the_session():
    result, stats = _session(FakeSource(1000, interval=0.002), max_frames=7)
    assert stats.processed == 7 and result.num_frames == 7 and stats.stopped_by == "max frames"
    assert stats.captured == stats.processed + stats.dropped


def test_nobody_and_nothing():
    result, stats = _session(FakeSource(5, interval=0.005), FakeDetector(empty=lambda i: True))
    assert result.num_people == 0 and result.keypoints_3d.shape == (0, 5, 17, 3)
    result, stats = _session(FakeSource(0))
    assert result is None and stats.processed == 0 and stats.captured == 0


def test_several_people_keep_their_ids_and_outputs_are_written(tmp_path):
    result, stats = _session(FakeSource(15, interval=0.005), FakeDetector(people=2))
    assert list(result.track_ids) == [1, 2] and result.valid.all()
    paths = write_live_outputs(tmp_path, result, ("bvh", "csv"), "webcam0")
    names = sorted(p.name for p in paths)
    assert names == sorted(["keypoints.npz", "keypoints.json", "keypoints.csv", "webcam0_person1.bvh",
                            "webcam0_person2.bvh"])
    back = read_npz(tmp_path / "keypoints.npz")
    np.testing.assert_allclose(back.keypoints_3d, result.keypoints_3d, atol=1e-6)
    assert back.num_frames == stats.processed


def test_an_error_in_the_analysis_is_raised_and_the_threads_stop():
    class Broken(FakeDetector):
        def detect(self, frame, t):
            raise RuntimeError("detector broke")

    source = FakeSource(10_000, interval=0.001)
    with pytest.raises(RuntimeError, match="detector broke"):
        _session(source, Broken())
    assert source.closed


def test_status_line_reports_rates_drops_latency_and_people(capsys):
    _session(FakeSource(40, interval=0.025), FakeDetector(people=2), progress=True)
    err = capsys.readouterr().err
    line = err.replace("\r", "\n").strip().splitlines()
    status = [x for x in line if "processed" in x]
    assert status, err
    assert all(word in status[-1] for word in ("live fake", "in ", "fps", "dropped", "latency", "ms", "people 2"))
    assert "/" not in status[-1].split("frame")[0], "a live source has no total"


def test_output_stem():
    assert output_stem("webcam 0") == "webcam_0" and output_stem("stdin") == "stdin"
    assert output_stem("tcp://127.0.0.1:5000?listen=1") == "127_0_0_1_5000_listen_1"
    assert output_stem("-") == "live"


# --- the causal motion -------------------------------------------------------------------------

def _walk(frames: int, fps: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    poses = np.repeat(STANDING_17[None], frames, 0) + rng.normal(0, 0.01, (frames, 17, 3)).astype(np.float32)
    kp2d = (poses[:, :, :2] / 4.0 * 1000 + [320, 240]).astype(np.float32)
    return poses, kp2d, np.full((frames, 17), 0.9, np.float32), np.arange(frames) / fps


def test_online_motion_is_causal_and_settles_on_constant_bones():
    poses, kp2d, scores, times = _walk(60, 30.0)
    settings, _ = live_settings(MotionSettings())
    full = OnlineMotion(640, 480, 30.0, settings)
    outs = [full.update(1, kp2d[t], scores[t], poses[t], times[t]) for t in range(60)]
    part = OnlineMotion(640, 480, 30.0, settings)
    for t in range(30):  # a prefix gives the same frames: nothing looks ahead
        o = part.update(1, kp2d[t], scores[t], poses[t], times[t])
        np.testing.assert_array_equal(o.kp3d, outs[t].kp3d)
        np.testing.assert_array_equal(o.root, outs[t].root)
    from demo.bones import bone_lengths
    late = bone_lengths(np.stack([o.kp3d for o in outs[40:]]))
    assert late.std(0).max() < 0.003  # metres: the lengths have settled
    raw = bone_lengths(poses[40:])
    assert raw.std(0).max() > 0.005  # while the lifter's own vary
    assert all(np.isfinite(o.root).all() and o.root[2] > 0 for o in outs)
    assert all(abs(o.world[:, 2].min()) < 1e-5 for o in outs)  # fixed view: lowest joint on the floor


def test_online_motion_restarts_after_a_gap_and_off_is_the_raw_pose():
    poses, kp2d, scores, times = _walk(10, 30.0)
    motion = OnlineMotion(640, 480, 30.0, live_settings(MotionSettings(smooth="off", bones=False))[0])
    out = motion.update(3, kp2d[0], scores[0], poses[0], 0.0)
    np.testing.assert_array_equal(out.kp3d, poses[0])
    smooth = OnlineMotion(640, 480, 30.0, live_settings(MotionSettings(bones=False))[0])
    smooth.update(1, kp2d[0], scores[0], poses[0], 0.0)
    back = smooth.update(1, kp2d[1], scores[1], poses[1], 5.0)  # 5 s later: a new run, not bridged
    np.testing.assert_array_equal(back.kp3d, poses[1])


def test_live_settings_notes():
    settings, notes = live_settings(MotionSettings())
    assert settings.smooth == "oneeuro" and not settings.repair and not settings.ground
    assert len(notes) == 3 and all(n.startswith("live: ") for n in notes)
    assert live_settings(RAW_MOTION) == (RAW_MOTION, [])


# --- the CLI on real local streams ----------------------------------------------------------------

def _server(port: int, frames: int, rate: int = 25, size: str = "160x120") -> subprocess.Popen:
    """FFmpeg listening on tcp://127.0.0.1:port; sends ``frames`` frames in real time once a client connects."""
    return subprocess.Popen(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi",
         "-i", f"testsrc2=size={size}:rate={rate}", "-frames:v", str(frames), "-c:v", "libx264", "-preset",
         "ultrafast", "-tune", "zerolatency", "-g", str(rate), "-f", "mpegts", f"tcp://127.0.0.1:{port}?listen=1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _env(**extra) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]))
    env.update(extra)
    return env


def _cli(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(VIS), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


def _check_outputs(out: Path, frames_max: int, csv: bool = True) -> int:
    back = read_npz(out / "keypoints.npz")
    assert 0 < back.num_frames <= frames_max
    assert back.keypoints_3d.shape[1:] == (back.num_frames, 17, 3)
    assert (out / "keypoints.json").is_file() and (out / "keypoints.csv").is_file() == csv
    assert not list(out.glob(".*.tmp*")), "no temporary file stays"
    return back.num_frames


@pytest.mark.heavy
def test_cli_stream_to_its_end_writes_everything(tmp_path):
    port = free_port()
    server = _server(port, frames=50)
    time.sleep(0.3)
    out = tmp_path / "out"
    rec = tmp_path / "shown.mp4"
    proc = _cli("--video", f"tcp://127.0.0.1:{port}", "--no-window", "--no-progress", "--output-dir", str(out),
                "--output", str(rec), "--export", "csv,bvh", env=_env())
    stdout, stderr = proc.communicate(timeout=90)
    server.wait(timeout=30)
    assert proc.returncode == 0, stderr
    assert "stopped: end of stream" in stderr and "Traceback" not in stderr
    n = _check_outputs(out, 50)
    assert "50 frames captured" in stderr
    assert n >= 10
    # the recording plays in real time at the stream's 25 fps: each shown frame is held until the
    # next one's capture time
    info = probe(rec)
    written = 0
    for t in read_npz(out / "keypoints.npz").time_s:
        written += max(1, round(t * 25) + 1 - written)
    assert info.fps == 25 and info.frame_count == written >= n, (info, written)


@pytest.mark.heavy
def test_cli_sigint_writes_what_was_processed(tmp_path):
    port = free_port()
    server = _server(port, frames=10_000)
    time.sleep(0.3)
    out = tmp_path / "out"
    proc = _cli("--video", f"tcp://127.0.0.1:{port}", "--no-window", "--no-progress", "--output-dir", str(out),
                "--export", "csv", env=_env())
    try:
        before = _wait_for_line(proc, "live: ")
        time.sleep(1.5)  # frames are being processed
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
        stderr = before + stderr
    finally:
        server.kill()
        server.wait()
    assert proc.returncode == 0, stderr
    assert "stopped: interrupted" in stderr and "Traceback" not in stderr
    _check_outputs(out, 10_000)


def _wait_for_line(proc: subprocess.Popen, start: str, timeout: float = 60.0) -> str:
    """Read the CLI's stderr until a line starting with ``start`` (it prints "live: ..." once the
    source is open and the models loaded); returns what was read."""
    seen: list[str] = []
    done = threading.Event()

    def reader() -> None:
        for line in proc.stderr:
            seen.append(line)
            if line.startswith(start):
                done.set()
                return

    threading.Thread(target=reader, daemon=True).start()
    assert done.wait(timeout), f"no line starting with {start!r}: {''.join(seen)}"
    return "".join(seen)


@pytest.mark.parametrize("args, message", [
    (["--video", "tcp://127.0.0.1:{closed}"], "tcp://127.0.0.1:{closed}"),
    (["--webcam", "97"], "webcam"),
])
def test_cli_bad_live_sources_are_one_line_errors(tmp_path, args, message):
    closed = free_port()
    args = [a.format(closed=closed) for a in args]
    proc = subprocess.run([sys.executable, str(VIS), *args, "--no-window", "--output-dir", str(tmp_path / "o")],
                          capture_output=True, text=True, env=_env(), timeout=60)
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message.format(closed=closed) in lines[0], lines
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.parametrize("args, message", [
    (["--webcam", "--video", "x.mp4"], "not both"),
    (["--video", "a.mp4", "--output", "x.mp4"], "--output is for live sources"),
    (["--video", "udp://127.0.0.1:5000", "--frame-size", "64x48"], "--frame-size is for raw frames"),
    (["--video", "-", "--frame-size", "64"], "WIDTHxHEIGHT"),
    (["--webcam", "--output", "x.avi"], ".mp4"),
    (["--video", "udp://127.0.0.1:5000", "--workers", "2"], "processed alone"),
])
def test_cli_live_usage_errors(args, message):
    proc = subprocess.run([sys.executable, str(VIS), *args], capture_output=True, text=True, env=_env(), timeout=60)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


@pytest.mark.heavy
def test_cli_raw_frames_on_stdin(tmp_path):
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 255, (12, 48, 64, 3), dtype=np.uint8)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(VIS), "--video", "-", "--frame-size", "64x48", "--fps", "12",
                           "--no-window", "--no-progress", "--output-dir", str(out), "--export", "none"],
                          input=frames.tobytes(), capture_output=True, env=_env(), timeout=90)
    assert proc.returncode == 0, proc.stderr.decode()
    back = read_npz(out / "keypoints.npz")
    assert back.width == 64 and back.height == 48 and 1 <= back.num_frames <= 12


# --- the window, under Xvfb -----------------------------------------------------------------------

@pytest.mark.heavy
def test_window_under_xvfb_shows_frames_and_closes_on_q(tmp_path):
    from real_programs import require

    xvfb = require("Xvfb", "xvfb")
    xdotool = require("xdotool")
    display = next(f":{n}" for n in range(71, 200) if not Path(f"/tmp/.X{n}-lock").exists()
                   and not Path(f"/tmp/.X11-unix/X{n}").exists())
    server_x = subprocess.Popen([xvfb, display, "-screen", "0", "1280x720x24", "-br", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stream = None
    try:
        env = _env(DISPLAY=display, QT_QPA_PLATFORM="xcb")
        for _ in range(100):  # until the X server accepts clients
            if subprocess.run([xdotool, "getdisplaygeometry"], env=env, capture_output=True).returncode == 0:
                break
            assert server_x.poll() is None, f"Xvfb {display} ended: {server_x.communicate()[1][-500:]}"
            time.sleep(0.1)
        else:
            pytest.fail(f"Xvfb {display} does not accept clients")
        port = free_port()
        stream = _server(port, frames=10_000, size="320x240")
        time.sleep(0.3)
        out = tmp_path / "out"
        proc = _cli("--video", f"tcp://127.0.0.1:{port}", "--no-progress", "--output-dir", str(out),
                    "--export", "none", env=env)
        shot = tmp_path / "shot.png"
        window = None
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            found = subprocess.run([xdotool, "search", "--name", "3D pose"], capture_output=True, text=True, env=env)
            if found.returncode == 0 and found.stdout.strip():
                window = found.stdout.split()[0]
                break
            time.sleep(0.3)
        if window is None:
            proc.kill()
            pytest.fail(f"no window appeared; the CLI said: {proc.communicate()[1][-2000:]}")
        time.sleep(2.0)  # frames flow
        grab = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab",
                               "-video_size", "1280x720", "-i", display, "-frames:v", "1", str(shot)],
                              capture_output=True, text=True, env=env, timeout=30)
        assert grab.returncode == 0, grab.stderr
        import cv2

        img = cv2.imread(str(shot))
        assert img is not None and img.std() > 20, "the screen is blank"
        # the 3D panel's light background is on screen (the side-by-side view, not only the stream)
        panel = (np.abs(img.astype(int) - PANEL_BG[::-1]).max(-1) <= 2).sum()
        assert panel > 0.5 * 240 * 240, panel
        subprocess.run([xdotool, "windowactivate", "--sync", window], env=env, capture_output=True, timeout=10)
        subprocess.run([xdotool, "key", "--window", window, "q"], env=env, check=True, timeout=10)
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        assert "stopped: window" in stderr
        _check_outputs(out, 10_000, csv=False)
    finally:
        if stream is not None:
            stream.kill()
            stream.wait()
        server_x.terminate()  # Xvfb removes its lock file
        try:
            server_x.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server_x.kill()
            server_x.wait()


def test_a_display_that_cannot_be_reached_is_a_note_not_a_crash(monkeypatch):
    from demo.window import display_problem

    monkeypatch.setenv("DISPLAY", ":9876")
    problem = display_problem()
    assert problem is not None and problem.startswith("cannot open a window on display :9876"), problem
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if sys.platform.startswith("linux"):
        assert display_problem() == "no display (DISPLAY is not set)"
