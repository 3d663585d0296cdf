"""Evaluate the shipped lifters and the MLP baseline side by side; sanity-check them on a real video.

    python bench/evaluate_shipped.py --mlp runs/openmocap_mlp/best.safetensors
                                     [--weights weights] [--out weights/eval.json] [--max-frames N]
                                     [--video sample_videos/cam01.mp4 | --keypoints keypoints.npz | --no-video]

Models: "pgformer" (weights/pgformer.safetensors), "diffpyramid" (weights/diffpyramid.safetensors,
one deterministic hypothesis), "diffpyramid_k5" (the same weights, K=5 hypotheses drawn with a
fixed torch seed, averaged) and "mlp_baseline" (--mlp, trained with the same data and noise).

Data: the open mocap test split (lifter.data.openmocap) with its fixed seeded cameras (EVAL_SEED),
once with clean 2D ("clean") and once with the detector noise model ("noisy"); each condition
draws its own cameras, the same for every model. Metrics: lifter.evaluate.predict / summarize
(MPJPE, P-MPJPE, N-MPJPE in mm, mean over frames, per motion category), without ("plain") and with
("flip") flip averaging. The headline figures are the flip-averaged ones: the shipped Lifter flips
by default.

Real-video sanity (``video_sanity``): the 2D keypoints of a video (BlazePose through
demo.pipeline.run, or a demo keypoints.npz) are lifted by each model with flip averaging, as the
demo does; over the valid frames it reports
- bone asymmetry: |L - R| / ((L + R) / 2) for thigh, shin, upper arm and forearm, averaged over
  frames (per bone) and over the four bones (``mean``);
- natural knee bend: the pelvis' forward direction is normalize(cross(l_hip - r_hip, thorax -
  pelvis)) (the facing direction in any right-handed frame, the camera frame included); a knee's
  forward offset is the component along it of the knee's offset from the hip-ankle line; a knee
  bends the natural way when that offset is >= -KNEE_TOLERANCE_M (a straight leg counts, a knee
  more than 15 mm behind the line does not). ``knee_natural_fraction``: frames where both knees do.
The same figures of the mocap test poses (ground truth) are given as ``reference_mocap_test``.

eval.json: {"<model>": {"clean": {"mpjpe", "p_mpjpe", "n_mpjpe"}, "noisy": {...}, "per_category":
{category: {"frames", "clean": {...}, "noisy": {...}}}, "flip": true, "variants": {"plain" | "flip":
{"clean", "noisy", "per_category"}}, "weights" (path), "sha256" (of that file), "seconds", and for
"mlp_baseline" "training" (weights.ship.stage_summary of its run)}, ..., "video_sanity": {...}, "goal":
{...}, "meta": {...}, "command": "..."}. Bad input: one-line error, exit code 2.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lifter.atomic import write_json  # noqa: E402
from lifter.checkpoint import load_model  # noqa: E402
from lifter.data import EvalSet, open_source  # noqa: E402
from lifter.evaluate import predict, summarize  # noqa: E402
from lifter.lift import Lifter, resolve_device  # noqa: E402
from lifter.skeleton import JOINTS_17, fill_missing, normalize_screen  # noqa: E402
from weights.ship import sha256_of, stage_summary  # noqa: E402

MODELS = ("pgformer", "diffpyramid", "diffpyramid_k5", "mlp_baseline")
#: eval.json condition -> the open mocap source's 2D noise setting
CONDITIONS = {"clean": "clean", "noisy": "detector"}
HEADLINE = "flip"
METRICS = ("mpjpe", "p_mpjpe", "n_mpjpe")
#: a knee more than this far (metres) behind the hip-ankle line counts as bent backwards
KNEE_TOLERANCE_M = 0.015
#: bone name -> ((left parent, left child), (right parent, right child)) by joint name
BONE_PAIRS = {"thigh": (("l_hip", "l_knee"), ("r_hip", "r_knee")),
              "shin": (("l_knee", "l_ankle"), ("r_knee", "r_ankle")),
              "upper_arm": (("l_shoulder", "l_elbow"), ("r_shoulder", "r_elbow")),
              "forearm": (("l_elbow", "l_wrist"), ("r_elbow", "r_wrist"))}
_J = {name: i for i, name in enumerate(JOINTS_17)}


# -- pose sanity measures ---------------------------------------------------------------------
def bone_asymmetry(poses: np.ndarray) -> dict:
    """Poses (N, 17, 3) -> {bone: mean |L - R| / mean(L, R)} over frames, plus "mean" over the bones."""
    out = {}
    for bone, ((lp, lc), (rp, rc)) in BONE_PAIRS.items():
        left = np.linalg.norm(poses[:, _J[lc]] - poses[:, _J[lp]], axis=-1)
        right = np.linalg.norm(poses[:, _J[rc]] - poses[:, _J[rp]], axis=-1)
        out[bone] = float(np.mean(np.abs(left - right) / np.maximum((left + right) / 2, 1e-9)))
    out["mean"] = float(np.mean(list(out.values())))
    return out


def knee_forward_offsets(poses: np.ndarray) -> np.ndarray:
    """Poses (N, 17, 3) -> (N, 2) forward offset (metres) of the left and right knee from the hip-ankle line."""
    up = poses[:, _J["thorax"]] - poses[:, _J["pelvis"]]
    forward = np.cross(poses[:, _J["l_hip"]] - poses[:, _J["r_hip"]], up)
    forward /= np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-9)
    out = np.empty((len(poses), 2))
    for k, side in enumerate("lr"):
        hip, knee, ankle = (poses[:, _J[f"{side}_{n}"]] for n in ("hip", "knee", "ankle"))
        axis = ankle - hip
        axis /= np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-9)
        rel = knee - hip
        off = rel - np.sum(rel * axis, -1, keepdims=True) * axis
        out[:, k] = np.sum(off * forward, -1)
    return out


def pose_sanity(poses: np.ndarray) -> dict:
    """Asymmetry and natural-knee figures of poses (N, 17, 3) metres (see the module docstring)."""
    off = knee_forward_offsets(poses)
    ok = off >= -KNEE_TOLERANCE_M
    return {"frames": int(len(poses)), "bone_asymmetry": bone_asymmetry(poses),
            "knee_natural_fraction": float(ok.all(-1).mean()),
            "knee_natural_fraction_left": float(ok[:, 0].mean()), "knee_natural_fraction_right": float(ok[:, 1].mean()),
            "knee_forward_offset_median_mm": [float(v) for v in np.median(off, 0) * 1000]}


# -- models and data ----------------------------------------------------------------------------
def load_models(weights_dir: Path, mlp_path: Path, hypotheses: int) -> dict[str, tuple[torch.nn.Module, Path]]:
    """The four evaluated models (eval mode, CPU) and the file each came from."""
    models = {}
    for name, path in (("pgformer", weights_dir / "pgformer.safetensors"),
                       ("diffpyramid", weights_dir / "diffpyramid.safetensors"), ("mlp_baseline", mlp_path)):
        model, cfg, _ = load_model(path)
        expected = {"pgformer": "pgformer", "diffpyramid": "diffpyramid", "mlp_baseline": "mlp"}[name]
        if cfg.get("arch") != expected:
            raise ValueError(f"{path}: holds a {cfg.get('arch')!r} model, {name} must be {expected!r}")
        models[name] = (model, path)
    dp = models["diffpyramid"][0]
    dp.hypotheses = 1
    k5 = copy.deepcopy(dp)
    k5.hypotheses = hypotheses
    models["diffpyramid_k5"] = (k5, models["diffpyramid"][1])
    return {name: models[name] for name in MODELS}


def eval_sets(data_3d: str | None, max_frames: int | None) -> tuple[dict[str, EvalSet], dict]:
    """{condition: the test EvalSet} and the data fingerprint (of the noisy source)."""
    sets, fingerprint = {}, {}
    for cond, noise in CONDITIONS.items():
        source = open_source("openmocap", 17, data_3d, noise=noise)
        sets[cond] = source.eval_set("test").subsample(max_frames)
        fingerprint = source.fingerprint()
    return sets, fingerprint


def evaluate_model(model: torch.nn.Module, sets: dict[str, EvalSet], seed: int, batch_size: int,
                   device: str = "cpu") -> dict:
    """{variant: {condition: summarize(...)}} for the plain and flip-averaged predictions."""
    out: dict = {}
    for variant, flip in (("plain", False), ("flip", True)):
        out[variant] = {}
        for cond, es in sets.items():
            torch.manual_seed(seed)  # DiffPyramid's K hypotheses: the same draws in every run
            out[variant][cond] = summarize(predict(model.to(device), es.inputs, flip, batch_size, device, progress=True), es)
    return out


def model_entry(raw: dict) -> dict:
    """eval.json entry of one model from evaluate_model's result (headline: the flip-averaged variant)."""
    variants = {}
    for variant, conds in raw.items():
        categories = list(next(iter(conds.values()))["per_group"])
        variants[variant] = {**{c: {m: r[m] for m in METRICS} for c, r in conds.items()},
                             "per_category": {g: {"frames": next(iter(conds.values()))["per_group"][g]["frames"],
                                                  **{c: {m: r["per_group"][g][m] for m in METRICS}
                                                     for c, r in conds.items() if g in r["per_group"]}}
                                              for g in categories}}
    return {**variants[HEADLINE], "flip": HEADLINE == "flip", "variants": variants}


# -- real video -------------------------------------------------------------------------------
def video_keypoints(video: Path | None, keypoints: Path | None,
                    lifter: Lifter) -> tuple[np.ndarray, np.ndarray, int, int, str]:
    """H36M-17 2D of the valid frames: (pixels (M, 17, 2) with NaN for missing joints, scores (M, 17),
    width, height, description of the source). From ``keypoints`` (a demo keypoints.npz) when
    given, else by running the demo pipeline on ``video`` with ``lifter`` (its 3D is not used)."""
    if keypoints is not None:
        if not keypoints.is_file():
            raise FileNotFoundError(f"keypoints file not found: {keypoints}")
        with np.load(keypoints) as d:
            valid = d["valid"].astype(bool)
            return d["keypoints_2d"][valid], d["scores"][valid], int(d["width"]), int(d["height"]), \
                f"{keypoints} ({d['detector']} on {d['video']})"
    from demo.pipeline import Options, run

    res = run(video, Options(progress=True), lifter=lifter)
    shown = video.resolve().relative_to(REPO) if video.resolve().is_relative_to(REPO) else video
    return res.keypoints_2d[res.valid], res.scores[res.valid], res.width, res.height, f"{shown} ({res.detector})"


def video_sanity(models: dict, kp2d: np.ndarray, scores: np.ndarray, width: int, height: int, seed: int,
                 device: str = "cpu") -> dict:
    """pose_sanity of each model's lift (flip averaging on, as in the demo) of the valid frames."""
    norm = normalize_screen(fill_missing(kp2d, scores), width, height)
    out = {}
    for name, (model, _) in models.items():
        torch.manual_seed(seed)
        out[name] = pose_sanity(Lifter(model, 17, device=device, flip=True).lift(norm).astype(np.float64))
    return out


# -- report -----------------------------------------------------------------------------------
def table(report: dict) -> str:
    """Overall figures (both variants) and the headline noisy MPJPE per category, as Markdown."""
    lines = ["| model | flip | clean MPJPE | clean P-MPJPE | noisy MPJPE | noisy P-MPJPE |",
             "|---|---|---:|---:|---:|---:|"]
    for name in MODELS:
        for variant in ("plain", "flip"):
            v = report[name]["variants"][variant]
            lines.append(f"| {name} | {'yes' if variant == 'flip' else 'no'} | {v['clean']['mpjpe']:.1f} | "
                         f"{v['clean']['p_mpjpe']:.1f} | {v['noisy']['mpjpe']:.1f} | {v['noisy']['p_mpjpe']:.1f} |")
    cats = list(report[MODELS[0]]["per_category"])
    lines += ["", "Noisy-2D MPJPE (mm) per motion category, flip averaging:", "",
              "| category | frames | " + " | ".join(MODELS) + " |", "|---|---:|" + "---:|" * len(MODELS)]
    for c in cats:
        row = [f"{report[m]['per_category'][c]['noisy']['mpjpe']:.1f}" for m in MODELS]
        lines.append(f"| {c} | {report[MODELS[0]]['per_category'][c]['frames']} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def goal(report: dict) -> dict:
    """The issue's goal: PGFormer's noisy-2D MPJPE at least 15% below the MLP's (headline variant)."""
    pg, mlp = report["pgformer"]["noisy"]["mpjpe"], report["mlp_baseline"]["noisy"]["mpjpe"]
    reduction = 1.0 - pg / mlp
    return {"pgformer_noisy_mpjpe": pg, "mlp_noisy_mpjpe": mlp, "reduction": reduction, "target": 0.15,
            "met": bool(reduction >= 0.15)}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench/evaluate_shipped.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--mlp", required=True, help="the MLP baseline checkpoint (.safetensors with its .json)")
    p.add_argument("--weights", default=str(REPO / "weights"), help="folder of the shipped weights")
    p.add_argument("--out", help="eval JSON to write (default <weights>/eval.json)")
    p.add_argument("--data-3d", help="the open mocap npz (default ../shared/data/open_mocap_h36m17.npz)")
    p.add_argument("--max-frames", type=int, help="evaluate on this many evenly spaced test frames (development)")
    p.add_argument("--hypotheses", type=int, default=5, help="K of diffpyramid_k5")
    p.add_argument("--seed", type=int, default=0, help="torch seed of DiffPyramid's hypotheses")
    p.add_argument("--batch-size", type=int, default=2048, help="poses per forward pass")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--video", default=str(REPO / "sample_videos" / "cam01.mp4"),
                     help="real video for the sanity check (BlazePose 2D through the demo pipeline)")
    src.add_argument("--keypoints", help="a demo keypoints.npz to take the video's 2D from instead")
    src.add_argument("--no-video", action="store_true", help="skip the real-video sanity check")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out) if args.out else Path(args.weights) / "eval.json"
    try:
        if args.max_frames is not None and args.max_frames < 1:
            raise ValueError(f"--max-frames must be >= 1, got {args.max_frames}")
        device = resolve_device(args.device)
        t_all = time.perf_counter()
        models = load_models(Path(args.weights), Path(args.mlp), args.hypotheses)
        sets, fingerprint = eval_sets(args.data_3d, args.max_frames)
        report: dict = {}
        for name, (model, path) in models.items():
            t0 = time.perf_counter()
            report[name] = {**model_entry(evaluate_model(model, sets, args.seed, args.batch_size, device)), "weights": str(path),
                            "sha256": sha256_of(path)}
            report[name]["seconds"] = round(time.perf_counter() - t0, 1)
            if name == "mlp_baseline" and (path.parent / "config.json").is_file():
                report[name]["training"] = stage_summary(path.parent)
            print(f"{name}: noisy MPJPE {report[name]['noisy']['mpjpe']:.1f} mm ({report[name]['seconds']:.0f} s)",
                  file=sys.stderr)
        if not args.no_video:
            kp2d, scores, width, height, what = video_keypoints(None if args.keypoints else Path(args.video),
                                                                Path(args.keypoints) if args.keypoints else None,
                                                                Lifter(models["pgformer"][0], 17, device=device))
            if len(kp2d) == 0:
                raise ValueError(f"no valid frame in {what}")
            report["video_sanity"] = {"source": what, "knee_tolerance_mm": KNEE_TOLERANCE_M * 1000,
                                      "models": video_sanity(models, kp2d, scores, width, height, args.seed, device),
                                      "reference_mocap_test": pose_sanity(sets["clean"].targets.astype(np.float64))}
        report["goal"] = goal(report)
        report["meta"] = {"split": "test", "frames": {c: len(s) for c, s in sets.items()}, "max_frames": args.max_frames,
                          "headline_variant": HEADLINE, "diffpyramid_k5": {"hypotheses": args.hypotheses,
                                                                           "aggregate": models["diffpyramid_k5"][0].aggregate,
                                                                           "torch_seed": args.seed},
                          "data_fingerprint": fingerprint, "seconds_total": round(time.perf_counter() - t_all, 1),
                          "device": device, "torch_threads": torch.get_num_threads()}
        report["command"] = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]) if argv is None \
            else "python bench/evaluate_shipped.py " + " ".join(argv)
        write_json(out, report)
        print(table(report))
        g = report["goal"]
        print(f"goal: PGFormer noisy MPJPE {g['pgformer_noisy_mpjpe']:.1f} mm vs MLP {g['mlp_noisy_mpjpe']:.1f} mm: "
              f"{100 * g['reduction']:.1f}% lower (target 15%: {'met' if g['met'] else 'NOT met'})")
        if "video_sanity" in report:
            for name, s in report["video_sanity"]["models"].items():
                print(f"video {name}: asymmetry {100 * s['bone_asymmetry']['mean']:.1f}%, natural knees "
                      f"{100 * s['knee_natural_fraction']:.0f}% of {s['frames']} frames")
        print(f"wrote {out} ({report['meta']['seconds_total']:.0f} s)")
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
