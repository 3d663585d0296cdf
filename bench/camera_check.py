"""Is the estimated camera right? The ground estimate against a calibrated multi-camera scene.

    python bench/camera_check.py [--json bench/camera_check.json] [--require-idle]

Data and calibration: bench/calibration.py (pose2sim's Demo_MultiPerson, four calibrated views).

Each view goes through the whole demo chain (demo.pipeline.run, Options(max_people=2,
progress=False), BlazePose from detectors.create_detector("blazepose", max_people=2), PGFormer
from lifter.lift.Lifter.load("pgformer", device="cpu"), no video written) twice: with the
default focal length (demo.trajectory.DEFAULT_FOV_DEG along the longer side) and with the
calibrated one (Options(motion=MotionSettings(focal_px=...)), the CLI's --focal-px). Printed per
view, and written with --json: the estimated camera height (m), pitch and roll (deg, as
demo.ground.Ground defines them) against the calibrated ones, the angle between the estimated
ground normal and the calibrated vertical, the focal length used against the calibrated one, the
contacts and people (track IDs) the ground rests on and the raised levels left out
(demo.ground's note), the pipeline's notes, and the wall time.

The calibration is read by bench.calibration.read_qca (its docstring has the convention); here,
world up in camera coordinates is (r13, -r23, -r33), the camera height is z / 1000, pitch =
asin(r33), roll = atan2(r13, r23). The other reading (columns = axes) points the optical axes away
from the capture volume; with the rows reading, triangulating the pipeline's 2D keypoints across
views gives 4-8 px median two-view reprojection errors (70-380 px with the columns), and the four
optical axes converge on the people. This check ignores lens distortion (k1 ~ -0.047).

convention_check (in the JSON): every view's estimated pelvis positions, taken into the world by
the calibration, per track (median over frames); for each track, the horizontal distance to the
nearest track of each other view (the same person seen from elsewhere: about the monocular depth
error, 0.1-1 m), and its median over all; convention_check_columns: the same with the other
reading of the rotation (a wrong convention scatters them by metres).

Caveat on heights: the calibration's people are small (triangulated thigh 0.29 m for the woman,
0.38 m for the man; the lifter's average adult has 0.43-0.46 m), so a monocular height, which
takes the lifter's body size, comes out larger than the calibrated one in proportion.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.calibration import VIEWS, CalibratedCamera, extract_demo_multiperson, read_qca  # noqa: E402,F401
from demo.ground import estimate_ground  # noqa: E402
from demo.motion import WORLD_GROUND, MotionSettings  # noqa: E402
from demo.pipeline import Options, run  # noqa: E402
from lifter.machine import MachineLoad, save_report  # noqa: E402

def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    cos = float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))
    return math.degrees(math.acos(min(1.0, max(-1.0, cos))))


def view_figures(video: Path, cam: CalibratedCamera, focal_px: float | None, detector, lifter) -> tuple[dict, dict]:
    """Run one view; (figures for the JSON, {track ID: its camera-frame pelvis positions (n, 3)})."""
    options = Options(max_people=2, progress=False, motion=MotionSettings(focal_px=focal_px))
    t0 = time.perf_counter()
    result = run(video, options, detector=detector, lifter=lifter)
    wall = time.perf_counter() - t0
    got = result.camera
    out = {"frames": result.num_frames, "tracks": [int(t) for t in result.track_ids],
           "main_track": int(result.track_ids[result.main_person]) if result.main_person >= 0 else None,
           "focal_px": float(got.focal_px), "focal_calibrated_px": [cam.focal_u, cam.focal_v],
           "focal_ratio": float(got.focal_px) / cam.focal_u,
           "calibrated": {"height_m": cam.height_m, "pitch_deg": cam.pitch_deg, "roll_deg": cam.roll_deg},
           "world": got.kind, "notes": list(result.notes), "seconds": round(wall, 2)}
    # the ground's own note (who it rests on, the levels left out): the pipeline keeps it only on
    # failure, so estimate_ground is called again on the same arrays (as demo.motion does)
    full = [(result.keypoints_3d[p] + result.root_translation[p][:, None, :],
             result.valid[p] & np.isfinite(result.root_translation[p]).all(-1)) for p in range(result.num_people)]
    if full:
        ground, note = estimate_ground(full, result.fps, main=max(result.main_person, 0))
        out["ground_note"] = note
        out["ground_people"] = [int(result.track_ids[p]) for p in ground.people] if ground else []
        out["ground_raised_m"] = list(ground.raised_m) if ground else []
    if got.kind == WORLD_GROUND:
        normal = np.asarray(got.to_world)[2]
        out["estimated"] = {"height_m": float(got.height_m), "pitch_deg": float(got.pitch_deg),
                            "roll_deg": float(got.roll_deg), "contacts": int(got.contacts)}
        out["error"] = {"height_m": float(got.height_m) - cam.height_m,
                        "height_ratio": float(got.height_m) / cam.height_m,
                        "pitch_deg": float(got.pitch_deg) - cam.pitch_deg,
                        "roll_deg": float(got.roll_deg) - cam.roll_deg,
                        "normal_deg": _angle_deg(normal, cam.up_cam)}
    else:
        out["estimated"] = None
        out["error"] = None
    pelvises = {}
    for p, track in enumerate(result.track_ids):
        pelvis = np.asarray(result.root_translation[p], dtype=np.float64)
        pelvis = pelvis[result.valid[p] & np.isfinite(pelvis).all(-1)]
        if len(pelvis):
            pelvises[int(track)] = pelvis
    out["pelvis_world_m"] = {str(k): [round(float(v), 3) for v in np.median(cam.to_world(xyz), axis=0)]
                             for k, xyz in pelvises.items()}
    return out, pelvises


def convention_check(pelvises: dict[str, dict[int, np.ndarray]], cameras: dict[str, CalibratedCamera]) -> dict:
    """For each view's tracks (camera-frame pelvis positions), the horizontal distance (m) between
    its median world position (via ``cameras``) and the nearest track of every other view."""
    places = {view: {track: np.median(cameras[view].to_world(xyz), axis=0) for track, xyz in tracks.items()}
              for view, tracks in pelvises.items()}
    distances = {}
    for view, tracks in places.items():
        for track, xyz in tracks.items():
            for other, theirs in places.items():
                if other != view and theirs:
                    nearest = min(float(np.linalg.norm(xyz[:2] - t[:2])) for t in theirs.values())
                    distances[f"{view}/{track}->{other}"] = round(nearest, 3)
    values = list(distances.values())
    return {"nearest_track_m": distances, "median_m": float(np.median(values)) if values else float("nan")}


def _summary(views: dict) -> dict:
    """Mean absolute errors over the views that got a ground."""
    done = [v["error"] for v in views.values() if v["error"]]
    out = {"views_with_ground": len(done), "views": len(views)}
    for key in ("pitch_deg", "roll_deg", "normal_deg", "height_m"):
        out[f"mean_abs_{key}"] = float(np.mean([abs(e[key]) for e in done])) if done else float("nan")
    out["mean_height_ratio"] = float(np.mean([e["height_ratio"] for e in done])) if done else float("nan")
    return out


def _line(view: str, fig: dict) -> str:
    cal = fig["calibrated"]
    head = f"  {view}: focal {fig['focal_px']:.0f} px (calibrated {fig['focal_calibrated_px'][0]:.0f})"
    if not fig["estimated"]:
        return f"{head}; no ground: {'; '.join(fig['notes'])}"
    est, err = fig["estimated"], fig["error"]
    return (f"{head}; height {est['height_m']:.2f} m (calibrated {cal['height_m']:.2f}), "
            f"pitch {est['pitch_deg']:.1f} ({cal['pitch_deg']:.1f}), roll {est['roll_deg']:.1f} "
            f"({cal['roll_deg']:.1f}) deg, normal {err['normal_deg']:.1f} deg off\n    {fig.get('ground_note', '')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "camera_check.json")
    parser.add_argument("--require-idle", action="store_true", help="refuse to record figures on a busy machine")
    args = parser.parse_args(argv)

    from detectors import create_detector
    from lifter.lift import Lifter

    lifter = Lifter.load("pgformer", device="cpu")
    report: dict = {"runs": {}}
    with MachineLoad() as load, tempfile.TemporaryDirectory() as tmp:
        videos, calib_path = extract_demo_multiperson(Path(tmp))
        cameras = read_qca(calib_path)
        other_reading = read_qca(calib_path, axes="columns")
        report["calibration"] = {name: {"height_m": c.height_m, "pitch_deg": c.pitch_deg, "roll_deg": c.roll_deg,
                                        "focal_px": [c.focal_u, c.focal_v], "centre_px": [c.centre_u, c.centre_v],
                                        "up_cam": [round(float(v), 5) for v in c.up_cam]}
                                 for name, c in cameras.items()}
        for run_name in ("default_focal", "calibrated_focal"):
            views, places = {}, {}
            print(run_name)
            for view in VIEWS:
                cam = cameras[view]
                focal = cam.focal_u if run_name == "calibrated_focal" else None
                with create_detector("blazepose", max_people=2) as detector:
                    views[view], places[view] = view_figures(videos[view], cam, focal, detector, lifter)
                print(_line(view, views[view]))
            report["runs"][run_name] = {"views": views, "summary": _summary(views),
                                        "convention_check": convention_check(places, cameras),
                                        "convention_check_columns": convention_check(places, other_reading)}
            summary = report["runs"][run_name]["summary"]
            print(f"  mean |error| over {summary['views_with_ground']} of {summary['views']} views: "
                  f"pitch {summary['mean_abs_pitch_deg']:.1f} deg, roll {summary['mean_abs_roll_deg']:.1f} deg, "
                  f"normal {summary['mean_abs_normal_deg']:.1f} deg, height {summary['mean_abs_height_m']:.2f} m "
                  f"(x{summary['mean_height_ratio']:.2f}); the same person across views (calibrated world): "
                  f"{report['runs'][run_name]['convention_check']['median_m']:.2f} m apart (median; "
                  f"{report['runs'][run_name]['convention_check_columns']['median_m']:.2f} m with the columns "
                  f"reading of the rotation)")
    save_report(args.json, report, load, args.require_idle)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
