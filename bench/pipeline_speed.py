"""Speed and memory of the whole demo pipeline (demo.pipeline.run with rendering) on a real video.

    python bench/pipeline_speed.py --video ONE_PERSON.mp4 [--two-people TWO_PEOPLE.mp4] --json OUT.json
                                   [--sizes native 1280x720 1920x1080] [--long-size 1280x720]
                                   [--loops 10] [--preset P] [--frames N] [--repeat N]

Runs the real pipeline: MediaPipe BlazePose (full), the shipped lifter "pgformer"
(weights/pgformer.safetensors; when that file is missing, a randomly initialised PGFormer of the
same configuration, the "openmocap_pgformer" preset's, clearly labelled as such: it costs the
same, its poses are meaningless) and the default renderer and H.264 encoder, writing the
side-by-side mp4 to a temporary folder. The video is measured at its own size ("native") and
scaled with FFmpeg to each other size of ``--sizes`` (made once in a temporary folder).

For each size, in two fresh processes (so that peak RSS is that of one run), each run
``--repeat`` times (a shared machine's speed varies from run to run: the run with the median
fps is kept, every run's fps recorded):
- the full pipeline: ms per frame of each stage's own busy time (Result.timings_ms: one per
  demo.pipeline.STAGES), end-to-end frames per second (frames over the wall clock of run(),
  models already loaded) and the process's peak RSS;
- decode + detect alone (demo.video.FrameReader feeding the same detector, nothing else):
  detector-only frames per second.
After each full-pipeline run, what the demo writes is timed too: keypoints.npz/.json, then every
export format (demo.export: BVH/TRC/C3D per person, CSV, the HTML viewer); "exports_share" = the
exports' seconds over the pipeline's plus keypoints' (target on the two-people clip, the
``make demo`` clip with its defaults: <= 0.10).
Then the full pipeline on the ``--long-size`` copy looped ``--loops`` times (FFmpeg stream copy):
peak RSS against the same copy played once. With ``--two-people``, that video (e.g. the Sports2D
clip, two people in most frames) is measured the same way at 1280x720 ("two_people_1280x720").
The ``--video`` runs use ``--max-people`` (e.g. 1: the single-person mode), the two-people run the
demo's defaults (everyone tracked, up to DEFAULT_MAX_PEOPLE).

Printed as a table with the targets at 1280x720 (one person: end to end >= 30 fps and >= 0.7 x
the detector-only fps, render <= 8 ms per frame; two people: end to end >= 25 fps; peak RSS of
the looped video <= 1.2 x the single one) and saved with --json as {"<w>x<h>": {"ms_per_frame": {...}, "end_to_end_fps",
"detector_only_fps", "peak_rss_mb", "frames"}, "long_video": {"peak_rss_mb_1x",
"peak_rss_mb_10x", ...}, "targets": {...}, "meta": {...}}. "meta" records the lifter used, the
encoder preset and the machine's load during the runs ("machine", lifter.machine; its load
averages also as "load_average_before" / "load_average_after"): figures taken while other
programs keep the CPU busy are marked not valid with a warning, or refused with --require-idle
(exit code 3, nothing written).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tqdm import tqdm  # noqa: E402

from demo.pipeline import STAGES as STAGE_KEYS  # noqa: E402
from demo.video import VideoError, ffmpeg_exe, probe  # noqa: E402
from lifter.machine import BusyMachine, MachineLoad, describe, judge  # noqa: E402

TWO_PEOPLE = "two_people_1280x720"
SHIPPED = REPO / "weights" / "pgformer.safetensors"
FALLBACK_PRESET = "openmocap_pgformer"
TARGET_SIZE = "1280x720"
PORTRAIT_SIZE = "720x1280"


class BenchError(Exception):
    """A one-line reason the benchmark cannot run."""


# --- one measurement, in its own process ---------------------------------------------------------

def _lifter():
    """The shipped PGFormer, or a random one of the same configuration; returns (lifter, label)."""
    from demo.pipeline import Options, make_lifter

    if SHIPPED.is_file():
        return make_lifter(Options(lifter="pgformer")), f"pgformer ({SHIPPED.relative_to(REPO)})"
    from lifter.lift import Lifter
    from lifter.models import build_model, num_joints_of
    from lifter.presets import get_preset
    from lifter.training import model_config

    cfg = model_config(get_preset(FALLBACK_PRESET))
    model = build_model(cfg)
    label = (f"RANDOMLY INITIALISED PGFormer ({FALLBACK_PRESET} configuration; {SHIPPED.relative_to(REPO)} "
             "is missing): same cost, meaningless poses")
    return Lifter(model, num_joints_of(cfg), device=Options().device, flip=Options().flip, config=cfg), label


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def detector_options(detector: str) -> dict:
    """The detector's options in these runs: mmpose with randomly initialised weights on the CPU
    (its model-zoo weights cannot be downloaded here; the cost per box does not depend on the
    values, and random RTMDet weights score many boxes above the threshold, so the keypoint model
    runs on exactly ``max_people`` boxes per frame, as many as there are people to follow)."""
    return {"random_init": True, "device": "cpu"} if detector == "mmpose" else {}


def worker(kind: str, video: Path, out_dir: Path, max_frames: int | None = None, preset: str | None = None,
           max_people: int | None = None, detector_name: str = "blazepose") -> dict:
    """kind "pipeline": the full pipeline with rendering; "detect": decode + detect only.
    preset: libx264 preset of the output (None: the pipeline's default)."""
    from demo.pipeline import Options, make_detector, run
    from demo.video import FrameReader

    options = Options(progress=False, max_frames=max_frames, max_people=max_people, detector=detector_name,
                      detector_options=detector_options(detector_name))
    if preset is not None:
        options = replace(options, preset=preset)
    detector = make_detector(options)
    try:
        if kind == "detect":
            frames = 0
            t0 = time.perf_counter()
            with FrameReader(video, max_frames=max_frames) as reader:
                for frame, time_s in reader:
                    detector.detect(frame, time_s)
                    frames += 1
            wall = time.perf_counter() - t0
            return {"frames": frames, "fps": frames / wall, "peak_rss_mb": _peak_rss_mb(), "detector": detector.name}
        lifter, label = _lifter()
        t0 = time.perf_counter()
        result = run(video, options, detector=detector, lifter=lifter, render_to=out_dir / "out.mp4")
        wall = time.perf_counter() - t0
        files = _write_files(result, video, out_dir)
        return {"frames": result.num_frames, "fps": result.num_frames / wall, "peak_rss_mb": _peak_rss_mb(),
                "run_s": wall, **files,
                "ms_per_frame": {k: result.timings_ms[k] for k in STAGE_KEYS}, "lifter": label,
                "preset": options.preset, "people": result.num_people, "detector": detector.name,
                "frames_with_two": int((result.valid.sum(0) >= 2).sum()) if result.num_people else 0}
    finally:
        detector.close()


def _write_files(result, video: Path, out_dir: Path) -> dict:
    """What the demo writes after the pipeline, timed: keypoints.npz/.json, then every export
    format (demo.export.FORMATS) as `python demo/vis.py --export all` writes them."""
    from demo.export import FORMATS, video_url_for, write_exports
    from demo.outputs import write_outputs

    t0 = time.perf_counter()
    write_outputs(out_dir, result)
    t1 = time.perf_counter()
    written = write_exports(out_dir, result, FORMATS, video.stem, video_url=video_url_for(video, out_dir))
    t2 = time.perf_counter()
    return {"outputs_s": t1 - t0, "exports_s": t2 - t1, "export_files": len(written),
            "export_mb": sum(p.stat().st_size for p in written) / 1e6}


def _measure(kind: str, video: Path, tmp: Path, max_frames: int | None, preset: str | None,
             max_people: int | None = None, detector: str = "blazepose") -> dict:
    """Run ``worker(kind, video)`` in a fresh Python process and return its figures."""
    out = tmp / f"{kind}_{video.stem}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--video", str(video),
           "--json", str(out), "--worker-detector", detector] \
        + ([] if max_frames is None else ["--frames", str(max_frames)]) \
        + ([] if preset is None else ["--preset", preset]) \
        + ([] if max_people is None else ["--max-people", str(max_people)])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not out.is_file():
        lines = proc.stderr.strip().splitlines()
        raise BenchError(f"{kind} run on {video.name} failed: {lines[-1] if lines else f'exit {proc.returncode}'}")
    return json.loads(out.read_text())


# --- inputs ------------------------------------------------------------------------------------------

def run_ffmpeg(*args: str) -> None:
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"ffmpeg failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")


def scaled_copy(video: Path, size: str, tmp: Path) -> Path:
    """The video scaled to WIDTHxHEIGHT (H.264, near-lossless crf 17, so decoding costs as usual)."""
    w, h = parse_size(size)
    out = tmp / f"{video.stem}_{w}x{h}.mp4"
    run_ffmpeg("-i", str(video), "-vf", f"scale={w}:{h}", "-an", "-c:v", "libx264", "-preset", "veryfast",
            "-crf", "17", "-pix_fmt", "yuv420p", str(out))
    return out


def looped_copy(video: Path, loops: int, tmp: Path) -> Path:
    """The video played ``loops`` times in a row (stream copy, no re-encoding)."""
    out = tmp / f"{video.stem}_x{loops}.mp4"
    run_ffmpeg("-stream_loop", str(loops - 1), "-i", str(video), "-an", "-c", "copy", str(out))
    return out


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise BenchError(f"size must be WIDTHxHEIGHT or 'native', got {text!r}") from None
    if w < 2 or h < 2 or w % 2 or h % 2:
        raise BenchError(f"size must be even and at least 2x2, got {text!r}")
    return w, h


# --- the benchmark -----------------------------------------------------------------------------------

def _median_run(runs: list[dict]) -> dict:
    """Of several runs of one measurement, the one with the median frames per second (the
    lower middle one for an even count), with every run's fps added as "fps_runs"."""
    ranked = sorted(runs, key=lambda r: r["fps"])
    chosen = dict(ranked[(len(ranked) - 1) // 2])
    chosen["fps_runs"] = [r["fps"] for r in runs]
    return chosen


def bench(video: Path, sizes: list[str], long_size: str, loops: int, max_frames: int | None = None,
          preset: str | None = None, two_people: Path | None = None, max_people: int | None = None,
          repeat: int = 1) -> dict:
    """Every measurement (see the module docstring); sizes: "WxH" or "native"; max_frames: per
    run, the looped video getting ``loops`` times as many (None: whole videos); repeat: fresh
    runs of each measurement but the looped one, of which the median one is kept."""
    info = probe(video)
    native = f"{info.width}x{info.height}"
    long_size = native if long_size == "native" else long_size
    results: dict = {}
    with MachineLoad() as load, tempfile.TemporaryDirectory(prefix="pipeline_speed_") as tmp_name:
        tmp = Path(tmp_name)
        inputs: dict[str, Path] = {}
        for size in dict.fromkeys(native if s == "native" else s for s in sizes + [long_size]):
            inputs[size] = video if size == native else scaled_copy(video, size, tmp)
        long_1x = inputs[long_size]
        looped = looped_copy(long_1x, loops, tmp)
        runs = [(size, kind) for size in dict.fromkeys(native if s == "native" else s for s in sizes)
                for kind in ("detect", "pipeline")]
        if long_size not in {s for s, _ in runs}:
            runs.append((long_size, "pipeline"))
        runs.append(("long", "pipeline"))
        if two_people is not None:
            inputs[TWO_PEOPLE] = scaled_copy(two_people, TARGET_SIZE, tmp)
            runs += [(TWO_PEOPLE, "detect"), (TWO_PEOPLE, "pipeline")]
        meta: dict = {}
        measured: dict[tuple[str, str], dict] = {}
        for size, kind in tqdm(runs, desc="benchmark runs", unit="run", file=sys.stderr):
            limit = None if max_frames is None else max_frames * (loops if size == "long" else 1)
            people = None if size == TWO_PEOPLE else max_people  # the two-people clip: the defaults
            source = looped if size == "long" else inputs[size]
            measured[size, kind] = _median_run([_measure(kind, source, tmp, limit, preset, people)
                                                for _ in range(1 if size == "long" else repeat)])
            if kind == "pipeline":
                meta = {"lifter": measured[size, kind]["lifter"], "preset": measured[size, kind]["preset"]}
        for size, kind in runs:
            if kind != "detect":
                continue
            full, det = measured[size, "pipeline"], measured[size, "detect"]
            results[size] = {"ms_per_frame": full["ms_per_frame"], "end_to_end_fps": full["fps"],
                             "end_to_end_fps_runs": full["fps_runs"], "detector_only_fps": det["fps"],
                             "detector_only_fps_runs": det["fps_runs"], "peak_rss_mb": full["peak_rss_mb"],
                             "frames": full["frames"], "people": full["people"],
                             "frames_with_two_people": full["frames_with_two"],
                             "run_s": full["run_s"], "outputs_s": full["outputs_s"], "exports_s": full["exports_s"],
                             "export_files": full["export_files"], "export_mb": full["export_mb"],
                             "exports_share": full["exports_s"] / (full["run_s"] + full["outputs_s"])}
        one, ten = measured[long_size, "pipeline"], measured["long", "pipeline"]
        results["long_video"] = {"size": long_size, "loops": loops, "frames_1x": one["frames"],
                                 "frames_10x": ten["frames"], "peak_rss_mb_1x": one["peak_rss_mb"],
                                 "peak_rss_mb_10x": ten["peak_rss_mb"], "end_to_end_fps_10x": ten["fps"]}
    machine = load.report()
    meta.update(repeat=repeat, max_people=max_people, video=str(video), two_people_video=str(two_people) if two_people else None, native_size=native, cpus=machine["cpus"],
                load_average_before=machine["load_average_before"],
                load_average_after=machine["load_average_after"], machine=machine)
    results["targets"] = targets(results)
    results["meta"] = meta
    return results


def compare_detectors(video: Path, size: str, detectors: list[str], max_people: int | None,
                      max_frames: int | None, preset: str | None, repeat: int) -> dict:
    """Each detector on the same copy of ``video`` (at ``size``, "native" for its own): decode +
    detect alone, and the full pipeline with rendering, each in a fresh process, the median of
    ``repeat`` runs. Returns {"detectors": {name: {...}}, "meta": {...}}."""
    results: dict = {"detectors": {}}
    with MachineLoad() as load, tempfile.TemporaryDirectory(prefix="pipeline_speed_") as tmp_name:
        tmp = Path(tmp_name)
        source = video if size == "native" else scaled_copy(video, size, tmp)
        runs = [(name, kind) for name in detectors for kind in ("detect", "pipeline")]
        measured = {}
        for name, kind in tqdm(runs, desc="benchmark runs", unit="run", file=sys.stderr):
            measured[name, kind] = _median_run([_measure(kind, source, tmp, max_frames, preset, max_people, name)
                                                for _ in range(repeat)])
        for name in detectors:
            det, full = measured[name, "detect"], measured[name, "pipeline"]
            results["detectors"][name] = {
                "detector": det["detector"], "options": detector_options(name), "frames": full["frames"],
                "detector_only_fps": det["fps"], "detector_only_fps_runs": det["fps_runs"],
                "end_to_end_fps": full["fps"], "end_to_end_fps_runs": full["fps_runs"],
                "ms_per_frame": full["ms_per_frame"], "people": full["people"], "peak_rss_mb": full["peak_rss_mb"],
                "lifter": full["lifter"]}
    machine = load.report()
    info = probe(source if size == "native" else video)
    results["meta"] = {"video": str(video), "size": size if size != "native" else f"{info.width}x{info.height}",
                       "max_people": max_people, "frames": max_frames, "repeat": repeat, "cpus": machine["cpus"],
                       "load_average_before": machine["load_average_before"],
                       "load_average_after": machine["load_average_after"], "machine": machine}
    return results


def detector_table(results: dict) -> str:
    meta = results["meta"]
    lines = [f"detectors on {Path(meta['video']).name} at {meta['size']}, up to {meta['max_people']} people, "
             f"{meta['frames'] or 'all'} frames; fps: frames per wall-clock second",
             f"{'detector':>10} {'det fps':>8} {'e2e fps':>8} {'detect ms':>10} {'people':>7}"]
    for name, r in results["detectors"].items():
        lines.append(f"{name:>10} {r['detector_only_fps']:8.2f} {r['end_to_end_fps']:8.2f} "
                     f"{r['ms_per_frame']['detect']:10.1f} {r['people']:7d}")
        if r["options"]:
            lines.append(f"{'':>10} options: {r['options']}")
    lines.append(describe(meta["machine"]))
    return "\n".join(lines)


def targets(results: dict) -> dict:
    """The issue-7 targets, each {"value", "target", "pass"} (at 1280x720 when it was measured)."""
    out = {}
    r = results.get(TARGET_SIZE, results.get(PORTRAIT_SIZE))  # a portrait video is measured at 720x1280
    if r is not None:
        fps, det = r["end_to_end_fps"], r["detector_only_fps"]
        out["end_to_end_fps_1280x720"] = {"value": fps, "target": ">= 30", "pass": fps >= 30}
        out["ratio_to_detector_only_1280x720"] = {"value": fps / det, "target": ">= 0.7", "pass": fps / det >= 0.7}
        render = r["ms_per_frame"]["render"]
        out["render_ms_1280x720"] = {"value": render, "target": "<= 8", "pass": render <= 8}
    two = results.get(TWO_PEOPLE)
    if two is not None:
        fps = two["end_to_end_fps"]
        out["end_to_end_fps_two_people_1280x720"] = {"value": fps, "target": ">= 25", "pass": fps >= 25}
        share = two["exports_share"]
        out["exports_share_two_people_1280x720"] = {"value": share, "target": "<= 0.10", "pass": share <= 0.10}
    lv = results["long_video"]
    ratio = lv["peak_rss_mb_10x"] / lv["peak_rss_mb_1x"]
    out["peak_rss_10x_over_1x"] = {"value": ratio, "target": "<= 1.2", "pass": ratio <= 1.2}
    return out


def table(results: dict) -> str:
    sizes = [k for k in results if k not in ("long_video", "targets", "meta")]
    head = f"{'input':>19} " + " ".join(f"{k:>7}" for k in STAGE_KEYS) + \
        f" {'e2e fps':>8} {'det fps':>8} {'ratio':>6} {'RSS MB':>7}"
    lines = ["ms per frame of each stage's busy time (stages overlap); fps: frames per wall-clock second", head]
    for size in sizes:
        r = results[size]
        ms = " ".join(f"{r['ms_per_frame'][k]:7.2f}" for k in STAGE_KEYS)
        lines.append(f"{size:>19} {ms} {r['end_to_end_fps']:8.1f} {r['detector_only_fps']:8.1f} "
                     f"{r['end_to_end_fps'] / r['detector_only_fps']:6.2f} {r['peak_rss_mb']:7.0f}")
    for size in sizes:
        r = results[size]
        lines.append(f"{size:>19}: pipeline {r['run_s']:.1f} s, keypoints.npz/.json {r['outputs_s']:.2f} s, "
                     f"all exports {r['exports_s']:.2f} s ({r['export_files']} files, {r['export_mb']:.1f} MB, "
                     f"{100 * r['exports_share']:.1f}% of pipeline + keypoints)")
    lv = results["long_video"]
    lines.append(f"long video ({lv['size']}): peak RSS {lv['peak_rss_mb_1x']:.0f} MB for {lv['frames_1x']} frames, "
                 f"{lv['peak_rss_mb_10x']:.0f} MB for {lv['frames_10x']} frames ({lv['loops']}x)")
    for name, t in results["targets"].items():
        lines.append(f"target {name}: {t['value']:.2f} ({t['target']}) {'PASS' if t['pass'] else 'FAIL'}")
    meta = results["meta"]
    lines.append(f"lifter: {meta.get('lifter')}; encoder preset: {meta.get('preset')}; "
                 f"load average before {meta['load_average_before']}, after {meta['load_average_after']} "
                 f"on {meta['cpus']} CPUs")
    if "machine" in meta:
        lines.append(describe(meta["machine"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--video", type=Path, required=True, help="the real video to measure (one person)")
    p.add_argument("--max-people", type=int, default=None,
                   help="the demo's --max-people for the --video runs (default: the demo's default); the "
                        "--two-people run always uses the defaults")
    p.add_argument("--two-people", type=Path, default=None,
                   help="a real video with two people, also measured at 1280x720 (e.g. sample_videos/demo.mp4)")
    p.add_argument("--json", type=Path, default=None, help="also save the figures here (JSON)")
    p.add_argument("--sizes", nargs="+", default=["native", "1280x720", "1920x1080"],
                   help="input sizes WIDTHxHEIGHT, 'native' for the video's own (default: %(default)s)")
    p.add_argument("--long-size", default=TARGET_SIZE,
                   help="size of the copy looped for the memory test (default: %(default)s)")
    p.add_argument("--loops", type=int, default=10, help="times the long video plays the copy (default: %(default)s)")
    p.add_argument("--frames", type=int, default=None,
                   help="only the first N frames of each run (N x loops for the long video), for a quick "
                        "check; default: whole videos")
    p.add_argument("--preset", default=None,
                   help="libx264 preset of the output video (default: the demo's, demo.video.DEFAULT_PRESET)")
    p.add_argument("--require-idle", action="store_true",
                   help="refuse (exit 3, write nothing) when other programs kept the machine busy")
    p.add_argument("--repeat", type=int, default=1,
                   help="fresh runs of each measurement (the looped video's excepted); the median run is kept "
                        "(default: %(default)s)")
    p.add_argument("--compare-detectors", nargs="+", default=None, metavar="NAME",
                   help="instead of the runs above: each detector named (e.g. blazepose mmpose) on --video at "
                        "the first of --sizes, detector only and end to end, side by side")
    p.add_argument("--worker", choices=("pipeline", "detect"), default=None, help=argparse.SUPPRESS)
    p.add_argument("--worker-detector", default="blazepose", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    try:
        if args.worker:  # internal: one measurement in this fresh process, figures to --json
            with tempfile.TemporaryDirectory(prefix="pipeline_speed_run_") as tmp:
                figures = worker(args.worker, args.video, Path(tmp), args.frames, args.preset, args.max_people,
                                 args.worker_detector)
            args.json.write_text(json.dumps(figures))
            return 0
        if args.loops < 2:
            raise BenchError("--loops must be at least 2")
        if args.frames is not None and args.frames < 1:
            raise BenchError("--frames must be at least 1")
        for size in args.sizes + [args.long_size]:
            if size != "native":
                parse_size(size)
        probe(args.video)
        if args.two_people is not None:
            probe(args.two_people)
        if args.max_people is not None and args.max_people < 1:
            raise BenchError("--max-people must be at least 1")
        if args.repeat < 1:
            raise BenchError("--repeat must be at least 1")
        if args.compare_detectors:
            results = compare_detectors(args.video, args.sizes[0], args.compare_detectors, args.max_people,
                                        args.frames, args.preset, args.repeat)
        else:
            results = bench(args.video, args.sizes, args.long_size, args.loops, args.frames, args.preset,
                            args.two_people, args.max_people, args.repeat)
    except (BenchError, VideoError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(detector_table(results) if args.compare_detectors else table(results))
    try:
        judge(results["meta"]["machine"], args.require_idle)
    except BusyMachine as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    if args.json:
        from lifter.atomic import write_json

        write_json(args.json, results)
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
