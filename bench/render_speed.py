"""Milliseconds per frame of the demo renderer (demo.render), without decoding or encoding.

    python bench/render_speed.py [--size 1280x720 ...] [--people 1 2] [--frames 300] [--json OUT.json]

For each input size and number of people, a synthetic frame and moving synthetic people (2D with
a few low-confidence joints, 3D in the world view, placed side by side about 1.2 m apart) are
rendered ``--frames`` times after a short warm-up, the frame given at the input size (so the
resize to the left panel is included); every 25th frame has nobody. The median and mean
milliseconds per output frame are printed (and saved with --json). The target of issue 7 is
<= 8 ms per frame at 1280x720 with one person.
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
from demo.render import DrawnPerson, Renderer, RenderStyle  # noqa: E402

#: an upright pose in the camera frame (metres), animated by the benchmark
_POSE = np.array([
    [0, 0, 0], [-.13, 0, 0], [-.15, .45, 0], [-.15, .9, .05], [.13, 0, 0], [.15, .45, 0], [.15, .9, .05],
    [0, -.25, 0], [0, -.5, 0], [0, -.6, -.05], [0, -.72, 0], [.18, -.48, 0], [.3, -.22, .05],
    [.35, 0, -.1], [-.18, -.48, 0], [-.3, -.22, .05], [-.35, 0, -.1],
], np.float32)


def _people(i: int, count: int, width: int, height: int) -> list[DrawnPerson]:
    """``count`` people for frame i: side by side in the picture and 1.2 m apart in the world."""
    scores = np.full(17, 0.9, np.float32)
    scores[[13, 16]] = 0.1
    out = []
    for k in range(count):
        pose = _POSE.copy()
        pose[[12, 13], 2] -= 0.3 * np.sin(i / 10 + k)
        offset = k - (count - 1) / 2
        kp2d = pose[:, :2] * 0.4 * height + [width / 2 + offset * 0.3 * width + 20 * np.sin(i / 15), height / 2]
        world = to_world_view(pose) + np.array([1.2 * offset, 0.3 * offset, 0.0], np.float32)
        out.append(DrawnPerson(k + 1, kp2d, scores, world))
    return out


def bench(width: int, height: int, people: int, frames: int, style: RenderStyle) -> dict:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    renderer = Renderer(width, height, 30.0, frames, style)
    times = []
    for i in range(frames + 10):
        drawn = _people(i, people, width, height) if i % 25 else []  # some frames with nobody
        t0 = time.perf_counter()
        renderer.render(frame, i, drawn)
        if i >= 10:
            times.append(1000.0 * (time.perf_counter() - t0))
    out_w, out_h = renderer.size
    return {"output": f"{out_w}x{out_h}", "people": people, "ms_per_frame_median": statistics.median(times),
            "ms_per_frame_mean": statistics.fmean(times), "frames": frames}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", nargs="+", default=["1280x720", "1920x1080", "640x360"],
                   help="input frame sizes WIDTHxHEIGHT (default: %(default)s)")
    p.add_argument("--people", nargs="+", type=int, default=[1, 2],
                   help="numbers of people drawn per frame (default: %(default)s)")
    p.add_argument("--frames", type=int, default=300, help="frames per case (default: %(default)s)")
    p.add_argument("--panel-height", type=int, default=RenderStyle().panel_height,
                   help="output height, as demo/vis.py --panel-height (default: %(default)s)")
    p.add_argument("--json", type=Path, default=None, help="also save the figures here")
    args = p.parse_args()
    style = RenderStyle(panel_height=args.panel_height)
    results = {}
    for size in args.size:
        w, h = (int(v) for v in size.lower().split("x"))
        for count in args.people:
            r = bench(w, h, count, args.frames, style)
            results[f"{size} {count} people"] = r
            print(f"input {size:>10}, {count} people -> output {r['output']:>10}: "
                  f"{r['ms_per_frame_median']:.2f} ms/frame median, {r['ms_per_frame_mean']:.2f} mean "
                  f"({args.frames} frames)")
    if args.json:
        from lifter.atomic import write_json

        write_json(args.json, results)


if __name__ == "__main__":
    main()
