"""DiffPyramid stage 2: train the denoiser of a lifter.models.diffpyramid.DiffPyramid whose pose
model is a trained, frozen lifter (the --pose-model checkpoint).

Each step: x_0 = [u, v, x, y, z] per joint (the normalised 2D input and the root-relative 3D
target, (B, 17, 5)); a timestep t uniform over the schedule's steps; noise eps with unit std on
x, y, z and, on u, v, the per-joint std of the 2D input error of the data (the 2D uncertainty,
``source.uv_noise_std()``, at least ``MIN_UV_STD``); x_t = sqrt(a_t) x_0 + sqrt(1 - a_t) eps; the
denoiser predicts eps from (x_t, t); loss = 0.975 MSE + 0.025 L1.
The mean 2D std is also stored as the model's ``inference.uv_noise`` (the scale of uv noise when
several hypotheses are drawn). Validation and the saved checkpoints use the whole two-stage model.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch

from lifter.checkpoint import load_model

MSE_WEIGHT, L1_WEIGHT = 0.975, 0.025
#: floor of the uv noise std (normalised units) when the 2D is nearly exact (ground-truth 2D)
MIN_UV_STD = 1e-3


def pose_model_config(path: str | Path) -> dict:
    """The configuration stored beside a pose model checkpoint (.safetensors + .json)."""
    side = Path(path).with_suffix(".json")
    if not Path(path).is_file() or not side.is_file():
        raise FileNotFoundError(f"pose model checkpoint not found (need {Path(path).name} and {side.name}): {path}")
    cfg = json.loads(side.read_text(encoding="utf-8"))["config"]
    if cfg.get("arch") != "pgformer" or cfg.get("in_dim") != 2 or cfg.get("out_dim") != 3:
        raise ValueError(f"{path}: the pose model must be a 2D -> 3D PGFormer (arch {cfg.get('arch')!r})")
    return cfg


def set_uv_noise(mcfg: dict, source) -> dict:
    """A copy of the DiffPyramid configuration with inference.uv_noise = the data's mean 2D std."""
    out = copy.deepcopy(mcfg)
    out.setdefault("inference", {})["uv_noise"] = float(max(source.uv_noise_std().mean(), MIN_UV_STD))
    return out


class DenoiserStage:
    """Training stage for DiffPyramid's denoiser (see the module docstring)."""

    def __init__(self, cfg: dict, model: torch.nn.Module, source):
        pose, _, _ = load_model(cfg["pose_model"], "cpu")
        model.pose_model.load_state_dict(pose.state_dict())
        model.pose_model.requires_grad_(False)
        self.model = model
        self.uv_std = torch.from_numpy(source.uv_noise_std()).clamp_min(MIN_UV_STD)

    def trainable(self) -> list[torch.nn.Parameter]:
        return [p for p in self.model.denoiser.parameters() if p.requires_grad]

    def wrapped(self) -> torch.nn.Module:
        return self.model.denoiser

    def train_mode(self) -> None:
        self.model.train()
        self.model.pose_model.eval()

    def loss_of(self, denoiser, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x0 = torch.cat([x, y], dim=-1)
        schedule = self.model.schedule
        t = torch.randint(0, schedule.num_steps, (x.shape[0],), device=x.device)
        eps = torch.randn_like(x0)
        eps[..., :2] *= self.uv_std.to(x.device)[:, None]
        pred = denoiser(schedule.q_sample(x0, t, eps), t)
        return MSE_WEIGHT * torch.mean((pred - eps) ** 2) + L1_WEIGHT * torch.mean((pred - eps).abs())
