"""Lifter models: shapes, parameter counts, fast == reference, graph constants, DiffPyramid inference."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from lifter.models import CONFIGS, build_model, get_config
from lifter.models import graph
from lifter.models.diffpyramid import DiffPyramid, _closest_to_2d
from lifter.models.pgformer import PGFormer
from lifter.models.reference import ReferencePGFormer

PARAMS = {"gt16": 653_699, "cpn17": 3_687_559, "diffpyramid_pose": 838_952, "diffpyramid_denoiser": 1_025_194}
TRUNKS = ("gt16", "cpn17", "diffpyramid_pose", "diffpyramid_denoiser")
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")


def _n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _perturbed(model: torch.nn.Module, seed: int = 0) -> dict:
    """State dict with A_hat, norms and biases moved off their initial values (so that they matter)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, v in model.state_dict().items():
        if k.endswith("A_hat"):
            v = v + 0.1 * torch.rand(v.shape, generator=g)  # stays positive: degrees well defined
        elif not k.endswith("weight") or ".norm." in k:
            v = v + 0.1 * torch.randn(v.shape, generator=g)
        out[k] = v
    return out


def _pair(name: str, **overrides):
    cfg = {**get_config(name), **overrides}
    fast = build_model(cfg)
    ref = ReferencePGFormer(**{k: v for k, v in cfg.items() if k != "arch"})
    state = _perturbed(fast)
    fast.load_state_dict(state)
    ref.load_state_dict(state)
    return fast.eval(), ref.eval(), cfg


def _inputs(cfg: dict, batch: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    x = 0.5 * torch.randn(batch, cfg["num_joints"], cfg["in_dim"], generator=g)
    t = torch.randint(0, 51, (batch,), generator=g) if cfg["time_embedding"] == "additive" else None
    return x, t


@pytest.mark.parametrize("name", list(PARAMS))
def test_parameter_counts(name):
    assert _n_params(build_model(CONFIGS[name])) == PARAMS[name]


def test_pose_model_unused_timestep_layers():
    pose = build_model(CONFIGS["diffpyramid_pose"])
    assert _n_params(pose.temb) == 185_088


@pytest.mark.parametrize("name", ["gt16", "cpn17", "diffpyramid_pose", "diffpyramid", "mlp"])
def test_lifter_shapes(name):
    cfg = CONFIGS[name]
    model = build_model(cfg).eval()
    j = cfg["pose"]["num_joints"] if name == "diffpyramid" else cfg["num_joints"]
    with torch.no_grad():
        y = model(torch.randn(3, j, 2))
    assert y.shape == (3, j, 3) and y.dtype == torch.float32 and torch.isfinite(y).all()


def test_denoiser_shape_and_needs_t():
    model = build_model(CONFIGS["diffpyramid_denoiser"]).eval()
    with torch.no_grad():
        assert model(torch.randn(4, 17, 5), torch.tensor([0, 5, 12, 50])).shape == (4, 17, 5)
        with pytest.raises(ValueError, match="timesteps"):
            model(torch.randn(4, 17, 5))


@pytest.mark.parametrize("name", TRUNKS)
@pytest.mark.parametrize("batch", [1, 7])
def test_fast_equals_reference(name, batch):
    fast, ref, cfg = _pair(name)
    x, t = _inputs(cfg, batch)
    with torch.no_grad():
        a, b = fast(x, t), ref(x, t)
    assert a.shape == b.shape
    assert (a - b).abs().max().item() < 1e-5
    assert b.abs().max().item() > 1e-2  # not a trivial zero output


def test_fast_equals_reference_paper_level2():
    fast, ref, cfg = _pair("gt16", level2="paper")
    x, _ = _inputs(cfg, 5)
    with torch.no_grad():
        assert (fast(x) - ref(x)).abs().max().item() < 1e-5
        release = build_model({**cfg, "level2": "release"}).eval()
        release.load_state_dict(fast.state_dict())
        assert (release(x) - fast(x)).abs().max().item() > 1e-4  # the option changes the network


def test_gradients_match_reference():
    """Training path: with dropout off, gradients of the fast trunk equal the reference's."""
    off = {"dropout": 0.0, "attn_dropout": 0.0, "proj_dropout": 0.0, "cheb_dropout": 0.0}
    fast, ref, cfg = _pair("diffpyramid_denoiser", **off)
    fast.train(), ref.train()
    x, t = _inputs(cfg, 6)
    fast(x, t).square().sum().backward()
    ref(x, t).square().sum().backward()
    ref_params = dict(ref.named_parameters())
    for name, p in fast.named_parameters():
        q = ref_params[name]
        scale = q.grad.abs().max().item() + 1e-8
        assert (p.grad - q.grad).abs().max().item() / scale < 1e-4, name


def _linear_layouts(model: torch.nn.Module) -> set[tuple[int, int]]:
    return {m.weight.stride() for m in model.modules() if isinstance(m, torch.nn.Linear)}


def test_transposed_linear_layout_survives(tmp_path):
    """Linear weights stored in-major (store_linear_weights_transposed) through every usual operation."""
    from lifter.checkpoint import load_model, save_model

    fast, ref, cfg = _pair("gt16")
    in_major = {(1, m.weight.shape[1]) for m in fast.modules() if isinstance(m, torch.nn.Linear)}
    assert _linear_layouts(fast) == in_major
    assert all(p.is_contiguous() for p in ref.parameters())  # the reference's are plain
    x, _ = _inputs(cfg, 4)
    with torch.no_grad():
        expect = ref(x)
    fresh = build_model(cfg)
    fresh.load_state_dict(ref.state_dict())  # from contiguous tensors
    moved = copy.deepcopy(fresh).to(torch.float64).to(torch.float32)
    for model in (fresh, moved):
        assert _linear_layouts(model) == in_major
        with torch.no_grad():
            assert (model.eval()(x) - expect).abs().max().item() < 1e-5
    save_model(tmp_path / "m.safetensors", fresh, cfg)
    loaded = load_model(tmp_path / "m.safetensors")[0]
    assert _linear_layouts(loaded) == in_major
    with torch.no_grad():
        assert torch.equal(loaded(x), fresh(x))
    fresh.train()
    opt = torch.optim.AdamW(fresh.parameters(), lr=1e-3)
    for _ in range(2):
        opt.zero_grad()
        fresh(x).square().mean().backward()
        opt.step()
    assert _linear_layouts(fresh) == in_major
    assert all(p.grad.shape == p.shape for p in fresh.parameters())


def test_eval_determinism_and_batch_independence():
    model = build_model(CONFIGS["cpn17"]).eval()
    x = torch.randn(9, 17, 2)
    with torch.no_grad():
        a, b = model(x), model(x)
        single = model(x[4:5])
    assert torch.equal(a, b)
    assert (a[4:5] - single).abs().max().item() < 1e-5


def test_train_mode_dropout_is_active():
    model = build_model(CONFIGS["gt16"]).train()
    x = torch.randn(4, 16, 2)
    assert not torch.equal(model(x), model(x))


# ---- graph constants --------------------------------------------------------------------------

@pytest.mark.parametrize("style,joints,row_sum", [("gt16", 16, 1.0), ("diffpyramid", 17, 1.0), ("cpn17", 17, 2.0)])
def test_adjacency_normalisations(style, joints, row_sum):
    adj = graph.normalized_adjacency(joints, style)
    np.testing.assert_allclose(adj.sum(1), row_sum)
    np.testing.assert_allclose(np.diag(adj) > 0, True)
    if style == "cpn17":
        np.testing.assert_allclose(np.diag(adj), 1.0)


def test_chebyshev_basis():
    lap = graph.laplacian(graph.normalized_adjacency(17, "diffpyramid"))
    basis = graph.chebyshev_basis(lap)
    np.testing.assert_allclose(basis[0], np.eye(17))
    np.testing.assert_allclose(basis[1], lap)
    np.testing.assert_allclose(basis[2], 2 * lap @ lap - np.eye(17), atol=1e-12)


@pytest.mark.parametrize("joints", [16, 17])
def test_pyramid_pooling(joints):
    rel, paper = graph.part_pooling(joints, "release"), graph.part_pooling(joints, "paper")
    assert rel.shape == (12, joints)
    np.testing.assert_allclose(rel.sum(1), 1.0)
    np.testing.assert_allclose(rel[:8], paper[:8])
    order = graph.LEVEL2_ORDER[joints]
    for i in range(4):  # release: pairs of raw joints; paper: pairs of level-1 parts
        expect = np.zeros(joints)
        expect[[order[2 * i], order[2 * i + 1]]] = 0.5
        np.testing.assert_allclose(rel[8 + i], expect)
        np.testing.assert_allclose(paper[8 + i], (rel[order[2 * i]] + rel[order[2 * i + 1]]) / 2)
    assert graph.pyramid_matrix(joints).shape == (joints + 12, joints)


def test_learned_adjacency_identity():
    eye = torch.eye(5)
    torch.testing.assert_close(graph.normalize_learned_adjacency(eye), eye / (1 + graph.LEARNED_DEGREE_EPS))


# ---- DiffPyramid --------------------------------------------------------------------------------

def _diffpyramid() -> DiffPyramid:
    torch.manual_seed(0)
    model = build_model(CONFIGS["diffpyramid"]).eval()
    model.load_state_dict(_perturbed(model, seed=3))
    return model


def test_ddim_timesteps_and_schedule():
    s = _diffpyramid().schedule
    assert s.ddim_timesteps(2, 24) == [0, 12]
    assert s.ddim_timesteps(1, 12) == [0]
    assert s.alpha_bar(torch.tensor([-1])).item() == 1.0
    np.testing.assert_allclose(s.alpha_bar(torch.tensor([0])).item(), 1 - 1e-4, rtol=1e-6)
    with pytest.raises(ValueError):
        s.ddim_timesteps(3, 60)


def test_diffpyramid_deterministic_equal_across_runs():
    model = _diffpyramid()
    x = 0.3 * torch.randn(5, 17, 2)
    with torch.no_grad():
        a, spread = model.infer(x)
        b = model(x)
        c, _ = model.infer(x, steps=1, span=12)
    assert torch.equal(a, b)
    assert torch.equal(spread, torch.zeros(5, 17))
    assert torch.equal(a[:, 0], torch.zeros(5, 3))
    assert (a - c).abs().max().item() > 0  # the number of steps matters


def test_diffpyramid_multi_hypothesis_spread():
    model = _diffpyramid()
    x = 0.3 * torch.randn(4, 17, 2)
    with torch.no_grad():
        pose, spread = model.infer(x, hypotheses=6, generator=torch.Generator().manual_seed(1))
        again, _ = model.infer(x, hypotheses=6, generator=torch.Generator().manual_seed(1))
        reproj, spread2 = model.infer(x, hypotheses=6, aggregate="reproj", generator=torch.Generator().manual_seed(1))
    assert pose.shape == (4, 17, 3) and spread.shape == (4, 17)
    assert (spread[:, 1:] > 0).all()
    assert torch.equal(pose, again)
    torch.testing.assert_close(spread, spread2)
    assert not torch.equal(pose, reproj)


def test_closest_to_2d_picks_matching_hypothesis():
    x2d = torch.randn(1, 17, 2)
    good = torch.cat([x2d - x2d[:, :1], torch.zeros(1, 17, 1)], -1)[None] * 2.0  # projects exactly (scale 0.5)
    bad = good + torch.randn(1, 1, 17, 3)
    bad[..., 0, :] = 0
    picked = _closest_to_2d(torch.cat([bad, good]), x2d)
    torch.testing.assert_close(picked, good[0])


def test_ddim_recovers_x0_with_an_exact_denoiser():
    """With a denoiser that returns the true noise, deterministic DDIM lands exactly on x_0."""
    model = _diffpyramid()
    x0 = torch.randn(3, 17, 5)
    x0[..., 2:] -= x0[:, :1, 2:].clone()

    class Oracle(torch.nn.Module):
        in_dim = out_dim = 5
        time_embedding = "additive"

        def forward(self, xt, t):
            a = model.schedule.alpha_bar(t).view(-1, 1, 1)
            return (xt - a.sqrt() * x0) / (1 - a).sqrt()

    model.denoiser = Oracle()
    seq = model.schedule.ddim_timesteps(2, 24)
    xt = model.schedule.q_sample(x0, torch.full((3,), seq[-1]), torch.randn(3, 17, 5))
    torch.testing.assert_close(model._ddim(xt, seq, 0.0, None), x0, atol=1e-5, rtol=0)


def test_build_model_tolerates_training_keys_and_rejects_unknown_arch():
    cfg = copy.deepcopy(CONFIGS["gt16"])
    cfg.update({"lr": 1e-3, "epochs": 3, "dropout": 0.0})
    model = build_model(cfg)
    assert isinstance(model, PGFormer) and model.atten_layers[0].sublayer[0].p == 0.0
    with pytest.raises(ValueError, match="arch"):
        build_model({"arch": "nope"})
    with pytest.raises(ValueError, match="known"):
        get_config("nope")


@CUDA
def test_fast_equals_reference_cuda():
    fast, ref, cfg = _pair("cpn17")
    x, _ = _inputs(cfg, 33)
    with torch.no_grad():
        expect = ref(x)
        got = fast.cuda()(x.cuda()).cpu()
    assert (got - expect).abs().max().item() < 1e-4
