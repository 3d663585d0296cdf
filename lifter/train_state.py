"""Exact training state for --resume: model, EMA, optimizer, scheduler, RNG states, counters.

One file ``train_state.safetensors``: every tensor under a prefixed name ('model.', 'ema.',
'optim.<param id>.<key>', 'rng.torch.<rank>', 'rng.cuda.<rank>.<device>') and the rest (optimizer
hyper-parameters, scheduler, epoch, step, best metric, ...) as JSON in the file's metadata, so the
state is always self-consistent; written atomically. A readable copy of the JSON part is written
beside it as ``train_state.json`` (informative only; loading reads the safetensors file).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from lifter.atomic import atomic_path, write_json

STATE_NAME = "train_state.safetensors"


class EMA:
    """Exponential moving average of a model's trained parameters (those with requires_grad);
    frozen parameters and buffers are copied as they are."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        trained = {k for k, p in model.named_parameters() if p.requires_grad}
        for k, v in model.state_dict().items():
            if k in trained:
                self.shadow[k].mul_(self.decay).add_(v.detach(), alpha=1 - self.decay)
            else:
                self.shadow[k].copy_(v)

    def copy_to(self, model: torch.nn.Module) -> None:
        model.load_state_dict(self.shadow)


def _split_optimizer(state: dict) -> tuple[dict, dict]:
    tensors, plain = {}, {"param_groups": state["param_groups"], "state": {}}
    for pid, entries in state["state"].items():
        plain["state"][str(pid)] = {}
        for key, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"optim.{pid}.{key}"] = value.detach().cpu().contiguous().clone()
                plain["state"][str(pid)][key] = {"tensor": f"optim.{pid}.{key}"}
            else:
                plain["state"][str(pid)][key] = value
    return tensors, plain


def save_train_state(out_dir: str | Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                     scheduler, counters: dict, rng_states: list[dict], ema: EMA | None = None) -> Path:
    """Write the state. ``counters``: JSON-able (epoch, step, best, ...); ``rng_states``: one dict per
    process rank {'torch': ByteTensor, 'cuda': [ByteTensor, ...]}."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    if ema is not None:
        tensors.update({f"ema.{k}": v.detach().cpu().contiguous().clone() for k, v in ema.shadow.items()})
    opt_tensors, opt_plain = _split_optimizer(optimizer.state_dict())
    tensors.update(opt_tensors)
    for rank, rs in enumerate(rng_states):
        tensors[f"rng.torch.{rank}"] = rs["torch"].clone()
        for d, s in enumerate(rs.get("cuda", [])):
            tensors[f"rng.cuda.{rank}.{d}"] = s.clone()
    meta = {"counters": counters, "optimizer": opt_plain, "scheduler": scheduler.state_dict(),
            "ranks": len(rng_states), "ema_decay": ema.decay if ema else None}
    text = json.dumps(meta)
    path = Path(out_dir) / STATE_NAME
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"train_state": text})
    write_json(path.with_suffix(".json"), meta)
    return path


def load_train_state(out_dir: str | Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                     scheduler, rank: int, ema: EMA | None = None) -> dict:
    """Restore everything saved by :func:`save_train_state` into the given objects (and this
    process's RNG); returns the counters."""
    path = Path(out_dir) / STATE_NAME
    if not path.exists():
        raise FileNotFoundError(f"no training state to resume from: {path}")
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["train_state"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    if ema is not None:
        ema.shadow = {k[4:]: v.to(next(iter(ema.shadow.values())).device) for k, v in tensors.items()
                      if k.startswith("ema.")}
    opt = meta["optimizer"]
    state = {int(pid): {key: tensors[v["tensor"]] if isinstance(v, dict) and "tensor" in v else v
                        for key, v in entries.items()} for pid, entries in opt["state"].items()}
    optimizer.load_state_dict({"state": state, "param_groups": opt["param_groups"]})
    scheduler.load_state_dict(meta["scheduler"])
    if f"rng.torch.{rank}" in tensors and meta["ranks"] > rank:
        torch.set_rng_state(tensors[f"rng.torch.{rank}"])
        prefix = f"rng.cuda.{rank}."
        cuda = [tensors[k] for k in sorted((t for t in tensors if t.startswith(prefix)), key=lambda t: int(t[len(prefix):]))]
        if cuda and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(cuda)
    return meta["counters"]


def rng_state() -> dict:
    """This process's torch RNG states."""
    out = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out
