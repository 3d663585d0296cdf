"""Every person's keypoints of one video as one CSV table (spreadsheets, pandas, R).

Layout: comma-separated (the csv module's default "excel" dialect, ``\\r\\n`` line ends), one
header line and then one row per frame and person: frames in order, within a frame people in
the order of the result (by track ID). A row exists where ``result.valid[p, t]`` (the person was
found, or a short gap filled), the same people keypoints.json lists per frame; a video nobody
was found in gives the header line only.

Columns (units in the names, no comment line so that spreadsheets import it as is); ``J`` runs
over the H36M-17 joint names of lifter.skeleton.JOINTS_17 (pelvis, r_hip, ..., r_wrist), the
names of keypoints.npz / keypoints.json:

=================== ============================================================================
column              meaning
=================== ============================================================================
frame               frame index, 0-based (the index of keypoints.npz / keypoints.json)
time_s              the frame's presentation time, seconds from the first frame (result.time_s)
person              the person's track ID (the number drawn in the video)
J_world_x_m, _y_m,  world position, metres: z up (z = 0 on the ground), x along the ground to
J_world_z_m         the image's right, y away from the camera (keypoints_3d_world; in the
                    "fixed view" the root-centred poses of that view)
J_cam_x_m, _y_m,    camera frame position, metres from the camera: x right, y down, z forward
J_cam_z_m           (keypoints_3d + root_translation)
J_u_px, J_v_px      2D position in the video as displayed, pixels: u right, v down, origin at
                    the top-left corner (keypoints_2d)
J_score             detector confidence in [0, 1], 0 = not detected (scores)
=================== ============================================================================

The columns come in blocks: the 17 x 3 world columns (joint by joint, x y z), then the 17 x 3
camera columns, then the 17 x 2 pixel columns, then the 17 scores. Rounding: metres to 0.0001
(0.1 mm), pixels to 0.01, scores to 0.001, time to 1 microsecond. A missing value (NaN: a joint
not found, or the camera-frame position when the root translation is unknown) is an empty cell.

The file is written atomically (lifter.atomic).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from lifter.atomic import atomic_path
from lifter.skeleton import JOINTS_17

#: decimals of metres, pixels, scores and seconds
METRE_DECIMALS, PIXEL_DECIMALS, SCORE_DECIMALS, TIME_DECIMALS = 4, 2, 3, 6


def csv_columns(joints=JOINTS_17) -> list[str]:
    """The header line's column names (module docstring)."""
    cols = ["frame", "time_s", "person"]
    for space in ("world", "cam"):
        cols += [f"{j}_{space}_{a}_m" for j in joints for a in "xyz"]
    cols += [f"{j}_{a}_px" for j in joints for a in "uv"]
    cols += [f"{j}_score" for j in joints]
    return cols


def _text(values: np.ndarray, decimals: int) -> np.ndarray:
    """(R, C) floats -> (R, C) str, rounded, empty where not finite."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    rounded = np.round(np.where(finite, values, 0.0), decimals) + 0.0  # + 0.0: no "-0.0000"
    out = np.char.mod(f"%.{decimals}f", rounded) if values.size else values.astype(str)
    return np.where(finite, out, "")


def csv_rows(result) -> list[list[str]]:
    """The data rows of :func:`write_csv` as lists of cell texts (module docstring)."""
    valid = np.asarray(result.valid, dtype=bool)  # (P, T)
    if valid.size == 0 or not valid.any():
        return []
    t_idx, p_idx = np.nonzero(valid.T)  # frame-major: frames in order, people in order within a frame
    R = t_idx.size
    world = np.asarray(result.keypoints_3d_world, np.float64)[p_idx, t_idx].reshape(R, -1)
    cam = (np.asarray(result.keypoints_3d, np.float64)
           + np.asarray(result.root_translation, np.float64)[:, :, None, :])[p_idx, t_idx].reshape(R, -1)
    px = np.asarray(result.keypoints_2d, np.float64)[p_idx, t_idx].reshape(R, -1)
    score = np.asarray(result.scores, np.float64)[p_idx, t_idx].reshape(R, -1)
    time = np.asarray(result.time_s, np.float64)[t_idx]
    ids = np.asarray(result.track_ids, np.int64)[p_idx]
    cells = np.concatenate([
        t_idx.astype(str)[:, None], _text(time[:, None], TIME_DECIMALS), ids.astype(str)[:, None],
        _text(world, METRE_DECIMALS), _text(cam, METRE_DECIMALS), _text(px, PIXEL_DECIMALS),
        _text(score, SCORE_DECIMALS),
    ], axis=1)
    return cells.tolist()


def write_csv(path: str | os.PathLike, result) -> Path:
    """Write every person of ``result`` (demo.outputs.Result) as one CSV table at ``path``.

    One row per frame and valid person, units in the column names, empty cells for NaN (module
    docstring). Returns the path written.
    """
    path = Path(path)
    rows = csv_rows(result)
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(csv_columns())
            writer.writerows(rows)
    return path
