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
demo does; over the valid frames it reports lifter.sanity.pose_sanity (left/right bone asymmetry
and the share of frames whose knees bend the natural way).
The same figures of the mocap test poses (ground truth) are given as ``reference_mocap_test``.

eval.json: {"<model>": {"clean": {"mpjpe", "p_mpjpe", "n_mpjpe"}, "noisy": {...}, "per_category":
{category: {"frames", "clean": {...}, "noisy": {...}}}, "flip": true, "variants": {"plain" | "flip":
{"clean", "noisy", "per_category"}}, "weights" (path), "sha256" (of that file), "seconds", and for
"mlp_baseline" "training" (lifter.provenance.stage_summary of its run)}, ..., "video_sanity": {...}, "goal":
{...}, "meta": {...}, "command": "..."}. Bad input: one-line error, exit code 2.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch

from lifter.atomic import write_json
from lifter.checkpoint import load_model
from lifter.data import EvalSet, open_source
from lifter.eval_report import HEADLINE, METRICS, MODELS, goal, table
from lifter.evaluate import predict, summarize
from lifter.lift import Lifter, resolve_device
from lifter.provenance import sha256_of, stage_summary
from lifter.sanity import KNEE_TOLERANCE_M, pose_sanity
from lifter.skeleton import fill_missing, normalize_screen

REPO = Path(__file__).resolve().parents[1]
#: eval.json condition -> the open mocap source's 2D noise setting
CONDITIONS = {"clean": "clean", "noisy": "detector"}


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
    """H36M-17 2D of the main person's valid frames: (pixels (M, 17, 2) with NaN for missing joints,
    scores (M, 17), width, height, description of the source). From ``keypoints`` (a demo
    keypoints.npz) when given, else by running the demo pipeline on ``video`` with ``lifter``
    (its 3D is not used)."""
    from demo.outputs import read_npz

    if keypoints is not None:
        if not keypoints.is_file():
            raise FileNotFoundError(f"keypoints file not found: {keypoints}")
        res = read_npz(keypoints)
        what = f"{keypoints} ({res.detector} on {res.video})"
    else:
        from demo.pipeline import Options, make_detector, run

        with make_detector(Options()) as detector:
            res = run(video, Options(progress=True), detector=detector, lifter=lifter)
        shown = video.resolve().relative_to(REPO) if video.resolve().is_relative_to(REPO) else video
        what = f"{shown} ({res.detector})"
    if res.main_person < 0:
        raise ValueError(f"nobody found in {what}")
    m = res.main_person
    valid = res.valid[m]
    return res.keypoints_2d[m, valid], res.scores[m, valid], res.width, res.height, what


def video_sanity(models: dict, kp2d: np.ndarray, scores: np.ndarray, width: int, height: int, seed: int,
                 device: str = "cpu") -> dict:
    """pose_sanity of each model's lift (flip averaging on, as in the demo) of the valid frames."""
    norm = normalize_screen(fill_missing(kp2d, scores), width, height)
    out = {}
    for name, (model, _) in models.items():
        torch.manual_seed(seed)
        out[name] = pose_sanity(Lifter(model, 17, device=device, flip=True).lift(norm).astype(np.float64))
    return out


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
