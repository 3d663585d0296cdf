"""The demo pipeline as a Python API: video -> 2D keypoints -> 3D poses (-> rendered mp4).

    from demo.pipeline import Options, run
    result = run("clip.mp4", Options(lifter="pgformer"))            # arrays + metadata only
    result = run("clip.mp4", Options(), render_to="out/clip.mp4")    # same, plus the video

The video is processed in one streaming pass of overlapping stages: a reader thread decodes
(demo.video.FrameReader, bounded queue); the detector runs on each frame as it arrives, in the
calling thread (it tracks the person across frames; a detector with ``reset`` is reset first, so
one detector can serve many videos); every ``Options.chunk`` frames the chunk goes to a second
thread, which converts its 2D poses to H36M-17, lifts them in one batch (flip averaging is the
lifter's, on by default; a CPU torch lifter with one thread), turns them into the world view
(demo.post) and, when rendering, draws the frames (demo.render) and pipes them to the H.264
encoder, which runs in its own process, while the calling thread detects the next chunk.
MediaPipe, OpenCV, torch and pipe writes release the GIL, so the stages share the cores of a
small machine. Memory is bounded whatever the video length and size: the reader holds at most
8 decoded frames (fewer for big frames: about 64 MB, at least 2), and at most two chunks of
frames already reduced to the output's left panel are held, the one being filled and the one
being drawn (none when not rendering); the per-frame keypoint arrays, a few hundred bytes a
frame, are kept. The results do not depend on the threads: the frames are detected in order
and the chunks are lifted in order, each exactly as it would be alone.

Timings (Result.timings_ms, ms per frame): each stage's own busy time, summed over its thread and
divided by the frame count. decode: the reader thread's decoding and colour conversion; detect,
convert, lift, world: the calling thread's time in those steps; render: shrinking frames to the
panel size plus drawing; encode: the conversion of output frames to YUV plus the CPU time (all
threads) of the encoder process. total is the wall clock of the whole call divided by the frame
count; the stages overlap, so the total can be less than their sum.

A joint is found when its position is finite, not exactly (0, 0) (how several detectors write
"missing") and its score is > 0; a frame is valid when at least one joint is found. Invalid frames get NaN 2D/3D, zero scores, ``valid = False``, and "no person"
in the 3D panel; nothing fails when the first frame or every frame is empty (the lifter is then
simply not called). Missing joints of valid frames are filled before lifting
(lifter.skeleton.fill_missing), so no NaN reaches the lifter.

Lifters with 16 joints (H36M-17 without Neck/Nose, the "GT" models) are given the 16-joint
subset; their Neck/Nose is then placed half-way between Thorax and Head so that the outputs keep
the 17-joint layout.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from tqdm import tqdm

from demo.outputs import Result
from demo.post import to_world_view
from demo.render import Renderer, RenderStyle, output_size
from demo.video import DEFAULT_PRESET, FrameReader, VideoError, VideoInfo, VideoWriter, probe
from lifter.skeleton import SUBSET_16, fill_missing, normalize_screen

#: pipeline stages reported in Result.timings_ms (milliseconds per frame)
STAGES: tuple[str, ...] = ("decode", "detect", "convert", "lift", "world", "render", "encode")


class LifterLike(Protocol):
    """What the pipeline needs from a lifter (lifter.lift.Lifter fits)."""

    num_joints: int

    def lift(self, kp: np.ndarray) -> np.ndarray:
        """(N, J, 2) float32 normalised 2D -> (N, J, 3) float32 metres, camera frame, root-relative."""


class DetectorLike(Protocol):
    """What the pipeline needs from a 2D detector (detectors.base.Detector fits).

    ``layout`` is a key of detectors.layouts.LAYOUTS, or "h36m17" for a detector that already
    reports H36M-17 joints (no conversion).
    """

    name: str
    layout: str

    def detect(self, frame_rgb: np.ndarray) -> Any:
        """RGB uint8 (H, W, 3) -> an object with ``xy`` (K, 2) pixels (NaN: none) and ``scores`` (K,)."""


@dataclass(frozen=True)
class Options:
    """Pipeline settings.

    detector: detector name for detectors.create_detector; detector_options: its keyword
    arguments. lifter: "pgformer" | "diffpyramid" (shipped weights) unless ``weights`` names a
    checkpoint file; denoiser: optional DiffPyramid denoiser checkpoint. device: "auto" | "cpu" |
    "cuda". flip: flip averaging in the lifter. chunk: frames lifted per batch (and frames held
    in memory while rendering). max_frames: stop after this many frames (None: all). progress:
    show tqdm bars. render: the renderer's style; preset, crf: libx264 settings of the output.
    """

    detector: str = "blazepose"
    detector_options: dict = field(default_factory=dict)
    lifter: str = "pgformer"
    weights: str | None = None
    denoiser: str | None = None
    device: str = "auto"
    flip: bool = True
    chunk: int = 64
    max_frames: int | None = None
    progress: bool = True
    render: RenderStyle = RenderStyle()
    preset: str = DEFAULT_PRESET
    crf: int = 23


def make_detector(options: Options) -> DetectorLike:
    """The detector named in the options (detectors.create_detector)."""
    from detectors import create_detector

    return create_detector(options.detector, **options.detector_options)


def make_lifter(options: Options) -> LifterLike:
    """The lifter named in the options: ``weights`` if given, else the shipped ``lifter`` weights."""
    from lifter.lift import Lifter

    return Lifter.load(options.weights or options.lifter, device=options.device, flip=options.flip,
                       denoiser=options.denoiser)


def _to_h36m17(xy: np.ndarray, scores: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """Detector layout -> H36M-17: (N, K, 2), (N, K) -> (N, 17, 2), (N, 17)."""
    if layout == "h36m17":
        return xy.astype(np.float32), scores.astype(np.float32)
    from detectors.layouts import to_h36m17

    xy17, s17 = to_h36m17(xy, scores, layout)
    return np.asarray(xy17, np.float32), np.asarray(s17, np.float32)


def _lift(lifter: LifterLike, kp2d: np.ndarray, scores: np.ndarray, width: int, height: int) -> np.ndarray:
    """Valid frames' H36M-17 pixels (M, 17, 2) -> camera-frame 3D (M, 17, 3) metres."""
    norm = normalize_screen(fill_missing(kp2d, scores), width, height)
    if lifter.num_joints == 17:
        return np.asarray(lifter.lift(norm), np.float32)
    if lifter.num_joints == 16:
        out16 = np.asarray(lifter.lift(np.ascontiguousarray(norm[:, SUBSET_16])), np.float32)
        out = np.empty((len(norm), 17, 3), np.float32)
        out[:, SUBSET_16] = out16
        out[:, 9] = (out[:, 8] + out[:, 10]) / 2  # Neck/Nose between Thorax and Head
        return out
    raise ValueError(f"lifter has {lifter.num_joints} joints; the demo supports 16 or 17")


class RenderSink:
    """Renders frames and encodes them into an H.264 mp4 at the video's exact fps.

    ``shrink`` reduces an input frame (H, W, 3) to the output's left panel (the resize the
    renderer would do), so that frames waiting for their 3D pose take little memory; ``draw``
    renders a run of shrunk frames with their poses (demo.render) and pipes them to the encoder
    (demo.video.VideoWriter, its own process); ``close`` finishes the file (atomically) and
    returns its path; ``abort`` drops it (and makes a ``draw`` running in another thread fail
    fast). ``render_seconds``: time spent shrinking and drawing; the writer's ``convert_seconds``
    and ``encoder_cpu_seconds`` give the encoding's cost.
    """

    def __init__(self, path: str | os.PathLike, info: VideoInfo, options: Options):
        count = info.frame_count if info.frame_count > 0 else None
        width, height, left = output_size(info.width, info.height, options.render)
        self.scale = np.array([left / info.width, height / info.height])  # input pixels -> panel pixels
        self.panel = (left, height)
        self.renderer = Renderer(left, height, float(info.fps), count, options.render)
        assert self.renderer.size == (width, height)
        self.writer = VideoWriter(path, width, height, info.fps, preset=options.preset, crf=options.crf)
        self._seconds = {"shrink": 0.0, "draw": 0.0}  # each written by one thread only

    @property
    def render_seconds(self) -> float:
        return self._seconds["shrink"] + self._seconds["draw"]

    def shrink(self, frame: np.ndarray) -> np.ndarray:
        """An input RGB frame (H, W, 3) -> the left panel's size (h, w, 3), uint8."""
        if frame.shape[1::-1] == self.panel:
            return frame
        t0 = time.perf_counter()
        small = cv2.resize(frame, self.panel, interpolation=cv2.INTER_LINEAR)
        self._seconds["shrink"] += time.perf_counter() - t0
        return small

    def draw(self, small: list[np.ndarray | None], start: int, kp2d: np.ndarray, scores: np.ndarray,
             world: np.ndarray, valid: np.ndarray, bar: tqdm | None = None) -> None:
        """Render and encode frames start .. start + n - 1: shrunk frames (n of (h, w, 3); the list
        is emptied as they are drawn), H36M-17 pixels of the input frame (n, 17, 2), scores (n, 17),
        world-view 3D (n, 17, 3) metres, valid (n,) bool (False: "no person" in the 3D panel)."""
        for k in range(len(small)):
            t0 = time.perf_counter()
            kp = np.asarray(kp2d[k], np.float64) * self.scale
            out = self.renderer.render(small[k], start + k, kp, scores[k], world[k] if valid[k] else None)
            small[k] = None  # drop the frame as soon as it is drawn
            self._seconds["draw"] += time.perf_counter() - t0
            self.writer.write(out)
            if bar is not None:
                bar.update(1)

    def close(self) -> Path:
        return self.writer.close()

    def abort(self) -> None:
        self.writer.abort()

    def __enter__(self) -> "RenderSink":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


class _Background:
    """Runs ``work(item)`` for each submitted item, in order, in one background thread.

    ``submit`` first waits until the previous item is done, so that at most one item is being
    worked on while the caller prepares the next (bounded memory), and raises in the caller an
    error the thread met; ``finish`` waits for the last item and raises its error. Leaving the
    ``with`` block skips any item not started and waits for the thread to end.
    """

    _END = object()

    def __init__(self, work, name: str):
        self._work = work
        self._queue: queue.Queue = queue.Queue()  # never more than one item: submit joins first
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is self._END:
                    return
                if self._error is None and not self._stop.is_set():
                    self._work(item)
            except BaseException as exc:  # raised in the caller's thread by submit / finish
                self._error = exc
            finally:
                self._queue.task_done()
            del item  # do not keep the last chunk alive while waiting for the next

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, item: Any) -> None:
        self._queue.join()
        self._raise()
        self._queue.put(item)

    def finish(self) -> None:
        self._queue.join()
        self._raise()

    def __enter__(self) -> "_Background":
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._queue.put(self._END)
        self._thread.join()


@contextlib.contextmanager
def _lift_threads(lifter: LifterLike):
    """While the pipeline runs, a CPU torch lifter uses one thread: detection, decoding and
    encoding keep the other cores busy, and idle-spinning torch workers would only slow them
    (the lifter's results do not depend on its thread count)."""
    torch = sys.modules.get("torch")
    if torch is None or str(getattr(lifter, "device", "cpu")) != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(LIFT_THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _bar(options: Options, total: int | None, desc: str) -> tqdm:
    """A frame progress bar below the bars already open (e.g. a batch's bar over videos); only a
    bar on the first line stays on screen when done."""
    return tqdm(total=total, desc=desc, unit="frame", leave=None, disable=not options.progress,
                dynamic_ncols=True, file=sys.stderr)


#: torch threads of a CPU lifter while the pipeline runs (see _lift_threads)
LIFT_THREADS = 1

#: bytes of decoded frames the reader thread may hold (at least 2 frames, at most 8)
READER_BYTES = 64 << 20


def _reader_buffer(info: VideoInfo) -> int:
    """Frames the reader may queue: 8 for usual sizes, fewer for big frames (2 for 4K)."""
    return int(np.clip(READER_BYTES // max(1, info.width * info.height * 3), 2, 8))


def run(video_path: str | os.PathLike, options: Options = Options(), *,
        detector: DetectorLike | str | None = None, lifter: LifterLike | str | None = None,
        render_to: str | os.PathLike | None = None) -> Result:
    """Detect, lift and (optionally) render one video; returns the per-frame poses and metadata.

    detector / lifter: an object, a name (detector name; lifter name or checkpoint path, as
    lifter.lift.Lifter.load takes), or None for the ones named in ``options``. Objects passed in
    are not closed; ones made here are.
    render_to: path of the side-by-side mp4 to write in the same pass (None: no rendering).
    Raises demo.video.VideoError for a missing or unreadable video.
    """
    if options.max_frames is not None and options.max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {options.max_frames}")
    if options.chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {options.chunk}")
    info = probe(video_path)
    t_start = time.perf_counter()
    if isinstance(detector, str):
        options, detector = replace(options, detector=detector), None
    if isinstance(lifter, str):
        options, lifter = replace(options, lifter=lifter, weights=None), None
    seconds = dict.fromkeys(STAGES, 0.0)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("kp2d", "scores", "kp3d", "world", "valid")}
    total = info.frame_count if info.frame_count > 0 else None
    if options.max_frames is not None and total is not None:
        total = min(total, options.max_frames)
    index = 0
    with contextlib.ExitStack() as stack:
        lift_model = lifter if lifter is not None else make_lifter(options)  # first: fails fast
        det = detector
        if det is None:
            det = make_detector(options)
            if hasattr(det, "close"):
                stack.callback(det.close)
        elif hasattr(det, "reset"):
            det.reset()  # a detector passed in may have tracked another video
        bars = [stack.enter_context(_bar(options, total, "2D detection")),
                stack.enter_context(_bar(options, total, "3D lifting"))]
        if render_to is not None:
            bars.append(stack.enter_context(_bar(options, total, "render + encode")))
        stack.enter_context(_lift_threads(lift_model))
        post = stack.enter_context(_Background(
            lambda item: _finish_chunk(*item, det.layout, lift_model, sink, seconds, parts, bars), "lift-render"))
        # entered after the thread: on an error the encoder is stopped first, so the thread ends fast
        sink = None if render_to is None else stack.enter_context(RenderSink(render_to, info, options))
        reader = stack.enter_context(FrameReader(video_path, buffer=_reader_buffer(info),
                                                 max_frames=options.max_frames))
        chunk = _Chunk()
        for frame in reader:
            t0 = time.perf_counter()
            pose = det.detect(frame)
            seconds["detect"] += time.perf_counter() - t0
            bars[0].update(1)
            chunk.add(pose, frame.shape[1], frame.shape[0], sink.shrink(frame) if sink is not None else None)
            del frame
            if len(chunk) == options.chunk:
                post.submit((chunk, index))
                index += len(chunk)
                chunk = _Chunk()
        if len(chunk):
            post.submit((chunk, index))
            index += len(chunk)
        del chunk
        post.finish()
        seconds["decode"] = reader.decode_seconds
        if index == 0:
            raise VideoError(f"no video frame could be decoded from {video_path}")
        if sink is not None:
            sink.close()
            seconds["render"] = sink.render_seconds
            seconds["encode"] = sink.writer.convert_seconds + sink.writer.encoder_cpu_seconds
    n = max(1, index)
    timings = {k: 1000.0 * v / n for k, v in seconds.items()}
    timings["total"] = 1000.0 * (time.perf_counter() - t_start) / n
    lift_name = (options.weights or options.lifter) if lifter is None else getattr(lifter, "name", type(lifter).__name__)
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return Result(
        keypoints_2d=cat["kp2d"], scores=cat["scores"], keypoints_3d=cat["kp3d"],
        keypoints_3d_world=cat["world"], valid=cat["valid"], fps=float(info.fps), width=info.width,
        height=info.height, video=str(video_path), detector=str(getattr(det, "name", type(det).__name__)),
        lifter=str(lift_name), timings_ms=timings,
    )


class _Chunk:
    """Detections of up to ``Options.chunk`` frames waiting to be lifted (and their shrunk frames)."""

    def __init__(self) -> None:
        self.xy: list[np.ndarray] = []
        self.scores: list[np.ndarray] = []
        self.small: list[np.ndarray | None] = []
        self.size = (0, 0)

    def add(self, pose: Any, width: int, height: int, small: np.ndarray | None) -> None:
        self.xy.append(np.asarray(pose.xy, np.float32))
        self.scores.append(np.asarray(pose.scores, np.float32))
        self.small.append(small)
        self.size = (width, height)

    def __len__(self) -> int:
        return len(self.xy)


def found_joints(kp2d: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Which joints were detected: (..., J, 2) pixels, (..., J) scores -> (..., J) bool.

    Found: a finite position that is not exactly (0, 0) (how several detectors write a missing
    joint) and a score > 0 (NaN scores count as 0).
    """
    finite = np.isfinite(kp2d).all(-1)
    return finite & (np.nan_to_num(kp2d) != 0).any(-1) & (np.nan_to_num(scores) > 0)


def _finish_chunk(chunk: _Chunk, start: int, layout: str, lifter: LifterLike, sink: RenderSink | None,
                  seconds: dict[str, float], parts: dict[str, list], bars: list[tqdm]) -> None:
    """Convert, lift, place in the world (and render) one chunk starting at frame ``start``."""
    n = len(chunk)
    width, height = chunk.size
    t1 = time.perf_counter()
    kp2d, scores = _to_h36m17(np.stack(chunk.xy), np.stack(chunk.scores), layout)
    found = found_joints(kp2d, scores)
    valid = found.any(-1)
    kp2d = np.where(found[..., None], kp2d, np.nan).astype(np.float32)
    scores = np.where(found, scores, 0.0).astype(np.float32)
    t2 = time.perf_counter()
    kp3d = np.full((n, 17, 3), np.nan, np.float32)
    if valid.any():
        kp3d[valid] = _lift(lifter, kp2d[valid], scores[valid], width, height)
    bars[1].update(n)
    t3 = time.perf_counter()
    world = to_world_view(kp3d)
    t4 = time.perf_counter()
    seconds["convert"] += t2 - t1
    seconds["lift"] += t3 - t2
    seconds["world"] += t4 - t3
    for key, value in (("kp2d", kp2d), ("scores", scores), ("kp3d", kp3d), ("world", world), ("valid", valid)):
        parts[key].append(value)
    if sink is not None:
        sink.draw(chunk.small, start, kp2d, scores, world, valid, bars[2])


def render_video(video_path: str | os.PathLike, result: Result, out_path: str | os.PathLike,
                 options: Options = Options()) -> Path:
    """Render an existing Result (e.g. read back from keypoints.npz) over its video into out_path.

    The video is decoded again (reader thread) and drawn and encoded in a second thread, chunk by
    chunk as in :func:`run`; its frame count must match the result's.
    """
    info = probe(video_path)
    r = result
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(_bar(options, r.num_frames, "render + encode"))
        post = stack.enter_context(_Background(lambda item: sink.draw(
            item[0], item[1], r.keypoints_2d[item[2]], r.scores[item[2]], r.keypoints_3d_world[item[2]],
            r.valid[item[2]], bar), "render"))
        sink = stack.enter_context(RenderSink(out_path, info, options))
        reader = stack.enter_context(FrameReader(video_path, buffer=_reader_buffer(info), max_frames=r.num_frames))
        count, small = 0, []
        for frame in reader:
            small.append(sink.shrink(frame))
            count += 1
            if len(small) == options.chunk or count == r.num_frames:
                post.submit((small, count - len(small), slice(count - len(small), count)))
                small = []
        post.finish()
        if count != r.num_frames:
            raise ValueError(f"{video_path} has {count} frames, the result {r.num_frames}")
        return sink.close()


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
