"""Training logs: metrics.csv (one row per epoch) and curves.png, both rewritten atomically."""

from __future__ import annotations

import csv
from pathlib import Path

from lifter.atomic import atomic_path

COLUMNS = ("epoch", "step", "lr", "train_loss", "val_mpjpe_mm", "val_p_mpjpe_mm", "epoch_seconds", "samples_per_s")


def read_metrics(path: str | Path) -> list[dict]:
    """Rows of a metrics.csv as dicts of floats ([] when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def write_metrics(path: str | Path, rows: list[dict]) -> None:
    with atomic_path(path) as tmp:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS)
            w.writeheader()
            for row in rows:
                w.writerow({k: (int(row[k]) if k in ("epoch", "step") else f"{row[k]:.6g}") for k in COLUMNS})


def plot_curves(path: str | Path, rows: list[dict]) -> None:
    """Training loss and validation MPJPE / P-MPJPE against the epoch, one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(epochs, [r["train_loss"] for r in rows], marker="o")
    a.set(xlabel="epoch", ylabel="training loss", title="training loss")
    a.set_yscale("log")
    b.plot(epochs, [r["val_mpjpe_mm"] for r in rows], marker="o", label="MPJPE")
    b.plot(epochs, [r["val_p_mpjpe_mm"] for r in rows], marker="o", label="P-MPJPE")
    b.set(xlabel="epoch", ylabel="mm", title="validation error")
    b.legend()
    for ax in (a, b):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
