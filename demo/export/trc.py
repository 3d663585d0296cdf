"""One person's 3D joints as an OpenSim marker file (.trc), for Pose2Sim's / OpenSim's kinematics.

Layout (tab-separated text, the layout OpenSim documents for "Marker (.trc) Files" and its
TRCFileAdapter reads and writes)::

    PathFileType  4  (X/Y/Z)  <file name>
    DataRate  CameraRate  NumFrames  NumMarkers  Units  OrigDataRate  OrigDataStartFrame  OrigNumFrames
    <fps>  <fps>  <T>  17  m  <fps>  1  <T>
    Frame#  Time  Hip  _  _  RHip  _  _  ...  RWrist  _  _  |
    _  _  X1  Y1  Z1  X2  ...  Z17  |
    (blank line)
    1  0.000000  x  y  z  ...  |
    ...

(two spaces: a tab; ``_``: an empty field; ``|``: the line ends in a tab)

Every line of the table part (names, X/Y/Z labels, data) has 2 + 3 x 17 fields each followed by a
tab, as OpenSim's own writer does: each marker name sits above its X column, and OpenSim's reader
(which splits data rows on tabs and keeps empty fields) and pandas-based readers such as
Pose2Sim's (``pd.read_csv(sep="\\t", skiprows=4)``) see the same column count on every row.

- Markers: the 17 H36M joints named as in :data:`demo.export.common.MARKER_NAMES` (Pose2Sim's
  COCO-17 marker names where they match + Hip, Spine, Head), in H36M-17 order.
- Units: metres (``Units`` = ``m``), 6 decimals (1 micrometre).
- Frame: the Y-up frame of :func:`demo.export.common.y_up` (OpenSim's convention: Y up), i.e.
  ``(X, Y, Z) = (x, z, -y)`` of ``keypoints_3d_world``; X along the ground to the image's right,
  Z towards the camera.
- Frames: all T frames of the video, ``Frame#`` = 1..T, ``Time`` = (Frame# - 1) / fps seconds.
  The header declares a constant rate (DataRate = CameraRate = OrigDataRate = the video's fps,
  OrigDataStartFrame = 1, OrigNumFrames = NumFrames = T), so the times are uniform even when the
  video's presentation times (``result.time_s``) are not.
- Missing data: a frame where the person is not present (:func:`demo.export.common.present`: any
  world joint not finite; a person's pose is all or nothing) keeps its Frame# and Time and has
  every coordinate field empty. Empty fields are what OpenSim's TRC reader turns into NaN
  ("missing marker"); since the whole frame is blank, readers that split on any whitespace
  (trc-data-reader) also read NaN for every marker instead of shifting columns.

The file is written atomically (lifter.atomic); lines end in the platform's newline.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from demo.export.common import MARKER_NAMES, present, y_up
from lifter.atomic import atomic_path

#: metadata keys of header lines 2-3, in OpenSim's order
HEADER_KEYS: tuple[str, ...] = ("DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units", "OrigDataRate",
                                "OrigDataStartFrame", "OrigNumFrames")
UNITS = "m"
#: decimals of the coordinates (metres) and of the times (seconds)
DECIMALS = 6


def _rate(fps: float) -> str:
    """A frame rate as text: ``30`` for 30.0, ``29.97002997`` for 30000/1001."""
    return format(float(fps), ".10g")


def trc_header(file_name: str, fps: float, num_frames: int, markers=MARKER_NAMES) -> str:
    """The five header lines and the blank line of a TRC file (module docstring), ``\\n`` line ends."""
    num = len(markers)
    rate = _rate(fps)
    values = (rate, rate, str(num_frames), str(num), UNITS, rate, "1", str(num_frames))
    names = "".join(f"{m}\t\t\t" for m in markers)
    xyz = "".join(f"X{i}\tY{i}\tZ{i}\t" for i in range(1, num + 1))
    return (f"PathFileType\t4\t(X/Y/Z)\t{file_name}\n"
            + "\t".join(HEADER_KEYS) + "\n"
            + "\t".join(values) + "\n"
            + f"Frame#\tTime\t{names}\n"
            + f"\t\t{xyz}\n"
            + "\n")


def trc_rows(points: np.ndarray, fps: float) -> list[str]:
    """Data lines (``\\n`` ends) of (T, M, 3) points in the file's frame and units; a frame with any
    non-finite coordinate is written blank (module docstring)."""
    points = np.asarray(points, dtype=np.float64)
    T, M = points.shape[:2]
    ok = present(points)
    flat = np.round(points.reshape(T, M * 3), DECIMALS) + 0.0  # + 0.0: no "-0.000000"
    text = np.char.mod(f"%.{DECIMALS}f", flat[ok]) if ok.any() else np.empty((0, M * 3), str)
    blank = "\t" * (M * 3)
    rows, k = [], 0
    for t in range(T):
        head = f"{t + 1}\t{t / fps:.{DECIMALS}f}\t"
        if ok[t]:
            rows.append(head + "\t".join(text[k]) + "\t\n")
            k += 1
        else:
            rows.append(head + blank + "\n")
    return rows


def write_trc(path: str | os.PathLike, result, p: int) -> Path:
    """Write person ``p`` (index into P) of ``result`` (demo.outputs.Result) as a TRC file at ``path``.

    All T frames of the video, metres, Y up, MARKER_NAMES; missing frames blank (module docstring).
    Returns the path written.
    """
    path = Path(path)
    fps = float(result.fps)
    if not fps > 0:
        raise ValueError(f"a TRC file needs a positive frame rate, got {result.fps}")
    points = y_up(np.asarray(result.keypoints_3d_world)[p])
    text = trc_header(path.name, fps, points.shape[0]) + "".join(trc_rows(points, fps))
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:  # text mode: "\n" becomes the platform's newline
            f.write(text)
    return path
