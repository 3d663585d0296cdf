"""Lifter entry point, flip averaging and the predict command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lifter import predict
from lifter.checkpoint import save_model
from lifter.flip import FlipAverage, flip_pose
from lifter.lift import DEFAULT_CHUNK, Lifter
from lifter.models import CONFIGS, build_model
from lifter.skeleton import flip_permutation

REPO = Path(__file__).resolve().parents[1]
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")


def _poses(n: int, joints: int, seed: int = 0) -> np.ndarray:
    return (0.4 * np.random.default_rng(seed).standard_normal((n, joints, 2))).astype(np.float32)


@pytest.fixture(scope="module")
def gt16_file(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "gt16.safetensors"
    save_model(path, build_model(CONFIGS["gt16"]), CONFIGS["gt16"], {"note": "random init"})
    return path


@pytest.mark.parametrize("name", ["gt16", "cpn17", "mlp"])
def test_flip_wrapper_is_equivariant(name):
    model = build_model(CONFIGS[name]).eval()
    j = CONFIGS[name]["num_joints"]
    wrapped = FlipAverage(model, j).eval()
    perm = torch.as_tensor(flip_permutation(j))
    x = torch.as_tensor(_poses(5, j))
    with torch.no_grad():
        a = wrapped(flip_pose(x, perm))
        b = flip_pose(wrapped(x), perm)
        plain = model(x)
    assert (a - b).abs().max().item() < 1e-5
    assert (wrapped(x) - plain).abs().max().item() > 1e-6  # averaging changed something


def test_flip_pose_is_an_involution():
    perm = torch.as_tensor(flip_permutation(17))
    x = torch.randn(3, 17, 3)
    assert torch.equal(flip_pose(flip_pose(x, perm), perm), x)
    assert torch.equal(flip_pose(x, perm)[:, 4, 0], -x[:, 1, 0])  # l_hip <- -r_hip


def test_lift_shapes_root_and_chunking(gt16_file):
    lifter = Lifter.load(str(gt16_file), device="cpu")
    assert lifter.num_joints == 16 and lifter.device == "cpu" and lifter.config["arch"] == "pgformer"
    kp = _poses(23, 16)
    out = lifter.lift(kp)
    assert out.shape == (23, 16, 3) and out.dtype == np.float32
    assert np.all(out[:, 0] == 0)
    small = Lifter.load(str(gt16_file), device="cpu", chunk=5).lift(kp.astype(np.float64))
    np.testing.assert_allclose(small, out, atol=1e-5)
    assert Lifter.load(str(gt16_file), device="cpu").lift(kp[:0]).shape == (0, 16, 3)


def test_default_chunk_per_device_keeps_results(gt16_file):
    lifter = Lifter.load(str(gt16_file), device="cpu", flip=False)
    assert lifter.chunk == DEFAULT_CHUNK["cpu"]
    kp = _poses(DEFAULT_CHUNK["cpu"] + 7, 16, seed=3)  # two chunks
    one_pass = Lifter.load(str(gt16_file), device="cpu", flip=False, chunk=len(kp)).lift(kp)
    np.testing.assert_allclose(lifter.lift(kp), one_pass, atol=1e-5)
    with pytest.raises(ValueError, match="chunk must be >= 1"):
        Lifter.load(str(gt16_file), device="cpu", chunk=0)


def test_lift_rejects_bad_input(gt16_file):
    lifter = Lifter.load(str(gt16_file), device="cpu", flip=False)
    with pytest.raises(ValueError, match="17 joints"):
        lifter.lift(_poses(2, 17))
    with pytest.raises(ValueError, match=r"\(N, J, 2\)"):
        lifter.lift(np.zeros((2, 16, 3), np.float32))
    bad = _poses(3, 16)
    bad[1, 7, 0] = np.nan
    with pytest.raises(ValueError, match="NaN.*pose 1, joint 7"):
        lifter.lift(bad)


def test_lifter_from_module_matches_model():
    model = build_model(CONFIGS["cpn17"]).eval()
    kp = _poses(4, 17)
    got = Lifter(model, 17, device="cpu", flip=False).lift(kp)
    with torch.no_grad():
        y = model(torch.as_tensor(kp))
    np.testing.assert_allclose(got, (y - y[:, :1]).numpy(), atol=1e-6)


def test_shipped_name_missing_is_clear():
    with pytest.raises(FileNotFoundError, match="no shipped weights named nosuchmodel at .*weights/nosuchmodel.safetensors"):
        Lifter.load("nosuchmodel")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_cuda_requested_without_cuda(gt16_file):
    with pytest.raises(ValueError, match="CUDA is not available"):
        Lifter.load(str(gt16_file), device="cuda")


def test_diffpyramid_settings_through_lifter(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "dp.safetensors"
    save_model(path, build_model(CONFIGS["diffpyramid"]), CONFIGS["diffpyramid"])
    lifter = Lifter.load(str(path), device="cpu", flip=False, steps=1, hypotheses=3)
    assert lifter.model.steps == 1 and lifter.model.hypotheses == 3
    assert lifter.lift(_poses(2, 17)).shape == (2, 17, 3)
    with pytest.raises(ValueError, match="unknown inference setting"):
        Lifter.load(str(path), device="cpu", bogus=1)


def test_predict_cli(gt16_file, tmp_path, capsys):
    x = tmp_path / "x.npy"
    np.save(x, _poses(6, 16))
    y = tmp_path / "y.npy"
    assert predict.main(["--weights", str(gt16_file), "--input", str(x), "--output", str(y), "--device", "cpu"]) == 0
    expect = Lifter.load(str(gt16_file), device="cpu").lift(np.load(x))  # flip averaging on by default
    np.testing.assert_allclose(np.load(y), expect, atol=1e-6)

    def bad(path_in, *extra) -> str:
        code = predict.main(["--config", "gt16", "--weights", str(gt16_file), "--input", str(path_in),
                             "--output", str(tmp_path / "z.npy"), *extra])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error:")
        return err

    np.save(tmp_path / "j17.npy", _poses(2, 17))
    assert "17 joints" in bad(tmp_path / "j17.npy")
    nan = _poses(2, 16)
    nan[0, 3, 1] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    assert "NaN" in bad(tmp_path / "nan.npy")
    (tmp_path / "junk.npy").write_bytes(b"junk")
    assert "cannot read" in bad(tmp_path / "junk.npy")
    assert "cannot read" in bad(tmp_path / "absent.npy")
    assert "hypotheses" in bad(x, "--hypotheses", "3")
    assert not (tmp_path / "z.npy").exists()


def test_predict_flip_default_matches_lifter(gt16_file, tmp_path):
    """One default everywhere: flip averaging on (as Lifter and the demo); --no-flip turns it off."""
    x = tmp_path / "x.npy"
    np.save(x, _poses(6, 16, seed=5))
    flipped = Lifter.load(str(gt16_file), device="cpu", flip=True).lift(np.load(x))
    plain = Lifter.load(str(gt16_file), device="cpu", flip=False).lift(np.load(x))
    assert np.abs(flipped - plain).max() > 1e-4  # the two settings differ, so the checks below can fail
    args = ["--weights", str(gt16_file), "--input", str(x), "--device", "cpu", "--output"]
    assert predict.main([*args, str(tmp_path / "default.npy")]) == 0
    assert predict.main([*args, str(tmp_path / "no_flip.npy"), "--no-flip"]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "default.npy"), flipped, atol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "no_flip.npy"), plain, atol=1e-6)


def test_predict_rejects_the_old_flip_flag(gt16_file, tmp_path, capsys):
    x = tmp_path / "x.npy"
    np.save(x, _poses(2, 16))
    with pytest.raises(SystemExit) as exit_:
        predict.main(["--weights", str(gt16_file), "--input", str(x), "--output", str(tmp_path / "y.npy"), "--flip"])
    assert exit_.value.code == 2 and "unrecognized arguments: --flip" in capsys.readouterr().err
    assert not (tmp_path / "y.npy").exists()


def test_predict_module_entry_point(gt16_file, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, _poses(3, 16))
    ok = subprocess.run([sys.executable, "-m", "lifter.predict", "--config", "gt16", "--weights", str(gt16_file),
                         "--input", str(x), "--output", str(tmp_path / "y.npy")], cwd=REPO, capture_output=True,
                        text=True)
    assert ok.returncode == 0, ok.stderr
    assert np.load(tmp_path / "y.npy").shape == (3, 16, 3)
    bad = subprocess.run([sys.executable, "-m", "lifter.predict", "--config", "cpn17", "--weights",
                          str(tmp_path / "none.pth"), "--input", str(x), "--output", str(tmp_path / "z.npy")],
                         cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "none.pth" in bad.stderr


@CUDA
def test_lift_cuda_matches_cpu(gt16_file):
    kp = _poses(50, 16)
    cpu = Lifter.load(str(gt16_file), device="cpu").lift(kp)
    gpu = Lifter.load(str(gt16_file), device="cuda")
    assert gpu.device == "cuda"
    np.testing.assert_allclose(gpu.lift(kp), cpu, atol=1e-4)


def test_predict_cli_diffpyramid_release_files(tmp_path):
    torch.manual_seed(0)
    model = build_model(CONFIGS["diffpyramid"])
    torch.save([model.pose_model.state_dict(), {}, 1, 2, model.pose_model.state_dict()], tmp_path / "pose.pth")
    torch.save([model.denoiser.state_dict(), {}, 1, 2, model.denoiser.state_dict()], tmp_path / "den.pth")
    x = tmp_path / "x.npy"
    np.save(x, _poses(4, 17))
    args = ["--config", "diffpyramid", "--weights", str(tmp_path / "pose.pth"), "--input", str(x), "--device", "cpu",
            "--no-flip"]  # compared with the bare model below
    assert predict.main([*args, "--denoiser", str(tmp_path / "den.pth"), "--output", str(tmp_path / "a.npy")]) == 0
    assert predict.main([*args, "--denoiser", str(tmp_path / "den.pth"), "--output", str(tmp_path / "b.npy"),
                         "--steps", "1", "--hypotheses", "4"]) == 0
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == b.shape == (4, 17, 3) and not np.allclose(a, b)
    with torch.no_grad():
        np.testing.assert_allclose(a, model.eval()(torch.as_tensor(np.load(x))).numpy(), atol=1e-5)
    assert predict.main([*args, "--output", str(tmp_path / "c.npy")]) == 2  # denoiser missing
