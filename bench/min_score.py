"""Should low-confidence keypoints be lifted where the detector put them, or treated as missing?

    python bench/min_score.py [--frames 1000] [--videos sample_videos/cam01.mp4 sample_videos/cam03.mp4]
                              [--thresholds 0 0.1 0.3 0.5] [--out bench/min_score.json]

The figures behind ``lifter.keypoints.LIFT_MIN_SCORE``: a joint scored below the threshold is
filled by ``lifter.skeleton.fill_missing`` (nearest present ancestor) before lifting, instead of
being lifted from the detector's position. Lifter: the shipped PGFormer (``Lifter.load("pgformer")``,
flip averaging, as the demo).

Part 1, open mocap (``mocap``): ``--frames`` evenly spaced frames of the test split, fixed seeded
virtual cameras, the training noise model (lifter.data.noise, its scores are binary: 1, or 0 for a
dropped joint, so it says nothing about graded scores). Some joints are then made low-confidence,
their 2D moved by a guess error of ``r`` x the person's size (random direction), for r in GUESS_ERRORS:
- "random_limb_joints": each elbow, wrist, knee and ankle with probability LIMB_PROB;
- "lower_legs_out": both knees and both ankles of every frame (legs below the frame).
MPJPE (mm, all 17 joints; and on the low joints only) when the guessed positions are kept, against
when they are filled; ``break_even_r``: the guess error above which filling is better.

Part 2, real clips (``videos``): MediaPipe BlazePose (legacy ``mediapipe.solutions.pose``, video
mode, model_complexity=1, used directly) on each video, once on the full frames and once per cut:
the frames cropped above a row (``CUTS``: between the knees and the ankles, "ankles_out"; between
the hips and the knees, "knees_out"), so that BlazePose must guess the joints below the row, as it
does for a person leaving the frame. The full-frame detection is the reference for the joints the
cut hid:
- ``hidden``: joints below the row in the full frame: their score (quantiles, fraction under each
  threshold) and the guess's 2D error in fractions of the person size (max box side);
- ``visible``: the other joints: fraction under each threshold (would be dropped for nothing);
- ``lift``: per threshold, the cut video's lift against the full video's lift at threshold 0
  (pseudo ground truth), MPJPE in mm on all joints and on the hidden ones.
Per threshold on the full frames (``full``): joints under the threshold (count, fraction),
left/right bone asymmetry (lifter.sanity.bone_asymmetry, mean of thigh, shin, upper arm,
forearm), bone-length variation over time (std / mean of each bone's length over frames, mean over
the 16 bones) and temporal jitter (mean norm of the second difference of the root-relative 3D
joints, mm per frame squared). 2D are normalised with the full frame's size in every case.

Writes ``--out`` (JSON: {"mocap": ..., "videos": {...}, "meta": ...}) and prints tables. Bad input:
one-line error, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lifter.sanity import bone_asymmetry  # noqa: E402
from lifter.atomic import write_json  # noqa: E402
from lifter.data.cameras import project, sample_cameras, world_to_camera  # noqa: E402
from lifter.data.noise import DetectorNoise, noisy_keypoints, person_size  # noqa: E402
from lifter.data.openmocap import DEFAULT_PATH, EVAL_SEED, OpenMocap  # noqa: E402
from lifter.data.recipe import detector_points_3d  # noqa: E402
from lifter.keypoints import LIFT_MIN_SCORE, joint_present, to_h36m17  # noqa: E402
from lifter.lift import Lifter  # noqa: E402
from lifter.skeleton import INDEX_17, PARENTS_17, fill_missing, normalize_screen  # noqa: E402

THRESHOLDS = (0.0, 0.1, 0.3, 0.5)
#: guess errors of the low-confidence joints, fractions of the person's size
GUESS_ERRORS = (0.0, 0.1, 0.2, 0.3)
LIMB_PROB = 0.15
#: the score given to the low-confidence joints in part 1 (any threshold above it fills them)
LOW_SCORE = 0.05
_J = INDEX_17
LIMBS = tuple(_J[n] for n in ("l_elbow", "r_elbow", "l_wrist", "r_wrist", "l_knee", "r_knee", "l_ankle", "r_ankle"))
LOWER_LEGS = tuple(_J[n] for n in ("l_knee", "r_knee", "l_ankle", "r_ankle"))
#: cut name -> (upper joints, lower joints): the crop keeps the rows above the median over frames of
#: the midpoint between the mean height of the upper and of the lower joints
CUTS = {"ankles_out": (("l_knee", "r_knee"), ("l_ankle", "r_ankle")),
        "knees_out": (("l_hip", "r_hip"), ("l_knee", "r_knee"))}


# -- shared -----------------------------------------------------------------------------------
def lift_pixels(lifter: Lifter, xy: np.ndarray, scores: np.ndarray, sizes: np.ndarray, min_score: float) -> np.ndarray:
    """H36M-17 pixels (N, 17, 2), scores (N, 17), image sizes (N, 2) (w, h) -> 3D (N, 17, 3) metres,
    joints not present at ``min_score`` filled first."""
    filled = fill_missing(xy, scores, min_score=min_score)
    norm = np.empty_like(filled)
    for w, h in np.unique(sizes, axis=0):
        rows = (sizes[:, 0] == w) & (sizes[:, 1] == h)
        norm[rows] = normalize_screen(filled[rows], float(w), float(h))
    return lifter.lift(norm).astype(np.float64)


def joint_errors_mm(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Per-joint distances (N, 17) in mm of root-relative poses (N, 17, 3) metres."""
    return np.linalg.norm(pred - ref, axis=-1) * 1000


def break_even(errors: tuple[float, ...], keep: list[float], fill: float) -> float | None:
    """The guess error at which keeping costs as much as filling (linear interpolation), None if never."""
    for k in range(1, len(errors)):
        if keep[k - 1] <= fill < keep[k]:
            return float(errors[k - 1] + (fill - keep[k - 1]) / (keep[k] - keep[k - 1]) * (errors[k] - errors[k - 1]))
    return 0.0 if keep[0] > fill else None


# -- part 1: open mocap -------------------------------------------------------------------------
def mocap_part(lifter: Lifter, data: str | None, frames: int) -> dict:
    source = OpenMocap(data or DEFAULT_PATH, noise="clean")
    rows = np.nonzero(source.split == 2)[0]
    rows = rows[np.linspace(0, len(rows) - 1, min(frames, len(rows))).astype(int)]
    rng = np.random.default_rng([EVAL_SEED, 7])
    joints = source.joints[rows].astype(np.float64)
    det = detector_points_3d(joints).astype(np.float64)
    cams = sample_cameras(rng, np.concatenate([joints, det], 1), root=0, ranges=source.cameras)
    target = world_to_camera(joints, cams)
    target -= target[:, :1]
    clean = project(world_to_camera(det, cams), cams.focal, cams.center)
    xy, scores = noisy_keypoints(rng, clean, DetectorNoise(drop_prob=0.0))
    size = person_size(clean)[:, None]
    angle = rng.uniform(0, 2 * np.pi, xy.shape[:2])
    direction = np.stack([np.cos(angle), np.sin(angle)], -1)
    patterns = {"random_limb_joints": np.isin(np.arange(17), LIMBS)[None] & (rng.random(xy.shape[:2]) < LIMB_PROB),
                "lower_legs_out": np.broadcast_to(np.isin(np.arange(17), LOWER_LEGS), xy.shape[:2])}
    sizes = cams.size
    base = joint_errors_mm(lift_pixels(lifter, xy, scores, sizes, 0.0), target)  # = keeping, r = 0
    out = {"frames": int(len(rows)), "noise": DetectorNoise(drop_prob=0.0).as_dict(),
           "noise_model_scores": "binary (1, or 0 for a dropped joint)", "guess_errors": list(GUESS_ERRORS),
           "low_score": LOW_SCORE, "no_low_joints_mpjpe": float(base.mean()), "patterns": {}}
    for name, low in patterns.items():
        low_scores = np.where(low, LOW_SCORE, scores)
        fill = joint_errors_mm(lift_pixels(lifter, xy, low_scores, sizes, 2 * LOW_SCORE), target)
        keep_all, keep_low = [], []
        for r in GUESS_ERRORS:
            guessed = xy + np.where(low[..., None], direction * r * size[..., None], 0.0)
            err = base if r == 0 else joint_errors_mm(lift_pixels(lifter, guessed, low_scores, sizes, 0.0), target)
            keep_all.append(float(err.mean()))
            keep_low.append(float(err[low].mean()))
        out["patterns"][name] = {
            "low_joint_fraction": float(low.mean()),
            "fill": {"mpjpe": float(fill.mean()), "mpjpe_low_joints": float(fill[low].mean())},
            "keep": {"mpjpe": keep_all, "mpjpe_low_joints": keep_low},
            "break_even_r": break_even(GUESS_ERRORS, keep_all, float(fill.mean()))}
    return out


# -- part 2: real clips ---------------------------------------------------------------------------
def read_frames(video: Path) -> tuple[list[np.ndarray], float]:
    """RGB frames (H, W, 3) uint8 of a video and its fps."""
    import cv2

    if not video.is_file():
        raise FileNotFoundError(f"video not found: {video}")
    cap = cv2.VideoCapture(str(video))
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    if not frames:
        raise ValueError(f"no frame could be read from {video}")
    return frames, fps


def blazepose_h36m(frames: list[np.ndarray], rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """BlazePose (video mode, model_complexity=1) on the frames, cropped to their first ``rows`` rows
    if given -> H36M-17 pixels (N, 17, 2) of the uncropped image (NaN when no person), scores (N, 17)."""
    from mediapipe.python.solutions.pose import Pose

    xy = np.full((len(frames), 33, 2), np.nan, np.float32)
    vis = np.zeros((len(frames), 33), np.float32)
    with Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=True, enable_segmentation=False,
              min_detection_confidence=0.5, min_tracking_confidence=0.5) as pose:
        for n, frame in enumerate(frames):
            image = np.ascontiguousarray(frame[:rows]) if rows else frame
            res = pose.process(image)
            if res.pose_landmarks is None:
                continue
            h, w = image.shape[:2]
            lm = res.pose_landmarks.landmark
            xy[n] = [(p.x * w, p.y * h) for p in lm]
            vis[n] = np.clip([p.visibility for p in lm], 0, 1)
    return to_h36m17(xy, vis, "blazepose33")


def _bone_lengths(poses: np.ndarray) -> np.ndarray:
    return np.stack([np.linalg.norm(poses[:, c] - poses[:, p], axis=-1) for c, p in enumerate(PARENTS_17) if p >= 0], 1)


def plausibility(poses: np.ndarray) -> dict:
    """Asymmetry, bone-length variation over time and jitter of a sequence of 3D poses (N, 17, 3) metres."""
    lengths = _bone_lengths(poses)
    return {"bone_asymmetry": bone_asymmetry(poses)["mean"],
            "bone_length_cv": float((lengths.std(0) / np.maximum(lengths.mean(0), 1e-9)).mean()),
            "jitter_mm": float(np.linalg.norm(np.diff(poses, 2, axis=0), axis=-1).mean() * 1000)}


def video_part(lifter: Lifter, video: Path, thresholds: tuple[float, ...]) -> dict:
    frames, fps = read_frames(video)
    height, width = frames[0].shape[:2]
    xy, s = blazepose_h36m(frames)
    valid = joint_present(xy, s).any(-1)
    if valid.sum() < 3:
        raise ValueError(f"{video}: BlazePose found the person in {valid.sum()} frames")
    xy, s = xy[valid], s[valid]
    sizes = np.tile([width, height], (len(xy), 1))
    size = (np.nanmax(xy, 1) - np.nanmin(xy, 1)).max(-1)  # person_size, ignoring NaN joints
    reference = lift_pixels(lifter, xy, s, sizes, 0.0)
    out = {"frames": int(len(frames)), "frames_with_person": int(valid.sum()), "fps": fps,
           "size": [width, height], "person_size_px_median": float(np.median(size)),
           "full": {}, "cuts": {}}
    for t in thresholds:
        below = ~joint_present(xy, s, t)
        pose = lift_pixels(lifter, xy, s, sizes, t)
        out["full"][str(t)] = {"joints_below": int(below.sum()), "fraction_below": float(below.mean()),
                               "frames_with_a_joint_below": int(below.any(-1).sum()),
                               "mpjpe_vs_threshold_0": float(joint_errors_mm(pose, reference).mean()),
                               **plausibility(pose)}
    out["full"]["score_quantiles"] = {q: float(np.quantile(s, float(q))) for q in ("0.01", "0.05", "0.1", "0.5")}
    for name, (upper, lower) in CUTS.items():
        mid = (xy[:, [_J[n] for n in upper], 1].mean(1) + xy[:, [_J[n] for n in lower], 1].mean(1)) / 2
        row = int(np.nanmedian(mid))
        cxy, cs = blazepose_h36m([f for f, ok in zip(frames, valid) if ok], row)
        hidden = (xy[..., 1] >= row) & joint_present(xy, s)
        visible = ~hidden & joint_present(xy, s) & joint_present(cxy, cs)
        found = joint_present(cxy, cs).any(-1)
        err2d = np.linalg.norm(cxy - xy, axis=-1) / size[:, None]
        entry = {"crop_rows": row, "frames_found": int(found.sum()), "hidden_joints": int(hidden[found].sum()),
                 "hidden": {"score_quantiles": {q: float(np.quantile(cs[hidden & found[:, None]], float(q)))
                                                for q in ("0.1", "0.5", "0.9")},
                            "error_2d_size_median": float(np.nanmedian(err2d[hidden & found[:, None]])),
                            "error_2d_size_mean": float(np.nanmean(err2d[hidden & found[:, None]])),
                            "fraction_below": {}},
                 "visible": {"error_2d_size_median": float(np.nanmedian(err2d[visible])), "fraction_below": {}},
                 "lift": {}}
        csizes = sizes[found]
        for t in thresholds:
            entry["hidden"]["fraction_below"][str(t)] = float((cs[hidden & found[:, None]] < t).mean())
            entry["visible"]["fraction_below"][str(t)] = float((cs[visible] < t).mean())
            pose = lift_pixels(lifter, cxy[found], cs[found], csizes, t)
            err = joint_errors_mm(pose, reference[found])
            entry["lift"][str(t)] = {"mpjpe": float(err.mean()), "mpjpe_hidden": float(err[hidden[found]].mean()),
                                     "mpjpe_visible": float(err[~hidden[found]].mean())}
        out["cuts"][name] = entry
    return out


# -- report -------------------------------------------------------------------------------------
def tables(report: dict, thresholds: tuple[float, ...]) -> str:
    m = report["mocap"]
    lines = [f"Open mocap test ({m['frames']} frames), PGFormer MPJPE mm (low joints only in brackets); "
             f"no low joints: {m['no_low_joints_mpjpe']:.1f}", "",
             "| pattern | low joints | fill | " + " | ".join(f"keep r={r}" for r in m["guess_errors"]) + " | break-even r |",
             "|---|---:|---:|" + "---:|" * len(m["guess_errors"]) + "---:|"]
    for name, p in m["patterns"].items():
        keep = " | ".join(f"{a:.1f} ({b:.0f})" for a, b in zip(p["keep"]["mpjpe"], p["keep"]["mpjpe_low_joints"]))
        be = "-" if p["break_even_r"] is None else f"{p['break_even_r']:.2f}"
        lines.append(f"| {name} | {100 * p['low_joint_fraction']:.1f}% | {p['fill']['mpjpe']:.1f} "
                     f"({p['fill']['mpjpe_low_joints']:.0f}) | {keep} | {be} |")
    for video, v in report["videos"].items():
        lines += ["", f"{video}: {v['frames_with_person']} frames, person {v['person_size_px_median']:.0f} px", "",
                  "| threshold | joints below | asymmetry | bone CV | jitter mm | MPJPE vs t=0 |", "|---:|---:|---:|---:|---:|---:|"]
        for t in thresholds:
            f = v["full"][str(t)]
            lines.append(f"| {t} | {f['joints_below']} ({100 * f['fraction_below']:.1f}%) | {100 * f['bone_asymmetry']:.1f}% | "
                         f"{100 * f['bone_length_cv']:.1f}% | {f['jitter_mm']:.1f} | {f['mpjpe_vs_threshold_0']:.1f} |")
        for name, c in v["cuts"].items():
            h = c["hidden"]
            lines += ["", f"cut {name} (rows < {c['crop_rows']}): {c['hidden_joints']} hidden joints, score "
                      f"median {h['score_quantiles']['0.5']:.2f} (10-90%: {h['score_quantiles']['0.1']:.2f}-"
                      f"{h['score_quantiles']['0.9']:.2f}), guess error {100 * h['error_2d_size_median']:.1f}% of size "
                      f"(mean {100 * h['error_2d_size_mean']:.1f}%); visible joints' error "
                      f"{100 * c['visible']['error_2d_size_median']:.1f}%", "",
                      "| threshold | hidden below | visible below | MPJPE all | MPJPE hidden | MPJPE visible |",
                      "|---:|---:|---:|---:|---:|---:|"]
            for t in thresholds:
                lf = c["lift"][str(t)]
                lines.append(f"| {t} | {100 * h['fraction_below'][str(t)]:.0f}% | {100 * c['visible']['fraction_below'][str(t)]:.1f}% | "
                             f"{lf['mpjpe']:.1f} | {lf['mpjpe_hidden']:.1f} | {lf['mpjpe_visible']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/min_score.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=1000, help="open mocap test frames (evenly spaced)")
    p.add_argument("--data-3d", help="the open mocap npz (default ../shared/data/open_mocap_h36m17.npz)")
    p.add_argument("--videos", nargs="*", default=[str(REPO / "sample_videos" / n) for n in ("cam01.mp4", "cam03.mp4")],
                   help="single-person videos (cam03: a back view with self-occluded joints)")
    p.add_argument("--thresholds", type=float, nargs="+", default=list(THRESHOLDS))
    p.add_argument("--out", default=str(REPO / "bench" / "min_score.json"))
    args = p.parse_args(argv)
    try:
        if args.frames < 1:
            raise ValueError(f"--frames must be >= 1, got {args.frames}")
        thresholds = tuple(args.thresholds)
        for t in thresholds:
            if not 0.0 <= t <= 1.0:
                raise ValueError(f"thresholds must be in [0, 1], got {t}")
        t0 = time.perf_counter()
        torch.manual_seed(0)
        lifter = Lifter.load("pgformer", device="cpu", flip=True)
        report = {"mocap": mocap_part(lifter, args.data_3d, args.frames), "videos": {}}
        print(f"mocap part: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for video in args.videos:
            path = Path(video)
            shown = path.resolve().relative_to(REPO).as_posix() if path.resolve().is_relative_to(REPO) else str(path)
            report["videos"][shown] = video_part(lifter, path, thresholds)
            print(f"{shown}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        report["meta"] = {"lifter": "pgformer (flip averaging)", "detector": "mediapipe.solutions.pose, "
                          "model_complexity=1, video mode", "thresholds": list(thresholds),
                          "lift_min_score": LIFT_MIN_SCORE, "seconds": round(time.perf_counter() - t0, 1),
                          "torch_threads": torch.get_num_threads(),
                          "command": "python bench/min_score.py " + " ".join(sys.argv[1:] if argv is None else argv)}
        write_json(args.out, report)
        print(tables(report, thresholds))
        print(f"wrote {args.out}")
        return 0
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
