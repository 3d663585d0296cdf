"""One video through the whole chain, as a Python API: frames -> people -> tracks -> 3D world -> (video).

    from demo.pipeline import Options, run
    result = run("clip.mp4", Options(), detector=det, lifter=lifter)            # arrays + metadata
    result = run("clip.mp4", Options(), detector=det, lifter=lifter, render_to="out/clip.mp4")

Stages, in the order the data flows (each in its own module):

    source   demo.video.FrameReader      the video, opened once: (frame RGB, time s), in order
    detect   detectors (Detector)        frame -> every person's 2D keypoints (detector layout)
    track    demo.tracking               people -> stable track IDs; which tracks are kept
    convert  lifter.keypoints            detector layout -> H36M-17, which joints are present
    repair   demo.repair                 each track's 2D: swaps, outliers, short gaps
    lift     demo.lifting                every (track, frame) pair -> root-relative 3D, in batches
    world    demo.motion                 smoothing, constant bones, root trajectory, ground, world
    render   demo.render + demo.video    the side-by-side frame -> H.264 encoder (own process)

Two passes over the video. Pass 1: the calling thread detects, tracks and converts every frame
while the reader thread decodes the next and a third thread lifts the rows found so far, every
``Options.chunk`` of them (demo.stages.OrderedStage); only the per-frame arrays are kept. Then the
post-processing (demo.motion) works on whole tracks: zero-phase smoothing, each track's bone
lengths and the ground need the whole clip; only the rows the 2D repair changed are lifted again. Pass 2 (only when rendering): the video is decoded
again and each frame drawn with its people in the world and piped to the encoder; drawing and
encoding overlap (demo.stages.OrderedStage). Memory is bounded whatever the video's length: a
few decoded frames and the per-frame arrays. Results do not depend on the threads.

Timings (Result.timings_ms, ms per frame): each stage's own busy time divided by the frame count;
``total`` is the wall clock divided by the frame count (stages of one pass overlap).

A person is valid in a frame when at least one of their H36M-17 joints is present
(lifter.keypoints.joint_present) or the frame was filled by the 2D repair; missing joints, and
joints scored below ``Options.min_score``, are filled before lifting (demo.lifting) and the
latter drawn as low confidence. Nothing fails when no frame has a person (the lifter is then not
called).
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
from demo.motion import Motion, MotionSettings, WORLD_GROUND, process
from demo.outputs import Result, most_prominent
from demo.render import DrawnPerson, Renderer, RenderStyle, Scene
from demo.stages import OrderedStage
from demo.tracking import MIN_TRACK_S, Selector, Tracker, dropped_note, lasting
from demo.video import DEFAULT_PRESET, FrameReader, VideoError, VideoInfo, VideoWriter
from lifter.keypoints import LIFT_MIN_SCORE, joint_present, to_h36m17

#: pipeline stages reported in Result.timings_ms (milliseconds per frame)
STAGES: tuple[str, ...] = ("decode", "detect", "track", "convert", "repair", "lift", "world", "render", "encode")

#: people followed at most when --max-people is not given (detection cost grows with each person followed)
DEFAULT_MAX_PEOPLE = 4

#: seconds of pelvis history drawn as a trail behind each person in the 3D panel
TRAIL_S = 1.0


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
    many seconds keeps their ID. min_track_s: tracks seen for less than this many seconds of
    frames are dropped (demo.tracking.lasting). min_score: joints with a lower detector score are treated as
    missing when lifting and drawn as low confidence (it overrides ``render.min_score``).
    motion: the post-processing (demo.motion.MotionSettings: repair, smoothing, bones, camera,
    ground). chunk: (track, frame) rows per lifter call. max_frames: stop after this many frames
    (None: all). progress: show a progress bar. verbose: let the detector backend log. render:
    the renderer's style; preset, crf: libx264 settings of the output. fps, frame_size (width,
    height): the frame rate and size of an input without a video (keypoints replayed alone,
    demo.keypoint_input; None: the ones the keypoints file states).
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
    min_track_s: float = MIN_TRACK_S
    min_score: float = LIFT_MIN_SCORE
    motion: MotionSettings = MotionSettings()
    chunk: int = 256
    max_frames: int | None = None
    progress: bool = True
    verbose: bool = False
    render: RenderStyle = RenderStyle()
    preset: str = DEFAULT_PRESET
    crf: int = 23
    fps: float | None = None
    frame_size: tuple[int, int] | None = None

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
    ``Options.detector_slots`` people: each person followed costs the detector time (with
    MediaPipe, a landmark pass per person and frame, and a search for newcomers every
    0.2 s while fewer are followed). If the detector itself
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


def scene_of(motion: Motion) -> Scene:
    """What the 3D panel shows for the whole clip: the world's extent, whether it has a ground,
    and where the video's camera stands (demo.render.Scene)."""
    ground = motion.camera.kind == WORLD_GROUND
    return Scene.from_world(motion.world, ground=ground,
                            camera_position=motion.camera.position_world if ground else None)


class RenderSink:
    """Draws output frames and encodes them into an H.264 mp4 at the video's exact fps.

    Built once per video: the renderer (demo.render, which owns the output size) and
    the encoder (demo.video.VideoWriter, its own process). ``draw`` renders one input frame with
    its people; ``write`` pipes a drawn frame to the encoder; ``close`` finishes the file
    (atomically); ``abort`` drops it.
    """

    def __init__(self, path: str | os.PathLike, info: VideoInfo, options: Options, num_frames: int,
                 scene: Scene = Scene()):
        style = replace(options.render, min_score=options.min_score)  # drawn as lifted: one threshold
        self.renderer = Renderer(info.width, info.height, float(info.fps), num_frames, style, scene=scene)
        width, height = self.renderer.size
        self.writer = VideoWriter(path, width, height, info.fps, preset=options.preset, crf=options.crf)
        self.seconds = 0.0  # drawing (from one thread)

    def draw(self, frame: np.ndarray, index: int, people: Sequence[DrawnPerson]) -> np.ndarray:
        """Frame ``index`` drawn: the input RGB frame, full size or already shrunk to the renderer's
        ``panel_size``, and its people (input-frame pixels)."""
        t0 = time.perf_counter()
        out = self.renderer.render(frame, index, people)
        self.seconds += time.perf_counter() - t0
        return out

    def write(self, drawn: np.ndarray) -> None:
        self.writer.write(drawn)

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


class _Tracks:
    """Every kept person's per-frame 2D keypoints, gathered frame by frame, and the 3D of the rows
    lifted so far; ``arrays`` makes the (P, T, ...) arrays, people ordered by track ID."""

    def __init__(self) -> None:
        self.rows: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
        self.lifted: dict[tuple[int, int], np.ndarray] = {}  # (track ID, frame) -> (17, 3)

    def add(self, track_id: int, frame: int, kp2d: np.ndarray, scores: np.ndarray) -> None:
        self.rows.setdefault(track_id, []).append((frame, kp2d, scores))

    def arrays(self, num_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                               tuple[np.ndarray, np.ndarray]]:
        """(track_ids (P,), keypoints (P,T,17,2) NaN-filled, scores (P,T,17), valid (P,T),
        (3D of the rows lifted (P,T,17,3), which rows were lifted (P,T)))."""
        ids = sorted(self.rows)
        p, t = len(ids), num_frames
        kp2d = np.full((p, t, 17, 2), np.nan, np.float32)
        scores = np.zeros((p, t, 17), np.float32)
        valid = np.zeros((p, t), bool)
        kp3d = np.full((p, t, 17, 3), np.nan, np.float32)
        lifted = np.zeros((p, t), bool)
        for i, track_id in enumerate(ids):
            for frame, xy, s in self.rows[track_id]:
                kp2d[i, frame], scores[i, frame], valid[i, frame] = xy, s, True
                pose = self.lifted.get((track_id, frame))
                if pose is not None:
                    kp3d[i, frame], lifted[i, frame] = pose, True
        return np.array(ids, np.int64), kp2d, scores, valid, (kp3d, lifted)


class _Progress:
    """One progress bar per pass over the video (detecting, then drawing), in frames."""

    def __init__(self, options: Options, total: int | None, name: str, what: str):
        self.bar = tqdm(total=total, desc=f"{name} {what}", unit="frame", leave=None, disable=not options.progress,
                        dynamic_ncols=True, file=sys.stderr)

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


@contextlib.contextmanager
def lift_threads(lifter: LifterLike, detector: Any = None):
    """While the pipeline runs, a CPU torch lifter uses one thread: detection, decoding and
    encoding keep the other cores busy (the lifter's results do not depend on its thread count).
    Not when the detector runs torch on the CPU too (its ``device`` is "cpu", as mmpose's): one
    thread would slow it down, and torch's thread count is shared."""
    torch = sys.modules.get("torch")
    if torch is None or str(getattr(lifter, "device", "cpu")) != "cpu" \
            or str(getattr(detector, "device", "")) == "cpu":
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


class _Detection:
    """Pass 1: detect, track, select and convert the people of each frame; keeps their 2D. Every
    ``Options.chunk`` rows, a background thread lifts them while detection goes on (demo.motion
    keeps those the 2D repair leaves unchanged)."""

    def __init__(self, options: Options, detector: DetectorLike, lifter: LifterLike, info: VideoInfo,
                 lift_stage: OrderedStage | None = None):
        self.options, self.detector, self.lifter, self.info = options, detector, lifter, info
        self.seconds = dict.fromkeys(("detect", "track", "convert", "lift"), 0.0)
        self.tracks = _Tracks()
        # a detector whose people come with identities (keypoints made by a tracker elsewhere) keeps them
        self.tracker = None if getattr(detector, "gives_ids", False) else \
            Tracker(float(info.fps), max_gap_s=options.max_gap_s)
        self.selector = Selector(options.people_cap, options.person, tracker=self.tracker, fps=float(info.fps),
                                 max_gap_s=options.max_gap_s)
        self.lift_stage = lift_stage
        self.pending: list[tuple[int, int, np.ndarray, np.ndarray]] = []

    def frame(self, index: int, frame: np.ndarray, time_s: float) -> None:
        t0 = time.perf_counter()
        people = [p for p in self.detector.detect(frame, time_s)  # a person without any joint is nobody
                  if joint_present(p.xy, p.scores).any()]
        t1 = time.perf_counter()
        ids = [p.track_id for p in people] if self.tracker is None else self.tracker.update(people, time_s)
        kept = set(self.selector.select(index, ids, people))
        keep = [k for k, i in enumerate(ids) if i in kept]
        t2 = time.perf_counter()
        xy17, s17 = convert_people([people[k] for k in keep], self.detector.layout)
        for n, k in enumerate(keep):
            if joint_present(xy17[n], s17[n]).any():
                self.tracks.add(ids[k], index, xy17[n], s17[n])
                self.pending.append((ids[k], index, xy17[n], s17[n]))
        t3 = time.perf_counter()
        self.seconds["detect"] += t1 - t0
        self.seconds["track"] += t2 - t1
        self.seconds["convert"] += t3 - t2
        if len(self.pending) >= self.options.chunk:
            self.flush()

    def flush(self) -> None:
        """Hand the rows gathered so far to the lifting thread."""
        if self.pending and self.lift_stage is not None:
            self.lift_stage.submit(self.pending)
        self.pending = []

    def lift(self, rows: list[tuple[int, int, np.ndarray, np.ndarray]]) -> None:
        """The lifting thread's work: lift rows (track ID, frame, H36M-17 pixels, scores) in one batch."""
        t0 = time.perf_counter()
        kp3d = lift_pixels(self.lifter, np.stack([r[2] for r in rows]), np.stack([r[3] for r in rows]),
                           self.info.width, self.info.height, self.options.min_score)
        for (track_id, frame, _, _), pose in zip(rows, kp3d):
            self.tracks.lifted[(track_id, frame)] = pose
        self.seconds["lift"] += time.perf_counter() - t0


def _people_at(t: int, track_ids: np.ndarray, motion: Motion, trail: int) -> list[DrawnPerson]:
    """The people of frame t to draw: 2D as lifted, world 3D, the pelvis of the last ``trail`` frames."""
    out = []
    for p in np.flatnonzero(motion.valid[:, t]):
        out.append(DrawnPerson(int(track_ids[p]), motion.kp2d[p, t], motion.scores[p, t], motion.world[p, t],
                               trail=motion.world[p, max(0, t - trail): t + 1, 0]))
    return out


def _render(path: str | os.PathLike, video_path: Path, info: VideoInfo, options: Options, num_frames: int,
            track_ids: np.ndarray, motion: Motion, seconds: dict[str, float]) -> None:
    """Pass 2: decode the video again and write the side-by-side mp4 of ``num_frames`` frames."""
    trail = max(1, int(round(TRAIL_S * info.fps)))
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(RenderSink(path, info, options, num_frames, scene_of(motion)))
        # frames are shrunk to the left panel in the decoding thread
        reader = stack.enter_context(FrameReader(video_path, max_frames=num_frames, size=sink.renderer.panel_size))
        progress = _Progress(options, num_frames, Path(video_path).name, "drawing")
        stack.callback(progress.close)

        def encode(drawn: np.ndarray) -> None:
            sink.write(drawn)
            progress.update()

        encoder = stack.enter_context(OrderedStage(encode, "encode"))
        drawn_frames = 0
        for t, (frame, _) in enumerate(reader):
            encoder.submit(sink.draw(frame, t, _people_at(t, track_ids, motion, trail)))
            drawn_frames += 1
        encoder.finish()
        if drawn_frames != num_frames:
            raise VideoError(f"{video_path} gave {drawn_frames} frames on the second decoding, {num_frames} on the "
                             "first; the video changed while it was processed")
        seconds["decode"] += reader.decode_seconds
        sink.close()
        seconds["render"] += sink.seconds
        seconds["encode"] += sink.encode_seconds


def run(video: str | os.PathLike | FrameReader | Any, options: Options = Options(), *,
        detector: DetectorLike | None = None, lifter: LifterLike | None = None,
        render_to: str | os.PathLike | None = None) -> Result:
    """Detect, track, lift, place in the world and (optionally) render one video.

    video: a path, or a FrameReader already opened on it (the caller closes it; its max_frames
    applies), or another source of ``(frame or None, time_s)`` with ``info`` and ``decode_seconds``
    (demo.keypoint_input.KeypointFrames: keypoints without a video; nothing can be rendered then).
    detector / lifter: the models to use (None: made from ``options`` and closed at the end;
    objects passed in are reset, not closed). render_to: path of the side-by-side mp4 (None: no
    rendering; the video is then decoded once). Raises demo.video.VideoError for a missing,
    unreadable or empty video, ValueError for bad options.
    """
    if options.max_frames is not None and options.max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {options.max_frames}")
    if options.chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {options.chunk}")
    if options.people_cap < 1:
        raise ValueError(f"max_people must be at least 1, got {options.max_people}")
    t_start = time.perf_counter()
    times: list[float] = []
    seconds = dict.fromkeys(STAGES, 0.0)
    with contextlib.ExitStack() as stack:
        if not isinstance(video, (str, os.PathLike)):
            reader = video
        else:
            reader = stack.enter_context(FrameReader(video, max_frames=options.max_frames))
        info = reader.info
        video_path = info.path
        if render_to is not None and not isinstance(reader, FrameReader):
            raise ValueError("nothing to render without a video")
        lift_model = lifter if lifter is not None else make_lifter(options)  # first: fails fast
        det = detector
        if det is None:
            det = stack.enter_context(contextlib.closing(make_detector(options)))
        elif hasattr(det, "reset"):
            det.reset()  # a detector passed in may have seen another video
        total = info.frame_count if info.frame_count > 0 else None
        if options.max_frames is not None and total is not None:
            total = min(total, options.max_frames)
        progress = _Progress(options, total, Path(video_path).name, "detecting")
        stack.callback(progress.close)
        stack.enter_context(lift_threads(lift_model, det))
        detection = _Detection(options, det, lift_model, info)
        with OrderedStage(detection.lift, "lift") as lift_stage:
            detection.lift_stage = lift_stage
            for index, (frame, time_s) in enumerate(reader):
                detection.frame(index, frame, time_s)
                times.append(time_s)
                progress.update()
                del frame
            detection.flush()
            lift_stage.finish()
        seconds["decode"] = reader.decode_seconds
        seconds.update(detection.seconds)
        progress.close()
        if not times:
            raise VideoError(f"no video frame could be decoded from {video_path}")
        n = len(times)
        track_ids, kp2d, scores, valid, prelifted = detection.tracks.arrays(n)
        keep = lasting(valid, float(info.fps), options.min_track_s)
        brief_note = dropped_note(track_ids, keep, options.min_track_s)
        track_ids, kp2d, scores, valid = track_ids[keep], kp2d[keep], scores[keep], valid[keep]
        prelifted = (prelifted[0][keep], prelifted[1][keep])
        main = most_prominent(kp2d, valid)
        motion = process(kp2d, scores, valid, float(info.fps), info.width, info.height, lift_model, options.motion,
                         main=main, min_score=options.min_score, batch=options.chunk, prelifted=prelifted)
        for stage, spent in motion.seconds.items():
            seconds[stage] += spent
        if render_to is not None:
            _render(render_to, Path(video_path), info, options, n, track_ids, motion, seconds)
    timings = {k: 1000.0 * v / n for k, v in seconds.items()}
    timings["total"] = 1000.0 * (time.perf_counter() - t_start) / n
    following = options.max_people is not None or options.person is not None  # else everyone is kept
    notes = (list(detection.selector.notes) if following else []) + brief_note + list(getattr(det, "notes", [])) \
        + motion.notes
    missing = info.missing_frames(n, options.max_frames)
    if missing:
        why = f": {info.damage}" if info.damage else ""
        notes.append(f"only {n} of the {info.stated_frame_count} frames the container states could be decoded "
                     f"(truncated or damaged file{why}); the outputs cover those {n}")
    return Result(
        keypoints_2d=motion.kp2d, keypoints_2d_raw=kp2d, scores=motion.scores, repair_flags=motion.repair_flags,
        keypoints_3d_raw=motion.kp3d_raw, keypoints_3d=motion.kp3d, root_translation=motion.root_cam,
        keypoints_3d_world=motion.world, valid=motion.valid, track_ids=track_ids, camera=motion.camera,
        smoothing=options.motion.smooth if options.motion.smooth == "off"
        else f"{options.motion.smooth} {options.motion.cutoff_hz:g} Hz",
        time_s=np.array(times, np.float64), fps=float(info.fps), width=info.width, height=info.height,
        main_person=main, video=str(video_path), detector=str(getattr(det, "name", type(det).__name__)),
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
