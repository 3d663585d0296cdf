"""DiffPyramid: PGFormer pose model + DDIM refinement by a PGFormer denoiser (DiffPose scheme).

Stage 1, the pose model, maps normalised 2D (B, 17, 2) to an initial 3D (B, 17, 3) in metres.
Stage 2 works on the (B, 17, 5) vector [u, v, x, y, z] (normalised 2D + root-relative 3D): the
denoiser, given x_t and the timestep t, predicts the noise, and DDIM steps walk x_t back to x_0.

Diffusion schedule: linear betas 1e-4 -> 1e-3 over 51 steps, alpha_bar(t) = prod_{s<=t} (1 - beta_s),
alpha_bar(-1) = 1.

Inference (``DiffPyramid.infer``):
- ``steps`` denoiser calls over the first ``span`` timesteps: t in range(0, span, span // steps),
  walked from the largest to 0 (the release uses 1 call over 12 or 2 calls over 24).
- hypotheses = 1 (the release's mode, deterministic): x_t starts AT the pose model's estimate,
  eta = 0.
- hypotheses = K > 1: K starts drawn around the estimate at the noise level of the first timestep
  (x_t = sqrt(a) x_0 + sqrt(1 - a) eps, unit noise on xyz, ``uv_noise`` times it on uv), refined
  with the same DDIM steps, then aggregated: "mean" of the hypotheses, or "reproj": per joint the
  hypothesis whose x, y best matches the input 2D under a weak-perspective fit (one scale per
  hypothesis, root-relative). The per-joint spread (RMS distance of the hypotheses to their mean,
  metres) is returned as an uncertainty.
"""

from __future__ import annotations

import torch
from torch import nn

from lifter.models.pgformer import PGFormer

AGGREGATES = ("mean", "reproj")


class DiffusionSchedule(nn.Module):
    """Linear beta schedule; buffers betas (T,) and alpha_bar_padded (T + 1,) = [1, alpha_bar(0..T-1)]."""

    def __init__(self, beta_start: float = 1e-4, beta_end: float = 1e-3, num_steps: int = 51):
        super().__init__()
        betas = torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)
        alpha_bar = torch.cumprod(1.0 - betas, 0)
        self.num_steps = num_steps
        self.register_buffer("betas", betas.float(), persistent=False)
        self.register_buffer("alpha_bar_padded", torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar]).float(),
                             persistent=False)

    def alpha_bar(self, t: torch.Tensor) -> torch.Tensor:
        """t: integer tensor of timesteps in [-1, T-1] -> alpha_bar(t), same shape (t = -1 gives 1)."""
        return self.alpha_bar_padded[t.long() + 1]

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Forward diffusion: x0 (B, ...), t (B,), noise like x0 -> x_t = sqrt(a) x0 + sqrt(1 - a) noise."""
        a = self.alpha_bar(t).view(-1, *([1] * (x0.dim() - 1)))
        return a.sqrt() * x0 + (1.0 - a).sqrt() * noise

    def ddim_timesteps(self, steps: int, span: int) -> list[int]:
        """The sub-sequence range(0, span, span // steps) of timesteps, ascending."""
        if not 1 <= steps <= span <= self.num_steps:
            raise ValueError(f"need 1 <= steps ({steps}) <= span ({span}) <= {self.num_steps}")
        return list(range(0, span, span // steps))[:steps]


class DiffPyramid(nn.Module):
    """Two-stage lifter. forward(x (B, 17, 2) normalised) -> (B, 17, 3) metres, root-relative.

    The inference settings (steps, span, hypotheses, aggregate, eta, uv_noise) are attributes used by
    forward; ``infer`` takes them as arguments and also returns the per-joint spread.
    """

    def __init__(self, pose_model: PGFormer, denoiser: PGFormer, beta_start: float = 1e-4, beta_end: float = 1e-3,
                 num_steps: int = 51, steps: int = 2, span: int = 24, hypotheses: int = 1, aggregate: str = "mean",
                 eta: float = 0.0, uv_noise: float = 0.0):
        super().__init__()
        if denoiser.in_dim != 5 or denoiser.out_dim != 5 or denoiser.time_embedding != "additive":
            raise ValueError("the denoiser must be a PGFormer with in/out dim 5 and time_embedding='additive'")
        if pose_model.in_dim != 2 or pose_model.out_dim != 3:
            raise ValueError("the pose model must map 2 -> 3 channels")
        self.num_joints = pose_model.num_joints
        self.pose_model = pose_model
        self.denoiser = denoiser
        self.schedule = DiffusionSchedule(beta_start, beta_end, num_steps)
        self.steps, self.span, self.hypotheses = steps, span, hypotheses
        self.aggregate, self.eta, self.uv_noise = aggregate, eta, uv_noise

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.infer(x)[0]

    def infer(self, x: torch.Tensor, steps: int | None = None, span: int | None = None,
              hypotheses: int | None = None, aggregate: str | None = None, eta: float | None = None,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, J, 2) normalised 2D -> (pose (B, J, 3) metres root-relative, spread (B, J) metres).

        Arguments left None take the attribute of the same name. spread is 0 for one hypothesis.
        """
        steps = self.steps if steps is None else steps
        span = self.span if span is None else span
        k = self.hypotheses if hypotheses is None else hypotheses
        aggregate = self.aggregate if aggregate is None else aggregate
        eta = self.eta if eta is None else eta
        if aggregate not in AGGREGATES:
            raise ValueError(f"unknown aggregate {aggregate!r} (expected one of {AGGREGATES})")
        if k < 1:
            raise ValueError(f"hypotheses must be >= 1, got {k}")
        seq = self.schedule.ddim_timesteps(steps, span)
        b, j, _ = x.shape
        xyz = self.pose_model(x)
        xt = torch.cat([x, xyz - xyz[:, :1]], dim=-1)  # (B, J, 5)
        if k > 1:
            xt = xt.repeat(k, 1, 1)
            noise = torch.randn(xt.shape, generator=generator, device=x.device, dtype=x.dtype)
            noise[..., :2] *= self.uv_noise
            t0 = torch.full((b * k,), seq[-1], device=x.device)
            xt = self.schedule.q_sample(xt, t0, noise)
        xt = self._ddim(xt, seq, eta, generator)
        hyps = xt[..., 2:].reshape(k, b, j, 3)
        hyps = hyps - hyps[:, :, :1]
        mean = hyps.mean(0)
        spread = (hyps - mean).square().sum(-1).mean(0).sqrt()
        if k == 1 or aggregate == "mean":
            return mean, spread
        return _closest_to_2d(hyps, x), spread

    def _ddim(self, xt: torch.Tensor, seq: list[int], eta: float, generator: torch.Generator | None) -> torch.Tensor:
        """DDIM from timestep seq[-1] down to x_0. xt: (N, J, 5)."""
        n = xt.shape[0]
        nexts = [-1] + seq[:-1]
        for t, t_next in zip(reversed(seq), reversed(nexts)):
            tt = torch.full((n,), t, device=xt.device, dtype=torch.long)
            a = self.schedule.alpha_bar(tt[:1])
            a_next = self.schedule.alpha_bar(torch.full_like(tt[:1], t_next))
            eps = self.denoiser(xt, tt)
            x0 = (xt - eps * (1 - a).sqrt()) / a.sqrt()
            c1 = eta * ((1 - a / a_next) * (1 - a_next) / (1 - a)).sqrt()
            c2 = ((1 - a_next) - c1 ** 2).sqrt()
            xt = a_next.sqrt() * x0 + c2 * eps
            if eta > 0:
                xt = xt + c1 * torch.randn(xt.shape, generator=generator, device=xt.device, dtype=xt.dtype)
        return xt


def _closest_to_2d(hyps: torch.Tensor, x2d: torch.Tensor) -> torch.Tensor:
    """Per joint, the hypothesis whose weak-perspective projection is closest to the input 2D.

    hyps: (K, B, J, 3) root-relative metres; x2d: (B, J, 2) normalised. Each hypothesis gets the
    least-squares scale s_k mapping its root-relative (x, y) onto the root-relative 2D.
    """
    uv = (x2d - x2d[:, :1]).unsqueeze(0)  # (1, B, J, 2)
    xy = hyps[..., :2]
    scale = (xy * uv).sum((-1, -2), keepdim=True) / xy.square().sum((-1, -2), keepdim=True).clamp_min(1e-12)
    err = (scale * xy - uv).norm(dim=-1)  # (K, B, J)
    best = err.argmin(0)  # (B, J)
    return torch.gather(hyps, 0, best[None, ..., None].expand(1, *best.shape, 3))[0]
