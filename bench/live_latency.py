"""Latency and throughput of the live path (demo/live.py) on a real video streamed over local TCP.

    python bench/live_latency.py --video sample_videos/demo.mp4 --json bench/live_latency.json
                                 [--sizes 640x480 1280x720] [--people 1 default] [--seconds 20] [--window]

For each size, the video (the Sports2D clip: 30 fps, two people) is letterboxed to WIDTHxHEIGHT,
looped to ``--seconds`` and encoded once, before any timing, as an MPEG-TS H.264 stream
(libx264 ``-tune zerolatency``, a key frame every second). Each measurement then serves that
file with the bundled FFmpeg in real time (``-re``, stream copy, so the server costs almost no
CPU) to ``tcp://127.0.0.1:PORT``, where the live session listens (``?listen=1``); the server
ends with the file, the session with the stream. The whole product runs: the FFmpeg source
(demo.sources), MediaPipe BlazePose, the tracker, the shipped PGFormer lifter, the causal motion
(demo.online) and the renderer; no window unless ``--window`` (then under the display in
DISPLAY). ``--people``: "1" follows one person (--max-people 1), "default" everyone, up to the
demo's cap.

Figures per run: frames sent (the file's frame count), captured, processed and dropped (the
session's exact count: captured = processed + dropped), processed fps (processed frames over
the session's wall clock), the latency from a frame's capture (the decoded frame handed over by
the source) to its drawn frame's display (or drawing, without a window): median and 95th
percentile over every processed frame, and over the frames after the first ``WARMUP_S`` seconds
(the detector builds its graph on the first frame). Targets: at 640x480 with one person, median
latency < 60 ms; with one person, processed fps >= 25 at every size; every run: dropped frames
counted exactly (captured = processed + dropped and captured = sent). The machine's load is
recorded (lifter.machine): runs on a busy machine are marked not valid, or refused with
``--require-idle``.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from demo.live import LiveSettings, run_session  # noqa: E402
from demo.pipeline import Options  # noqa: E402
from demo.runner import Models  # noqa: E402
from demo.sources import open_live  # noqa: E402
from demo.video import VideoError, ffmpeg_exe, probe  # noqa: E402
from lifter.machine import BusyMachine, MachineLoad, describe, judge  # noqa: E402
from pipeline_speed import BenchError, parse_size, run_ffmpeg  # noqa: E402  (bench/ is this script's folder)

#: seconds at the start of a session left out of the "steady" latency figures
WARMUP_S = 1.0
TARGET_LATENCY_SIZE = "640x480"


def stream_file(video: Path, size: str, seconds: float, tmp: Path) -> tuple[Path, int]:
    """The video letterboxed to ``size``, looped to ``seconds``, as MPEG-TS H.264: (file, frames)."""
    w, h = parse_size(size)
    out = tmp / f"stream_{w}x{h}.ts"
    fps = float(probe(video).fps)
    run_ffmpeg("-stream_loop", "-1", "-i", str(video), "-t", f"{seconds:.3f}", "-an",
            "-vf", f"scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1",
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-crf", "20", "-pix_fmt", "yuv420p",
            "-g", str(max(1, round(fps))), "-f", "mpegts", str(out))
    frames = probe(out).frame_count
    if frames < 1:
        raise BenchError(f"could not count the frames of the stream made from {video}")
    return out, frames


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _latency(values: list[float]) -> dict:
    if not values:
        return {"median_ms": None, "p95_ms": None}
    return {"median_ms": float(np.median(values)), "p95_ms": float(np.percentile(values, 95))}


def measure(stream: Path, frames_sent: int, people: str, models: Models, window: bool) -> dict:
    """One live session on the stream served in real time (module docstring)."""
    port = _free_port()
    server: list[subprocess.Popen] = []

    def serve() -> None:  # once the session listens
        server.append(subprocess.Popen(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re", "-i", str(stream), "-c", "copy",
             "-f", "mpegts", f"tcp://127.0.0.1:{port}"], stdin=subprocess.DEVNULL))

    options = Options(max_people=1 if people == "1" else None, progress=False)
    detector, lifter = models.get(options)
    timer = threading.Timer(0.5, serve)
    timer.start()
    try:
        source = open_live(f"tcp://127.0.0.1:{port}?listen=1", open_timeout_s=20.0)
        try:
            result, stats = run_session(source, LiveSettings(options, window=window), detector, lifter)
        finally:
            source.close()
    finally:
        timer.cancel()
        for proc in server:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    times = result.time_s if result is not None else np.zeros(0)
    steady = [v for v, t in zip(stats.latency_ms, times) if t >= WARMUP_S]
    return {"frames_sent": frames_sent, "captured": stats.captured, "processed": stats.processed,
            "dropped": stats.dropped, "exact": stats.captured == stats.processed + stats.dropped,
            "all_captured": stats.captured == frames_sent, "seconds": stats.seconds,
            "fps_in": stats.fps_in, "fps_processed": stats.fps_processed,
            "latency": _latency(stats.latency_ms), "latency_steady": _latency(steady),
            "people_tracked": 0 if result is None else result.num_people, "stopped_by": stats.stopped_by,
            "ms_per_frame": {} if result is None else result.timings_ms}


def targets(results: dict) -> dict:
    out = {}
    key = f"{TARGET_LATENCY_SIZE}_1"
    if key in results:
        v = results[key]["latency"]["median_ms"]
        out[f"median_latency_ms_{TARGET_LATENCY_SIZE}_one_person"] = {"value": v, "target": "< 60",
                                                                      "pass": v is not None and v < 60}
    for name, r in results.items():
        if name.endswith("_1"):
            v = r["fps_processed"]
            out[f"processed_fps_{name[:-2]}_one_person"] = {"value": v, "target": ">= 25", "pass": v >= 25}
    exact = all(r["exact"] and r["all_captured"] for r in results.values())
    out["dropped_frames_exact"] = {"value": float(exact), "target": "captured = processed + dropped = sent",
                                   "pass": exact}
    return out


def table(results: dict) -> str:
    lines = [f"{'run':>14} {'sent':>5} {'capt':>5} {'proc':>5} {'drop':>5} {'fps in':>7} {'fps proc':>8} "
             f"{'lat med':>8} {'lat p95':>8} {'steady med':>10} {'steady p95':>10} people"]
    for name, r in results.items():
        if name in ("targets", "meta"):
            continue
        lat, st = r["latency"], r["latency_steady"]
        lines.append(f"{name:>14} {r['frames_sent']:5d} {r['captured']:5d} {r['processed']:5d} {r['dropped']:5d} "
                     f"{r['fps_in']:7.1f} {r['fps_processed']:8.1f} {lat['median_ms']:8.1f} {lat['p95_ms']:8.1f} "
                     f"{st['median_ms']:10.1f} {st['p95_ms']:10.1f} {r['people_tracked']}")
    for name, t in results["targets"].items():
        lines.append(f"target {name}: {t['value']:.2f} ({t['target']}) {'PASS' if t['pass'] else 'FAIL'}")
    meta = results["meta"]
    lines.append(f"latency: ms from capture to display ({'window' if meta['window'] else 'no window: to drawn'}); "
                 f"runs named SIZE_PEOPLE ('1': --max-people 1, 'default': everyone)")
    lines.append(describe(meta["machine"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--video", type=Path, required=True, help="a real video (e.g. sample_videos/demo.mp4)")
    p.add_argument("--sizes", nargs="+", default=["640x480", "1280x720"], help="stream sizes (default: %(default)s)")
    p.add_argument("--people", nargs="+", choices=("1", "default"), default=["1", "default"],
                   help="'1': --max-people 1; 'default': the demo's default (default: %(default)s)")
    p.add_argument("--seconds", type=float, default=20.0, help="length of each stream (default: %(default)s)")
    p.add_argument("--window", action="store_true", help="show the window (needs a display)")
    p.add_argument("--json", type=Path, default=None, help="also save the figures here (JSON)")
    p.add_argument("--require-idle", action="store_true",
                   help="refuse (exit 3, write nothing) when other programs kept the machine busy")
    args = p.parse_args(argv)
    results: dict = {}
    try:
        for size in args.sizes:
            parse_size(size)
        if not args.seconds > 2:
            raise BenchError("--seconds must be more than 2")
        probe(args.video)
        with tempfile.TemporaryDirectory(prefix="live_latency_") as tmp:
            streams = {size: stream_file(args.video, size, args.seconds, Path(tmp)) for size in args.sizes}
            with MachineLoad() as load, Models() as models:
                for size in args.sizes:
                    for people in args.people:
                        print(f"streaming {size}, people {people} ...", file=sys.stderr)
                        results[f"{size}_{people}"] = measure(*streams[size], people, models, args.window)
    except (BenchError, VideoError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results["targets"] = targets(results)
    results["meta"] = {"video": str(args.video), "seconds": args.seconds, "window": args.window,
                       "warmup_s": WARMUP_S, "machine": load.report()}
    print(table(results))
    try:
        judge(results["meta"]["machine"], args.require_idle)
    except BusyMachine as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
