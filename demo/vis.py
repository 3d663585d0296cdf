"""Video of people -> 2D keypoints, 3D poses and a side-by-side video; one video or many.

    python demo/vis.py --video clip.mp4 [--output-dir DIR] [--lifter pgformer|diffpyramid] ...
    python demo/vis.py --video clips/ [--recursive] [--output-dir outputs] [--workers N | --ray]
    python demo/vis.py --webcam [INDEX] | --video rtsp://... | --video -   [--no-window] [--output shown.mp4]

One video: writes into the output directory (default outputs/<video name>/):
<video name>_pose3d.mp4 (the input with every tracked person's 2D skeleton and ID | their 3D
skeletons in one world with the ground estimated from their feet, or the fixed view),
keypoints.npz and keypoints.json (formats: demo/outputs.py and README), the exports of --export
(BVH, TRC, C3D per person; keypoints.csv; an HTML 3D viewer: demo/export/) and manifest.json.
Several videos (folders, globs, several paths): batch mode (demo/batch.py), outputs mirror the
input tree under the output directory (default outputs/), plus summary.json.
Live (a webcam, a stream URL, or - for standard input: demo/live.py): the newest frame is always
processed, late frames are dropped and counted, a window shows the view (q or Esc stops), a status
line reports the rates and latency; on stop (end of stream, q, Ctrl-C) the keypoint files and
exports of every processed frame go to the output directory (default outputs/<source name>/).

Exit codes: 0 every video done or skipped (up to date), 1 a video failed or the batch could not
run, 2 usage error (bad flag, missing input, no videos found), 130 interrupted (Ctrl-C, SIGTERM).
Run with --help for every option.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import the project, not demo/'s own modules by bare name
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

import argparse  # noqa: E402

from demo.render import RenderStyle  # noqa: E402
from demo.video import DEFAULT_PRESET  # noqa: E402

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _person(text: str) -> int | str:
    """--person: a track ID (an integer >= 1) or 'largest'."""
    if text == "largest":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a track ID or 'largest', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"track IDs start at 1, got {value}")
    return value


def _exports(text: str) -> tuple[str, ...]:
    """--export: comma-separated formats of demo.export, 'all' or 'none'."""
    from demo.export import parse_exports

    try:
        return parse_exports(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size(text: str) -> tuple[int, int]:
    """--frame-size: WIDTHxHEIGHT in pixels."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x480, got {text!r}") from None
    if w < 2 or h < 2:
        raise argparse.ArgumentTypeError(f"the frame size must be at least 2x2, got {text!r}")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (every flag documented in --help)."""
    from demo.export import DEFAULT_EXPORTS
    from demo.pipeline import DEFAULT_MAX_PEOPLE
    from demo.smoothing import DEFAULT_CUTOFF_HZ, DEFAULT_SMOOTH, SMOOTH_METHODS
    from demo.tracking import MIN_TRACK_S
    from demo.trajectory import DEFAULT_FOV_DEG
    from detectors import DETECTOR_NAMES
    from lifter.keypoints import LIFT_MIN_SCORE

    style = RenderStyle()
    p = argparse.ArgumentParser(
        prog="python demo/vis.py",
        description="Detect every person's 2D keypoints in a video (MediaPipe BlazePose by default), track "
                    "each person with a stable ID, lift them to 3D with a PGFormer or DiffPyramid lifter, "
                    "and write a side-by-side video plus keypoints.npz and keypoints.json (a person axis: "
                    "one row per track). Frames where a person is absent are marked invalid for them. "
                    "Given folders, globs or several videos, processes them all (batch mode): outputs "
                    "mirror the input tree, videos already done are skipped, failures are reported and the "
                    "batch goes on, summary.json lists the outcome. Exit code 0: all done or skipped, "
                    "1: a video failed, 2: usage error, 130: interrupted (rerun to resume).",
    )
    p.add_argument("--video", nargs="+", default=[], metavar="PATH",
                   help="input video(s) (any format FFmpeg reads), folder(s) of videos, or glob patterns "
                        "(quote them); more than one video means batch mode")
    p.add_argument("--webcam", nargs="?", type=int, const=0, default=None, metavar="INDEX",
                   help="live: process a webcam (OpenCV device index, default 0) as it comes; --video also takes "
                        "stream URLs (rtsp://, udp://, tcp://, http(s)://, rtmp://, srt://) and - (standard input)")
    p.add_argument("--no-window", action="store_true",
                   help="live: show no window (the default shows one when a display exists; q or Esc stops)")
    p.add_argument("--output", type=Path, default=None, metavar="FILE.mp4",
                   help="live: also record what is shown, in real time, to this mp4")
    p.add_argument("--frame-size", type=_size, default=None, metavar="WxH",
                   help="live, --video -: standard input carries raw rgb24 frames of this size (default: any "
                        "container or stream FFmpeg recognises); --keypoints without --video: the size of the "
                        "frames the keypoints were found in (default: what the file states)")
    p.add_argument("--fps", type=float, default=None,
                   help="live: frame rate of raw frames on standard input (default: 30); --keypoints without "
                        "--video: the keypoints' frame rate (default: what the file states)")
    p.add_argument("--open-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="live: give up when a stream sends no video for this long (default: %(default)s)")
    p.add_argument("--input-dir", action="append", default=[], type=Path, metavar="DIR",
                   help="a folder of videos to process in batch mode (repeatable; same as --video DIR)")
    p.add_argument("--recursive", action="store_true",
                   help="batch mode: also search sub-folders (and let ** in globs match folders)")
    p.add_argument("--output-dir", type=Path, default=None,
                   help="one video: the folder of its outputs (default: outputs/<video name>/); batch mode: "
                        "the root of the mirrored tree, <dir>/<relative folder>/<video name>/ (default: outputs/)")
    p.add_argument("--force", action="store_true",
                   help="redo videos whose outputs are complete and up to date (default: skip them)")
    p.add_argument("--workers", type=int, default=1,
                   help="batch mode: videos processed in parallel, each worker process with its own detector "
                        "and lifter; with --ray, the CPUs of a local Ray (default: %(default)s)")
    p.add_argument("--ray", action="store_true",
                   help="batch mode: run the videos as Ray tasks (optional extra 'ray'); on the cluster in "
                        "RAY_ADDRESS if set (inputs and outputs on shared storage), else on a local Ray")
    p.add_argument("--lifter", choices=("pgformer", "diffpyramid"), default="pgformer",
                   help="shipped lifter weights to use, weights/<name>.safetensors (default: %(default)s)")
    p.add_argument("--weights", type=Path, default=None,
                   help="lifter checkpoint to use instead of the shipped one (any compatible checkpoint, "
                        "including the paper's released files)")
    p.add_argument("--denoiser", type=Path, default=None, help="DiffPyramid denoiser checkpoint")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where the lifter (and the mmpose detector) runs; auto: CUDA when available (default: "
                        "%(default)s)")
    p.add_argument("--no-flip", action="store_true",
                   help="turn off flip averaging (lifting the mirrored pose too and averaging)")
    p.add_argument("--detector", choices=DETECTOR_NAMES, default=None,
                   help=f"2D keypoint detector (default: {DETECTOR_NAMES[0]})")
    p.add_argument("--pose-model", default=None, metavar="NAME|CONFIG.py",
                   help="--detector mmpose: the top-down keypoint model, rtmpose-m (default), hrnet-w32, or an "
                        "mmpose config file")
    p.add_argument("--box-model", default=None, metavar="NAME|CONFIG.py",
                   help="--detector mmpose: the person detector, rtmdet-m (default), faster-rcnn, or an mmdet "
                        "config file")
    p.add_argument("--detector-weights", nargs="+", type=Path, default=[], metavar="FILE",
                   help="--detector mmpose: local checkpoint files (the keypoint model's, the person detector's, "
                        "or both, in any order) instead of the model-zoo files, which are downloaded on first "
                        "use into torch's cache")
    p.add_argument("--keypoints", type=Path, default=None, metavar="FILE|DIR",
                   help="use 2D keypoints made elsewhere instead of a detector: a COCO-format results JSON, an "
                        "AlphaPose JSON, mmpose's predictions JSON, an OpenPose folder of per-frame JSON files "
                        "(BODY_25 or COCO-18), or this tool's keypoints.npz (to lift again with other settings). "
                        "With --video, that video is drawn; without, lifts from the keypoints alone (--fps and "
                        "--frame-size when the file does not state them); formats: detectors/keypoint_files.py")
    p.add_argument("--max-people", type=int, default=None,
                   help=f"people followed at once (default: everyone, up to {DEFAULT_MAX_PEOPLE}); 1 follows the "
                        "most prominent person and never switches to another silently")
    p.add_argument("--person", type=_person, default=None, metavar="ID|largest",
                   help="keep one person only: a track ID as drawn in the video, or 'largest' (the most "
                        "prominent person, as --max-people 1)")
    p.add_argument("--min-track", type=float, default=MIN_TRACK_S, metavar="SECONDS",
                   help="drop people seen for less than this many seconds of frames (brief false detections; a "
                        "track seen in half the clip or more is always kept; 0 keeps all; default: %(default)s)")
    p.add_argument("--max-gap", type=float, default=2.0, metavar="SECONDS",
                   help="a person who disappears and comes back within this many seconds keeps their ID "
                        "(default: %(default)s)")
    p.add_argument("--chunk", type=int, default=256,
                   help="(person, frame) rows per lifter call (default: %(default)s)")
    p.add_argument("--smooth", choices=SMOOTH_METHODS, default=DEFAULT_SMOOTH,
                   help="temporal smoothing of the 3D poses and trajectories: butterworth (zero-phase low-pass), "
                        "savgol (Savitzky-Golay), oneeuro (causal One-Euro, as for live use) or off (the lifter's "
                        "per-frame output) (default: %(default)s)")
    p.add_argument("--cutoff-hz", type=float, default=DEFAULT_CUTOFF_HZ, metavar="HZ",
                   help="the smoothing's cut-off frequency in Hz, the same at any frame rate (default: %(default)s)")
    p.add_argument("--no-repair", action="store_true",
                   help="lift the detector's 2D as found: no left/right swap fixes, outlier removal or gap filling")
    p.add_argument("--no-constant-bones", action="store_true",
                   help="keep the lifter's bone lengths per frame (default: each person's bone lengths are "
                        "estimated over the clip and kept constant)")
    camera = p.add_mutually_exclusive_group()
    camera.add_argument("--focal-px", type=float, default=None,
                        help="the video camera's focal length in pixels (default: from --fov)")
    camera.add_argument("--fov", type=float, default=None, metavar="DEGREES",
                        help=f"the video camera's field of view along the longer image side, degrees "
                             f"(default: {DEFAULT_FOV_DEG:g})")
    p.add_argument("--no-ground", action="store_true",
                   help="do not estimate the ground: draw and save the fixed root-centred view, people side by side")
    p.add_argument("--max-frames", type=int, default=None, help="process only the first N frames")
    p.add_argument("--no-video", action="store_true", help="write no side-by-side video (keypoints and exports only)")
    p.add_argument("--export", type=_exports, default=DEFAULT_EXPORTS, metavar="FORMATS",
                   help="files for other tools, comma-separated: bvh (Blender, one per person), trc and c3d "
                        "(OpenSim / Pose2Sim markers, one per person), csv (keypoints.csv), html (an offline 3D "
                        f"viewer); 'all' or 'none' (default: {','.join(DEFAULT_EXPORTS)})")
    p.add_argument("--panel-height", type=int, default=style.panel_height,
                   help="output video height in pixels; taller inputs are scaled down (default: %(default)s)")
    p.add_argument("--max-width", type=int, default=None, help="upper bound of the output video width")
    p.add_argument("--min-score", type=float, default=LIFT_MIN_SCORE,
                   help="joints with a lower detector score are treated as missing when lifting and drawn as "
                        "low confidence, grey rings (default: %(default)s)")
    p.add_argument("--azimuth", type=float, default=style.azimuth_deg,
                   help="3D view: camera azimuth around the vertical axis, degrees from world +x to +y (default: %(default)s)")
    p.add_argument("--elevation", type=float, default=style.elevation_deg,
                   help="3D view: camera elevation above the floor, degrees (default: %(default)s)")
    p.add_argument("--preset", default=DEFAULT_PRESET,
                   help="libx264 preset of the output video: faster presets (superfast, ultrafast) cost less CPU "
                        "per frame and make bigger files (default: %(default)s)")
    p.add_argument("--crf", type=int, default=23, help="libx264 quality of the output video, lower is better (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.add_argument("--verbose", action="store_true", help="show the detector backend's own log lines (MediaPipe, TFLite)")
    p.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = build_parser()
    args = p.parse_args(argv)
    if not args.video and not args.input_dir and args.webcam is None and args.keypoints is None:
        p.error("give --video PATH [PATH ...], --input-dir DIR, --webcam [INDEX] or --keypoints FILE")
    _check_live_args(p, args)
    _check_keypoint_args(p, args)
    for name in ("chunk", "max_frames", "panel_height", "max_width", "workers", "max_people"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.max_gap < 0:
        p.error("--max-gap must be at least 0")
    if not args.min_track >= 0:
        p.error("--min-track must be at least 0")
    if not args.cutoff_hz > 0:
        p.error("--cutoff-hz must be positive")
    if args.focal_px is not None and not args.focal_px > 0:
        p.error("--focal-px must be positive")
    if args.fov is not None and not 1.0 <= args.fov <= 179.0:
        p.error("--fov must be between 1 and 179 degrees")
    if not 0.0 <= args.min_score <= 1.0:
        p.error("--min-score must be in [0, 1]")
    mmpose_flags = [flag for flag, value in (("--pose-model", args.pose_model), ("--box-model", args.box_model),
                                             ("--detector-weights", args.detector_weights)) if value]
    if mmpose_flags and args.detector != "mmpose":
        p.error(f"{mmpose_flags[0]} is for --detector mmpose")
    if len(args.detector_weights) > 2:
        p.error("--detector-weights takes at most two files (the keypoint model's and the person detector's)")
    if args.person is not None and args.max_people is not None:
        p.error("give --person or --max-people, not both")
    return args


def is_live(args: argparse.Namespace) -> bool:
    """The command names a live source: a webcam, a stream URL or - (standard input)."""
    from demo.sources import is_live_spec

    return args.webcam is not None or any(is_live_spec(str(v)) for v in args.video)


def _check_live_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Flags that belong to live sources only, or to files only."""
    if not is_live(args):
        if args.output is not None:
            p.error("--output is for live sources (--webcam, a stream URL, --video -); offline runs write "
                    "<video name>_pose3d.mp4 in --output-dir")
        for flag, value in (("--frame-size", args.frame_size), ("--fps", args.fps)):
            if value is not None and (args.keypoints is None or args.video):
                p.error(f"{flag} is for live sources (--video -) and for --keypoints without --video (a video "
                        "file states its own)")
        if args.no_window:
            p.error("--no-window is for live sources (--webcam, a stream URL, --video -)")
        return
    if args.webcam is not None and args.video:
        p.error("give --webcam or --video, not both")
    if len(args.video) > 1 or args.input_dir or args.recursive or args.workers != 1 or args.ray:
        p.error("a live source is processed alone: no other videos, --input-dir, --recursive, --workers or --ray")
    if args.force:
        p.error("--force is for video files (a live run always writes its outputs)")
    if args.frame_size is not None and args.video != ["-"]:
        p.error("--frame-size is for raw frames on standard input (--video -)")
    if not args.open_timeout > 0:
        p.error("--open-timeout must be positive")
    if args.webcam is not None and args.webcam < 0:
        p.error("--webcam INDEX must be at least 0")
    if args.output is not None and args.output.suffix.lower() != ".mp4":
        p.error("--output must name an .mp4 file")


def _check_keypoint_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--keypoints replays one file, for at most one video file."""
    if args.fps is not None and not args.fps > 0:
        p.error("--fps must be positive")
    if args.keypoints is None:
        return
    if is_live(args):
        p.error("--keypoints replays a file; it cannot go with a live source")
    if args.detector is not None:
        p.error("give --detector or --keypoints, not both")
    if len(args.video) > 1 or args.input_dir or args.recursive or args.workers != 1 or args.ray:
        p.error("--keypoints goes with at most one video: no other videos, --input-dir, --recursive, "
                "--workers or --ray")


def _options(args: argparse.Namespace):
    from demo.motion import MotionSettings
    from demo.pipeline import Options
    from detectors import DETECTOR_NAMES, REPLAY

    if args.keypoints is not None:
        detector, detector_options = REPLAY, {"path": str(args.keypoints)}
    else:
        detector, detector_options = args.detector or DETECTOR_NAMES[0], {}
    if detector == "mmpose":
        detector_options = {"device": args.device, "weights": [str(p) for p in args.detector_weights],
                            **{k: v for k, v in (("pose_model", args.pose_model), ("box_model", args.box_model))
                               if v is not None}}
    return Options(
        detector=detector,
        detector_options=detector_options,
        fps=args.fps,
        frame_size=args.frame_size,
        lifter=args.lifter,
        weights=str(args.weights) if args.weights else None,
        denoiser=str(args.denoiser) if args.denoiser else None,
        device=args.device,
        flip=not args.no_flip,
        max_people=args.max_people,
        person=args.person,
        max_gap_s=args.max_gap,
        min_track_s=args.min_track,
        min_score=args.min_score,
        motion=MotionSettings(repair=not args.no_repair, smooth=args.smooth, cutoff_hz=args.cutoff_hz,
                              bones=not args.no_constant_bones, focal_px=args.focal_px, fov_deg=args.fov,
                              ground=not args.no_ground),
        chunk=args.chunk,
        max_frames=args.max_frames,
        progress=not args.no_progress,
        verbose=args.verbose,
        render=RenderStyle(panel_height=args.panel_height, max_width=args.max_width,
                           azimuth_deg=args.azimuth, elevation_deg=args.elevation),
        preset=args.preset,
        crf=args.crf,
    )


def _single_video(args: argparse.Namespace) -> Path | None:
    """The video when the command names exactly one existing file (not a folder, not a glob)."""
    if args.input_dir or len(args.video) != 1 or args.ray:
        return None
    path = Path(args.video[0])
    return path if path.exists() and not path.is_dir() else None


def _main(args: argparse.Namespace, factory) -> int:
    from demo.batch import find_videos, plan_jobs
    from demo.errors import UsageError
    from demo.job import JobSettings, check_writable

    for flag, path in (("--weights", args.weights), ("--denoiser", args.denoiser),
                       *(("--detector-weights", p) for p in args.detector_weights)):
        if path is not None and not path.is_file():
            raise UsageError(f"{flag} file not found: {path}")
    if is_live(args):
        return _live(args, factory)
    if args.keypoints is not None:
        return _replay(args, factory)
    settings = JobSettings(_options(args), video=not args.no_video, exports=args.export, force=args.force,
                           debug=args.debug)
    video = _single_video(args)
    if video is not None:
        return _one_video(video, args, settings, factory)
    out_root = args.output_dir or Path("outputs")
    jobs = plan_jobs(find_videos([*args.video, *args.input_dir], args.recursive), out_root)
    check_writable(out_root)
    return _many_videos(jobs, out_root, args, settings, factory)


def _replay(args: argparse.Namespace, factory) -> int:
    """--keypoints: lift keypoints made elsewhere, drawn on --video when given, else from the file alone."""
    from demo.errors import UsageError
    from demo.job import JobSettings
    from detectors.replay import load_keypoints

    if not args.keypoints.exists():
        raise UsageError(f"--keypoints file not found: {args.keypoints}")
    load_keypoints(args.keypoints)  # a malformed file: one line now, before anything is loaded or written
    if args.video:
        video = _single_video(args)
        if video is None:
            raise UsageError(f"--video with --keypoints must name one video file: {args.video[0]}")
    else:
        video = args.keypoints  # the keypoints' own clock stands in for the video (demo.keypoint_input)
    settings = JobSettings(_options(args), video=bool(args.video) and not args.no_video, exports=args.export,
                           force=args.force, debug=args.debug)
    return _one_video(video, args, settings, factory)


def _one_video(video: Path, args: argparse.Namespace, settings, factory) -> int:
    """One video: its outputs directly in --output-dir; errors as one line."""
    from demo.errors import BatchError
    from demo.job import Job, process_video
    from demo.pipeline import timing_summary
    from demo.runner import Models

    out_dir = args.output_dir if args.output_dir is not None else Path("outputs") / video.stem
    with Models(factory) as models:
        outcome = process_video(Job(video, out_dir), settings, models)
    if outcome.status == "failed":
        if outcome.traceback:
            print(outcome.traceback, file=sys.stderr, end="")
        if outcome.fatal:
            raise BatchError(outcome.reason)
        print(f"error: {outcome.reason}", file=sys.stderr)
        return EXIT_ERROR
    if outcome.status == "skipped":
        print(f"up to date, skipped (--force redoes it): {out_dir}")
        return EXIT_OK
    _person_note(outcome)
    print(timing_summary(outcome.timings_ms, outcome.frames))
    print(f"outputs in {out_dir}:")
    for path in outcome.outputs:
        print(f"  {Path(path).name}")
    return EXIT_OK


def _live(args: argparse.Namespace, factory) -> int:
    """A live source (demo/live.py): open it, run until it stops, write what was processed."""
    import contextlib

    from demo.job import check_writable
    from demo.live import LiveSettings, output_stem, run_session, write_live_outputs
    from demo.online import live_settings
    from demo.pipeline import timing_summary
    from demo.runner import Models
    from demo.sources import open_live, open_webcam
    from demo.window import display_problem

    options = _options(args)
    window = not args.no_window
    if window and (problem := display_problem()):
        tqdm_write(f"note: {problem}: running without a window (as --no-window)")
        window = False
    if args.webcam is not None:
        source = open_webcam(args.webcam, open_timeout_s=args.open_timeout)
    else:
        source = open_live(args.video[0], raw_size=args.frame_size, fps=args.fps, open_timeout_s=args.open_timeout)
    with contextlib.closing(source):
        stem = output_stem(source.info.name)
        out_dir = args.output_dir if args.output_dir is not None else Path("outputs") / stem
        check_writable(out_dir)
        if args.output is not None:
            check_writable(args.output.parent if str(args.output.parent) else Path("."))
        with Models(factory) as models:
            detector, lifter = models.get(options)
            told = live_settings(options.motion)[1]
            for note in told:
                tqdm_write(f"note: {note}")
            info = source.info
            tqdm_write(f"live: {info.name}, {info.width}x{info.height}"
                       + (f" at {float(info.fps):.2f} fps" if info.fps else "") + ("; q or Esc in the window stops"
                                                                                  if window else "; Ctrl-C stops"))
            result, stats = run_session(source, LiveSettings(options, window, args.output), detector, lifter)
    if result is None:
        print(f"error: no frame was processed from {source.info.name} ({stats.stopped_by})", file=sys.stderr)
        return EXIT_ERROR
    paths = write_live_outputs(out_dir, result, args.export, stem, progress=options.progress)
    for note in result.notes:
        if note not in told:
            tqdm_write(f"note: {note}")
    print(timing_summary(result.timings_ms, result.num_frames))
    print(f"outputs in {out_dir}:")
    for path in paths:
        print(f"  {Path(path).name}")
    if args.output is not None and stats.processed:
        print(f"recording: {args.output}")
    return EXIT_OK


def _person_note(outcome, where: str = "") -> None:
    """What the user should know about a done video, on stderr: people found, frames without
    anyone, the run's notes (identity changes of a followed person, frames not decoded)."""
    n, found = outcome.frames, outcome.valid_frames
    for note in outcome.notes:
        tqdm_write(f"note: {outcome.path}: {note}")
    if found == 0:
        tqdm_write(f"warning: no person found in any of the {n} frames{where}; all outputs are marked invalid")
        return
    tqdm_write(f"{outcome.people} {'person' if outcome.people == 1 else 'people'} tracked{where}"
               + (f"; nobody found in {n - found} of {n} frames" if found < n else ""))


def _many_videos(jobs, out_root: Path, args: argparse.Namespace, settings, factory) -> int:
    """Batch mode: progress over videos, a summary table and summary.json; exit 0 or 1."""
    from demo.batch import run_batch, summary_table, write_summary

    def on_outcome(outcome) -> None:
        if outcome.status == "done":
            _person_note(outcome, f" in {outcome.path}")
        if outcome.status == "failed":
            if outcome.traceback:
                tqdm_write(outcome.traceback.rstrip())
            tqdm_write(f"failed: {outcome.path}: {outcome.reason}")

    summary = run_batch(jobs, settings, workers=args.workers, ray=args.ray, factory=factory, on_outcome=on_outcome)
    path = write_summary(out_root, summary)
    print(summary_table(summary))
    print(f"summary: {path}")
    return EXIT_ERROR if summary.by_status("failed") else EXIT_OK


def tqdm_write(line: str) -> None:
    """A line on stderr that does not break the progress bars."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None, factory=None) -> int:
    """Run the CLI; returns the exit code (errors: one line on stderr unless --debug).

    factory: the model factory (demo.runner; None: the real detector and lifter). A module-level
    function, so that worker processes can make the same models.
    """
    import signal

    args = parse_args(argv)
    from demo.errors import UsageError, one_line, quiet_interrupts_in_finalizers
    from demo.runner import load_models

    quiet_interrupts_in_finalizers()

    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # SIGTERM stops cleanly, as Ctrl-C does
    try:
        return _main(args, factory or load_models)
    except KeyboardInterrupt:
        print("interrupted; temporary files removed, rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # one line for the user; --debug shows the traceback
        if args.debug:
            raise
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
