"""Live input: a webcam or a stream processed as it comes, newest frame first, shown in a window.

    python demo/vis.py --webcam [INDEX]
    python demo/vis.py --video rtsp://camera/stream        (also udp://, tcp://, http(s)://, rtmp://, srt://)
    ffmpeg ... -f mpegts - | python demo/vis.py --video -

Threads, and the way of one frame:

    grab     demo.sources.Grabber   reads the source as fast as it yields; keeps only the newest frame
    analyse  a thread (_Analysis)   takes the newest frame: detect, track, select, convert, lift (one
                                    lifter call for everyone in the frame), causal motion (demo.online)
    main     run_session            draws the side-by-side frame (demo.render), records it (``record``),
                                    shows it (demo.window), updates the status line

Latency first: the analysis always takes the newest frame; a frame replaced before the analysis
got to it is dropped (counted), never queued. The analysis hands each analysed frame to the main
thread through a one-slot hand-off and waits for it to be taken, so every analysed frame is drawn:
captured = processed + dropped, exactly. No stage waits for a future frame: smoothing, bone
lengths and the root trajectory are causal (demo.online); the 2D repair and the ground need the
whole clip and are offline only (``demo.online.live_settings`` turns them off with a note).

The latency of a frame runs from its capture (the source handed the decoded frame over:
demo.sources.LiveFrame.captured) to the moment its drawn frame was handed to the window (without
a window: drawn, and written when recording). The status line (stderr, while ``progress``): fps in
(frames captured per second over the last ``STATUS_WINDOW_S``), fps processed, frames dropped so
far, the median latency over that window, and the people in the last frame.

Stopping: the end of the stream, q / Esc / closing the window, Ctrl-C or SIGTERM (a second one
aborts at once), or ``Options.max_frames`` processed frames. The result holds every processed
frame: :func:`write_live_outputs` writes the keypoint files and exports as an offline run does
(atomically: demo.outputs, demo.export); ``time_s`` holds the capture times (seconds from the
first captured frame) and ``fps`` the processed frames' mean rate.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from demo.export import DEFAULT_EXPORTS, remove_old_exports, write_exports
from demo.lifting import LifterLike, lift_pixels
from demo.motion import WorldCamera
from demo.online import OnlineMotion, live_settings
from demo.outputs import Result, most_prominent, write_outputs
from demo.pipeline import TRAIL_S, DetectorLike, Options, convert_people, lift_threads
from demo.render import DrawnPerson, Renderer
from demo.errors import one_line
from demo.sources import Grabber, LiveFrame, LiveSource, LiveSourceError
from demo.tracking import Selector, Tracker, dropped_note, lasting
from demo.video import VideoWriter
from lifter.keypoints import joint_present

#: seconds of history behind the status line's rates and latency
STATUS_WINDOW_S = 2.0
#: seconds between status line updates
STATUS_EVERY_S = 0.5
#: frame rate assumed for a source that states none
DEFAULT_LIVE_FPS = 30.0
#: how often (seconds) waiting threads look at the stop flags
_TICK_S = 0.02


@dataclass(frozen=True)
class LiveSettings:
    """How a live session runs: the pipeline ``options`` (max_people, person, min_score, motion,
    render, preset, crf, max_frames, progress); ``window``: show the view in a window;
    ``record``: an mp4 of what was shown (None: none), at the source's rate, each shown frame held
    until the next one so that it plays in real time."""

    options: Options = Options()
    window: bool = False
    record: Path | None = None


@dataclass
class LiveStats:
    """What a live session measured. latency_ms: one value per processed frame (capture ->
    shown); stopped_by: why it stopped ("end of stream", "window", "interrupted", "max frames")."""

    captured: int = 0
    processed: int = 0
    dropped: int = 0
    seconds: float = 0.0  # first capture -> last frame shown
    latency_ms: list[float] = field(default_factory=list)
    stopped_by: str = ""

    @property
    def fps_in(self) -> float:
        return self.captured / self.seconds if self.seconds > 0 else float("nan")

    @property
    def fps_processed(self) -> float:
        return self.processed / self.seconds if self.seconds > 0 else float("nan")

    def latency_percentile(self, q: float) -> float:
        return float(np.percentile(self.latency_ms, q)) if self.latency_ms else float("nan")

    def summary(self) -> str:
        return (f"live: {self.captured} frames captured in {self.seconds:.1f} s ({self.fps_in:.1f} fps), "
                f"{self.processed} processed ({self.fps_processed:.1f} fps), {self.dropped} dropped; latency "
                f"median {self.latency_percentile(50):.0f} ms, 95th percentile {self.latency_percentile(95):.0f} ms; "
                f"stopped: {self.stopped_by}")


@dataclass
class _Analysed:
    """One analysed frame on its way to the main thread."""

    frame: LiveFrame
    people: list[DrawnPerson]


class _Rows:
    """Every processed frame's people, gathered for the result (arrays: demo/outputs.py)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.people: dict[int, list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                          np.ndarray]]] = {}

    def frame(self, time_s: float) -> int:
        self.times.append(time_s)
        return len(self.times) - 1

    def add(self, track_id: int, row: int, kp2d, scores, kp3d_raw, pose) -> None:
        self.people.setdefault(track_id, []).append((row, kp2d, scores, kp3d_raw, pose.kp3d, pose.root, pose.world))

    def arrays(self) -> dict[str, np.ndarray]:
        ids = sorted(self.people)
        p, t = len(ids), len(self.times)
        out = {
            "keypoints_2d": np.full((p, t, 17, 2), np.nan, np.float32),
            "scores": np.zeros((p, t, 17), np.float32),
            "keypoints_3d_raw": np.full((p, t, 17, 3), np.nan, np.float32),
            "keypoints_3d": np.full((p, t, 17, 3), np.nan, np.float32),
            "root_translation": np.full((p, t, 3), np.nan, np.float32),
            "keypoints_3d_world": np.full((p, t, 17, 3), np.nan, np.float32),
            "valid": np.zeros((p, t), bool),
        }
        names = ("keypoints_2d", "scores", "keypoints_3d_raw", "keypoints_3d", "root_translation",
                 "keypoints_3d_world")
        for i, track_id in enumerate(ids):
            for row, *values in self.people[track_id]:
                for name, value in zip(names, values):
                    out[name][i, row] = value
                out["valid"][i, row] = True
        out["track_ids"] = np.array(ids, np.int64)
        out["time_s"] = np.array(self.times, np.float64)
        return out


class _Analysis:
    """The analysis thread's work (module docstring); errors are kept and raised by the main thread."""

    def __init__(self, grabber: Grabber, detector: DetectorLike, lifter: LifterLike, options: Options,
                 width: int, height: int, fps: float, motion: OnlineMotion, stop: threading.Event):
        self.grabber, self.detector, self.lifter, self.options = grabber, detector, lifter, options
        self.width, self.height = width, height
        self.motion, self.stop = motion, stop
        self.abort = threading.Event()  # the main thread is gone: never wait for it
        self.handoff: queue.Queue = queue.Queue(maxsize=1)
        self.tracker = Tracker(fps, max_gap_s=options.max_gap_s)
        self.selector = Selector(options.people_cap, options.person, tracker=self.tracker, fps=fps,
                                 max_gap_s=options.max_gap_s)
        self.rows = _Rows()
        self.seconds = dict.fromkeys(("detect", "track", "convert", "lift", "world"), 0.0)
        self.trail_len = max(1, int(round(TRAIL_S * fps)))
        self.trails: dict[int, collections.deque] = {}
        self.t0: float | None = None
        self.ended = ""  # why the analysis stopped taking frames
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="live-analysis", daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                if self.options.max_frames is not None and len(self.rows.times) >= self.options.max_frames:
                    self.ended = "max frames"
                    break
                try:
                    frame = self.grabber.take(timeout=_TICK_S * 5)
                except TimeoutError:
                    continue
                except LiveSourceError as exc:  # the frames so far are kept
                    self.ended = f"the stream failed: {one_line(exc)}"
                    break
                if frame is None:
                    self.ended = "end of stream"
                    break
                self._hand_over(_Analysed(frame, self.analyse(frame)))
        except BaseException as exc:  # raised again in the main thread
            self.error = exc
        finally:
            self._hand_over(None)

    def _hand_over(self, item: _Analysed | None) -> None:
        while not self.abort.is_set():
            try:
                self.handoff.put(item, timeout=_TICK_S)
                return
            except queue.Full:
                continue

    def analyse(self, frame: LiveFrame) -> list[DrawnPerson]:
        """One frame through detection, tracking and the causal chain; its people to draw."""
        if self.t0 is None:
            self.t0 = frame.captured
        time_s = frame.captured - self.t0
        t0 = time.perf_counter()
        people = [p for p in self.detector.detect(frame.image, time_s) if joint_present(p.xy, p.scores).any()]
        t1 = time.perf_counter()
        ids = self.tracker.update(people, time_s)
        kept = set(self.selector.select(frame.index, ids, people))
        keep = [k for k, i in enumerate(ids) if i in kept]
        t2 = time.perf_counter()
        xy17, s17 = convert_people([people[k] for k in keep], self.detector.layout)
        present = [n for n in range(len(keep)) if joint_present(xy17[n], s17[n]).any()]
        t3 = time.perf_counter()
        kp3d = lift_pixels(self.lifter, xy17[present], s17[present], self.width, self.height, self.options.min_score)
        t4 = time.perf_counter()
        row = self.rows.frame(time_s)
        drawn = []
        for n, raw in zip(present, kp3d):
            track_id = ids[keep[n]]
            pose = self.motion.update(track_id, xy17[n], s17[n], raw, time_s)
            self.rows.add(track_id, row, xy17[n], s17[n], raw, pose)
            trail = self.trails.setdefault(track_id, collections.deque(maxlen=self.trail_len))
            trail.append((row, pose.world[0]))
            drawn.append(DrawnPerson(track_id, xy17[n], s17[n], pose.world, trail=self._trail(trail, row)))
        self.motion.forget(set(self.tracker.alive_ids))
        t5 = time.perf_counter()
        for stage, spent in zip(self.seconds, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            self.seconds[stage] += spent
        return drawn

    def _trail(self, trail: collections.deque, row: int) -> np.ndarray:
        """The pelvis over the last ``trail_len`` processed frames, NaN where the person was absent."""
        out = np.full((self.trail_len, 3), np.nan, np.float32)
        for r, pelvis in trail:
            age = row - r
            if age < self.trail_len:
                out[self.trail_len - 1 - age] = pelvis
        return out


class _Recorder:
    """The recording of what was shown: each frame held until the next, at the source's rate."""

    def __init__(self, path: Path, size: tuple[int, int], fps: float, options: Options):
        self.writer = VideoWriter(path, size[0], size[1], fps, preset=options.preset, crf=options.crf)
        self.fps = float(fps)
        self.t0: float | None = None

    def write(self, drawn: np.ndarray, captured: float) -> None:
        if self.t0 is None:
            self.t0 = captured
        due = int(round((captured - self.t0) * self.fps)) + 1  # frames the recording should have by now
        for _ in range(max(1, due - self.writer.frames_written)):
            self.writer.write(drawn)


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event, reasons: list[str]):
    """Ctrl-C and SIGTERM set ``stop`` (the session then ends cleanly); a second one raises
    KeyboardInterrupt. Only in the main thread (signal handlers cannot be set elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        reasons.append("interrupted")
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


class _Status:
    """The status line: rates and latency over the last STATUS_WINDOW_S (module docstring)."""

    def __init__(self, name: str, enabled: bool):
        self.bar = tqdm(total=None, desc=f"live {name}", unit="frame", disable=not enabled, dynamic_ncols=True,
                        file=sys.stderr, leave=False)
        self.shown: collections.deque = collections.deque()  # (shown time, latency s, frames captured so far)
        self.last = 0.0

    def update(self, grabber: Grabber, now: float, latency_s: float, people: int) -> None:
        self.shown.append((now, latency_s, grabber.captured))
        while self.shown and self.shown[0][0] < now - STATUS_WINDOW_S:
            self.shown.popleft()
        self.bar.update()
        if now - self.last < STATUS_EVERY_S:
            return
        self.last = now
        span = now - self.shown[0][0]
        processed = (len(self.shown) - 1) / span if span > 0 else float("nan")
        captured = (self.shown[-1][2] - self.shown[0][2]) / span if span > 0 else float("nan")
        self.bar.set_postfix_str(
            f"in {captured:.1f} fps | processed {processed:.1f} fps | dropped "
            f"{grabber.dropped} | latency {1000 * np.median([s[1] for s in self.shown]):.0f} ms | people {people}",
            refresh=True)

    def close(self) -> None:
        self.bar.close()


def run_session(source: LiveSource, settings: LiveSettings, detector: DetectorLike,
                lifter: LifterLike) -> tuple[Result | None, LiveStats]:
    """Process a live source until it stops (module docstring): (the result of every processed
    frame, None when none was; what was measured). Raises what a stage raised (after stopping
    the others); the result is then lost only for that error's session."""
    from demo.window import Window

    options = settings.options
    motion_settings, notes = live_settings(options.motion)
    info = source.info
    fps = float(info.fps) if info.fps else DEFAULT_LIVE_FPS
    style = replace(options.render, min_score=options.min_score)
    renderer = Renderer(info.width, info.height, fps, None, style)
    stop = threading.Event()
    reasons: list[str] = []
    stats = LiveStats()
    seconds = {"render": 0.0, "encode": 0.0}
    t_first_shown = t_last_shown = None
    with contextlib.ExitStack() as stack:
        stack.enter_context(lift_threads(lifter, detector))
        if hasattr(detector, "reset"):
            detector.reset()
        motion = OnlineMotion(info.width, info.height, fps, motion_settings, options.min_score)
        grabber = Grabber(source)
        stack.callback(grabber.close)
        analysis = _Analysis(grabber, detector, lifter, options, info.width, info.height, fps, motion, stop)
        stack.callback(analysis.abort.set)
        stack.callback(stop.set)  # leaving early: the analysis stops too
        window = Window(f"3D pose: {info.name}") if settings.window else None
        if window is not None:
            stack.callback(window.close)
        recorder = None
        if settings.record is not None:
            recorder = _Recorder(settings.record, renderer.size, fps, options)
            stack.callback(recorder.writer.abort)  # no-op once closed
        status = _Status(info.name, options.progress)
        stack.callback(status.close)
        stack.enter_context(_stop_on_signals(stop, reasons))
        analysis.thread.start()
        while True:
            try:
                item = analysis.handoff.get(timeout=_TICK_S)
            except queue.Empty:
                if window is not None and not window.poll():
                    reasons.append("window")
                    stop.set()
                continue
            if item is None:
                break
            t0 = time.perf_counter()
            drawn = renderer.render(item.frame.image, item.frame.index, item.people)
            t1 = time.perf_counter()
            if recorder is not None:
                recorder.write(drawn, item.frame.captured)
            t2 = time.perf_counter()
            if window is not None:
                window.show(drawn)
            shown = time.perf_counter()
            if window is not None and not window.poll() and not stop.is_set():
                reasons.append("window")
                stop.set()
            seconds["render"] += t1 - t0
            seconds["encode"] += t2 - t1
            stats.latency_ms.append(1000.0 * (shown - item.frame.captured))
            t_first_shown = t_first_shown if t_first_shown is not None else item.frame.captured
            t_last_shown = shown
            status.update(grabber, shown, shown - item.frame.captured, len(item.people))
        analysis.thread.join()
        if analysis.error is not None:
            raise analysis.error
        grabber.close()
        if recorder is not None and recorder.writer.frames_written:
            recorder.writer.close()
    stats.captured, stats.dropped, stats.processed = grabber.captured, grabber.dropped, len(analysis.rows.times)
    stats.seconds = (t_last_shown - t_first_shown) if t_first_shown is not None else 0.0
    stats.stopped_by = reasons[0] if reasons else (analysis.ended or "end of stream")
    if grabber.note:
        notes.append(grabber.note)
    notes.extend(analysis.selector.notes)
    notes.append(stats.summary())
    if not analysis.rows.times:
        return None, stats
    return _result(analysis, info, fps, options, motion, notes, seconds, stats), stats


def _result(analysis: _Analysis, info, fps: float, options: Options, motion: OnlineMotion, notes: list[str],
            seconds: dict[str, float], stats: LiveStats) -> Result:
    """The Result of every processed frame (arrays: demo/outputs.py)."""
    a = analysis.rows.arrays()
    n = len(a["time_s"])
    span = float(a["time_s"][-1] - a["time_s"][0]) if n > 1 else 0.0
    rate = (n - 1) / span if span > 0 else fps
    keep = lasting(a["valid"], rate, options.min_track_s)
    notes = notes + dropped_note(a["track_ids"], keep, options.min_track_s)
    a.update({k: v[keep] for k, v in a.items() if k != "time_s"})
    settings = motion.settings
    per_frame = {**analysis.seconds, **seconds}
    timings = {k: 1000.0 * v / n for k, v in per_frame.items()}
    if stats.seconds > 0:
        timings["total"] = 1000.0 * stats.seconds / n
    return Result(
        keypoints_2d=a["keypoints_2d"], scores=a["scores"], keypoints_3d=a["keypoints_3d"],
        keypoints_3d_world=a["keypoints_3d_world"], valid=a["valid"], track_ids=a["track_ids"], time_s=a["time_s"],
        fps=rate, width=info.width, height=info.height,
        main_person=most_prominent(a["keypoints_2d"], a["valid"]), video=info.name,
        detector=str(getattr(analysis.detector, "name", type(analysis.detector).__name__)),
        lifter=str(getattr(analysis.lifter, "name", options.weights or options.lifter)), notes=notes,
        timings_ms=timings, keypoints_3d_raw=a["keypoints_3d_raw"], root_translation=a["root_translation"],
        camera=WorldCamera(focal_px=float(motion.focal), center_px=motion.center),
        smoothing="off" if settings.smooth == "off" else f"{settings.smooth} {settings.cutoff_hz:g} Hz",
    )


def write_live_outputs(out_dir: Path, result: Result, exports: Sequence[str] = DEFAULT_EXPORTS, stem: str = "live",
                       progress: bool = False) -> list[Path]:
    """keypoints.npz, keypoints.json and the exports of a live session (each file atomic); the
    previous session's export files in ``out_dir`` under ``stem`` are replaced."""
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_old_exports(out_dir, stem)
    paths = write_outputs(out_dir, result)
    return [paths["npz"], paths["json"]] + write_exports(out_dir, result, exports, stem, progress=progress)


def output_stem(name: str) -> str:
    """A file-name stem for a source name ("webcam 0" -> "webcam0", a URL -> its host and path)."""
    text = name.split("://", 1)[-1]
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in text).strip("_-.")
    return (cleaned or "live")[:60]

