"""CSV export (demo/export/table.py): read back with csv.DictReader into the result's arrays."""

from __future__ import annotations

import csv
import math
import time

import numpy as np
import pytest

from demo.export.table import csv_columns, write_csv
from demo.outputs import Result
from lifter.skeleton import JOINTS_17
from tests.export_fixtures import FIRST_MISSING, SECOND_ABSENT_UNTIL, make_result

# the rounding of each kind of cell plus float32 slack
TOL_M, TOL_PX, TOL_SCORE = 0.5e-4 + 1e-6, 0.005 + 1e-4, 0.0005 + 1e-6


def _read(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def _num(cell: str) -> float:
    return float(cell) if cell != "" else math.nan


def _arrays(rows):
    """Per row: frame, time, person, world (17,3), cam (17,3), px (17,2), scores (17,)."""
    out = []
    for r in rows:
        world = np.array([[_num(r[f"{j}_world_{a}_m"]) for a in "xyz"] for j in JOINTS_17])
        cam = np.array([[_num(r[f"{j}_cam_{a}_m"]) for a in "xyz"] for j in JOINTS_17])
        px = np.array([[_num(r[f"{j}_{a}_px"]) for a in "uv"] for j in JOINTS_17])
        score = np.array([_num(r[f"{j}_score"]) for j in JOINTS_17])
        out.append((int(r["frame"]), float(r["time_s"]), int(r["person"]), world, cam, px, score))
    return out


def _close(got, want, tol):
    """Equal within tol where want is finite, blank (NaN) exactly where want is NaN."""
    want = np.asarray(want, np.float64)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    assert np.abs(got[ok] - want[ok]).max(initial=0.0) <= tol


def test_columns_name_their_units():
    cols = csv_columns()
    assert cols[:3] == ["frame", "time_s", "person"]
    assert len(cols) == 3 + 17 * (3 + 3 + 2 + 1) == len(set(cols))
    for name in ("pelvis_world_x_m", "pelvis_cam_z_m", "pelvis_u_px", "pelvis_v_px", "pelvis_score",
                 "r_wrist_world_z_m", "head_cam_x_m"):
        assert name in cols
    assert all(c.endswith(("_m", "_px", "_score")) for c in cols[3:])


def test_no_people_header_only(tmp_path):
    path = write_csv(tmp_path / "keypoints.csv", make_result(0))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [",".join(csv_columns())]
    fields, rows = _read(path)
    assert fields == csv_columns() and rows == []


@pytest.mark.parametrize("people", [1, 2])
def test_reads_back_into_the_arrays(tmp_path, people):
    result = make_result(people)
    fields, rows = _read(write_csv(tmp_path / "keypoints.csv", result))
    assert fields == csv_columns()
    # one row per frame and valid person, frames in order, people by index within a frame
    want_keys = [(t, int(result.track_ids[p])) for t in range(result.num_frames) for p in range(people)
                 if result.valid[p, t]]
    got = _arrays(rows)
    assert [(g[0], g[2]) for g in got] == want_keys
    assert len(rows) == int(result.valid.sum())
    absent = {int(result.track_ids[0]): set(FIRST_MISSING)}
    if people == 2:
        absent[int(result.track_ids[1])] = set(range(SECOND_ABSENT_UNTIL))
    for tid, frames in absent.items():
        assert not frames & {g[0] for g in got if g[2] == tid}
    index = {int(t): i for i, t in enumerate(result.track_ids)}
    cam_all = result.keypoints_3d.astype(np.float64) + result.root_translation[:, :, None, :]
    for frame, t_s, tid, world, cam, px, score in got:
        p = index[tid]
        assert t_s == pytest.approx(result.time_s[frame], abs=1e-6)
        _close(world, result.keypoints_3d_world[p, frame], TOL_M)
        _close(cam, cam_all[p, frame], TOL_M)
        _close(px, result.keypoints_2d[p, frame], TOL_PX)
        _close(score, result.scores[p, frame], TOL_SCORE)


def test_nan_cells_are_blank_and_rounding(tmp_path):
    result = make_result(2)
    result.root_translation[0, 30] = np.nan  # camera position unknown: cam cells blank
    result.keypoints_2d[1, 50, 3] = np.nan  # one joint not found in 2D
    result.scores[1, 50, 3] = 0.0
    result.keypoints_3d_world[0, 31, 0, 0] = -1e-7  # rounds to zero: no "-0.0000"
    path = write_csv(tmp_path / "keypoints.csv", result)
    _, rows = _read(path)
    by_key = {(int(r["frame"]), int(r["person"])): r for r in rows}
    r = by_key[(30, int(result.track_ids[0]))]
    assert all(r[f"{j}_cam_{a}_m"] == "" for j in JOINTS_17 for a in "xyz")
    assert all(r[f"{j}_world_{a}_m"] != "" for j in JOINTS_17 for a in "xyz")
    r = by_key[(50, int(result.track_ids[1]))]
    assert r["r_ankle_u_px"] == r["r_ankle_v_px"] == "" and r["r_ankle_score"] == "0.000"
    assert by_key[(31, int(result.track_ids[0]))]["pelvis_world_x_m"] == "0.0000"
    text = path.read_text(encoding="utf-8")
    assert "nan" not in text.lower() and "-0.0000," not in text
    # decimals of each kind of cell
    r = rows[0]
    assert len(r["pelvis_world_z_m"].split(".")[1]) == 4 and len(r["pelvis_cam_z_m"].split(".")[1]) == 4
    assert len(r["pelvis_u_px"].split(".")[1]) == 2 and len(r["pelvis_score"].split(".")[1]) == 3


def _big_result(P=2, T=300, fps=30.0) -> Result:
    """10 s at 30 fps, P people everywhere: random finite arrays of the real shapes."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    return Result(keypoints_2d=rng.uniform(0, 1920, (P, T, 17, 2)).astype(f32),
                  scores=rng.uniform(0, 1, (P, T, 17)).astype(f32),
                  keypoints_3d=rng.normal(0, 0.5, (P, T, 17, 3)).astype(f32),
                  keypoints_3d_world=rng.normal(0, 2, (P, T, 17, 3)).astype(f32),
                  valid=np.ones((P, T), bool), track_ids=np.arange(1, P + 1), time_s=np.arange(T) / fps,
                  fps=fps, width=1920, height=1080,
                  root_translation=rng.normal(0, 3, (P, T, 3)).astype(f32))


def test_ten_seconds_two_people_is_fast(tmp_path):
    result = _big_result()
    write_csv(tmp_path / "warm.csv", result)  # imports and first-call costs out of the timing
    start = time.perf_counter()
    path = write_csv(tmp_path / "keypoints.csv", result)
    elapsed = time.perf_counter() - start
    _, rows = _read(path)
    assert len(rows) == 600
    assert elapsed < 1.0, f"{elapsed:.2f} s for 600 rows"


def test_replaces_atomically(tmp_path):
    final = tmp_path / "keypoints.csv"
    final.write_text("old")
    write_csv(final, make_result(1))
    assert final.read_text(encoding="utf-8").startswith("frame,time_s,person,")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["keypoints.csv"]
