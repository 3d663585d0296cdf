"""demo.outputs: keypoints.npz / keypoints.json keys, shapes (a person axis), units and the MHFormer array."""

import json

import numpy as np
import pytest

from _demo_fakes import STANDING_17, pixels_of
from demo.outputs import (FORMAT_VERSION, JSON_NAME, NPZ_KEYS, NPZ_NAME, Result, mhformer_reconstruction,
                          most_prominent, read_npz, write_outputs)
from demo.post import to_world_view
from lifter.skeleton import JOINTS_17


def _result(valid, sizes=(0.4,)):
    """People of the given relative sizes; valid: (P, T) or (T,) for one person."""
    valid = np.atleast_2d(np.asarray(valid, bool))
    p, t = valid.shape
    kp2d = np.zeros((p, t, 17, 2), np.float32) + np.arange(t, dtype=np.float32)[None, :, None, None]
    for k in range(p):
        kp2d[k] += pixels_of(STANDING_17, 320, 240, 80 + 160 * k, sizes[k])
    scores = np.full((p, t, 17), 0.8, np.float32)
    kp3d = np.repeat(np.repeat(STANDING_17[None, None], t, 1), p, 0)
    kp2d[~valid], scores[~valid], kp3d[~valid] = np.nan, 0.0, np.nan
    if p and valid[0].any():
        first = np.flatnonzero(valid[0])[0]
        kp2d[0, first, 13] = np.nan  # a missing joint in a valid frame
        scores[0, first, 13] = 0.0
    return Result(kp2d, scores, kp3d, to_world_view(kp3d), valid, track_ids=np.arange(1, p + 1) * 3,
                  time_s=np.arange(t) / 29.97, fps=29.97, width=320, height=240,
                  main_person=most_prominent(kp2d, valid), video="clip.mp4", detector="fake",
                  lifter="fake-lifter", notes=["a note"])


def test_npz_and_json(tmp_path):
    valid = [False, True, True, False, True]
    res = _result(valid)
    paths = write_outputs(tmp_path, res)
    assert paths == {"npz": tmp_path / NPZ_NAME, "json": tmp_path / JSON_NAME}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([NPZ_NAME, JSON_NAME])  # no temp files
    with np.load(paths["npz"]) as z:  # loads without pickle
        assert set(NPZ_KEYS) == set(z.files) and int(z["format_version"]) == FORMAT_VERSION
        assert z["keypoints_2d"].shape == (1, 5, 17, 2) and z["keypoints_2d"].dtype == np.float32
        assert z["scores"].shape == (1, 5, 17) and z["track_ids"].tolist() == [3] and int(z["main_person"]) == 0
        assert z["keypoints_3d"].shape == (1, 5, 17, 3) and z["keypoints_3d_world"].shape == (1, 5, 17, 3)
        assert z["valid"].dtype == bool and z["valid"].tolist() == [valid]
        assert float(z["fps"]) == 29.97 and int(z["width"]) == 320 and int(z["height"]) == 240
        assert z["joint_names"].tolist() == list(JOINTS_17) and z["notes"].tolist() == ["a note"]
        rec = z["reconstruction"]
        assert rec.shape == (1, 5, 17, 2) and rec.dtype == np.float32 and np.isfinite(rec).all()
        np.testing.assert_allclose(rec[0, 2], res.keypoints_2d[0, 2])
        np.testing.assert_allclose(rec[0, 0], rec[0, 1])  # invalid frame 0 holds the nearest valid one
        np.testing.assert_allclose(rec[0, 3], rec[0, 2])  # tie between 2 and 4: the earlier
        np.testing.assert_allclose(rec[0, 1, 13], rec[0, 1, 12])  # missing wrist takes its elbow
    back = read_npz(paths["npz"])
    np.testing.assert_array_equal(back.keypoints_3d, res.keypoints_3d)
    assert (back.video, back.detector, back.lifter, back.num_frames, back.notes) == (
        "clip.mp4", "fake", "fake-lifter", 5, ["a note"])

    doc = json.loads(paths["json"].read_text())
    assert doc["joint_names"] == list(JOINTS_17) and doc["num_frames"] == 5 and doc["fps"] == 29.97
    assert doc["format_version"] == FORMAT_VERSION and doc["track_ids"] == [3] and doc["main_person_id"] == 3
    assert doc["units"]["keypoints_3d"] == "metres" and doc["units"]["keypoints_2d"] == "pixels"
    assert {"keypoints_2d", "keypoints_3d", "keypoints_3d_world"} <= set(doc["coordinate_frames"])
    assert len(doc["frames"]) == 5
    f0, f1 = doc["frames"][0], doc["frames"][1]
    assert f0["people"] == []
    (p1,) = f1["people"]
    assert p1["id"] == 3 and p1["keypoints_2d"][13] is None and p1["scores"][13] == 0.0
    assert np.allclose(p1["keypoints_3d"], res.keypoints_3d[0, 1], atol=1e-4)
    assert np.allclose(p1["keypoints_3d_world"], res.keypoints_3d_world[0, 1], atol=1e-4)
    assert abs(doc["frames"][4]["time_s"] - 4 / 29.97) < 1e-6


def test_several_people_and_the_main_one(tmp_path):
    valid = [[True, True, False, False], [False, True, True, True]]
    res = _result(valid, sizes=(0.2, 0.4))
    assert res.main_person == 1  # the larger person, seen in more frames
    paths = write_outputs(tmp_path, res)
    with np.load(paths["npz"]) as z:
        assert z["keypoints_3d"].shape == (2, 4, 17, 3) and z["track_ids"].tolist() == [3, 6]
        np.testing.assert_allclose(z["reconstruction"][0, 3], res.keypoints_2d[1, 3])  # the main person's
        np.testing.assert_allclose(z["reconstruction"][0, 0], res.keypoints_2d[1, 1])  # nearest valid frame
    doc = json.loads(paths["json"].read_text())
    assert [[p["id"] for p in f["people"]] for f in doc["frames"]] == [[3], [3, 6], [6], [6]]
    assert doc["main_person_id"] == 6


def test_nobody(tmp_path):
    res = _result(np.zeros((0, 3), bool), sizes=())
    assert res.main_person == -1 and res.num_frames == 3
    paths = write_outputs(tmp_path / "out", res)
    doc = json.loads(paths["json"].read_text())
    assert [f["people"] for f in doc["frames"]] == [[]] * 3 and doc["main_person_id"] is None
    with np.load(paths["npz"]) as z:
        assert z["keypoints_3d"].shape == (0, 3, 17, 3) and (z["reconstruction"] == 0).all()
        assert z["reconstruction"].shape == (1, 3, 17, 2)
    assert read_npz(paths["npz"]).num_people == 0


def test_all_invalid_person_and_old_format(tmp_path):
    res = _result([False, False, False])
    assert (mhformer_reconstruction(res.keypoints_2d[0], res.scores[0], res.valid[0]) == 0).all()
    np.savez(tmp_path / "old.npz", keypoints_2d=np.zeros((3, 17, 2)))
    with pytest.raises(ValueError, match="format version 1"):
        read_npz(tmp_path / "old.npz")


def test_interrupt_while_compressing_leaves_no_file_and_no_finaliser_error(tmp_path, monkeypatch):
    """Ctrl-C inside numpy's zip writer: nothing is written, and the abandoned writer's finaliser
    does not fail later (it once printed 'seek of closed file' tracebacks at interrupts)."""
    import gc
    import sys

    import numpy.lib.format as npformat

    real_write, calls = npformat.write_array, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_write(*args, **kwargs)

    unraisable = []
    monkeypatch.setattr(npformat, "write_array", interrupted)
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(tmp_path, _result([True, True]))
    gc.collect()
    assert len(calls) == 3
    assert unraisable == []
    assert list(tmp_path.iterdir()) == []
