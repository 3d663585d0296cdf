"""The training loop (single process or torchrun/DDP), used by lifter/train.py.

``run_training(cfg, out_dir, resume)`` trains the model named by ``cfg['model']`` on the data of
``cfg['data']`` and writes into out_dir: config.json, metrics.csv, curves.png, last/best
.safetensors (+ .json, through lifter.checkpoint), train_state.safetensors (exact resume) and,
after the last epoch, eval.json / eval.md (best weights on the test split).

Determinism: the model is initialised from ``seed``; each process seeds torch with seed + rank;
batches are regenerated from (seed, epoch, rank, batch index) (lifter.data.EpochBatches); the
state saved after each epoch holds everything else (optimizer, scheduler, EMA, RNG states), so
``--resume`` continues exactly. Only rank 0 writes files.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as torch_dist
from torch.utils.data import DataLoader
from tqdm import tqdm

from lifter.atomic import write_json
from lifter.data import EpochBatches, open_source, steps_per_epoch
from lifter.evaluate import evaluate, predict, summarize, write_report
from lifter.metrics import LOSSES
from lifter.train_logs import plot_curves, read_metrics, write_metrics
from lifter.train_state import EMA, load_train_state, rng_state, save_train_state

from lifter.checkpoint import load_model, save_model
from lifter.models import CONFIGS, build_model, num_joints_of


@dataclass(frozen=True)
class DistInfo:
    """Process layout: rank, world size, local rank; ``enabled`` under torchrun with >1 process."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str) -> tuple[DistInfo, torch.device]:
    """Join the torchrun process group when WORLD_SIZE > 1 (NCCL on CUDA, gloo on CPU) and pick
    the device: 'auto' = CUDA when available, else CPU; under torchrun cuda:LOCAL_RANK."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    info = DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))
    use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but CUDA is not available")
    if use_cuda:
        dev = torch.device(f"cuda:{info.local_rank}" if info.enabled else device if ":" in device else "cuda")
        torch.cuda.set_device(dev)
    else:
        dev = torch.device("cpu" if device == "auto" else device)
    if info.enabled and not torch_dist.is_initialized():
        torch_dist.init_process_group("nccl" if use_cuda else "gloo")
        if not use_cuda:  # share the cores between the local processes
            local = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // local))
    return info, dev


def lr_factor(schedule: dict, step: int, steps_per_epoch_: int) -> float:
    """Learning-rate factor at optimisation step ``step`` (0-based).

    kind 'constant'; 'step': gamma ** (step // every_steps); 'epoch': after each finished epoch e
    (1-based) the rate is multiplied by at_every when ``every`` > 0 and e % every == 0, else by
    gamma. Optional warmup_steps: linear warm-up from 1/warmup_steps.
    """
    kind = schedule.get("kind", "constant")
    f = 1.0
    warm = schedule.get("warmup_steps", 0)
    if warm and step < warm:
        f *= (step + 1) / warm
    if kind == "step":
        f *= schedule["gamma"] ** (step // schedule["every_steps"])
    elif kind == "epoch":
        done = step // max(1, steps_per_epoch_)
        special = done // schedule["every"] if schedule.get("every") else 0
        f *= schedule["at_every"] ** special * schedule["gamma"] ** (done - special)
    elif kind != "constant":
        raise ValueError(f"unknown schedule kind {kind!r}")
    return f


def make_optimizer(spec: dict, params) -> torch.optim.Optimizer:
    name = spec.get("name", "adam")
    kwargs = {"lr": spec["lr"], "weight_decay": spec.get("weight_decay", 0.0), "amsgrad": spec.get("amsgrad", False)}
    if name == "adam":
        return torch.optim.Adam(params, **kwargs)
    if name == "adamw":
        return torch.optim.AdamW(params, **kwargs)
    raise ValueError(f"unknown optimizer {name!r} (adam, adamw)")


def model_config(cfg: dict) -> dict:
    """The model's configuration: lifter.models.CONFIGS[cfg['model']] updated with
    cfg['model_overrides']; for the denoiser stage the pose model's part is the configuration
    stored beside the --pose-model checkpoint."""
    if cfg["model"] not in CONFIGS:
        raise ValueError(f"unknown model {cfg['model']!r}; choose one of: {', '.join(CONFIGS)}")
    mcfg = {**copy.deepcopy(CONFIGS[cfg["model"]]), **cfg.get("model_overrides", {})}
    if cfg["stage"] == "denoiser":
        from lifter.denoiser_training import pose_model_config

        mcfg["pose"] = pose_model_config(cfg["pose_model"])
    return mcfg


class LiftStage:
    """2D -> 3D training: loss(model(x), y). Layers a configuration keeps unused (the timestep
    embedding of DiffPyramid's pose model) are frozen so that every trained weight gets a gradient."""

    def __init__(self, cfg: dict, model: torch.nn.Module, source):
        self.loss = LOSSES[cfg["loss"]]
        self.model = model
        if getattr(model, "time_embedding", None) == "unused":
            model.temb.requires_grad_(False)

    def trainable(self) -> list[torch.nn.Parameter]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def wrapped(self) -> torch.nn.Module:
        """The module that DistributedDataParallel wraps."""
        return self.model

    def train_mode(self) -> None:
        self.model.train()

    def loss_of(self, net, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.loss(net(x), y)


def _stage(cfg: dict, model: torch.nn.Module, source):
    if cfg["stage"] == "lift":
        return LiftStage(cfg, model, source)
    if cfg["stage"] == "denoiser":
        from lifter.denoiser_training import DenoiserStage

        return DenoiserStage(cfg, model, source)
    raise ValueError(f"unknown stage {cfg['stage']!r}")


def init_weights(model: torch.nn.Module, path: str | Path, mcfg: dict) -> None:
    """Start ``model`` from the weights in ``path`` (a project .safetensors with its .json; the
    model configurations must be equal)."""
    other, ocfg, _ = load_model(Path(path), torch.device("cpu"))
    if ocfg != mcfg:
        raise ValueError(f"--init {path}: its model configuration differs from the preset's")
    model.load_state_dict(other.state_dict())


def _gather_rng(dist: DistInfo) -> list[dict]:
    mine = rng_state()
    if not dist.enabled:
        return [mine]
    out = [None] * dist.world_size
    torch_dist.all_gather_object(out, mine)
    return out


def run_training(cfg: dict, out_dir: str | Path, resume: bool, device: str = "auto") -> dict | None:
    """Train (or continue with resume=True) as described in the module docstring.

    cfg: a preset (lifter.presets) with the run's values: also seed, data paths (data_3d, data_2d),
    val_frames, workers, eval_batch_size. Returns the final evaluation on rank 0, None elsewhere.
    """
    out_dir = Path(out_dir)
    dist, dev = setup_distributed(device)
    mcfg = cfg["model_config"] if resume else model_config(cfg)
    source = open_source(cfg["data"], num_joints_of(mcfg), cfg.get("data_3d"), cfg.get("data_2d"), cfg.get("noise", "detector"),
                         cfg.get("scene"))
    if cfg["stage"] == "denoiser" and not resume:
        from lifter.denoiser_training import set_uv_noise

        mcfg = set_uv_noise(mcfg, source)
    spe = steps_per_epoch(source.train_size(), cfg["batch_size"], dist.world_size)
    if resume:
        if cfg.get("steps_per_epoch") != spe:
            raise ValueError(f"cannot resume: {spe} steps per epoch now, {cfg.get('steps_per_epoch')} in the run "
                             "(different data, batch size or number of processes)")
    else:
        cfg = {**cfg, "steps_per_epoch": spe, "world_size": dist.world_size, "model_config": mcfg}
        if dist.main:
            write_json(out_dir / "config.json", cfg)
    torch.manual_seed(cfg["seed"])
    model = build_model(mcfg)
    stage = _stage(cfg, model, source)
    model.to(dev)
    params = stage.trainable()
    optimizer = make_optimizer(cfg["optimizer"], params)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(cfg["schedule"], s, spe))
    ema = EMA(model, cfg["ema"]) if cfg.get("ema") else None
    counters = {"epoch": 0, "step": 0, "best_val_mpjpe_mm": math.inf, "best_epoch": 0}
    if resume:
        counters = load_train_state(out_dir, model=model, optimizer=optimizer, scheduler=scheduler, rank=dist.rank, ema=ema)
    else:
        if cfg.get("init"):
            init_weights(model, cfg["init"]["path"], mcfg)
        torch.manual_seed(cfg["seed"] + dist.rank)
    net = torch.nn.parallel.DistributedDataParallel(stage.wrapped(), device_ids=[dev.index] if dev.type == "cuda" else None) \
        if dist.enabled else stage.wrapped()
    fingerprint = source.fingerprint()
    val = source.eval_set("val").subsample(cfg.get("val_frames")) if dist.main else None
    rows = read_metrics(out_dir / "metrics.csv")[: counters["epoch"]] if dist.main else []
    for epoch in range(counters["epoch"] + 1, cfg["epochs"] + 1):
        batches = EpochBatches(source, epoch, cfg["batch_size"], cfg["seed"], dist.rank, dist.world_size, cfg["flip_train"])
        loader = DataLoader(batches, batch_size=None, num_workers=cfg.get("workers", 0))
        stage.train_mode()
        t0, total, count = time.perf_counter(), torch.zeros((), dtype=torch.float64), 0
        bar = tqdm(loader, desc=f"epoch {epoch}/{cfg['epochs']}", disable=not dist.main, leave=False)
        for x, y in bar:
            x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
            loss = stage.loss_of(net, x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.get("clip_grad"):
                torch.nn.utils.clip_grad_norm_(params, cfg["clip_grad"])
            optimizer.step()
            scheduler.step()
            if ema is not None:
                ema.update(model)
            total += loss.detach().double().cpu() * len(x)
            count += len(x)
            counters["step"] += 1
        seconds = time.perf_counter() - t0
        stats = torch.tensor([total.item(), float(count)], dtype=torch.float64)
        if dist.enabled:
            torch_dist.all_reduce(stats)
        rngs = _gather_rng(dist)
        counters["epoch"] = epoch
        if dist.main:
            eval_model = _eval_model(model, ema)
            res = summarize(predict(eval_model, val.inputs, False, cfg.get("eval_batch_size", 4096), dev), val)
            row = {"epoch": epoch, "step": counters["step"], "lr": optimizer.param_groups[0]["lr"],
                   "train_loss": stats[0].item() / max(stats[1].item(), 1), "val_mpjpe_mm": res["mpjpe"],
                   "val_p_mpjpe_mm": res["p_mpjpe"], "epoch_seconds": seconds,
                   "samples_per_s": stats[1].item() / max(seconds, 1e-9)}
            rows.append(row)
            meta = {"epoch": epoch, "step": counters["step"], "preset": cfg.get("preset"),
                    "metrics": {"val_mpjpe_mm": res["mpjpe"], "val_p_mpjpe_mm": res["p_mpjpe"], "val_set": val.name},
                    "data_fingerprint": fingerprint}
            save_model(out_dir / "last.safetensors", eval_model, mcfg, meta)
            if res["mpjpe"] < counters["best_val_mpjpe_mm"]:
                counters.update(best_val_mpjpe_mm=res["mpjpe"], best_epoch=epoch)
                save_model(out_dir / "best.safetensors", eval_model, mcfg, meta)
            save_train_state(out_dir, model=model, optimizer=optimizer, scheduler=scheduler, counters=counters,
                             rng_states=rngs, ema=ema)
            write_metrics(out_dir / "metrics.csv", rows)
            plot_curves(out_dir / "curves.png", rows)
            tqdm.write(f"epoch {epoch}: loss {row['train_loss']:.5f}  val MPJPE {res['mpjpe']:.1f} mm  "
                       f"P-MPJPE {res['p_mpjpe']:.1f} mm  {row['samples_per_s']:.0f} samples/s", file=sys.stderr)
        if dist.enabled:
            torch_dist.barrier()
    result = None
    if dist.main:
        best, _, meta = load_model(out_dir / "best.safetensors", dev)
        result = evaluate(best, source.eval_set("test"), cfg["flip_test"], cfg.get("eval_batch_size", 4096), dev)
        write_report(out_dir, result, {"checkpoint": "best.safetensors", "epoch": meta.get("epoch"),
                                       "data_fingerprint": fingerprint})
    if dist.enabled:
        torch_dist.barrier()
        torch_dist.destroy_process_group()
    return result


def _eval_model(model: torch.nn.Module, ema: EMA | None) -> torch.nn.Module:
    """The weights to evaluate and save: the EMA copy when there is one."""
    if ema is None:
        return model
    copy_ = copy.deepcopy(model)
    ema.copy_to(copy_)
    return copy_
