import numpy as np
import pytest
import torch

from lifter.data.h36m_cameras import quaternion_to_matrix
from lifter.metrics import mpjpe, mpjpe_loss, mse_loss, n_mpjpe, p_mpjpe, procrustes_align


def _poses(n=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 17, 3))


def test_mpjpe_hand_made():
    gt = np.zeros((2, 17, 3))
    pred = gt + np.array([3.0, 4.0, 0.0])
    assert np.allclose(mpjpe(pred, gt), 5.0)
    pred2 = gt.copy()
    pred2[1, 0] = [0, 0, 17.0]  # one joint off by 17 -> mean 1
    assert np.allclose(mpjpe(pred2, gt), [0.0, 1.0])


def test_p_mpjpe_of_rotated_scaled_translated_copy_is_zero():
    rng = np.random.default_rng(1)
    gt = _poses()
    rot = quaternion_to_matrix(rng.normal(size=(6, 4)))
    pred = 1.7 * np.einsum("nij,nkj->nki", rot, gt) + rng.normal(size=(6, 1, 3))
    assert mpjpe(pred, gt).min() > 0.5
    assert np.allclose(p_mpjpe(pred, gt), 0.0, atol=1e-9)
    assert np.allclose(procrustes_align(pred, gt), gt, atol=1e-9)


def test_p_mpjpe_does_not_undo_a_reflection():
    gt = _poses()
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    assert (p_mpjpe(mirrored, gt) > 0.1).all()


def test_n_mpjpe_removes_scale_only():
    gt = _poses()
    assert np.allclose(n_mpjpe(0.5 * gt, gt), 0.0, atol=1e-12)
    rot = quaternion_to_matrix(np.array([np.cos(0.5), 0, np.sin(0.5), 0]))
    assert (n_mpjpe(gt @ rot.T, gt) > 0.05).all()
    # p <= n <= plain for a scaled + noisy copy
    noisy = 1.3 * gt + np.random.default_rng(2).normal(0, 0.05, gt.shape)
    assert (p_mpjpe(noisy, gt) <= n_mpjpe(noisy, gt) + 1e-12).all()
    assert (n_mpjpe(noisy, gt) <= mpjpe(noisy, gt) + 1e-12).all()


def test_torch_losses_match_numpy():
    a, b = _poses(seed=3), _poses(seed=4)
    ta, tb = torch.tensor(a), torch.tensor(b)
    assert mpjpe_loss(ta, tb).item() == pytest.approx(mpjpe(a, b).mean())
    assert mse_loss(ta, tb).item() == pytest.approx(((a - b) ** 2).mean())
