"""Lifter models and their named configurations.

A configuration is a dict of plain JSON values with an "arch" key:

- "pgformer": keyword arguments of lifter.models.pgformer.PGFormer (num_joints, dim, layers,
  heads, in_dim, out_dim, adjacency, dropout, attn_dropout, proj_dropout, cheb_dropout, level2,
  time_embedding).
- "diffpyramid": {"pose": <pgformer config>, "denoiser": <pgformer config>,
  "diffusion": {beta_start, beta_end, num_steps}, "inference": {steps, span, hypotheses,
  aggregate, eta, uv_noise}} (see lifter.models.diffpyramid).
- "mlp": keyword arguments of lifter.models.mlp.SimpleBaseline (num_joints, width, num_blocks,
  dropout).

``build_model`` ignores keys it does not know (training settings such as "lr" may live in the
same dict). Every built lifter maps (B, J, 2) normalised 2D to (B, J, 3) metres; the exception is
"diffpyramid_denoiser", a trunk mapping ((B, 17, 5), t (B,)) to the predicted noise (B, 17, 5).
"""

from __future__ import annotations

import copy
import inspect

from torch import nn

from lifter.models.diffpyramid import DiffPyramid
from lifter.models.mlp import SimpleBaseline
from lifter.models.pgformer import PGFormer

_GT_DROPOUT = {"dropout": 0.25, "attn_dropout": 0.05, "proj_dropout": 0.05, "cheb_dropout": 0.1}

CONFIGS: dict[str, dict] = {
    "gt16": {"arch": "pgformer", "num_joints": 16, "dim": 96, "layers": 5, "heads": 4, "in_dim": 2, "out_dim": 3,
             "adjacency": "gt16", **_GT_DROPOUT, "level2": "release", "time_embedding": "none"},
    "cpn17": {"arch": "pgformer", "num_joints": 17, "dim": 256, "layers": 4, "heads": 8, "in_dim": 2, "out_dim": 3,
              "adjacency": "cpn17", "dropout": 0.25, "attn_dropout": 0.1, "proj_dropout": 0.1, "cheb_dropout": 0.1,
              "level2": "release", "time_embedding": "none"},
    "diffpyramid_pose": {"arch": "pgformer", "num_joints": 17, "dim": 96, "layers": 5, "heads": 4, "in_dim": 2,
                         "out_dim": 3, "adjacency": "diffpyramid", **_GT_DROPOUT, "level2": "release",
                         "time_embedding": "unused"},
    "diffpyramid_denoiser": {"arch": "pgformer", "num_joints": 17, "dim": 96, "layers": 5, "heads": 4, "in_dim": 5,
                             "out_dim": 5, "adjacency": "diffpyramid", "dropout": 0.25, "attn_dropout": 0.1,
                             "proj_dropout": 0.15, "cheb_dropout": 0.1, "level2": "release",
                             "time_embedding": "additive"},
    "mlp": {"arch": "mlp", "num_joints": 17, "width": 1024, "num_blocks": 2, "dropout": 0.5},
}
CONFIGS["diffpyramid"] = {
    "arch": "diffpyramid",
    "pose": CONFIGS["diffpyramid_pose"],
    "denoiser": CONFIGS["diffpyramid_denoiser"],
    "diffusion": {"beta_start": 1e-4, "beta_end": 1e-3, "num_steps": 51},
    "inference": {"steps": 2, "span": 24, "hypotheses": 1, "aggregate": "mean", "eta": 0.0, "uv_noise": 0.0},
}

ARCHS = ("pgformer", "diffpyramid", "mlp")


def get_config(name: str) -> dict:
    """A deep copy of the named configuration (ValueError naming the known ones otherwise)."""
    if name not in CONFIGS:
        raise ValueError(f"unknown model configuration {name!r} (known: {', '.join(sorted(CONFIGS))})")
    return copy.deepcopy(CONFIGS[name])


def _kwargs(cls: type, cfg: dict) -> dict:
    names = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in cfg.items() if k in names and k != "self"}


def build_model(cfg: dict) -> nn.Module:
    """Build a freshly initialised model from a configuration dict (see the module docstring)."""
    arch = cfg.get("arch")
    if arch == "pgformer":
        return PGFormer(**_kwargs(PGFormer, cfg))
    if arch == "mlp":
        return SimpleBaseline(**_kwargs(SimpleBaseline, cfg))
    if arch == "diffpyramid":
        pose, denoiser = build_model(cfg["pose"]), build_model(cfg["denoiser"])
        settings = {**cfg.get("diffusion", {}), **cfg.get("inference", {})}
        return DiffPyramid(pose, denoiser, **_kwargs(DiffPyramid, settings))
    raise ValueError(f"unknown model arch {arch!r} (expected one of {ARCHS})")


def num_joints_of(cfg: dict) -> int:
    """Number of joints a configuration's lifter takes."""
    return cfg["pose"]["num_joints"] if cfg.get("arch") == "diffpyramid" else cfg["num_joints"]
