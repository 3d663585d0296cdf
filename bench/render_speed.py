"""Milliseconds per frame of the demo renderer (demo.render), without decoding or encoding.

    python bench/render_speed.py [--size 1280x720 ...] [--frames 300] [--json OUT.json]

For each input size, a synthetic frame and a moving synthetic pose (2D with a few low-confidence
joints, 3D in the world view) are rendered ``--frames`` times after a short warm-up; the median
and mean milliseconds per output frame are printed (and saved with --json). The target of issue 7
is <= 8 ms per frame at 1280x720.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demo.post import to_world_view  # noqa: E402
from demo.render import Renderer, RenderStyle  # noqa: E402

#: an upright pose in the camera frame (metres), animated by the benchmark
_POSE = np.array([
    [0, 0, 0], [-.13, 0, 0], [-.15, .45, 0], [-.15, .9, .05], [.13, 0, 0], [.15, .45, 0], [.15, .9, .05],
    [0, -.25, 0], [0, -.5, 0], [0, -.6, -.05], [0, -.72, 0], [.18, -.48, 0], [.3, -.22, .05],
    [.35, 0, -.1], [-.18, -.48, 0], [-.3, -.22, .05], [-.35, 0, -.1],
], np.float32)


def bench(width: int, height: int, frames: int, style: RenderStyle) -> dict:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    renderer = Renderer(width, height, 30.0, frames, style)
    scores = np.full(17, 0.9, np.float32)
    scores[[13, 16]] = 0.1
    times = []
    for i in range(frames + 10):
        pose = _POSE.copy()
        pose[[12, 13], 2] -= 0.3 * np.sin(i / 10)
        kp2d = pose[:, :2] * 0.4 * height + [width / 2 + 20 * np.sin(i / 15), height / 2]
        world = to_world_view(pose)
        valid = i % 25 != 0  # some frames with no person
        t0 = time.perf_counter()
        renderer.render(frame, i, kp2d if valid else None, scores if valid else None, world if valid else None)
        if i >= 10:
            times.append(1000.0 * (time.perf_counter() - t0))
    out_w, out_h = renderer.size
    return {"output": f"{out_w}x{out_h}", "ms_per_frame_median": statistics.median(times),
            "ms_per_frame_mean": statistics.fmean(times), "frames": frames}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", nargs="+", default=["1280x720", "1920x1080", "640x360"],
                   help="input frame sizes WIDTHxHEIGHT (default: %(default)s)")
    p.add_argument("--frames", type=int, default=300, help="frames per size (default: %(default)s)")
    p.add_argument("--panel-height", type=int, default=RenderStyle().panel_height,
                   help="output height, as demo/vis.py --panel-height (default: %(default)s)")
    p.add_argument("--json", type=Path, default=None, help="also save the figures here")
    args = p.parse_args()
    style = RenderStyle(panel_height=args.panel_height)
    results = {}
    for size in args.size:
        w, h = (int(v) for v in size.lower().split("x"))
        r = bench(w, h, args.frames, style)
        results[size] = r
        print(f"input {size:>10} -> output {r['output']:>10}: {r['ms_per_frame_median']:.2f} ms/frame median, "
              f"{r['ms_per_frame_mean']:.2f} mean ({args.frames} frames)")
    if args.json:
        from lifter.atomic import write_json

        write_json(args.json, results)


if __name__ == "__main__":
    main()
