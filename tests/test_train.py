"""Training: a short run lowers the loss and writes every output; --resume continues exactly;
--evaluate; bad input; schedules; torchrun with 2 CPU processes (heavy)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from lifter.train import main
from lifter.train_logs import read_metrics
from lifter.training import lr_factor
from synthetic_data import write_h36m, write_openmocap

REPO = Path(__file__).resolve().parents[1]
TINY = ["--val-frames", "0", "--eval-batch-size", "256"]


@pytest.fixture(scope="module")
def mocap(tmp_path_factory):
    return write_openmocap(tmp_path_factory.mktemp("mocap") / "standin.npz", np.random.default_rng(11), (256, 64, 64))


def _train(out, mocap, *extra):
    args = ["--preset", "openmocap_mlp", "--data-3d", str(mocap), "--noise", "clean", "--batch-size", "32",
            "--out", str(out), *TINY, *extra]
    assert main(args) == 0


def test_two_epochs_lower_the_loss_and_write_every_output(tmp_path, mocap):
    out = tmp_path / "run"
    _train(out, mocap, "--epochs", "2")
    for name in ("config.json", "metrics.csv", "last.safetensors", "last.json", "best.safetensors", "best.json",
                 "curves.png", "eval.json", "eval.md", "train_state.safetensors"):
        assert (out / name).exists(), name
    rows = read_metrics(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[1]["train_loss"] < rows[0]["train_loss"]
    ev = json.loads((out / "eval.json").read_text())
    for key in ("mpjpe", "p_mpjpe", "n_mpjpe", "per_group", "frames"):
        assert key in ev
    assert ev["frames"] == 64 and 0 < ev["p_mpjpe"] <= ev["mpjpe"] < 2000
    assert set(ev["variants"]) == {"plain", "flip"}
    meta = json.loads((out / "best.json").read_text())
    assert "data_fingerprint" in json.dumps(meta)


def test_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path, mocap):
    straight, split = tmp_path / "straight", tmp_path / "split"
    _train(straight, mocap, "--epochs", "3", "--seed", "4")
    _train(split, mocap, "--epochs", "1", "--seed", "4")
    assert main(["--resume", str(split), "--epochs", "3"]) == 0
    a, b = load_file(straight / "last.safetensors"), load_file(split / "last.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    ra, rb = read_metrics(straight / "metrics.csv"), read_metrics(split / "metrics.csv")
    assert [r["train_loss"] for r in ra] == [r["train_loss"] for r in rb]
    assert [r["val_mpjpe_mm"] for r in ra] == [r["val_mpjpe_mm"] for r in rb]
    # and a different seed gives different weights (the test could fail)
    other = tmp_path / "other"
    _train(other, mocap, "--epochs", "1", "--seed", "5")
    assert not all(np.array_equal(v, load_file(other / "last.safetensors")[k]) for k, v in a.items())


def test_evaluate_a_checkpoint(tmp_path, mocap):
    out = tmp_path / "run"
    _train(out, mocap, "--epochs", "1")
    ev_dir = tmp_path / "ev"
    assert main(["--evaluate", str(out / "best.safetensors"), "--data", "openmocap", "--data-3d", str(mocap),
                 "--noise", "detector", "--out", str(ev_dir), "--flip", "off"]) == 0
    ev = json.loads((ev_dir / "eval.json").read_text())
    assert ev["flip"] is False and ev["mpjpe"] == ev["variants"]["plain"]["mpjpe"]
    assert ev["set"] == "openmocap-test-detector"


def test_h36m_training_runs_on_the_synthetic_file(tmp_path):
    p3, p2 = write_h36m(tmp_path, np.random.default_rng(2))
    out = tmp_path / "run"
    assert main(["--preset", "openmocap_mlp", "--data", "h36m", "--data-3d", str(p3), "--data-2d", str(p2),
                 "--epochs", "1", "--batch-size", "64", "--out", str(out), *TINY]) == 0
    ev = json.loads((out / "eval.json").read_text())
    assert ev["average"] == "groups" and set(ev["per_group"]) == {"Directions", "Walking"}
    assert ev["mpjpe"] == pytest.approx(np.mean([g["mpjpe"] for g in ev["per_group"].values()]))


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["--preset", "openmocap_mlp", "--data-3d", str(tmp_path / "nope.npz"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "nope.npz" in err and "\n" not in err
    assert main(["--resume", str(tmp_path / "norun")]) == 2
    assert main(["--preset", "cpn17", "--out", str(tmp_path)]) == 2  # h36m needs its files


def test_schedules():
    cpn = {"kind": "epoch", "every": 5, "at_every": 0.5, "gamma": 0.95}
    assert lr_factor(cpn, 0, 10) == 1.0
    assert lr_factor(cpn, 10, 10) == pytest.approx(0.95)
    assert lr_factor(cpn, 50, 10) == pytest.approx(0.95 ** 4 * 0.5)
    gt = {"kind": "step", "every_steps": 50000, "gamma": 0.9}
    assert lr_factor(gt, 49999, 1) == 1.0 and lr_factor(gt, 100000, 1) == pytest.approx(0.81)
    assert lr_factor({"kind": "constant", "warmup_steps": 4}, 1, 1) == pytest.approx(0.5)


@pytest.mark.heavy
def test_torchrun_two_cpu_processes(tmp_path, mocap):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
           str(REPO / "lifter" / "train.py"), "--preset", "openmocap_mlp", "--data-3d", str(mocap), "--noise", "clean",
           "--batch-size", "32", "--epochs", "2", "--device", "cpu", "--out", str(out), *TINY]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["world_size"] == 2 and cfg["steps_per_epoch"] == 256 // 2 // 32
    rows = read_metrics(out / "metrics.csv")
    assert len(rows) == 2 and rows[1]["step"] == 2 * 4 and np.isfinite(rows[1]["train_loss"])
    assert json.loads((out / "eval.json").read_text())["frames"] == 64


@pytest.mark.heavy
def test_diffpyramid_denoiser_stage_on_a_trained_pose_model(tmp_path, mocap):
    pose_dir, dp_dir = tmp_path / "pose", tmp_path / "dp"
    assert main(["--preset", "openmocap_pgformer", "--data-3d", str(mocap), "--batch-size", "64", "--epochs", "1",
                 "--out", str(pose_dir), *TINY]) == 0
    cfg = json.loads((pose_dir / "config.json").read_text())
    assert cfg["model_config"]["arch"] == "pgformer" and cfg["model_config"]["time_embedding"] == "none"
    common = ["--data-3d", str(mocap), "--batch-size", "64", "--pose-model", str(pose_dir / "best.safetensors"), *TINY]
    assert main(["--preset", "openmocap_diffpyramid", "--epochs", "2", "--out", str(dp_dir), *common]) == 0
    pose, full = load_file(pose_dir / "best.safetensors"), load_file(dp_dir / "last.safetensors")
    for k, v in pose.items():  # the pose model stays frozen inside DiffPyramid
        assert np.array_equal(full["pose_model." + k], v), k
    dcfg = json.loads((dp_dir / "config.json").read_text())["model_config"]
    assert dcfg["arch"] == "diffpyramid" and dcfg["inference"]["uv_noise"] > 0
    assert json.loads((dp_dir / "eval.json").read_text())["frames"] == 64
    # resume is exact for this stage too (EMA, diffusion noise from the restored RNG)
    split = tmp_path / "dp_split"
    assert main(["--preset", "openmocap_diffpyramid", "--epochs", "1", "--out", str(split), *common]) == 0
    assert main(["--resume", str(split), "--epochs", "2"]) == 0
    a, b = load_file(dp_dir / "last.safetensors"), load_file(split / "last.safetensors")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert main(["--preset", "openmocap_diffpyramid", "--data-3d", str(mocap), "--out", str(tmp_path / "x")]) == 2


def test_init_starts_from_weights_and_the_scene_leaves_evaluation_fixed(tmp_path, mocap):
    """--init loads the weights before the first step (an epoch at lr ~0 keeps them); a preset's
    training scene (wider cameras, fitted noise) changes the training batches, never the
    evaluation set; a model of another configuration is refused."""
    from lifter.data import open_source
    from lifter.presets import get_preset

    first = tmp_path / "first"
    _train(first, mocap, "--epochs", "1", "--seed", "1")
    init = first / "last.safetensors"
    kept = tmp_path / "kept"
    assert main(["--preset", "openmocap_mlp", "--data-3d", str(mocap), "--noise", "clean", "--batch-size", "32",
                 "--out", str(kept), "--epochs", "1", "--lr", "1e-12", "--init", str(init), *TINY]) == 0
    a, b = load_file(init), load_file(kept / "last.safetensors")
    weights = [k for k in a if "running_" not in k and "num_batches" not in k]  # not BatchNorm's statistics
    assert weights and all(np.allclose(a[k], b[k], atol=1e-6) for k in weights)
    assert json.loads((kept / "config.json").read_text())["init"]["path"] == str(init)
    fresh = tmp_path / "fresh"
    assert main(["--preset", "openmocap_mlp", "--data-3d", str(mocap), "--noise", "clean", "--batch-size", "32",
                 "--out", str(fresh), "--epochs", "1", "--lr", "1e-12", *TINY]) == 0
    assert not all(np.allclose(a[k], load_file(fresh / "last.safetensors")[k], atol=1e-6) for k in weights)
    # another model configuration: one line, exit 2
    assert main(["--preset", "openmocap_pgformer", "--data-3d", str(mocap), "--out", str(tmp_path / "x"),
                 "--init", str(init), "--epochs", "1", *TINY]) == 2
    assert main(["--preset", "openmocap_mlp", "--data-3d", str(mocap), "--out", str(tmp_path / "y"),
                 "--init", str(tmp_path / "none.safetensors"), *TINY]) == 2

    scene = get_preset("openmocap_pgformer_wild_fitted")["scene"]
    plain = open_source("openmocap", 17, mocap, noise="detector")
    wild = open_source("openmocap", 17, mocap, noise="detector", scene=scene)
    assert wild.cameras.fov_deg == (30.0, 85.0) and wild.noise_params.collapse_prob > 0
    np.testing.assert_array_equal(plain.eval_set("test").inputs, wild.eval_set("test").inputs)
    pos = np.arange(32)
    xa, _ = plain.train_batch(pos, np.random.default_rng(0))
    xb, _ = wild.train_batch(pos, np.random.default_rng(0))
    assert not np.allclose(xa, xb)
    with pytest.raises(ValueError, match="unknown training scene"):
        open_source("openmocap", 17, mocap, scene={"lens": 1})
    with pytest.raises(ValueError, match="unknown noise model"):
        open_source("openmocap", 17, mocap, scene={"noise_params": "nope"})


def test_shipping_a_run_that_continued_other_weights_records_their_history(tmp_path, mocap):
    """weights/ship.py puts the --init weights' own training stages before the run's; an init file
    that changed since is refused (its history would be wrong)."""
    from weights.ship import main as ship_main

    base = tmp_path / "base"
    assert main(["--preset", "openmocap_pgformer", "--data-3d", str(mocap), "--batch-size", "32", "--epochs", "1",
                 "--out", str(base), *TINY]) == 0
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    assert ship_main(["--pgformer-run", str(base), "--only", "pgformer", "--out", str(shipped)]) == 0
    more = tmp_path / "more"
    assert main(["--preset", "openmocap_pgformer_wild", "--data-3d", str(mocap), "--batch-size", "32", "--epochs", "1",
                 "--init", str(shipped / "pgformer.safetensors"), "--out", str(more), *TINY]) == 0
    out = tmp_path / "out"
    out.mkdir()
    assert ship_main(["--pgformer-run", str(more), "--checkpoint", "last", "--only", "pgformer", "--out", str(out)]) == 0
    meta = json.loads((out / "pgformer.json").read_text())["meta"]
    assert [s["preset"] for s in meta["training"]] == ["openmocap_pgformer", "openmocap_pgformer_wild"]
    assert meta["training"][1]["init"]["path"] == str(shipped / "pgformer.safetensors")
    assert meta["training_seconds_total"] == pytest.approx(sum(s["train_seconds"] for s in meta["training"]), abs=0.2)
    # the init file replaced by other bytes: refused, nothing half-written
    (shipped / "pgformer.safetensors").write_bytes(b"x" + (base / "last.safetensors").read_bytes()[1:])
    (tmp_path / "out2").mkdir()
    assert ship_main(["--pgformer-run", str(more), "--checkpoint", "last", "--only", "pgformer",
                      "--out", str(tmp_path / "out2")]) == 2
    assert list((tmp_path / "out2").iterdir()) == []
