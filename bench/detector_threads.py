"""How BlazePose's networks share the CPU: the ways to run them, side by side on the same frames.

    python bench/detector_threads.py [--video sample_videos/demo.mp4] [--size 1280x720]
                                     [--frames N] [--json bench/detector_threads.json] [--require-idle]

The video's frames are decoded once, scaled to ``--size`` and kept in memory; then each way of
running mediapipe goes through the same frames, in this process, one after the other:

- ``landmarker_{4,2,1}_t{1,2}``: one video-mode PoseLandmarker asked for up to 4, 2 or 1 people,
  its networks on 1 (mediapipe's Python default) or 2 threads. Asked for more people than it
  follows, it runs its person detector on every frame.
- ``followers``: the product's ``BlazePoseDetector`` with its defaults (a landmarker per person,
  side by side, one thread each; the person detector alone every 0.2 s while fewer than
  ``max_people`` = 4 are followed).
- ``two_2thread_landmarkers_at_once``: two landmarkers for one person each, on 2 threads each,
  run at the same time in two Python threads (the first ``--slow-frames`` frames only: it is slow).
- ``person_search``: BlazePose's person detector alone (``detectors.person_search``, one thread).

Printed and saved with --json: per way, ms per frame (mean over the frames) and people found per
frame (mean); ``same_keypoints_1_vs_2_threads``: whether ``landmarker_2_t1`` and
``landmarker_2_t2`` gave bit for bit the same keypoints on every frame; and the machine's load.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lifter.machine import BusyMachine, MachineLoad, describe, save_report  # noqa: E402


def read_frames(video: Path, size: tuple[int, int], limit: int | None) -> list[tuple[np.ndarray, float]]:
    """The video's frames as (H, W, 3) uint8 RGB at ``size`` (width, height), with their times."""
    import cv2

    from demo.video import FrameReader

    frames = []
    with FrameReader(video, max_frames=limit) as reader:
        for frame, time_s in reader:
            if frame.shape[1::-1] != size:
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            frames.append((np.ascontiguousarray(frame), time_s))
    return frames


def _landmarker(detector, num_poses: int, threads: int):
    """A video-mode PoseLandmarker with ``detector``'s model and thresholds."""
    from mediapipe.tasks.python import vision

    from detectors.blazepose import _base_options

    options = vision.PoseLandmarkerOptions(
        base_options=_base_options(detector.model_path, threads), running_mode=vision.RunningMode.VIDEO,
        num_poses=num_poses, output_segmentation_masks=False, **detector._thresholds)
    return vision.PoseLandmarker.create_from_options(options)


def run_landmarker(detector, frames, num_poses: int, threads: int) -> tuple[dict, list[np.ndarray]]:
    """ms per frame and people per frame of one landmarker; its keypoints per frame."""
    from detectors.blazepose import _mp_image

    landmarker = _landmarker(detector, num_poses, threads)
    seconds, counts, keypoints = 0.0, [], []
    try:
        for frame, time_s in frames:
            t0 = time.perf_counter()
            result = landmarker.detect_for_video(_mp_image(frame), round(time_s * 1000))
            seconds += time.perf_counter() - t0
            counts.append(len(result.pose_landmarks))
            keypoints.append(np.array([[(p.x, p.y) for p in person] for person in result.pose_landmarks]))
    finally:
        landmarker.close()
    return {"ms_per_frame": 1000 * seconds / len(frames), "people_per_frame": float(np.mean(counts))}, keypoints


def run_followers(frames) -> dict:
    """The product's detector with its defaults."""
    from detectors import create_detector

    with create_detector("blazepose", max_people=4) as detector:
        seconds, counts = 0.0, []
        for frame, time_s in frames:
            t0 = time.perf_counter()
            counts.append(len(detector.detect(frame, time_s)))
            seconds += time.perf_counter() - t0
    return {"ms_per_frame": 1000 * seconds / len(frames), "people_per_frame": float(np.mean(counts))}


def run_at_once(detector, frames) -> dict:
    """Two one-person landmarkers on 2 threads each, run at the same time in two threads."""
    from detectors.blazepose import _mp_image

    landmarkers = [_landmarker(detector, 1, 2) for _ in range(2)]
    counts: list[int] = []

    def work(landmarker) -> None:
        for frame, time_s in frames:
            counts.append(len(landmarker.detect_for_video(_mp_image(frame), round(time_s * 1000)).pose_landmarks))

    threads = [threading.Thread(target=work, args=(lm,)) for lm in landmarkers]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - t0
    for landmarker in landmarkers:
        landmarker.close()
    return {"ms_per_frame": 1000 * seconds / len(frames), "people_per_frame": float(np.sum(counts)) / len(frames),
            "frames": len(frames)}


def run_search(frames) -> dict:
    from detectors.person_search import PersonSearch

    search = PersonSearch()
    seconds, counts = 0.0, []
    try:
        for frame, _ in frames:
            t0 = time.perf_counter()
            counts.append(len(search.find(frame)))
            seconds += time.perf_counter() - t0
    finally:
        search.close()
    return {"ms_per_frame": 1000 * seconds / len(frames), "people_per_frame": float(np.mean(counts))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=REPO / "sample_videos" / "demo.mp4")
    parser.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT the frames are scaled to")
    parser.add_argument("--frames", type=int, default=None, help="only the first N frames (default: all)")
    parser.add_argument("--slow-frames", type=int, default=20,
                        help="frames for the two 2-thread landmarkers at once (default: %(default)s)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--require-idle", action="store_true", help="refuse to record figures on a busy machine")
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        print(f"error: --size must be WIDTHxHEIGHT, got {args.size!r}", file=sys.stderr)
        return 2
    if not args.video.is_file():
        print(f"error: no video at {args.video} (run sample_videos/fetch.py)", file=sys.stderr)
        return 2
    from detectors import create_detector

    frames = read_frames(args.video, (width, height), args.frames)
    report: dict = {"video": args.video.name, "size": f"{width}x{height}", "frames": len(frames), "ways": {}}
    ways = report["ways"]
    with create_detector("blazepose", max_people=1) as reference, MachineLoad() as load:
        keypoints = {}
        for num_poses in (4, 2, 1):
            for threads in (1, 2):
                name = f"landmarker_{num_poses}_t{threads}"
                ways[name], keypoints[name] = run_landmarker(reference, frames, num_poses, threads)
                print(f"{name:>32}: {ways[name]['ms_per_frame']:6.1f} ms per frame", flush=True)
        ways["followers"] = run_followers(frames)
        ways["two_2thread_landmarkers_at_once"] = run_at_once(reference, frames[:args.slow_frames])
        ways["person_search"] = run_search(frames)
        for name in ("followers", "two_2thread_landmarkers_at_once", "person_search"):
            print(f"{name:>32}: {ways[name]['ms_per_frame']:6.1f} ms per frame", flush=True)
        report["same_keypoints_1_vs_2_threads"] = all(
            a.shape == b.shape and np.array_equal(a, b)
            for a, b in zip(keypoints["landmarker_2_t1"], keypoints["landmarker_2_t2"]))
    print("people per frame: " + ", ".join(f"{k} {v['people_per_frame']:.2f}" for k, v in ways.items()))
    print(f"1 and 2 threads give the same keypoints: {report['same_keypoints_1_vs_2_threads']}")
    if args.json:
        try:
            save_report(args.json, report, load, args.require_idle)
        except BusyMachine as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 3
        print(describe(report["machine"]))
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
