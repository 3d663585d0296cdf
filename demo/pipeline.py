"""One video through the whole chain, as a Python API: frames -> people -> tracks -> 3D -> (video).

    from demo.pipeline import Options, run
    result = run("clip.mp4", Options(), detector=det, lifter=lifter)            # arrays + metadata
    result = run("clip.mp4", Options(), detector=det, lifter=lifter, render_to="out/clip.mp4")

Stages, in the order the data flows (each in its own module):

    source   demo.video.FrameReader      the video, opened once: (frame RGB, time s), in order
    detect   detectors (Detector)        frame -> every person's 2D keypoints (detector layout)
    track    demo.tracking               people -> stable track IDs; which tracks are kept
    convert  lifter.keypoints            detector layout -> H36M-17, which joints are present
    lift     demo.lifting                (frame, person) pairs of a chunk -> 3D, one batch
    world    demo.post                   camera frame -> world view, people side by side
    render   demo.render + demo.video    the side-by-side frame -> H.264 encoder (own process)

The calling thread decodes (the reader thread feeds it), detects, tracks and converts every
frame; every ``Options.chunk`` frames the chunk goes to one background thread
(demo.stages.OrderedStage) that lifts, places and draws it while the next chunk is detected.
MediaPipe, OpenCV, torch and pipe writes release the GIL, so the stages share the cores of a
small machine. Memory is bounded whatever the video's length: the reader holds a few decoded
frames, and at most two chunks of frames already shrunk to the output's left panel are held
(none when not rendering); the per-frame keypoint arrays are kept. Results do not depend on the
threads: frames are detected and tracked in order and chunks are lifted in order.

Timings (Result.timings_ms, ms per frame): each stage's own busy time divided by the frame count;
``total`` is the wall clock divided by the frame count (the stages overlap).

A person is valid in a frame when at least one of their H36M-17 joints is present
(lifter.keypoints.joint_present); missing joints, and joints scored below ``Options.min_score``,
are filled before lifting (demo.lifting) and the latter drawn as low confidence.
Nothing fails when no frame has a person (the lifter is then not called).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np
from tqdm import tqdm

from demo.lifting import LifterLike, lift_pixels
from demo.outputs import Result, most_prominent
from demo.post import place_people, to_world_view
from demo.render import DrawnPerson, Renderer, RenderStyle
from demo.stages import OrderedStage
from demo.tracking import Selector, Tracker
from demo.video import DEFAULT_PRESET, FrameReader, VideoError, VideoInfo, VideoWriter
from lifter.keypoints import LIFT_MIN_SCORE, joint_present, to_h36m17

#: pipeline stages reported in Result.timings_ms (milliseconds per frame)
STAGES: tuple[str, ...] = ("decode", "detect", "track", "convert", "lift", "world", "render", "encode")

#: people followed at most when --max-people is not given (detection cost grows with each slot)
DEFAULT_MAX_PEOPLE = 4


class DetectorLike(Protocol):
    """What the pipeline needs from a 2D detector (detectors.base.Detector fits).

    ``layout`` is a key of lifter.keypoints.LAYOUTS, or "h36m17" for a detector that already
    reports H36M-17 joints.
    """

    name: str
    layout: str

    def detect(self, frame_rgb: np.ndarray, time_s: float) -> list:
        """RGB uint8 (H, W, 3) -> people: objects with ``xy`` (K, 2) pixels and ``scores`` (K,)."""


@dataclass(frozen=True)
class Options:
    """Pipeline settings.

    detector: detector name for detectors.create_detector; detector_options: its keyword
    arguments. lifter: "pgformer" | "diffpyramid" (shipped weights) unless ``weights`` names a
    checkpoint file; denoiser: optional DiffPyramid denoiser checkpoint. device: "auto" | "cpu" |
    "cuda". flip: flip averaging in the lifter. max_people: people followed at once (None:
    DEFAULT_MAX_PEOPLE); person: keep only this track ID, or "largest" (the most prominent
    person, as max_people=1). max_gap_s: a person who disappears and comes back within this
    many seconds keeps their ID. min_score: joints with a lower detector score are treated as
    missing when lifting and drawn as low confidence (it overrides ``render.min_score``). chunk: frames lifted per batch (and
    frames held in memory while rendering). max_frames: stop after this many frames (None:
    all). progress: show a progress bar. verbose: let the detector backend log. render: the
    renderer's style; preset, crf: libx264 settings of the output.
    """

    detector: str = "blazepose"
    detector_options: dict = field(default_factory=dict)
    lifter: str = "pgformer"
    weights: str | None = None
    denoiser: str | None = None
    device: str = "auto"
    flip: bool = True
    max_people: int | None = None
    person: int | str | None = None
    max_gap_s: float = 2.0
    min_score: float = LIFT_MIN_SCORE
    chunk: int = 64
    max_frames: int | None = None
    progress: bool = True
    verbose: bool = False
    render: RenderStyle = RenderStyle()
    preset: str = DEFAULT_PRESET
    crf: int = 23

    @property
    def people_cap(self) -> int:
        """How many people are followed at once."""
        if self.person is not None:
            return 1
        return self.max_people if self.max_people is not None else DEFAULT_MAX_PEOPLE

    @property
    def detector_slots(self) -> int:
        """How many people the detector looks for: as many as are followed, except for
        ``person=ID``, whose ID is only known when everyone is tracked."""
        if isinstance(self.person, int):
            return self.max_people if self.max_people is not None else DEFAULT_MAX_PEOPLE
        return self.people_cap


def make_detector(options: Options) -> DetectorLike:
    """The detector named in the options (detectors.create_detector), looking for
    ``Options.detector_slots`` people: each slot more costs the detector time (with
    MediaPipe, a person-detector pass on every frame with a free slot). If the detector itself
    moves from the followed person to someone else, the tracker sees a new person, and the
    selection notes the change (demo.tracking.Selector)."""
    from detectors import create_detector

    return create_detector(options.detector, max_people=options.detector_slots, verbose=options.verbose,
                           **options.detector_options)


def make_lifter(options: Options) -> LifterLike:
    """The lifter named in the options: ``weights`` if given, else the shipped ``lifter`` weights."""
    from lifter.lift import Lifter

    return Lifter.load(options.weights or options.lifter, device=options.device, flip=options.flip,
                       denoiser=options.denoiser)


class RenderSink:
    """Draws output frames and encodes them into an H.264 mp4 at the video's exact fps.

    Built once per video: the renderer (demo.render, which owns the output size) and
    the encoder (demo.video.VideoWriter, its own process). ``shrink`` reduces an input frame to
    the output's left panel so that frames waiting for their 3D pose take little memory; ``draw``
    renders one shrunk frame with its people and pipes it to the encoder; ``close`` finishes the
    file (atomically); ``abort`` drops it.
    """

    def __init__(self, path: str | os.PathLike, info: VideoInfo, options: Options):
        count = info.frame_count if info.frame_count > 0 else None
        if options.max_frames is not None and count is not None:
            count = min(count, options.max_frames)
        style = replace(options.render, min_score=options.min_score)  # drawn as lifted: one threshold
        self.renderer = Renderer(info.width, info.height, float(info.fps), count, style)
        width, height = self.renderer.size
        self.writer = VideoWriter(path, width, height, info.fps, preset=options.preset, crf=options.crf)
        self.seconds = 0.0  # shrinking and drawing (each call from one thread at a time)

    def shrink(self, frame: np.ndarray) -> np.ndarray:
        """An input RGB frame (H, W, 3) -> the left panel's size (h, w, 3), uint8."""
        if frame.shape[1::-1] == self.renderer.panel_size:
            return frame
        t0 = time.perf_counter()
        small = self.renderer.shrink(frame)
        self.seconds += time.perf_counter() - t0
        return small

    def draw(self, small: np.ndarray, index: int, people: Sequence[DrawnPerson]) -> None:
        """Render and encode frame ``index``: its shrunk frame and its people (input-frame pixels)."""
        t0 = time.perf_counter()
        out = self.renderer.render(small, index, people)
        self.seconds += time.perf_counter() - t0
        self.writer.write(out)

    @property
    def encode_seconds(self) -> float:
        return self.writer.convert_seconds + self.writer.encoder_cpu_seconds

    def close(self) -> Path:
        return self.writer.close()

    def abort(self) -> None:
        self.writer.abort()

    def __enter__(self) -> "RenderSink":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


@dataclass
class _Chunk:
    """Up to ``Options.chunk`` consecutive frames waiting to be lifted: per frame, the kept
    people as (track ID, H36M-17 pixels (17, 2), scores (17,)), and the shrunk frame (or None)."""

    start: int
    people: list[list[tuple[int, np.ndarray, np.ndarray]]] = field(default_factory=list)
    small: list[np.ndarray | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.people)


class _Tracks:
    """Every kept person's per-frame arrays, gathered chunk by chunk; ``result_arrays`` makes
    the (P, T, ...) arrays of demo.outputs.Result, people ordered by track ID."""

    def __init__(self) -> None:
        self.rows: dict[int, list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = {}

    def add(self, track_id: int, frame: int, kp2d, scores, kp3d, world) -> None:
        self.rows.setdefault(track_id, []).append((frame, kp2d, scores, kp3d, world))

    def result_arrays(self, num_frames: int) -> dict[str, np.ndarray]:
        ids = sorted(self.rows)
        p, t = len(ids), num_frames
        out = {
            "keypoints_2d": np.full((p, t, 17, 2), np.nan, np.float32),
            "scores": np.zeros((p, t, 17), np.float32),
            "keypoints_3d": np.full((p, t, 17, 3), np.nan, np.float32),
            "keypoints_3d_world": np.full((p, t, 17, 3), np.nan, np.float32),
            "valid": np.zeros((p, t), bool),
            "track_ids": np.array(ids, np.int64),
        }
        for i, track_id in enumerate(ids):
            for frame, kp2d, scores, kp3d, world in self.rows[track_id]:
                out["keypoints_2d"][i, frame] = kp2d
                out["scores"][i, frame] = scores
                out["keypoints_3d"][i, frame] = kp3d
                out["keypoints_3d_world"][i, frame] = world
                out["valid"][i, frame] = True
        return out


class _Progress:
    """One progress bar per video: frames finished (lifted, and drawn when rendering), with the
    frames detected so far in the bar's text."""

    def __init__(self, options: Options, total: int | None, name: str):
        self.bar = tqdm(total=total, desc=name, unit="frame", leave=None, disable=not options.progress,
                        dynamic_ncols=True, file=sys.stderr)
        self.detected = 0

    def frame_detected(self) -> None:
        self.detected += 1
        if self.detected % 8 == 0:
            self.bar.set_postfix_str(f"detected {self.detected}", refresh=False)

    def frames_done(self, n: int) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


@contextlib.contextmanager
def _lift_threads(lifter: LifterLike):
    """While the pipeline runs, a CPU torch lifter uses one thread: detection, decoding and
    encoding keep the other cores busy (the lifter's results do not depend on its thread count)."""
    torch = sys.modules.get("torch")
    if torch is None or str(getattr(lifter, "device", "cpu")) != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def convert_people(people: Sequence[Any], layout: str) -> tuple[np.ndarray, np.ndarray]:
    """Detected people -> H36M-17 pixels (n, 17, 2) with NaN for joints not present, scores (n, 17)
    (0 where not present). Low-score joints keep their position: lifting and drawing decide."""
    if not people:
        return np.zeros((0, 17, 2), np.float32), np.zeros((0, 17), np.float32)
    xy = np.stack([np.asarray(p.xy, np.float32) for p in people])
    scores = np.stack([np.asarray(p.scores, np.float32) for p in people])
    xy17, s17 = to_h36m17(xy, scores, layout)
    present = joint_present(xy17, s17)
    return (np.where(present[..., None], xy17, np.nan).astype(np.float32),
            np.where(present, s17, 0.0).astype(np.float32))


class _Job:
    """The state of one run: the models, the stages' timings, the tracks gathered so far."""

    def __init__(self, options: Options, detector: DetectorLike, lifter: LifterLike, info: VideoInfo,
                 sink: RenderSink | None, progress: _Progress):
        self.options, self.detector, self.lifter, self.info = options, detector, lifter, info
        self.sink, self.progress = sink, progress
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.tracks = _Tracks()
        self.tracker = Tracker(float(info.fps), max_gap_s=options.max_gap_s)
        self.selector = Selector(options.people_cap, options.person, tracker=self.tracker, fps=float(info.fps),
                                 max_gap_s=options.max_gap_s)

    def frame(self, index: int, frame: np.ndarray, time_s: float, chunk: _Chunk) -> None:
        """Detect, track, select and convert the people of one frame into the chunk."""
        t0 = time.perf_counter()
        people = [p for p in self.detector.detect(frame, time_s)  # a person without any joint is nobody
                  if joint_present(p.xy, p.scores).any()]
        t1 = time.perf_counter()
        ids = self.tracker.update(people, time_s)
        kept = set(self.selector.select(index, ids, people))
        keep = [k for k, i in enumerate(ids) if i in kept]
        t2 = time.perf_counter()
        xy17, s17 = convert_people([people[k] for k in keep], self.detector.layout)
        chunk.people.append([(ids[k], xy17[n], s17[n]) for n, k in enumerate(keep)])
        chunk.small.append(self.sink.shrink(frame) if self.sink is not None else None)
        t3 = time.perf_counter()
        self.seconds["detect"] += t1 - t0
        self.seconds["track"] += t2 - t1
        self.seconds["convert"] += t3 - t2
        self.progress.frame_detected()

    def finish_chunk(self, chunk: _Chunk) -> None:
        """Lift every (frame, person) pair of the chunk in one batch, place them, (draw) and keep them."""
        t0 = time.perf_counter()
        rows = [(f, tid, xy, s) for f, people in enumerate(chunk.people) for tid, xy, s in people
                if joint_present(xy, s).any()]
        kp2d = np.stack([r[2] for r in rows]) if rows else np.zeros((0, 17, 2), np.float32)
        scores = np.stack([r[3] for r in rows]) if rows else np.zeros((0, 17), np.float32)
        kp3d = lift_pixels(self.lifter, kp2d, scores, self.info.width, self.info.height, self.options.min_score)
        t1 = time.perf_counter()
        with np.errstate(invalid="ignore"):
            centre_x = np.nanmean(kp2d[..., 0], axis=1) if rows else np.zeros(0)
        world = place_people(to_world_view(kp3d), centre_x / self.info.width * 2.0 - 1.0)
        t2 = time.perf_counter()
        self.seconds["lift"] += t1 - t0
        self.seconds["world"] += t2 - t1
        drawn: list[list[DrawnPerson]] = [[] for _ in range(len(chunk))]
        for r, (f, tid, xy, s) in enumerate(rows):
            self.tracks.add(tid, chunk.start + f, xy, s, kp3d[r], world[r])
            drawn[f].append(DrawnPerson(tid, xy, s, world[r]))
        if self.sink is None:
            self.progress.frames_done(len(chunk))
            return
        for f in range(len(chunk)):
            self.sink.draw(chunk.small[f], chunk.start + f, drawn[f])
            chunk.small[f] = None  # drop the frame as soon as it is drawn
            self.progress.frames_done(1)


def run(video: str | os.PathLike | FrameReader, options: Options = Options(), *,
        detector: DetectorLike | None = None, lifter: LifterLike | None = None,
        render_to: str | os.PathLike | None = None) -> Result:
    """Detect, track, lift and (optionally) render one video; returns every kept person's poses.

    video: a path, or a FrameReader already opened on it (the caller closes it; its max_frames
    applies). detector / lifter: the models to use (None: made from ``options`` and closed at the end;
    objects passed in are reset, not closed). render_to: path of the side-by-side mp4 written in
    the same pass (None: no rendering). Raises demo.video.VideoError for a missing, unreadable or
    empty video, ValueError for bad options.
    """
    if options.max_frames is not None and options.max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {options.max_frames}")
    if options.chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {options.chunk}")
    if options.people_cap < 1:
        raise ValueError(f"max_people must be at least 1, got {options.max_people}")
    t_start = time.perf_counter()
    times: list[float] = []
    with contextlib.ExitStack() as stack:
        if isinstance(video, FrameReader):
            reader = video
        else:
            reader = stack.enter_context(FrameReader(video, max_frames=options.max_frames))
        info = reader.info
        video_path = info.path
        lift_model = lifter if lifter is not None else make_lifter(options)  # first: fails fast
        det = detector
        if det is None:
            det = stack.enter_context(contextlib.closing(make_detector(options)))
        elif hasattr(det, "reset"):
            det.reset()  # a detector passed in may have seen another video
        total = info.frame_count if info.frame_count > 0 else None
        if options.max_frames is not None and total is not None:
            total = min(total, options.max_frames)
        progress = _Progress(options, total, Path(video_path).name)
        stack.callback(progress.close)
        stack.enter_context(_lift_threads(lift_model))
        job = _Job(options, det, lift_model, info, None, progress)
        post = stack.enter_context(OrderedStage(job.finish_chunk, "lift-render"))
        # entered after the thread: on an error the encoder is stopped first, so the thread ends fast
        if render_to is not None:
            job.sink = stack.enter_context(RenderSink(render_to, info, options))
        chunk = _Chunk(0)
        for index, (frame, time_s) in enumerate(reader):
            job.frame(index, frame, time_s, chunk)
            times.append(time_s)
            del frame
            if len(chunk) == options.chunk:
                post.submit(chunk)
                chunk = _Chunk(index + 1)
        if len(chunk):
            post.submit(chunk)
        del chunk
        post.finish()
        job.seconds["decode"] = reader.decode_seconds
        if not times:
            raise VideoError(f"no video frame could be decoded from {video_path}")
        if job.sink is not None:
            job.sink.close()
            job.seconds["render"] = job.sink.seconds
            job.seconds["encode"] = job.sink.encode_seconds
    n = len(times)
    timings = {k: 1000.0 * v / n for k, v in job.seconds.items()}
    timings["total"] = 1000.0 * (time.perf_counter() - t_start) / n
    arrays = job.tracks.result_arrays(n)
    following = options.max_people is not None or options.person is not None  # else everyone is kept
    notes = list(job.selector.notes) if following else []
    missing = info.missing_frames(n, options.max_frames)
    if missing:
        why = f": {info.damage}" if info.damage else ""
        notes.append(f"only {n} of the {info.stated_frame_count} frames the container states could be decoded "
                     f"(truncated or damaged file{why}); the outputs cover those {n}")
    return Result(
        **arrays, time_s=np.array(times, np.float64), fps=float(info.fps), width=info.width,
        height=info.height, main_person=most_prominent(arrays["keypoints_2d"], arrays["valid"]),
        video=str(video_path), detector=str(getattr(det, "name", type(det).__name__)),
        lifter=str(getattr(lift_model, "name", options.weights or options.lifter)), notes=notes,
        timings_ms=timings,
    )


def timing_summary(timings_ms: dict[str, float], num_frames: int) -> str:
    """One line per stage of Result.timings_ms (ms per frame), plus the end-to-end frames per second."""
    lines = [f"timing over {num_frames} frames (ms per frame):"]
    for stage in STAGES:
        if stage in timings_ms:
            lines.append(f"  {stage:<8} {timings_ms[stage]:8.2f}")
    total = timings_ms.get("total", 0.0)
    fps = 1000.0 / total if total > 0 else float("nan")
    lines.append(f"  {'total':<8} {total:8.2f}   ({fps:.1f} frames/s end to end, wall clock)")
    return "\n".join(lines)
