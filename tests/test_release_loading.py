"""Release checkpoint loading (fake checkpoints built from the official tensor listings, kept in
tests/data/official_state_dicts) and the project's own safetensors format."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lifter import predict
from lifter.checkpoint import (infer_release_config, load_model, load_release_checkpoint, load_weights,
                              release_state_dict, save_model)
from lifter.lift import Lifter
from lifter.models import CONFIGS, build_model

#: tensor name <TAB> shape listings of the official release checkpoints (see tests/data/README.md)
LISTINGS = Path(__file__).resolve().parent / "data" / "official_state_dicts"

#: listing file -> our configuration
RELEASES = {
    "pgformer_gt16.tsv": "gt16",
    "pgformer_cpn17.tsv": "cpn17",
    "diffpyramid_posemodel_gt.tsv": "diffpyramid_pose",
    "diffpyramid_denoiser.tsv": "diffpyramid_denoiser",
}


def _listing(name: str) -> tuple[dict[str, tuple[int, ...]], int]:
    shapes, total = {}, None
    for line in (LISTINGS / name).read_text().splitlines():
        cols = line.split("\t")
        if line.startswith("total_params"):
            total = int(line.split()[-1])
        elif len(cols) >= 2:
            shapes[cols[0]] = tuple(int(v) for v in cols[1].strip("()").split(",") if v.strip())
    return shapes, total


def _fake_state(name: str, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {k: 0.05 * torch.randn(shape, generator=g) for k, shape in _listing(name)[0].items()}


def _containers(state: dict) -> dict[str, object]:
    return {
        "dict_with_state_dict": {"state_dict": state, "epoch": 34, "lr": 1e-3, "step": 12345,
                                 "optimizer": {"state": {}, "param_groups": [{"lr": 1e-3}]},
                                 "error": np.float64(34.2)},
        "bare": state,
        "list": [{f"module.{k}": v for k, v in state.items()}, {"state": {}}, 80, 1000,
                 {f"module.{k}": v + 1 for k, v in state.items()}],
    }


@pytest.mark.parametrize("listing,config", list(RELEASES.items()))
def test_listing_matches_model(listing, config):
    shapes, total = _listing(listing)
    model = build_model(CONFIGS[config])
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == shapes
    assert sum(p.numel() for p in model.parameters()) == total


@pytest.mark.parametrize("listing,config", list(RELEASES.items()))
@pytest.mark.parametrize("container", ["dict_with_state_dict", "bare", "list"])
def test_load_fake_release(tmp_path, listing, config, container):
    state = _fake_state(listing)
    path = tmp_path / "ckpt.pth"
    torch.save(_containers(state)[container], path)
    model = load_release_checkpoint(path, config)
    assert not model.training
    loaded = model.state_dict()
    for k, v in state.items():
        assert torch.equal(loaded[k], v), k


def test_wrong_shape_is_named(tmp_path):
    state = _fake_state("pgformer_gt16.tsv")
    state["atten_layers.2.feed_forward.A_hat"] = torch.zeros(17, 17)
    torch.save({"state_dict": state}, tmp_path / "bad.pth")
    with pytest.raises(ValueError) as err:
        load_release_checkpoint(tmp_path / "bad.pth", "gt16")
    msg = str(err.value)
    assert "atten_layers.2.feed_forward.A_hat" in msg and "(17, 17)" in msg and "(16, 16)" in msg


def test_cpn_file_with_gt_config_fails_clearly(tmp_path):
    torch.save(_fake_state("pgformer_cpn17.tsv"), tmp_path / "cpn.pth")
    with pytest.raises(ValueError, match=r"tensor 'gconv_input.weight' has shape \(3, 1, 2, 256\)"):
        load_release_checkpoint(tmp_path / "cpn.pth", "gt16")


def test_missing_and_unexpected_are_named(tmp_path):
    state = _fake_state("pgformer_gt16.tsv")
    missing = dict(state)
    del missing["gconv_output.bias"]
    torch.save(missing, tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="missing tensor 'gconv_output.bias'"):
        load_release_checkpoint(tmp_path / "missing.pth", "gt16")
    extra = {**state, "extra.weight": torch.zeros(2)}
    torch.save(extra, tmp_path / "extra.pth")
    with pytest.raises(ValueError, match="unexpected tensor 'extra.weight'"):
        load_release_checkpoint(tmp_path / "extra.pth", "gt16")


def test_refused_pickle_and_garbage(tmp_path):
    state = _fake_state("pgformer_gt16.tsv")
    torch.save({"state_dict": state, "args": argparse.Namespace(lr=1e-3)}, tmp_path / "args.pth")
    with pytest.raises(ValueError, match="weights_only"):
        load_release_checkpoint(tmp_path / "args.pth", "gt16")
    (tmp_path / "garbage.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="garbage.pth"):
        load_release_checkpoint(tmp_path / "garbage.pth", "gt16")
    torch.save({"epoch": 3}, tmp_path / "nostate.pth")
    with pytest.raises(ValueError, match="not a release checkpoint"):
        load_release_checkpoint(tmp_path / "nostate.pth", "gt16")
    with pytest.raises(FileNotFoundError):
        load_release_checkpoint(tmp_path / "absent.pth", "gt16")


def test_release_state_dict_takes_item_0_of_list():
    state = _fake_state("diffpyramid_denoiser.tsv")
    got = release_state_dict(_containers(state)["list"])
    assert set(got) == set(state) and all(torch.equal(got[k], state[k]) for k in state)


def test_diffpyramid_from_two_release_files(tmp_path):
    pose, den = _fake_state("diffpyramid_posemodel_gt.tsv", 1), _fake_state("diffpyramid_denoiser.tsv", 2)
    torch.save(_containers(pose)["list"], tmp_path / "pose.pth")
    torch.save(_containers(den)["list"], tmp_path / "den.pth")
    with pytest.raises(ValueError, match="denoiser"):
        load_weights(tmp_path / "pose.pth", "diffpyramid")
    model, cfg, meta = load_weights(tmp_path / "pose.pth", "diffpyramid", denoiser=tmp_path / "den.pth")
    assert cfg["arch"] == "diffpyramid" and meta["format"] == "release"
    assert torch.equal(model.pose_model.state_dict()["gconv_input.weight"], pose["gconv_input.weight"])
    assert torch.equal(model.denoiser.state_dict()["temb.dense.1.bias"], den["temb.dense.1.bias"])
    with torch.no_grad():
        assert model(torch.randn(2, 17, 2)).shape == (2, 17, 3)


@pytest.mark.parametrize("listing,config", list(RELEASES.items()))
@pytest.mark.parametrize("container", ["dict_with_state_dict", "bare", "list"])
def test_config_inferred_from_shapes(listing, config, container):
    state = release_state_dict(_containers(_fake_state(listing))[container])
    assert infer_release_config(state) == config


@pytest.mark.parametrize("listing,config", [("pgformer_gt16.tsv", "gt16"), ("pgformer_cpn17.tsv", "cpn17")])
def test_release_file_loads_without_config(tmp_path, listing, config):
    state = _fake_state(listing)
    torch.save(_containers(state)["dict_with_state_dict"], tmp_path / "ckpt.pth")
    model, cfg, meta = load_weights(tmp_path / "ckpt.pth")
    assert cfg == CONFIGS[config] and meta["format"] == "release"
    assert torch.equal(model.state_dict()["gconv_output.weight"], state["gconv_output.weight"])
    lifter = Lifter.load(str(tmp_path / "ckpt.pth"), device="cpu", flip=True, denoiser=None)  # as demo/vis.py calls it
    assert lifter.config == CONFIGS[config] and lifter.num_joints == cfg["num_joints"]
    with pytest.raises(ValueError, match="takes no --denoiser"):
        load_weights(tmp_path / "ckpt.pth", denoiser=tmp_path / "ckpt.pth")


def test_diffpyramid_pair_loads_without_config(tmp_path):
    pose, den = _fake_state("diffpyramid_posemodel_gt.tsv", 1), _fake_state("diffpyramid_denoiser.tsv", 2)
    torch.save(_containers(pose)["list"], tmp_path / "pose.pth")
    torch.save(_containers(den)["list"], tmp_path / "den.pth")
    model, cfg, _ = load_weights(tmp_path / "pose.pth", denoiser=tmp_path / "den.pth")
    assert cfg == CONFIGS["diffpyramid"]
    assert torch.equal(model.denoiser.state_dict()["gconv_input.weight"], den["gconv_input.weight"])
    with pytest.raises(ValueError, match="DiffPyramid pose model: pass its denoiser file with --denoiser"):
        load_weights(tmp_path / "pose.pth")
    with pytest.raises(ValueError, match="is a DiffPyramid denoiser: pass the pose-model file as --weights"):
        load_weights(tmp_path / "den.pth")
    with pytest.raises(ValueError, match=r"pose.pth: tensor 'gconv_input.weight' has shape \(3, 1, 2, 96\), "
                                         r"the model expects \(3, 1, 5, 96\)"):
        load_weights(tmp_path / "pose.pth", denoiser=tmp_path / "pose.pth")  # a pose file as denoiser is caught
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((2, 17, 2), np.float32))
    assert predict.main(["--weights", str(tmp_path / "pose.pth"), "--denoiser", str(tmp_path / "den.pth"),
                         "--input", str(x), "--output", str(tmp_path / "y.npy"), "--device", "cpu"]) == 0
    assert np.load(tmp_path / "y.npy").shape == (2, 17, 3)


def test_unknown_shapes_give_one_line_error(tmp_path, capsys):
    state = _fake_state("pgformer_gt16.tsv")
    state["gconv_input.weight"] = torch.zeros(3, 1, 4, 96)
    torch.save(state, tmp_path / "odd.pth")
    with pytest.raises(ValueError, match=r"odd.pth: tensor shapes \(16 joints, 4 input channels, D=96, 99 tensors\) "
                                         "match no known configuration; pass one with --config"):
        load_weights(tmp_path / "odd.pth")
    with pytest.raises(ValueError, match="no PGFormer tensors"):
        infer_release_config({"fc.weight": torch.zeros(2, 2)})
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, 16, 2), np.float32))
    code = predict.main(["--weights", str(tmp_path / "odd.pth"), "--input", str(x), "--output", str(tmp_path / "y.npy")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "match no known configuration" in err


def test_project_roundtrip(tmp_path):
    model = build_model(CONFIGS["gt16"]).eval()
    path = tmp_path / "sub" / "gt16.safetensors"
    save_model(path, model, CONFIGS["gt16"], {"epoch": 3, "mpjpe_mm": 40.0})
    assert json.loads(path.with_suffix(".json").read_text())["meta"]["epoch"] == 3
    assert sorted(p.name for p in path.parent.iterdir()) == ["gt16.json", "gt16.safetensors"]
    loaded, cfg, meta = load_model(path)
    assert cfg == CONFIGS["gt16"] and meta["mpjpe_mm"] == 40.0
    x = torch.randn(4, 16, 2)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    again, _, _ = load_weights(path)
    assert torch.equal(again.state_dict()["gconv_output.bias"], model.state_dict()["gconv_output.bias"])
    with pytest.raises(ValueError, match="safetensors"):
        save_model(tmp_path / "x.pt", model, CONFIGS["gt16"])


def test_project_roundtrip_diffpyramid(tmp_path):
    model = build_model(CONFIGS["diffpyramid"]).eval()
    save_model(tmp_path / "dp.safetensors", model, CONFIGS["diffpyramid"])
    loaded, cfg, _ = load_weights(tmp_path / "dp.safetensors")
    x = torch.randn(2, 17, 2)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
