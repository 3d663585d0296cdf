"""Is the motion steady and placed in a world? Raw per-frame lifting vs the post-processing chain.

    python bench/motion_quality.py [--json bench/motion_quality.json] [--require-idle]
                                   [--clips 60] [--skip-mocap]

Part 1, real video: sample_videos/demo.mp4 (Sports2D: a man backflips off a box, a woman walks
past) and cam01 of pose2sim's Demo_MultiPerson (from the pose2sim wheel in sample_videos/.cache/),
each with ``--max-people 2``. Detection and tracking run once per clip (demo.pipeline.run, no
video written); the same 2D tracks then go through demo.motion.process twice, with the shipped
PGFormer:

- before: no repair, no smoothing, no constant bones (the lifter's per-frame output; its root
  trajectory solved per frame and not smoothed);
- after: the defaults (repair, Butterworth smoothing, constant bones, ground and world).

Figures per clip, before / after, over tracks longer than 1 s:

- acceleration_ms2: mean over joints and frames of |second difference| x fps^2 of the joints'
  camera-frame positions (pose + root translation), m/s^2; also of the root-relative pose alone;
- steps_over_30cm: share of frame steps in which some joint moves more than 0.30 m (camera
  frame, pose + root), and how many of them the image does not show: the joint's own 2D step,
  taken to metres at its depth (|delta pixels| x depth / focal), is under 0.15 m;
- bone_cv: each bone's length std / mean over a track (mean and max over bones and tracks);
- foot_slide_ms: horizontal speed (world) of an ankle while that foot is in contact (contacts
  from demo.ground.foot_contacts on the "after" world, the same frames scored before and after,
  both in the "after" world frame), median over contact samples;
- ground speed of each long track: net horizontal displacement of the pelvis between its first
  and last second, divided by the time between them (after only: before has no world); the
  Sports2D walker is the long track that moves the farthest;
- world: the ground estimate (camera height, pitch, roll, contacts) or the reason it failed;
- post_ms_per_person_frame: repair + world time of the "after" chain (lifting excluded) per
  (person, frame) row.

Part 2, open mocap (../shared/data, test split; skipped when the file is missing): ``--clips``
test clips, resampled from 10 to 30 fps (cubic, each clip's kept frames taken as 0.1 s apart),
seen by one static virtual camera per clip (lifter.data.cameras), their detector points projected
and played through the training noise model (lifter.data.noise, independently per frame) with
left/right swaps of an arm or a leg injected for 1-3 frames at a time (``SWAP_RUNS_PER_S`` runs
per second). Before / after as above (ground off: the scores are root-relative): MPJPE and
PA-MPJPE in mm against the true root-relative camera-frame joints, and the 3D acceleration.

Goals (the world-and-motion issue): acceleration at least 3x lower than raw, no frame step above
30 cm that the image does not show, bone-length variation below 1 %, the walker's speed in
0.8-2 m/s, post-processing under 1 ms per person-frame, open-mocap error not worse.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.identity_check import DEMO_VIDEO, extract_multiperson_cam01  # noqa: E402
from demo import bones as bone_ops  # noqa: E402
from demo.ground import foot_contacts  # noqa: E402
from demo.motion import WORLD_GROUND, MotionSettings, process  # noqa: E402
from demo.pipeline import Options, run  # noqa: E402
from demo.repair import FILLED  # noqa: E402
from lifter.keypoints import joint_present  # noqa: E402
from lifter.machine import MachineLoad, save_report  # noqa: E402

RAW = MotionSettings(repair=False, smooth="off", bones=False, ground=False)
AFTER = MotionSettings()
LONG_TRACK_S = 1.0
STEP_M = 0.30
SHOWN_M = 0.15
SWAP_RUNS_PER_S = 0.5
MOCAP = REPO.parent / "shared" / "data" / "open_mocap_h36m17.npz"


def _accel(points: np.ndarray, fps: float) -> np.ndarray:
    """|second difference| x fps^2 of (T, ..., 3) positions -> (T-2, ...) m/s^2 (NaN where a frame is missing)."""
    return np.linalg.norm(points[2:] - 2 * points[1:-1] + points[:-2], axis=-1) * fps ** 2


def _mean(values: list[np.ndarray]) -> float:
    flat = np.concatenate([np.ravel(v) for v in values]) if values else np.zeros(0)
    flat = flat[np.isfinite(flat)]
    return float(flat.mean()) if flat.size else float("nan")


def _long_tracks(valid: np.ndarray, fps: float) -> list[int]:
    return [p for p in range(valid.shape[0]) if valid[p].any()
            and (np.flatnonzero(valid[p])[-1] - np.flatnonzero(valid[p])[0]) / fps > LONG_TRACK_S]


def _steps(full: np.ndarray, kp2d: np.ndarray, focal: float, valid: np.ndarray) -> tuple[int, int, int]:
    """(frame steps, steps with a joint moving > STEP_M, of those the ones the image does not show)."""
    both = valid[1:] & valid[:-1]
    move = np.linalg.norm(np.diff(full, axis=0), axis=-1)                      # (T-1, 17)
    depth = np.abs(full[1:, :, 2])
    shown = np.linalg.norm(np.diff(kp2d, axis=0), axis=-1) * depth / focal    # metres at that depth
    big = (move > STEP_M) & both[:, None]
    unexplained = big & ~(np.nan_to_num(shown) >= SHOWN_M)
    return int(both.sum()), int(big.any(-1).sum()), int(unexplained.any(-1).sum())


def _track_figures(motion, p: int, fps: float, contacts: np.ndarray, to_world: np.ndarray) -> dict:
    valid = motion.valid[p]
    full = motion.kp3d[p] + motion.root_cam[p][:, None, :]
    steps, big, unexplained = _steps(full, motion.kp2d[p], motion.camera.focal_px, valid)
    horizontal = (full @ to_world.T)[..., :2]  # world x, y (only the rotation matters for speeds)
    speed = np.linalg.norm(np.diff(horizontal, axis=0), axis=-1) * fps         # (T-1, 17)
    slide = []
    for k, ankle in enumerate((3, 6)):
        still = contacts[1:, k] & contacts[:-1, k]
        slide.append(speed[still, ankle])
    return {
        "acceleration": _accel(full, fps), "acceleration_pose": _accel(motion.kp3d[p], fps),
        "steps": steps, "big": big, "unexplained": unexplained,
        "bone_cv": bone_ops.bone_variation(motion.kp3d[p], valid), "slide": np.concatenate(slide),
    }


def _ground_speed(world: np.ndarray, valid: np.ndarray, fps: float) -> float:
    """Net horizontal pelvis displacement between the track's first and last second / the time between."""
    idx = np.flatnonzero(valid & np.isfinite(world[:, 0]).all(-1))
    if idx.size < 2 or (idx[-1] - idx[0]) / fps < 2.0:
        return float("nan")
    second = int(round(fps))
    first = np.nanmedian(world[idx[idx < idx[0] + second], 0, :2], axis=0)
    last = np.nanmedian(world[idx[idx > idx[-1] - second], 0, :2], axis=0)
    span = (np.median(idx[idx > idx[-1] - second]) - np.median(idx[idx < idx[0] + second])) / fps
    return float(np.linalg.norm(last - first) / span)


def real_clip(path: Path, lifter, detector) -> dict:
    """Part 1 figures of one clip (module docstring)."""
    result = run(path, Options(max_people=2, progress=False), detector=detector, lifter=lifter)
    fps, w, h = result.fps, result.width, result.height
    raw_scores = np.where(result.repair_flags & FILLED, 0.0, result.scores).astype(np.float32)
    raw_valid = joint_present(result.keypoints_2d_raw, raw_scores).any(-1)
    kp2d_raw = result.keypoints_2d_raw
    out = {"frames": result.num_frames, "fps": fps, "size": f"{w}x{h}"}
    motions = {}
    for name, settings in (("before", RAW), ("after", AFTER)):
        t0 = time.perf_counter()
        motions[name] = process(kp2d_raw, raw_scores, raw_valid, fps, w, h, lifter, settings,
                                main=max(result.main_person, 0))
        motions[name].wall = time.perf_counter() - t0
    after = motions["after"]
    cam = after.camera
    out["world"] = {"kind": cam.kind, "height_m": cam.height_m, "pitch_deg": cam.pitch_deg,
                    "roll_deg": cam.roll_deg, "contacts": cam.contacts, "focal_px": cam.focal_px,
                    "notes": after.notes}
    to_world = np.asarray(cam.to_world)
    up = to_world[2]
    tracks = _long_tracks(after.valid, fps)
    out["long_tracks"] = len(tracks)
    for name, motion in motions.items():
        figs = []
        for p in tracks:
            full_after = after.kp3d[p] + after.root_cam[p][:, None, :]
            contacts = foot_contacts(full_after, after.valid[p], fps, up)
            figs.append(_track_figures(motion, p, fps, contacts, to_world))
        steps = sum(f["steps"] for f in figs)
        cv = np.concatenate([f["bone_cv"] for f in figs]) if figs else np.zeros(0)
        out[name] = {
            "acceleration_ms2": _mean([f["acceleration"] for f in figs]),
            "acceleration_pose_ms2": _mean([f["acceleration_pose"] for f in figs]),
            "frame_steps": steps,
            "steps_over_30cm": sum(f["big"] for f in figs),
            "steps_over_30cm_share": sum(f["big"] for f in figs) / max(1, steps),
            "steps_over_30cm_not_shown": sum(f["unexplained"] for f in figs),
            "bone_cv_mean": float(np.nanmean(cv)) if cv.size else float("nan"),
            "bone_cv_max": float(np.nanmax(cv)) if cv.size else float("nan"),
            "foot_slide_ms": float(np.nanmedian(np.concatenate([f["slide"] for f in figs])))
            if figs and sum(f["slide"].size for f in figs) else float("nan"),
        }
    rows = int(after.valid.sum())
    out["post_ms_per_person_frame"] = 1000 * (after.seconds["repair"] + after.seconds["world"]) / max(1, rows)
    out["lift_ms_per_person_frame"] = 1000 * after.seconds["lift"] / max(1, rows)
    if cam.kind == WORLD_GROUND:
        speeds = {int(result.track_ids[p]): _ground_speed(after.world[p], after.valid[p], fps) for p in tracks}
        out["ground_speed_ms"] = speeds
        travel = {p: np.nanmax(np.linalg.norm(after.world[p, :, 0, :2] - after.world[p, np.flatnonzero(after.valid[p])[0], 0, :2], axis=-1))
                  for p in tracks}
        if travel:
            walker = max(travel, key=travel.get)
            out["walker_id"] = int(result.track_ids[walker])
            out["walker_speed_ms"] = speeds[int(result.track_ids[walker])]
    return out


# --- part 2: open mocap -----------------------------------------------------------------------

def _resample(clip: np.ndarray, factor: int) -> np.ndarray:
    from scipy.interpolate import CubicSpline

    t = np.arange(len(clip))
    return CubicSpline(t, clip, axis=0)(np.arange(0, len(clip) - 1 + 1e-9, 1 / factor))


def _inject_swaps(rng: np.random.Generator, kp: np.ndarray, fps: float) -> np.ndarray:
    from lifter.skeleton import LEFT_17, RIGHT_17

    kp = kp.copy()
    arm = ([11, 12, 13], [14, 15, 16])
    leg = ([4, 5, 6], [1, 2, 3])
    assert set(arm[0] + leg[0]) == set(LEFT_17) and set(arm[1] + leg[1]) == set(RIGHT_17)
    t = 0
    while True:
        t += int(rng.exponential(fps / SWAP_RUNS_PER_S)) + 1
        if t >= len(kp):
            return kp
        left, right = arm if rng.random() < 0.5 else leg
        run = slice(t, min(len(kp), t + int(rng.integers(1, 4))))
        kp[run, left], kp[run, right] = kp[run, right], kp[run, left].copy()


def mocap(lifter, clips: int, seed: int = 0) -> dict:
    """Part 2 figures (module docstring)."""
    from lifter.data.cameras import CameraRanges, project, sample_cameras, world_to_camera
    from lifter.data.noise import DetectorNoise, noisy_keypoints
    from lifter.data.recipe import detector_points_3d
    from lifter.metrics import mpjpe, p_mpjpe

    with np.load(MOCAP) as d:
        keep = (d["primary"] == 1) & (d["split"] == 2)
        joints, clip_ids = d["joints"][keep].astype(np.float64) / 1000.0, d["clip"][keep]
    rng = np.random.default_rng(seed)
    ids, counts = np.unique(clip_ids, return_counts=True)
    ids = ids[counts >= 30]
    chosen = rng.choice(ids, size=min(clips, len(ids)), replace=False)
    fps = 30.0
    err = {"before": [], "after": []}
    pa = {"before": [], "after": []}
    acc = {"before": [], "after": [], "truth": []}
    frames = 0
    for cid in chosen:
        clip = _resample(joints[clip_ids == cid][:100], 3)          # (T, 17, 3) metres, Y up
        det = detector_points_3d(clip).astype(np.float64)
        aim = clip[:, 0].mean(0)
        pts = np.concatenate([aim[None], clip.reshape(-1, 3), det.reshape(-1, 3)])[None]
        cams = sample_cameras(rng, pts, root=0, ranges=CameraRanges())
        cam_pts = world_to_camera(clip.reshape(1, -1, 3), cams).reshape(clip.shape)
        truth = cam_pts - cam_pts[:, :1]
        px = project(world_to_camera(det.reshape(1, -1, 3), cams), cams.focal, cams.center).reshape(len(clip), 17, 2)
        noisy, scores = noisy_keypoints(rng, px, DetectorNoise())
        noisy = _inject_swaps(rng, noisy, fps)
        noisy = np.where(scores[..., None] > 0, noisy, np.nan).astype(np.float32)
        w, h = (int(v) for v in cams.size[0])
        valid = np.ones((1, len(clip)), bool)
        for name, settings in (("before", RAW), ("after", replace(AFTER, ground=False))):
            m = process(noisy[None], scores[None].astype(np.float32), valid, fps, w, h, lifter, settings)
            pred = m.kp3d[0]
            err[name].append(mpjpe(pred, truth) * 1000)
            pa[name].append(p_mpjpe(pred, truth) * 1000)
            acc[name].append(_accel(pred, fps))
        acc["truth"].append(_accel(truth, fps))
        frames += len(clip)
    summary = {"clips": len(chosen), "frames": frames, "fps": fps}
    for name in ("before", "after"):
        summary[name] = {"mpjpe_mm": float(np.concatenate(err[name]).mean()),
                         "pa_mpjpe_mm": float(np.concatenate(pa[name]).mean()),
                         "acceleration_ms2": _mean(acc[name])}
    summary["truth_acceleration_ms2"] = _mean(acc["truth"])
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "motion_quality.json")
    parser.add_argument("--clips", type=int, default=60, help="open-mocap test clips (part 2)")
    parser.add_argument("--skip-mocap", action="store_true", help="skip part 2")
    parser.add_argument("--require-idle", action="store_true", help="refuse to record figures on a busy machine")
    args = parser.parse_args(argv)

    from detectors import create_detector
    from lifter.lift import Lifter

    lifter = Lifter.load("pgformer", device="cpu")
    report: dict = {"clips": {}}
    with MachineLoad() as load, tempfile.TemporaryDirectory() as tmp:
        videos = {"sports2d_demo": DEMO_VIDEO, "multiperson_cam01": extract_multiperson_cam01(Path(tmp))}
        for name, path in videos.items():
            with create_detector("blazepose", max_people=2) as detector:
                report["clips"][name] = real_clip(path, lifter, detector)
            print(name, json.dumps(report["clips"][name], indent=1, default=float))
        if not args.skip_mocap and MOCAP.is_file():
            report["open_mocap"] = mocap(lifter, args.clips)
            print("open_mocap", json.dumps(report["open_mocap"], indent=1))
    save_report(args.json, report, load, args.require_idle)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
