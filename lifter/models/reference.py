"""Plain reference formulation of the PGFormer trunk, written the straightforward way.

Used to check lifter.models.pgformer (tests/test_models.py: same parameter names, so weights
transfer with load_state_dict; outputs must agree within 1e-5 in float32) and as the baseline of
bench/lifter_speed.py; not used for inference. Batch-major (B, J, C) throughout; the graph
Laplacian and its Chebyshev terms are recomputed on every call, part tokens are averaged group by
group in Python loops, the learned GraphFFN adjacency is normalised per layer and per sample,
attention is written out.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lifter.models.graph import LEVEL2_ORDER, PARTS_LEVEL1
from lifter.skeleton import edges


def reference_adjacency(num_joints: int, style: str) -> torch.Tensor:
    adj = torch.zeros(num_joints, num_joints)
    for p, c in edges(num_joints):
        adj[p, c] = 1.0
        adj[c, p] = 1.0
    if style == "cpn17":
        adj = adj / adj.sum(1, keepdim=True)
        for i in range(num_joints):
            adj[i, i] = 1.0
    else:
        adj = adj + torch.eye(num_joints)
        adj = adj / adj.sum(1, keepdim=True)
    return adj


class RefChebConv(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(3, 1, in_dim, out_dim))
        self.bias = nn.Parameter(torch.zeros(1, 1, out_dim))
        nn.init.xavier_normal_(self.weight)

    def forward(self, x, adj):
        n = adj.shape[0]
        deg = torch.sum(adj, dim=-1) ** (-0.5)
        d = torch.diag(deg)
        lap = torch.eye(n) - d @ adj @ d
        tx0 = x
        tx1 = torch.matmul(lap, tx0)
        tx2 = 2 * torch.matmul(lap, tx1) - tx0
        stacked = torch.stack([tx0, tx1, tx2], dim=0)  # (3, B, J, in)
        out = torch.matmul(stacked, self.weight)  # (3, B, J, out)
        return torch.sum(out, dim=0) + self.bias


class RefChebUnit(nn.Module):
    def __init__(self, in_dim, out_dim, dropout):
        super().__init__()
        self.gconv = RefChebConv(in_dim, out_dim)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, adj):
        x = self.gconv(x, adj)
        x = self.dropout(self.relu(x))
        return self.relu(x)


class RefResChebBlock(nn.Module):
    def __init__(self, dim, dropout, temb_dim):
        super().__init__()
        self.gconv1 = RefChebUnit(dim, dim, dropout)
        self.gconv2 = RefChebUnit(dim, dim, dropout)
        self.temb_proj = nn.Linear(temb_dim, dim) if temb_dim else None

    def forward(self, x, adj, temb=None):
        residual = x
        out = self.gconv1(x, adj)
        if self.temb_proj is not None:
            out = out + self.temb_proj(temb * torch.sigmoid(temb))[:, None, :]
        out = self.gconv2(out, adj)
        return residual + out


class RefLayerNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.a_2 = nn.Parameter(torch.ones(dim))
        self.b_2 = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        std = x.std(-1, keepdim=True)
        return self.a_2 * (x - mean) / (std + self.eps) + self.b_2


class RefSublayer(nn.Module):
    def __init__(self, dim, dropout):
        super().__init__()
        self.norm = RefLayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, fn):
        return x + self.dropout(fn(self.norm(x)))


class RefPyramidAttention(nn.Module):
    def __init__(self, dim, heads, num_joints, attn_dropout, proj_dropout, level2):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q = nn.Linear(dim, dim, bias=False)
        self.kv = nn.Linear(dim, dim * 2, bias=False)
        self.proj = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.attn_drop = nn.Dropout(attn_dropout)
        self.proj_drop = nn.Dropout(proj_dropout)
        self.parts = PARTS_LEVEL1[num_joints]
        self.order = LEVEL2_ORDER[num_joints]
        self.level2 = level2

    def forward(self, x):
        b, n, c = x.shape
        level1 = []
        for group in self.parts:
            level1.append(x[:, list(group), :].mean(dim=1, keepdim=True))
        level1 = torch.cat(level1, dim=1)
        source = x if self.level2 == "release" else level1
        level2 = []
        for i in range(4):
            pair = [self.order[2 * i], self.order[2 * i + 1]]
            level2.append(source[:, pair, :].mean(dim=1, keepdim=True))
        level2 = torch.cat(level2, dim=1)
        tokens = self.norm(torch.cat([x, level1, level2], dim=1))
        m = tokens.shape[1]
        q = self.q(x).reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3)
        kv = self.kv(tokens).reshape(b, m, 2, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        attn = self.attn_drop(attn)
        out = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj_drop(self.proj(out))


class RefAdjLinear(nn.Module):
    def __init__(self, in_dim, out_dim, activation):
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.activation = activation

    def normalise(self, a_hat):
        b, n = a_hat.shape[:2]
        d = (torch.sum(a_hat, 1) + 1e-5) ** (-0.5)
        return d.view(b, n, 1) * a_hat * d.view(b, 1, n)

    def forward(self, x, a):
        a_hat = a.unsqueeze(0).repeat(x.shape[0], 1, 1)
        x = self.fc(torch.bmm(self.normalise(a_hat), x))
        return self.activation(x) if self.activation else x


class RefGraphFFN(nn.Module):
    def __init__(self, dim, num_joints):
        super().__init__()
        self.A_hat = nn.Parameter(torch.eye(num_joints))
        self.gconv1 = RefAdjLinear(dim, dim * 2, nn.ReLU())
        self.gconv2 = RefAdjLinear(dim * 2, dim, None)

    def forward(self, x):
        return self.gconv2(self.gconv1(x, self.A_hat), self.A_hat)


class RefAttentionLayer(nn.Module):
    def __init__(self, dim, heads, num_joints, dropout, attn_dropout, proj_dropout, level2):
        super().__init__()
        self.self_attn = RefPyramidAttention(dim, heads, num_joints, attn_dropout, proj_dropout, level2)
        self.feed_forward = RefGraphFFN(dim, num_joints)
        self.sublayer = nn.ModuleList([RefSublayer(dim, dropout), RefSublayer(dim, dropout)])

    def forward(self, x):
        x = self.sublayer[0](x, self.self_attn)
        return self.sublayer[1](x, self.feed_forward)


class RefTimestepEmbedding(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim
        self.dense = nn.ModuleList([nn.Linear(dim, dim * 4), nn.Linear(dim * 4, dim * 4)])

    def forward(self, t):
        half = self.dim // 2
        scale = math.log(10000) / (half - 1)
        freq = torch.exp(torch.arange(half, dtype=torch.float32) * -scale)
        arg = t.float()[:, None] * freq[None, :]
        emb = torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)
        h = self.dense[0](emb)
        h = h * torch.sigmoid(h)
        return self.dense[1](h)


class ReferencePGFormer(nn.Module):
    """Same constructor arguments and parameter names as lifter.models.pgformer.PGFormer."""

    def __init__(self, num_joints, dim, layers, heads, in_dim=2, out_dim=3, adjacency="gt16", dropout=0.25,
                 attn_dropout=0.05, proj_dropout=0.05, cheb_dropout=0.1, level2="release", time_embedding="none"):
        super().__init__()
        self.adj = reference_adjacency(num_joints, adjacency)
        self.time_embedding = time_embedding
        temb_dim = dim * 4 if time_embedding == "additive" else None
        self.gconv_input = RefChebConv(in_dim, dim)
        self.gconv_layers = nn.ModuleList([RefResChebBlock(dim, cheb_dropout, temb_dim) for _ in range(layers)])
        self.atten_layers = nn.ModuleList([
            RefAttentionLayer(dim, heads, num_joints, dropout, attn_dropout, proj_dropout, level2)
            for _ in range(layers)
        ])
        self.gconv_output = RefChebConv(dim, out_dim)
        self.temb = RefTimestepEmbedding(dim) if time_embedding != "none" else None

    def forward(self, x, t=None):
        temb = self.temb(t) if self.time_embedding == "additive" else None
        out = self.gconv_input(x, self.adj)
        for i in range(len(self.gconv_layers)):
            out = self.atten_layers[i](out)
            out = self.gconv_layers[i](out, self.adj, temb)
        return self.gconv_output(out, self.adj)
