"""One person's 3D joints as a C3D file (the binary motion-capture format of biomechanics labs).

Written with the ``c3d`` package (c3d.Writer); one file per person, read back by c3d.Reader,
ezc3d, OpenSim's C3DFileAdapter, Mokka, Vicon/Qualisys tools, ...

- Points: the 17 H36M joints, ``POINT:LABELS`` = :data:`demo.export.common.MARKER_NAMES` (the
  TRC's marker names), ``POINT:DESCRIPTIONS`` = the H36M joint names (lifter.skeleton.JOINTS_17),
  H36M-17 order. No analog channels.
- Units: millimetres (``POINT:UNITS`` = ``mm``), stored as 32-bit floats (``POINT:SCALE`` = -1).
- Frame: the world of ``keypoints_3d_world`` as it is, the usual lab convention of C3D: z up
  (z = 0 on the ground), x along the ground to the camera's image right, y = z x x along the
  ground away from the camera; x, y, z = 1000 x the world's metres. ``POINT:X_SCREEN`` = ``+X``
  and ``POINT:Y_SCREEN`` = ``+Z`` tell viewers to draw x to the right and z up.
- Frames: all T frames of the video; point rate (header and ``POINT:RATE``) = the video's fps,
  first frame 1, last frame T (so frame f is at (f - 1) / fps seconds).
- Missing data: where the person is not present (:func:`demo.export.common.present`) every
  point of that frame is invalid, the C3D convention: residual -1 (c3d.Reader returns -1 in the
  4th column) and coordinates 0. Present points have residual 0, the C3D value for computed
  (not measured) points, and no camera bits.

The file is written atomically (lifter.atomic).
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import c3d
import numpy as np

from demo.export.common import MARKER_NAMES, present
from lifter.atomic import atomic_path
from lifter.skeleton import JOINTS_17

UNITS = "mm"
#: X_SCREEN, Y_SCREEN: the world's x to the screen's right, its z (up) to the screen's up
SCREEN_AXES = ("+X", "+Z")
_PER_POINT = 4  # float32 words per point and frame in the data section: x, y, z, residual/camera word


def _pack(labels) -> tuple[str, int]:
    width = max(len(s) for s in labels)
    return "".join(s.ljust(width) for s in labels), width


def c3d_bytes(points_mm: np.ndarray, fps: float, labels=MARKER_NAMES, descriptions=JOINTS_17) -> bytes:
    """The C3D file of (T, N, 3) points in millimetres (module docstring); a frame with any
    non-finite coordinate has all its points invalid. Needs T >= 1."""
    points_mm = np.asarray(points_mm, dtype=np.float64)
    T, N = points_mm.shape[:2]
    if T == 0:
        raise ValueError("a C3D file needs at least one frame")
    ok = present(points_mm)
    writer = c3d.Writer(point_rate=float(fps), point_scale=-1.0, point_units=UNITS)
    writer.set_point_labels(list(labels))
    text, width = _pack(descriptions)
    writer.point_group.add_str("DESCRIPTIONS", "Point descriptions.", text, width, len(descriptions))
    writer.set_screen_axis(*SCREEN_AXES)
    no_analog = np.zeros((0, 0), np.float32)
    frames = []
    for t in range(T):
        pts = np.zeros((N, 5), np.float32)  # x, y, z, residual, camera mask
        if ok[t]:
            pts[:, :3] = points_mm[t]
        else:
            pts[:, 3] = -1.0
        frames.append((pts, no_analog))
    writer.add_frames(frames)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No analog data found")  # none is intended
        writer.write(buffer)
    data = bytearray(buffer.getvalue())
    # c3d.Writer leaves the previous frame's coordinates in invalid points (it reuses its buffer);
    # set them to 0, the value C3D readers that ignore the residual expect for a missing point.
    start = (int(writer.header.data_block) - 1) * 512
    words = np.frombuffer(data, dtype="<f4", count=T * N * _PER_POINT, offset=start).reshape(T, N, _PER_POINT)
    words[~ok, :, :3] = 0.0
    return bytes(data)


def write_c3d(path: str | os.PathLike, result, p: int) -> Path:
    """Write person ``p`` (index into P) of ``result`` (demo.outputs.Result) as a C3D file at ``path``.

    All T frames, millimetres, the z-up world, MARKER_NAMES labels, missing frames invalid (module
    docstring). Returns the path written.
    """
    path = Path(path)
    fps = float(result.fps)
    if not fps > 0:
        raise ValueError(f"a C3D file needs a positive frame rate, got {result.fps}")
    points_mm = np.asarray(result.keypoints_3d_world, dtype=np.float64)[p] * 1000.0
    data = c3d_bytes(points_mm, fps)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
