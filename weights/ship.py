"""Ship trained lifters: copy run checkpoints into weights/ with the metadata the model card needs.

    python weights/ship.py [--pgformer-run runs/openmocap_pgformer]
                           [--diffpyramid-run runs/openmocap_diffpyramid] [--checkpoint best|last]
                           [--out weights] [--hardware TEXT] [--only pgformer|diffpyramid]

Writes ``<out>/pgformer.safetensors`` and ``<out>/diffpyramid.safetensors`` (byte copies of the
runs' checkpoints, written atomically) and a JSON beside each: {"config": <model config>, "meta":
{...}}, the project format of lifter.checkpoint, so ``Lifter.load("pgformer")`` and
``Lifter.load("diffpyramid")`` load them. The DiffPyramid denoiser run (lifter.denoiser_training)
saves the whole two-stage model (pose model + denoiser) in one file, which is shipped as is.

meta: {"name", "sha256", "bytes", "parameters", "checkpoint" (the run file copied), "epoch" (of
that checkpoint), "val" (its validation figures), "data_fingerprint", "training": [one entry per
training stage, lifter.provenance.stage_summary of its run], "training_seconds_total", "hardware",
"shipped_utc"}; DiffPyramid adds "pose_model_is_shipped_pgformer" (its pose weights equal the
shipped PGFormer's). Bad input: one-line error, exit code 2.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import shutil
import sys
from pathlib import Path

import torch

from lifter.atomic import atomic_path, write_json
from lifter.checkpoint import load_model
from lifter.provenance import detect_hardware, sha256_of, stage_summary

REPO = Path(__file__).resolve().parents[1]

#: shipped name -> the model architecture its checkpoint must hold
SHIPPED_ARCH = {"pgformer": "pgformer", "diffpyramid": "diffpyramid"}


def ship_one(name: str, run_dir: Path, checkpoint: str, out_dir: Path, hardware: str,
             extra_stages: list[dict] = (), extra_meta: dict | None = None) -> dict:
    """Copy ``run_dir/<checkpoint>.safetensors`` to ``out_dir/<name>.safetensors`` with its JSON; returns the meta."""
    src = run_dir / f"{checkpoint}.safetensors"
    model, config, run_meta = load_model(src)  # also checks that the file loads into its config
    if config.get("arch") != SHIPPED_ARCH[name]:
        raise ValueError(f"{src}: holds a {config.get('arch')!r} model, {name} must be {SHIPPED_ARCH[name]!r}")
    own = stage_summary(run_dir)
    stages = [*extra_stages, *init_stages(own), own]
    dest = out_dir / f"{name}.safetensors"
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
    meta = {"name": name, "sha256": sha256_of(dest), "bytes": dest.stat().st_size,
            "parameters": sum(p.numel() for p in model.parameters()),
            "checkpoint": str(src), "epoch": run_meta.get("epoch"), "val": run_meta.get("metrics"),
            "data_fingerprint": run_meta.get("data_fingerprint"), "training": stages,
            "training_seconds_total": round(sum(s["train_seconds"] for s in stages), 1),
            "hardware": hardware, "shipped_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            **(extra_meta or {})}
    write_json(dest.with_suffix(".json"), {"config": config, "meta": meta})
    return meta


def init_stages(stage: dict) -> list[dict]:
    """The training stages of the weights a run started from (--init), as their JSON recorded
    them; [] for a run from scratch. The file must still be the one the run started from."""
    init = stage.get("init")
    if not init:
        return []
    path = Path(init["path"])
    path = path if path.is_absolute() or path.exists() else REPO / path
    side = path.with_suffix(".json")
    if not side.is_file() or sha256_of(path) != init["sha256"]:
        raise ValueError(f"{stage['run']} started from {init['path']} (sha256 {init['sha256'][:12]}...), which is "
                         "no longer that file: its training history cannot be recorded")
    import json

    return list(json.loads(side.read_text(encoding="utf-8"))["meta"].get("training", []))


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def ship_diffpyramid(run_dir: Path, checkpoint: str, out_dir: Path, hardware: str) -> dict:
    """Ship the combined DiffPyramid checkpoint of a denoiser run; its training entries include the pose model's run."""
    pose_stage = []
    pose_path = stage_summary(run_dir).get("pose_model")
    if pose_path and not Path(pose_path).is_absolute() and not Path(pose_path).exists():
        pose_path = str(REPO / pose_path)  # training runs from the repository root
    if pose_path and (Path(pose_path).parent / "config.json").is_file():
        pose_stage = [stage_summary(Path(pose_path).parent)]
    extra = {}
    shipped_pg = out_dir / "pgformer.safetensors"
    if shipped_pg.is_file():
        combined, _, _ = load_model(run_dir / f"{checkpoint}.safetensors")
        extra["pose_model_is_shipped_pgformer"] = _same_weights(combined.pose_model, load_model(shipped_pg)[0])
    return ship_one("diffpyramid", run_dir, checkpoint, out_dir, hardware, pose_stage, extra)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="weights/ship.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--pgformer-run", default="runs/openmocap_pgformer", help="PGFormer training run folder")
    p.add_argument("--diffpyramid-run", default="runs/openmocap_diffpyramid", help="DiffPyramid denoiser run folder")
    p.add_argument("--checkpoint", choices=["best", "last"], default="best",
                   help="which checkpoint of each run (best = lowest validation MPJPE)")
    p.add_argument("--out", default=str(REPO / "weights"), help="folder of the shipped weights")
    p.add_argument("--hardware", help="the training hardware in words (default: this machine's CPU/GPU)")
    p.add_argument("--only", choices=sorted(SHIPPED_ARCH), help="ship only this model")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    hardware = args.hardware or detect_hardware()
    out = Path(args.out)
    try:
        if args.only in (None, "pgformer"):
            meta = ship_one("pgformer", Path(args.pgformer_run), args.checkpoint, out, hardware)
            print(f"pgformer: epoch {meta['epoch']}, {meta['bytes'] / 1e6:.1f} MB, sha256 {meta['sha256'][:16]}...")
        if args.only in (None, "diffpyramid"):
            meta = ship_diffpyramid(Path(args.diffpyramid_run), args.checkpoint, out, hardware)
            print(f"diffpyramid: epoch {meta['epoch']}, {meta['bytes'] / 1e6:.1f} MB, sha256 {meta['sha256'][:16]}..., "
                  f"pose model = shipped pgformer: {meta.get('pose_model_is_shipped_pgformer')}")
        return 0
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
