"""Where shipped weights and figures come from: file hashes, the machine, and training-run summaries.

Shared by weights/ship.py (which records them in the shipped weights' JSON), bench/evaluate_shipped.py
(eval.json) and weights/make_model_card.py (which turns them into the model card).

A training run folder (lifter.training) holds config.json (the run's settings and the command that
started it) and metrics.csv (one row per finished epoch); ``stage_summary`` condenses them.
The learning-rate schedule (lifter.training.lr_factor), the data order and the augmentation of
an epoch are fixed by (seed, epoch) and never by the planned number of epochs, so a run stopped
after N epochs, or continued with --resume to N epochs, equals a run started with ``--epochs N``:
``reproduce_command`` writes that command.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shlex
from pathlib import Path

from lifter.train_logs import read_metrics


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def detect_hardware() -> str:
    """A one-line description of this machine's CPU (and GPU when torch sees one)."""
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    text = f"CPU: {cpu}, {os.cpu_count()} cores; torch {torch.__version__}"
    if torch.cuda.is_available():
        text += f"; GPU: {torch.cuda.get_device_name(0)}"
    return text


def stage_summary(run_dir: Path) -> dict:
    """One training run condensed: {"stage", "run", "preset", "command" (as config.json records it,
    with "python " in front), "resume_command", "epochs_planned" (config.json), "epochs_done"
    (metrics.csv), "seed", "batch_size", "world_size", "train_seconds" (sum of the epochs' training
    time, without validation), "mean_samples_per_s", "final_val_mpjpe_mm", "pose_model", "init"
    (the weights the run started from, {"path", "sha256"}, or None)}."""
    run_dir = Path(run_dir)
    cfg_path = run_dir / "config.json"
    if not cfg_path.is_file():
        raise FileNotFoundError(f"not a training run (no config.json): {run_dir}")
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    rows = read_metrics(run_dir / "metrics.csv")
    if not rows:
        raise ValueError(f"{run_dir}: no finished epoch in metrics.csv")
    seconds = sum(r["epoch_seconds"] for r in rows)
    return {"stage": cfg.get("stage"), "run": str(run_dir), "preset": cfg.get("preset"),
            "command": f"python {cfg['command']}" if cfg.get("command") else None,
            "resume_command": f"python lifter/train.py --resume {run_dir} --epochs {cfg.get('epochs')}",
            "epochs_planned": cfg.get("epochs"), "epochs_done": int(rows[-1]["epoch"]), "seed": cfg.get("seed"),
            "batch_size": cfg.get("batch_size"), "world_size": cfg.get("world_size", 1),
            "train_seconds": round(seconds, 1),
            "mean_samples_per_s": round(sum(r["samples_per_s"] for r in rows) / len(rows), 1),
            "final_val_mpjpe_mm": round(rows[-1]["val_mpjpe_mm"], 2),
            "pose_model": cfg.get("pose_model"), "init": cfg.get("init")}


_EPOCHS = re.compile(r"(--epochs[ =])(\d+)")


def reproduce_command(command: str, epochs: int) -> str:
    """``command`` (a lifter/train.py command line) with its --epochs set to ``epochs`` (added when absent)."""
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if _EPOCHS.search(command):
        return _EPOCHS.sub(lambda m: f"{m.group(1)}{epochs}", command, count=1)
    parts = shlex.split(command)
    return shlex.join(parts + ["--epochs", str(epochs)])


def epochs_note(stage: dict) -> str:
    """How the run's recorded command relates to the epochs it finished, in words ('' when they agree)."""
    planned, done = stage.get("epochs_planned"), stage["epochs_done"]
    if planned is None or planned == done:
        return ""
    how = "stopped early" if done < planned else "continued with --resume"
    return f"config.json records --epochs {planned}, metrics.csv {done} finished epochs: the run was {how}"
