"""Evaluation of a lifter on an evaluation set: MPJPE, P-MPJPE, N-MPJPE overall and per group
(action or motion category), with and without flip averaging; table as text/Markdown, JSON.

Result layout (what ``eval.json`` holds)::

    {"set": name, "frames": N, "average": "groups" | "frames", "flip": bool (the headline variant),
     "mpjpe": mm, "p_mpjpe": mm, "n_mpjpe": mm, "per_group": {name: {"frames", "mpjpe", "p_mpjpe",
     "n_mpjpe"}}, "variants": {"plain": {same figures}, "flip": {same figures}}}

With average 'groups' (Human3.6M protocol) the overall figure is the mean of the per-group means;
with 'frames' it is the mean over all frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lifter.atomic import atomic_path, write_json
from lifter.data import EvalSet
from lifter.metrics import mpjpe, n_mpjpe, p_mpjpe

from lifter.flip import FlipAverage


@torch.no_grad()
def predict(model: torch.nn.Module, inputs: np.ndarray, flip: bool = False, batch_size: int = 4096,
            device: str | torch.device = "cpu", progress: bool = False) -> np.ndarray:
    """Lift normalised 2D (N, J, 2) -> 3D (N, J, 3) metres with ``model`` in eval mode."""
    was_training = model.training
    model.eval()
    net = FlipAverage(model, inputs.shape[-2]).to(device) if flip else model
    out = []
    for start in tqdm(range(0, len(inputs), batch_size), desc="evaluate", disable=not progress, leave=False):
        x = torch.from_numpy(np.ascontiguousarray(inputs[start:start + batch_size], np.float32)).to(device)
        out.append(net(x).float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0,) + inputs.shape[1:-1] + (3,), np.float32)


def summarize(pred: np.ndarray, evalset: EvalSet) -> dict:
    """Errors in mm of predictions (N, J, 3) metres against the set's targets."""
    errors = {"mpjpe": mpjpe(pred, evalset.targets) * 1000, "p_mpjpe": p_mpjpe(pred, evalset.targets) * 1000,
              "n_mpjpe": n_mpjpe(pred, evalset.targets) * 1000}
    per_group = {}
    for k, name in enumerate(evalset.group_names):
        rows = evalset.groups == k
        if rows.any():
            per_group[name] = {"frames": int(rows.sum()), **{m: float(e[rows].mean()) for m, e in errors.items()}}
    if evalset.average == "groups":
        overall = {m: float(np.mean([g[m] for g in per_group.values()])) for m in errors}
    else:
        overall = {m: float(e.mean()) for m, e in errors.items()}
    return {**overall, "per_group": per_group}


def evaluate(model: torch.nn.Module, evalset: EvalSet, flip: bool, batch_size: int = 4096,
             device: str | torch.device = "cpu", progress: bool = True) -> dict:
    """Both variants (plain and flip-averaged); the headline figures are those of ``flip``."""
    variants = {}
    for name, use_flip in (("plain", False), ("flip", True)):
        pred = predict(model, evalset.inputs, use_flip, batch_size, device, progress)
        variants[name] = summarize(pred, evalset)
    head = variants["flip" if flip else "plain"]
    return {"set": evalset.name, "frames": len(evalset), "average": evalset.average, "flip": flip, **head,
            "variants": variants}


def markdown_table(result: dict) -> str:
    """Per-group table (frames, MPJPE / P-MPJPE in mm, plain and flip-averaged) in Markdown."""
    v = result["variants"]
    lines = [f"Evaluation on {result['set']} ({result['frames']} frames; overall = mean over "
             f"{'groups' if result['average'] == 'groups' else 'frames'}; errors in mm)", "",
             "| group | frames | MPJPE | P-MPJPE | MPJPE flip | P-MPJPE flip |", "|---|---:|---:|---:|---:|---:|"]
    for name, g in v["plain"]["per_group"].items():
        f = v["flip"]["per_group"][name]
        lines.append(f"| {name} | {g['frames']} | {g['mpjpe']:.1f} | {g['p_mpjpe']:.1f} | {f['mpjpe']:.1f} | {f['p_mpjpe']:.1f} |")
    p, f = v["plain"], v["flip"]
    lines.append(f"| **all** | {result['frames']} | {p['mpjpe']:.1f} | {p['p_mpjpe']:.1f} | {f['mpjpe']:.1f} | {f['p_mpjpe']:.1f} |")
    lines += ["", f"N-MPJPE: {p['n_mpjpe']:.1f} mm (plain), {f['n_mpjpe']:.1f} mm (flip)."]
    return "\n".join(lines) + "\n"


def write_report(out_dir: str | Path, result: dict, extra: dict | None = None) -> None:
    """Write eval.json (the result plus ``extra``) and eval.md atomically into ``out_dir``."""
    out_dir = Path(out_dir)
    write_json(out_dir / "eval.json", {**result, **(extra or {})})
    with atomic_path(out_dir / "eval.md") as tmp:
        tmp.write_text(markdown_table(result), encoding="utf-8")
