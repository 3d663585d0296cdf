"""Do people keep one identity? Detector + tracker (no lifting) on real multi-person clips.

    python bench/identity_check.py [--json OUT.json] [--max-people 4] [--max-gap-s 2.0]
                                   [--video PATH ...]

Clips (default): sample_videos/demo.mp4 (Sports2D: a man backflips on a box, a woman walks past)
and cam01 of pose2sim's Demo_MultiPerson, read from the pose2sim wheel in sample_videos/.cache/
into a temporary folder. ``--video`` replaces them with other files.

Each frame is read with OpenCV, turned to RGB and given to ``create_detector("blazepose",
max_people=N)`` at its presentation time (demo.video.FrameReader); its people go through
``demo.tracking.Tracker``. Printed
per clip, and written with --json as {"clips": {name: {...}}, "goal": ...}:

- frames, fps, width, height, seconds (wall clock of detection + tracking);
- long_tracks: tracks whose span (last - first time seen) is longer than 1 s;
- switches: times a track's box centre jumps more than 15 % of the frame width between two
  consecutive frames in which it is seen (a sign that the ID moved to someone else);
- tracks: per ID, the frames it was seen in (count, first, last) and its mean box centre.

Goal (the multi-person issue): exactly 2 long tracks on each default clip and 0 switches.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from demo.tracking import Tracker  # noqa: E402
from demo.video import FrameReader  # noqa: E402
from detectors import create_detector  # noqa: E402

POSE2SIM_WHEEL = REPO / "sample_videos" / ".cache" / "pose2sim-0.10.49-py3-none-any.whl"
DEMO_VIDEO = REPO / "sample_videos" / "demo.mp4"
#: a track is "long" when it spans more than this many seconds
LONG_TRACK_S = 1.0
#: a jump of the box centre larger than this fraction of the frame width counts as a switch
SWITCH_FRACTION = 0.15


def extract_multiperson_cam01(folder: Path) -> Path:
    """Write Demo_MultiPerson's cam01 video from the pose2sim wheel into ``folder``; its path."""
    if not POSE2SIM_WHEEL.is_file():
        raise SystemExit(f"missing {POSE2SIM_WHEEL} (run sample_videos/fetch.py)")
    with zipfile.ZipFile(POSE2SIM_WHEEL) as wheel:
        members = [n for n in wheel.namelist()
                   if "Demo_MultiPerson/" in n and "/videos/" in n and Path(n).stem == "cam01"]
        if len(members) != 1:
            raise SystemExit(f"expected one Demo_MultiPerson cam01 video in {POSE2SIM_WHEEL.name}, "
                             f"found {members}")
        out = folder / f"multiperson_{Path(members[0]).name}"
        out.write_bytes(wheel.read(members[0]))
    return out


def track_video(path: Path, max_people: int, max_gap_s: float) -> dict:
    """Run detector + tracker over a video; the figures described in the module docstring."""
    centres: dict[int, dict[int, np.ndarray]] = {}   # track ID -> frame index -> (2,) px
    frames = 0
    start = time.perf_counter()
    with FrameReader(path) as reader, create_detector("blazepose", max_people=max_people) as detector:
        fps = float(reader.info.fps)
        width, height = reader.info.width, reader.info.height
        tracker = Tracker(fps, max_gap_s=max_gap_s)
        for frame, time_s in reader:
            people = detector.detect(frame, time_s)
            for track_id, person in zip(tracker.update(people, time_s), people):
                box = np.asarray(person.box, dtype=np.float64)
                centres.setdefault(track_id, {})[frames] = (box[:2] + box[2:]) / 2
            frames += 1
    seconds = time.perf_counter() - start

    tracks, switches, long_tracks = {}, [], 0
    for track_id, seen in sorted(centres.items()):
        indices = sorted(seen)
        span_s = (indices[-1] - indices[0]) / fps
        long_tracks += span_s > LONG_TRACK_S
        for a, b in zip(indices, indices[1:]):
            jump = float(np.linalg.norm(seen[b] - seen[a]))
            if b == a + 1 and jump > SWITCH_FRACTION * width:
                switches.append({"track": track_id, "frame": b, "jump_px": round(jump, 1)})
        mean = np.mean([seen[i] for i in indices], axis=0)
        tracks[str(track_id)] = {"frames_seen": len(indices), "first": indices[0],
                                 "last": indices[-1], "span_s": round(span_s, 3),
                                 "mean_centre_px": [round(float(v), 1) for v in mean]}
    return {"video": str(path.name), "frames": frames, "fps": fps, "width": width, "height": height,
            "seconds": round(seconds, 2), "long_tracks": int(long_tracks),
            "switches": len(switches), "switch_list": switches, "tracks": tracks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--max-people", type=int, default=4, help="detector's people per frame")
    parser.add_argument("--max-gap-s", type=float, default=2.0, help="tracker's max_gap_s")
    parser.add_argument("--video", type=Path, nargs="+", help="other videos instead of the defaults")
    args = parser.parse_args(argv)

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        videos = args.video or [DEMO_VIDEO, extract_multiperson_cam01(Path(tmp))]
        for video in videos:
            result = track_video(video, args.max_people, args.max_gap_s)
            results[video.stem] = result
            print(f"{video.name}: {result['frames']} frames, {len(result['tracks'])} tracks, "
                  f"{result['long_tracks']} longer than {LONG_TRACK_S:g} s, "
                  f"{result['switches']} identity switches ({result['seconds']} s)")
            for track_id, info in result["tracks"].items():
                print(f"  track {track_id}: frames {info['first']}-{info['last']} "
                      f"({info['frames_seen']} seen), centre {info['mean_centre_px']}")
    met = all(r["long_tracks"] == 2 and r["switches"] == 0 for r in results.values())
    if not args.video:
        print(f"goal (2 long tracks and 0 switches on each clip): {'met' if met else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({"clips": results, "max_people": args.max_people,
                                         "max_gap_s": args.max_gap_s,
                                         "goal": "2 long tracks, 0 switches per clip",
                                         "goal_met": met if not args.video else None}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
