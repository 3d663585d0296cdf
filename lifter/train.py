"""Train or evaluate a lifter.

    python lifter/train.py --preset NAME [--data h36m|openmocap] [--data-3d PATH] [--data-2d PATH]
                           [--epochs N] [--batch-size N] [--out DIR] [--seed N] [--device auto|cpu|cuda]
    python lifter/train.py --resume DIR [--epochs N]          # continue a run exactly
    python lifter/train.py --evaluate CKPT --data ... [--out DIR]
    torchrun --nproc_per_node=K lifter/train.py --preset ...  # DistributedDataParallel

Presets: lifter/presets.py. Outputs: see lifter/training.py (training) and lifter/evaluate.py
(eval.json). Bad input ends with a one-line error and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable, not lifter/ itself
    _here = Path(__file__).resolve().parent
    sys.path = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

from lifter.presets import PRESETS, get_preset  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lifter/train.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preset", choices=sorted(PRESETS), help="train a new run with this recipe (lifter/presets.py)")
    mode.add_argument("--resume", metavar="DIR", help="continue the run in DIR (its config.json and train_state) "
                      "up to --epochs epochs in total, exactly as an uninterrupted run")
    mode.add_argument("--evaluate", metavar="CKPT", help="evaluate a checkpoint (.safetensors with its .json) and write eval.json")
    p.add_argument("--data", choices=["h36m", "openmocap"], help="data source (default: the preset's)")
    p.add_argument("--data-3d", metavar="PATH", help="h36m: data_3d_h36m.npz; openmocap: the npz "
                   "(default ../shared/data/open_mocap_h36m17.npz)")
    p.add_argument("--data-2d", metavar="PATH", help="h36m: the 2D npz (CPN, GT or the 16-joint GT file of lifter.data.make_gt2d)")
    p.add_argument("--noise", choices=["clean", "detector"], help="openmocap: 2D inputs clean or with the detector "
                   "noise model (default: the preset's; for --evaluate: detector)")
    p.add_argument("--epochs", type=int, help="total number of epochs (default: the preset's)")
    p.add_argument("--batch-size", type=int, help="batch size per process (default: the preset's)")
    p.add_argument("--lr", type=float, help="learning rate (default: the preset's)")
    p.add_argument("--init", metavar="CKPT", help="start the model from these weights (a .safetensors with its "
                   ".json and the preset's model configuration) with a fresh optimiser and schedule")
    p.add_argument("--pose-model", metavar="CKPT", help="denoiser presets: the trained pose model checkpoint")
    p.add_argument("--out", metavar="DIR", help="output folder (default runs/<preset>; for --evaluate the checkpoint's folder)")
    p.add_argument("--seed", type=int, default=0, help="random seed (model initialisation, data order, augmentation)")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda or cuda:N")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes making batches")
    p.add_argument("--val-frames", type=int, default=20000, help="validation frames per epoch (evenly spaced; 0 = all)")
    p.add_argument("--eval-batch-size", type=int, default=4096, help="batch size of evaluation")
    p.add_argument("--split", choices=["test", "val"], default="test", help="--evaluate: which split")
    p.add_argument("--flip", choices=["auto", "on", "off"], default="auto",
                   help="--evaluate: headline figures with flip averaging (auto: as the checkpoint's preset)")
    p.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    return p


def _train_config(args: argparse.Namespace) -> dict:
    cfg = get_preset(args.preset)
    cfg["preset"] = args.preset
    for key, value in (("data", args.data), ("noise", args.noise), ("epochs", args.epochs), ("batch_size", args.batch_size),
                       ("data_3d", args.data_3d), ("data_2d", args.data_2d), ("pose_model", args.pose_model)):
        if value is not None:
            cfg[key] = value
    if args.lr is not None:
        cfg["optimizer"]["lr"] = args.lr
    if args.init is not None:
        from lifter.provenance import sha256_of

        cfg["init"] = {"path": args.init, "sha256": sha256_of(args.init)}
    cfg.update(seed=args.seed, workers=args.workers, val_frames=args.val_frames or None,
               eval_batch_size=args.eval_batch_size, command=" ".join(sys.argv))
    if cfg["stage"] == "denoiser" and not cfg.get("pose_model"):
        raise ValueError(f"preset {args.preset} trains DiffPyramid's denoiser: give --pose-model CKPT (a trained pose model)")
    return cfg


def _evaluate(args: argparse.Namespace) -> dict:
    import torch

    from lifter.data import open_source
    from lifter.evaluate import evaluate, markdown_table, write_report
    from lifter.checkpoint import load_model
    from lifter.models import num_joints_of
    from lifter.training import setup_distributed

    ckpt = Path(args.evaluate)
    if not ckpt.exists():
        raise FileNotFoundError(f"checkpoint not found: {ckpt}")
    _, dev = setup_distributed(args.device)
    model, mcfg, meta = load_model(ckpt, dev)
    run_cfg_path = ckpt.parent / "config.json"
    run_cfg = json.loads(run_cfg_path.read_text()) if run_cfg_path.exists() else {}
    data = args.data or run_cfg.get("data")
    if data is None:
        raise ValueError("--evaluate needs --data h36m|openmocap")
    source = open_source(data, num_joints_of(mcfg), args.data_3d, args.data_2d, args.noise or "detector")
    flip = {"on": True, "off": False}.get(args.flip, bool(run_cfg.get("flip_test", True)))
    with torch.no_grad():
        result = evaluate(model, source.eval_set(args.split), flip, args.eval_batch_size, dev)
    write_report(Path(args.out) if args.out else ckpt.parent, result,
                 {"checkpoint": str(ckpt), "data_fingerprint": source.fingerprint(), "checkpoint_meta": meta})
    print(markdown_table(result))
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.evaluate:
            _evaluate(args)
            return 0
        from lifter.training import run_training

        if args.resume:
            out = Path(args.resume)
            if not (out / "config.json").exists():
                raise FileNotFoundError(f"not a training run (no config.json): {out}")
            cfg = json.loads((out / "config.json").read_text())
            if args.epochs is not None:
                cfg["epochs"] = args.epochs
            result = run_training(cfg, out, resume=True, device=args.device)
        else:
            cfg = _train_config(args)
            out = Path(args.out) if args.out else Path("runs") / args.preset
            result = run_training(cfg, out, resume=False, device=args.device)
        if result is not None:
            from lifter.evaluate import markdown_table

            print(markdown_table(result))
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
