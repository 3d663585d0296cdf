"""PGFormer trunk (pyramid graph transformer), fast formulation with the release's parameter names.

One network, several configurations (see lifter.models.CONFIGS):

    h = ChebConv(in_dim -> D)(x)
    repeat L times:
        h = h + Dropout(PyramidAttention(LayerNorm(h)))      # atten_layers.i, sublayer.0
        h = h + Dropout(GraphFFN(LayerNorm(h)))              # atten_layers.i, sublayer.1
        h = h + [ChebConv -> ReLU -> Dropout] x 2 (h)        # gconv_layers.i
    y = ChebConv(D -> out_dim)(h)

Input (B, J, in_dim), output (B, J, out_dim); for a lifter in_dim = 2 (normalised 2D, see
lifter.skeleton) and out_dim = 3 (metres, camera frame, root-relative as trained).

Speed: inside the trunk the activations are kept joint-major, (J, B, C), so that every graph
operation (Chebyshev terms, part pooling, the GraphFFN adjacency) is ONE matrix product of a
constant (or per-forward) J-row matrix with a (J, B*C) view, instead of B small products. The
Chebyshev polynomials of the fixed Laplacian and the pyramid pooling are precomputed
(lifter.models.graph); the learned GraphFFN adjacencies of all layers are normalised together
once per forward; attention uses scaled_dot_product_attention; Linear weights are stored transposed
in memory (see store_linear_weights_transposed).

DiffPyramid's denoiser is this trunk with a sinusoidal timestep embedding ("temb") added inside
each residual Chebyshev block; its pose model carries the same embedding layers unused (as the
release does, so that the parameter names and counts match).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lifter.models import graph

TIME_EMBEDDING_MODES = ("none", "unused", "additive")


def _dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    return F.dropout(x, p, True) if training and p > 0 else x


class ChebConv(nn.Module):
    """Chebyshev graph convolution with three terms: ``sum_k T_k X W_k + b``.

    Parameters as in the release: weight (3, 1, in, out), bias (1, 1, out).
    Computed weight-first: Y_k = X W_k for the three k in one batched product, then the graph
    mixing ``[T0 | T1 | T2] @ [Y_0; Y_1; Y_2]`` as one product over the stacked (3 J) rows.
    """

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        self.weight = nn.Parameter(torch.empty(3, 1, in_dim, out_dim))
        self.bias = nn.Parameter(torch.zeros(1, 1, out_dim))
        nn.init.xavier_normal_(self.weight)

    def forward(self, h: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
        """h: (J, B, in) joint-major; mix: (J, 3J) = [T0 | T1 | T2]. Returns (J, B, out)."""
        j, b, c = h.shape
        o = self.out_dim
        y = torch.bmm(h.reshape(1, j * b, c).expand(3, j * b, c), self.weight.view(3, c, o))  # (3, J*B, out)
        return torch.mm(mix, y.view(3 * j, b * o)).view(j, b, o).add_(self.bias)


class _ChebUnit(nn.Module):
    """ChebConv -> ReLU -> Dropout (the release's trailing second ReLU is a no-op and omitted)."""

    def __init__(self, in_dim: int, out_dim: int, dropout: float):
        super().__init__()
        self.gconv = ChebConv(in_dim, out_dim)
        self.p = dropout

    def forward(self, h: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
        return _dropout(self.gconv(h, mix).relu_(), self.p, self.training)


class ResChebBlock(nn.Module):
    """h + unit2(unit1(h) [+ temb_proj(swish(temb))]); names gconv1/gconv2/temb_proj."""

    def __init__(self, dim: int, dropout: float, temb_dim: int | None):
        super().__init__()
        self.gconv1 = _ChebUnit(dim, dim, dropout)
        self.gconv2 = _ChebUnit(dim, dim, dropout)
        self.temb_proj = nn.Linear(temb_dim, dim) if temb_dim else None

    def forward(self, h: torch.Tensor, mix: torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        """h: (J, B, D); temb: (B, 4D) already passed through swish, or None."""
        y = self.gconv1(h, mix)
        if self.temb_proj is not None:
            y = y + self.temb_proj(temb)
        return h + self.gconv2(y, mix)


class LayerNorm(nn.Module):
    """'Annotated transformer' LayerNorm: a_2 * (x - mean) / (std + eps) + b_2, unbiased std.

    Computed from torch's fused layer norm (biased variance, eps 1e-12 inside the square root):
    with s = a_2 * (x - mean) * rstd and k = sqrt(C / (C - 1)), the result is s / (k + eps * rstd)
    + b_2, identical in value. In the backward pass the small eps * rstd term counts as a constant
    (torch gives no gradient through rstd): a relative gradient error of about eps / std.
    """

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.a_2 = nn.Parameter(torch.ones(dim))
        self.b_2 = nn.Parameter(torch.zeros(dim))
        self.eps = eps
        self.register_buffer("k", torch.tensor([(dim / (dim - 1)) ** 0.5]), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scaled, _, rstd = torch.native_layer_norm(x, (x.shape[-1],), self.a_2, None, 1e-12)
        return torch.addcdiv(self.b_2, scaled, torch.add(self.k, rstd, alpha=self.eps))


class SublayerConnection(nn.Module):
    """Holds the pre-norm of a residual sublayer (name: sublayer.i.norm) and its dropout rate p."""

    def __init__(self, dim: int, dropout: float):
        super().__init__()
        self.norm = LayerNorm(dim)
        self.p = dropout


class PyramidAttention(nn.Module):
    """Joint queries attend to the token pyramid [joints; 8 parts; 4 level-2 tokens].

    Names: q (D -> D, no bias), kv (D -> 2D, no bias; rows [K | V], heads contiguous),
    proj (D -> D), norm (torch LayerNorm over the pyramid tokens).
    """

    def __init__(self, dim: int, heads: int, attn_dropout: float, proj_dropout: float):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(dim, 2 * dim, bias=False)
        self.proj = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.attn_p, self.proj_p = attn_dropout, proj_dropout

    def forward(self, x: torch.Tensor, pyramid: torch.Tensor) -> torch.Tensor:
        """x: (J, B, D) joint-major; pyramid: (M, J) pooling matrix, M = J + 12. Returns (J, B, D)."""
        j, b, d = x.shape
        h, dh = self.heads, d // self.heads
        m = pyramid.shape[0]
        tokens = torch.mm(pyramid, x.view(j, b * d)).view(m, b, d)
        tokens = F.layer_norm(tokens, (d,), self.norm.weight, self.norm.bias, self.norm.eps)
        k, v = F.linear(tokens, self.kv.weight).view(m, b, 2, h, dh).permute(2, 1, 3, 0, 4).unbind(0)
        q = F.linear(x, self.q.weight).view(j, b, h, dh).permute(1, 2, 0, 3)
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_p if self.training else 0.0)
        out = F.linear(out.permute(2, 0, 1, 3).reshape(j, b, d), self.proj.weight, self.proj.bias)  # (J, B, D)
        return _dropout(out, self.proj_p, self.training)


class _AdjLinear(nn.Module):
    """Holds the Linear of one GraphFFN layer (name: gconvN.fc)."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)


class GraphFFN(nn.Module):
    """Linear(Â X): D -> 2D, ReLU, then Linear(Â X): 2D -> D, with Â the normalised A_hat."""

    def __init__(self, dim: int, num_joints: int):
        super().__init__()
        self.A_hat = nn.Parameter(torch.eye(num_joints))
        self.gconv1 = _AdjLinear(dim, 2 * dim)
        self.gconv2 = _AdjLinear(2 * dim, dim)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """x: (J, B, D); adj: (J, J) = graph.normalize_learned_adjacency(A_hat). Returns (J, B, D)."""
        j, b, d = x.shape
        y = torch.mm(adj, x.view(j, b * d)).view(j, b, d)
        y = F.linear(y, self.gconv1.fc.weight, self.gconv1.fc.bias).relu_()
        y = torch.mm(adj, y.view(j, b * 2 * d)).view(j, b, 2 * d)
        return F.linear(y, self.gconv2.fc.weight, self.gconv2.fc.bias)


class AttentionLayer(nn.Module):
    """One transformer layer: names self_attn, feed_forward, sublayer.{0,1}.norm."""

    def __init__(self, dim: int, heads: int, num_joints: int, dropout: float, attn_dropout: float,
                 proj_dropout: float):
        super().__init__()
        self.self_attn = PyramidAttention(dim, heads, attn_dropout, proj_dropout)
        self.feed_forward = GraphFFN(dim, num_joints)
        self.sublayer = nn.ModuleList([SublayerConnection(dim, dropout) for _ in range(2)])

    def forward(self, h: torch.Tensor, pyramid: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        s0, s1 = self.sublayer
        h = _dropout(self.self_attn(s0.norm(h), pyramid), s0.p, self.training).add_(h)
        return _dropout(self.feed_forward(s1.norm(h), adj), s1.p, self.training).add_(h)


def timestep_features(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of diffusion timesteps: t (B,) -> (B, dim) = [sin(t f), cos(t f)],
    frequencies f_i = 10000 ** (-i / (dim/2 - 1))."""
    half = dim // 2
    freq = torch.exp(torch.arange(half, device=t.device, dtype=torch.float32) * (-math.log(10000.0) / (half - 1)))
    arg = t.float()[:, None] * freq[None, :]
    out = torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)
    return F.pad(out, (0, 1)) if dim % 2 else out


class TimestepEmbedding(nn.Module):
    """Sinusoidal features (D) -> Linear 4D -> swish -> Linear 4D (names temb.dense.{0,1})."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.dense = nn.ModuleList([nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, 4 * dim)])

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """t: (B,) timesteps -> (B, 4D)."""
        return self.dense[1](F.silu(self.dense[0](timestep_features(t, self.dim))))


def store_linear_weights_transposed(model: nn.Module) -> None:
    """Give every nn.Linear weight of ``model`` an in-major memory layout (strides (1, in)).

    The parameter keeps its (out, in) shape, name and values; only its memory order changes, so that
    ``x @ W^T`` reads W row by row: 5-10% less time per pose at batch 1 on CPU (cpn17 2.07 vs 2.27
    ms, gt16 1.11 vs 1.16), where the products have few rows and streaming the weights dominates.
    The layout survives load_state_dict (copy_ into the parameter), .to() (preserve_format), deepcopy
    and optimiser steps (in place); safetensors files are written from .contiguous() copies.
    tests/test_models.py checks all of these.
    """
    for module in model.modules():
        if isinstance(module, nn.Linear):
            module.weight = nn.Parameter(module.weight.detach().t().contiguous().t())


class PGFormer(nn.Module):
    """The PGFormer trunk. Forward: x (B, J, in_dim) [, t (B,)] -> (B, J, out_dim).

    adjacency: "gt16" | "cpn17" | "diffpyramid" (graph.normalized_adjacency styles).
    level2: "release" (level-2 tokens average raw joints, as the released weights) | "paper".
    time_embedding: "none" | "unused" (layers present but not used: DiffPyramid pose model) |
    "additive" (DiffPyramid denoiser; forward then needs t).
    """

    def __init__(self, num_joints: int, dim: int, layers: int, heads: int, in_dim: int = 2, out_dim: int = 3,
                 adjacency: str = "gt16", dropout: float = 0.25, attn_dropout: float = 0.05,
                 proj_dropout: float = 0.05, cheb_dropout: float = 0.1, level2: str = "release",
                 time_embedding: str = "none"):
        super().__init__()
        if time_embedding not in TIME_EMBEDDING_MODES:
            raise ValueError(f"unknown time_embedding {time_embedding!r} (expected one of {TIME_EMBEDDING_MODES})")
        self.num_joints, self.in_dim, self.out_dim = num_joints, in_dim, out_dim
        self.time_embedding = time_embedding
        basis = graph.chebyshev_basis(graph.laplacian(graph.normalized_adjacency(num_joints, adjacency)))
        mix = basis.transpose(1, 0, 2).reshape(num_joints, 3 * num_joints)  # [T0 | T1 | T2]
        self.register_buffer("mix", torch.tensor(mix, dtype=torch.float32), persistent=False)
        self.register_buffer("pyramid", torch.tensor(graph.pyramid_matrix(num_joints, level2), dtype=torch.float32),
                             persistent=False)
        temb_dim = 4 * dim if time_embedding == "additive" else None
        self.gconv_input = ChebConv(in_dim, dim)
        self.gconv_layers = nn.ModuleList([ResChebBlock(dim, cheb_dropout, temb_dim) for _ in range(layers)])
        self.atten_layers = nn.ModuleList([
            AttentionLayer(dim, heads, num_joints, dropout, attn_dropout, proj_dropout) for _ in range(layers)
        ])
        self.gconv_output = ChebConv(dim, out_dim)
        self.temb = TimestepEmbedding(dim) if time_embedding != "none" else None
        store_linear_weights_transposed(self)

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, J, in_dim); t: (B,) diffusion timesteps (only with time_embedding="additive")."""
        temb = None
        if self.time_embedding == "additive":
            if t is None:
                raise ValueError("this PGFormer is a denoiser: forward needs timesteps t of shape (B,)")
            temb = F.silu(self.temb(t.expand(x.shape[0])))
        adjs = graph.normalize_learned_adjacency(torch.stack([a.feed_forward.A_hat for a in self.atten_layers]))
        h = self.gconv_input(x.transpose(0, 1), self.mix)
        for att, cheb, adj in zip(self.atten_layers, self.gconv_layers, adjs):
            h = cheb(att(h, self.pyramid, adj), self.mix, temb)
        return self.gconv_output(h, self.mix).transpose(0, 1)
