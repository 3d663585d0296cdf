"""demo.outputs: keypoints.npz / keypoints.json keys, shapes, units and the MHFormer array."""

import json

import numpy as np

from _demo_fakes import STANDING_17, pixels_of
from demo.outputs import JSON_NAME, NPZ_KEYS, NPZ_NAME, Result, mhformer_reconstruction, read_npz, write_outputs
from demo.post import to_world_view
from lifter.skeleton import JOINTS_17


def _result(valid):
    valid = np.asarray(valid, bool)
    t = len(valid)
    kp2d = np.repeat(pixels_of(STANDING_17, 320, 240)[None], t, 0) + np.arange(t, dtype=np.float32)[:, None, None]
    scores = np.full((t, 17), 0.8, np.float32)
    kp3d = np.repeat(STANDING_17[None], t, 0)
    kp2d[~valid], scores[~valid], kp3d[~valid] = np.nan, 0.0, np.nan
    if valid.any():
        first = np.flatnonzero(valid)[0]
        kp2d[first, 13] = np.nan  # a missing joint in a valid frame
        scores[first, 13] = 0.0
    return Result(kp2d, scores, kp3d, to_world_view(kp3d), valid, fps=29.97, width=320, height=240,
                  video="clip.mp4", detector="fake", lifter="fake-lifter")


def test_npz_and_json(tmp_path):
    valid = [False, True, True, False, True]
    res = _result(valid)
    paths = write_outputs(tmp_path, res)
    assert paths == {"npz": tmp_path / NPZ_NAME, "json": tmp_path / JSON_NAME}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([NPZ_NAME, JSON_NAME])  # no temp files
    with np.load(paths["npz"]) as z:  # loads without pickle
        assert set(NPZ_KEYS) <= set(z.files)
        assert z["keypoints_2d"].shape == (5, 17, 2) and z["keypoints_2d"].dtype == np.float32
        assert z["scores"].shape == (5, 17)
        assert z["keypoints_3d"].shape == (5, 17, 3) and z["keypoints_3d_world"].shape == (5, 17, 3)
        assert z["valid"].dtype == bool and z["valid"].tolist() == valid
        assert float(z["fps"]) == 29.97 and int(z["width"]) == 320 and int(z["height"]) == 240
        assert z["joint_names"].tolist() == list(JOINTS_17)
        rec = z["reconstruction"]
        assert rec.shape == (1, 5, 17, 2) and rec.dtype == np.float32 and np.isfinite(rec).all()
        np.testing.assert_allclose(rec[0, 2], res.keypoints_2d[2])
        np.testing.assert_allclose(rec[0, 0], rec[0, 1])  # invalid frame 0 holds the nearest valid one
        np.testing.assert_allclose(rec[0, 3], rec[0, 2])  # tie between 2 and 4: the earlier
        np.testing.assert_allclose(rec[0, 1, 13], rec[0, 1, 12])  # missing wrist takes its elbow
    back = read_npz(paths["npz"])
    np.testing.assert_array_equal(back.keypoints_3d, res.keypoints_3d)
    assert (back.video, back.detector, back.lifter, back.num_frames) == ("clip.mp4", "fake", "fake-lifter", 5)

    doc = json.loads(paths["json"].read_text())
    assert doc["joint_names"] == list(JOINTS_17) and doc["num_frames"] == 5 and doc["fps"] == 29.97
    assert doc["units"]["keypoints_3d"] == "metres" and doc["units"]["keypoints_2d"] == "pixels"
    assert {"keypoints_2d", "keypoints_3d", "keypoints_3d_world"} <= set(doc["coordinate_frames"])
    assert len(doc["frames"]) == 5
    f0, f1 = doc["frames"][0], doc["frames"][1]
    assert f0["valid"] is False and f0["keypoints_3d"] is None and f0["keypoints_2d"] == [None] * 17
    assert f1["valid"] is True and f1["keypoints_2d"][13] is None and f1["scores"][13] == 0.0
    assert np.allclose(f1["keypoints_3d"], res.keypoints_3d[1], atol=1e-4)
    assert np.allclose(f1["keypoints_3d_world"], res.keypoints_3d_world[1], atol=1e-4)
    assert abs(doc["frames"][4]["time_s"] - 4 / 29.97) < 1e-6


def test_all_invalid(tmp_path):
    res = _result([False, False, False])
    assert (mhformer_reconstruction(res.keypoints_2d, res.scores, res.valid) == 0).all()
    paths = write_outputs(tmp_path / "out", res)
    doc = json.loads(paths["json"].read_text())
    assert [f["valid"] for f in doc["frames"]] == [False] * 3
    assert not np.load(paths["npz"])["valid"].any()
