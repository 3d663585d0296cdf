"""TRC and C3D exports (demo/export/trc.py, demo/export/c3dfile.py), read back by maintained readers.

TRC: trc-data-reader (module ``trc``) plus the two other ways such files are read: OpenSim's
TRCFileAdapter (tab-split rows that keep empty fields; 2 + 3 x markers fields a row) and Pose2Sim
(marker names from line 4 every third field, a pandas table whose header is line 5). C3D:
c3d.Reader, and trc-data-reader's own C3D import as a second reader.
"""

from __future__ import annotations

import math
import re
import warnings

import c3d
import numpy as np
import pytest
from trc import TRCData

from demo.export.c3dfile import write_c3d
from demo.export.common import MARKER_NAMES, exported_people, present
from demo.export.trc import write_trc
from lifter.skeleton import JOINTS_17
from tests.export_fixtures import FIRST_MISSING, SECOND_ABSENT_UNTIL, SECOND_MISSING, make_result

MM = 1e-3  # the readback tolerance: 1 mm, in metres
M = len(MARKER_NAMES)


def _missing_frames(p: int) -> set[int]:
    return set(FIRST_MISSING) if p == 0 else set(range(SECOND_ABSENT_UNTIL)) | set(SECOND_MISSING)


def _expected_y_up(world: np.ndarray) -> np.ndarray:
    """World (z up) -> (X, Y, Z) = (x, z, -y), written out here rather than through common.y_up."""
    w = np.asarray(world, np.float64)
    return np.stack([w[..., 0], w[..., 2], -w[..., 1]], axis=-1)


# ----------------------------------------------------------------------------------------- TRC


@pytest.mark.parametrize("people", [1, 2])
def test_trc_reads_back_with_trc_data_reader(tmp_path, people):
    result = make_result(people)
    T = result.num_frames
    assert exported_people(result) == list(range(people))
    for p in exported_people(result):
        path = write_trc(tmp_path / f"synthetic_person{result.track_ids[p]}.trc", result, p)
        data = TRCData()
        data.load(str(path))
        assert data["DataRate"] == data["CameraRate"] == data["OrigDataRate"] == result.fps
        assert data["NumFrames"] == data["OrigNumFrames"] == T
        assert data["OrigDataStartFrame"] == 1
        assert data["NumMarkers"] == M and data["Units"] == "m"
        assert data["Markers"] == list(MARKER_NAMES)
        assert data["Frame#"] == list(range(1, T + 1))
        np.testing.assert_allclose(data["Time"], np.arange(T) / result.fps, atol=1e-6)
        got = np.stack([np.asarray(data[m], np.float64) for m in MARKER_NAMES], axis=1)  # (T, M, 3)
        want = _expected_y_up(result.keypoints_3d_world[p])
        ok = present(result.keypoints_3d_world[p])
        assert set(np.flatnonzero(~ok)) == _missing_frames(p)
        assert np.isnan(got[~ok]).all()
        assert np.isfinite(got[ok]).all()
        assert np.abs(got[ok] - want[ok]).max() < MM


def test_trc_header_is_opensims_layout(tmp_path):
    result = make_result(1)
    T = result.num_frames
    path = write_trc(tmp_path / "walk_person1.trc", result, 0)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "PathFileType\t4\t(X/Y/Z)\twalk_person1.trc"
    assert lines[1] == ("DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
                        "OrigDataStartFrame\tOrigNumFrames")
    assert lines[2] == f"30\t30\t{T}\t{M}\tm\t30\t1\t{T}"
    # each marker name above its X column, every field followed by a tab (as OpenSim writes it)
    assert lines[3] == "Frame#\tTime\t" + "".join(f"{m}\t\t\t" for m in MARKER_NAMES)
    assert lines[4] == "\t\t" + "".join(f"X{i}\tY{i}\tZ{i}\t" for i in range(1, M + 1))
    assert lines[5] == ""  # the blank row between the column labels and the data
    rows = lines[6:]
    assert rows[-1] == "" and len(rows) == T + 1  # the file ends with a newline
    for f, row in enumerate(rows[:-1], start=1):
        fields = row.split("\t")
        assert len(fields) == 2 + 3 * M + 1 and fields[-1] == "", f"frame {f}"
        assert int(fields[0]) == f and float(fields[1]) == pytest.approx((f - 1) / 30, abs=1e-6)


def _read_like_opensim(path):
    """Data rows as OpenSim's TRCFileAdapter reads them: split on tabs keeping empty fields, no
    empty field after the last tab, 2 + 3 M fields a row, a marker with an empty field -> NaN."""
    lines = path.read_text(encoding="utf-8").split("\n")
    names = [s for s in lines[3].split("\t") if s][2:]
    xyz = [s for s in lines[4].split("\t") if s]
    assert xyz == [f"{a}{i}" for i in range(1, len(names) + 1) for a in "XYZ"]
    out = []
    for row in lines[6:]:
        if not row:
            break
        fields = row.split("\t")
        if fields[-1] == "":
            fields = fields[:-1]
        assert len(fields) == 2 + 3 * len(names)
        vals = [[math.nan] * 3 if "" in fields[c:c + 3] else [float(v) for v in fields[c:c + 3]]
                for c in range(2, len(fields), 3)]
        out.append(vals)
    return names, np.array(out)


def test_trc_missing_frames_are_blank_fields_as_opensim_reads_them(tmp_path):
    result = make_result(2)
    path = write_trc(tmp_path / "p.trc", result, 1)
    names, got = _read_like_opensim(path)
    assert names == list(MARKER_NAMES)
    assert got.shape == (result.num_frames, M, 3)
    missing = sorted(_missing_frames(1))
    assert np.isnan(got[missing]).all()
    rows = path.read_text(encoding="utf-8").split("\n")[6:]
    assert re.fullmatch(r"1\t0\.000000\t\t{%d}" % (3 * M), rows[0])  # nothing but empty fields
    ok = np.ones(result.num_frames, bool)
    ok[missing] = False
    assert np.abs(got[ok] - _expected_y_up(result.keypoints_3d_world[1])[ok]).max() < MM


def test_trc_columns_line_up_for_pose2sims_reader(tmp_path):
    """Pose2Sim reads marker names as every third field of line 4 from the third on, and the data as
    a table whose header is line 5: every data row must have as many fields as that header."""
    result = make_result(2)
    path = write_trc(tmp_path / "p.trc", result, 1)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert [m.strip() for m in lines[3].split("\t")[2::3] if m.strip()] == list(MARKER_NAMES)
    header = lines[4].split("\t")
    data = [row.split("\t") for row in lines[5:] if row]  # pandas skips the blank line
    assert len(data) == result.num_frames
    assert {len(row) for row in data} == {len(header)}
    x1 = header.index("X1")
    t = SECOND_ABSENT_UNTIL  # the second person's first frame
    assert float(data[t][x1]) == pytest.approx(result.keypoints_3d_world[1, t, 0, 0], abs=MM)


def test_trc_markers_cover_pose2sims_coco17_model(tmp_path):
    """Every marker of Pose2Sim's COCO-17 OpenSim model (its IK tasks) is in the file."""
    from tests.conftest import pose2sim_file

    xml = pose2sim_file("Pose2Sim/OpenSim_Setup/Markers_Coco17.xml", tmp_path / "Markers_Coco17.xml")
    model_markers = re.findall(r'<Marker name="([^"]+)"', xml.read_text(encoding="utf-8"))
    assert len(model_markers) == 14
    assert set(model_markers) <= set(MARKER_NAMES)


def test_trc_non_integer_rate(tmp_path):
    result = make_result(1, frames=40, fps=30000 / 1001)
    data = TRCData()
    data.load(str(write_trc(tmp_path / "ntsc.trc", result, 0)))
    assert data["DataRate"] == pytest.approx(30000 / 1001, rel=1e-9)
    np.testing.assert_allclose(data["Time"], np.arange(40) * 1001 / 30000, atol=1e-6)


def test_no_people_no_marker_files():
    result = make_result(0)
    assert result.num_people == 0 and exported_people(result) == []


def test_trc_replaces_atomically(tmp_path):
    result = make_result(1)
    final = tmp_path / "a.trc"
    final.write_text("old")
    write_trc(final, result, 0)
    assert final.read_text(encoding="utf-8").startswith("PathFileType")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.trc"]


# ----------------------------------------------------------------------------------------- C3D


def _read_c3d(path):
    with open(path, "rb") as handle, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No analog data found")
        reader = c3d.Reader(handle)
        frames = [(i, pts) for i, pts, _ in reader.read_frames()]
        meta = {
            "rate": reader.point_rate, "labels": [s.strip() for s in reader.point_labels],
            "first": reader.first_frame, "last": reader.last_frame, "count": reader.frame_count,
            "units": reader.get("POINT:UNITS").string_value.strip(),
            "x_screen": reader.get("POINT:X_SCREEN").string_value.strip(),
            "y_screen": reader.get("POINT:Y_SCREEN").string_value.strip(),
            "descriptions": [s.strip() for s in reader.get("POINT:DESCRIPTIONS").string_array],
            "analog": reader.analog_used,
        }
    return meta, frames


@pytest.mark.parametrize("people", [1, 2])
def test_c3d_reads_back_with_c3d_reader(tmp_path, people):
    result = make_result(people)
    T = result.num_frames
    for p in exported_people(result):
        path = write_c3d(tmp_path / f"synthetic_person{result.track_ids[p]}.c3d", result, p)
        meta, frames = _read_c3d(path)
        assert meta["rate"] == pytest.approx(result.fps)
        assert meta["labels"] == list(MARKER_NAMES)
        assert meta["descriptions"] == list(JOINTS_17)
        assert (meta["first"], meta["last"], meta["count"]) == (1, T, T)
        assert meta["units"] == "mm" and meta["analog"] == 0
        assert (meta["x_screen"], meta["y_screen"]) == ("+X", "+Z")
        assert [i for i, _ in frames] == list(range(1, T + 1))
        pts = np.stack([f for _, f in frames])  # (T, M, 5): x, y, z, residual, cameras
        world_mm = np.asarray(result.keypoints_3d_world[p], np.float64) * 1000.0  # z up, as it is
        ok = present(result.keypoints_3d_world[p])
        assert set(np.flatnonzero(~ok)) == _missing_frames(p)
        assert (pts[~ok, :, 3] == -1).all(), "missing frames: every point invalid (residual -1)"
        assert (pts[~ok, :, :3] == 0).all(), "invalid points hold 0, not a stale position"
        assert (pts[ok, :, 3] >= 0).all()
        assert np.abs(pts[ok, :, :3] - world_mm[ok]).max() < 1.0  # mm


def test_c3d_second_reader_trc_data_reader(tmp_path):
    """trc-data-reader's C3D import (its own use of the residual) sees the same markers and gaps."""
    result = make_result(2)
    path = write_c3d(tmp_path / "p.c3d", result, 1)
    data = TRCData()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No analog data found")
        data.import_from(str(path))
    assert data["Markers"] == list(MARKER_NAMES) and data["Units"].strip() == "mm"
    assert data["NumFrames"] == result.num_frames and data["DataRate"] == pytest.approx(30.0)
    got = np.array([data[f][1] for f in range(1, result.num_frames + 1)], np.float64)  # (T, M, 3)
    missing = sorted(_missing_frames(1))
    assert np.isnan(got[missing]).all()
    ok = present(result.keypoints_3d_world[1])
    assert np.abs(got[ok] - result.keypoints_3d_world[1][ok] * 1000.0).max() < 1.0


def test_c3d_non_integer_rate_and_no_gaps(tmp_path):
    result = make_result(1, frames=40, fps=30000 / 1001, gaps=False)
    meta, frames = _read_c3d(write_c3d(tmp_path / "ntsc.c3d", result, 0))
    assert meta["rate"] == pytest.approx(30000 / 1001, rel=1e-6)
    assert len(frames) == 40 and all((pts[:, 3] >= 0).all() for _, pts in frames)


def test_c3d_replaces_atomically(tmp_path):
    result = make_result(1)
    final = tmp_path / "a.c3d"
    final.write_bytes(b"old")
    write_c3d(final, result, 0)
    assert final.stat().st_size > 512 * 3
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.c3d"]
