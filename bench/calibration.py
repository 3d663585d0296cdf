"""Calibrated cameras of pose2sim's Demo_MultiPerson: the Qualisys reader, projection, distortion.

The data: pose2sim's Demo_MultiPerson (in the pose2sim wheel in sample_videos/.cache/, read into a
temporary folder by :func:`extract_demo_multiperson`): four synchronised views cam01-cam04,
1088x1920 portrait, 60 fps, 100 frames; one person on a raised treadmill stepping and balancing
on one leg with the torso leaning far, another standing and walking beside it on the floor; and
their calibration, calibration/Calib.qca.txt.

The calibration (:func:`read_qca`): Qualisys XML, one <camera serial="camNN"> per view with
<transform x y z r11 ... r33> and <intrinsic focalLengthU focalLengthV centerPointU
centerPointV radialDistortion1..3 tangentalDistortion1..2 sensorMaxU sensorMaxV>. Units: x, y, z
in millimetres; focal lengths, centre points and sensor sizes in 1/64 pixel (focalLengthU / 64 =
focal in pixels); distortion coefficients are unitless. Convention, as found (see
bench/camera_check.py's convention_check): x, y, z is the camera centre in the world (Z up, the
floor at z ~ 0), and the rows of r are the camera's axes in world coordinates, in Qualisys' camera
frame (x image right, y image UP, looking along -z); the OpenCV camera frame of this project (x
right, y down, z forward) is diag(1, -1, -1) r. The distortion is read as the Brown-Conrady model
OpenCV uses, on normalised image coordinates: (k1, k2, p1, p2, k3) = (radialDistortion1,
radialDistortion2, tangentalDistortion1, tangentalDistortion2, radialDistortion3);
bench/wild_accuracy.py reports the triangulation's reprojection error with and without it, which is
how the reading was checked. Missing attributes count as 0.

Here every position is in metres (world Z up), pixels are x right, y down, origin top-left.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.identity_check import POSE2SIM_WHEEL  # noqa: E402
from demo.ground import camera_angles  # noqa: E402

VIEWS = ("cam01", "cam02", "cam03", "cam04")
#: Qualisys intrinsics are in sub-pixel units of 1/64 pixel
QCA_SUBPIXEL = 64.0
#: the OpenCV camera frame from Qualisys' (x right, y up, looking along -z)
QUALISYS_TO_OPENCV = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class CalibratedCamera:
    """One calibrated view. rotation (3, 3): world -> camera (OpenCV frame: x right, y down, z
    forward); centre (3,) metres in the world (Z up); focal_u, focal_v, centre_u, centre_v px;
    distortion (5,): OpenCV's (k1, k2, p1, p2, k3), zeros for an ideal pinhole."""

    name: str
    rotation: np.ndarray
    centre: np.ndarray
    focal_u: float
    focal_v: float
    centre_u: float
    centre_v: float
    distortion: np.ndarray = field(default_factory=lambda: np.zeros(5))

    @property
    def up_cam(self) -> np.ndarray:
        """World up in camera coordinates (3,): the true ground normal."""
        return self.rotation[:, 2].copy()

    @property
    def height_m(self) -> float:
        return float(self.centre[2])

    @property
    def pitch_deg(self) -> float:
        return camera_angles(self.up_cam)[0]

    @property
    def roll_deg(self) -> float:
        return camera_angles(self.up_cam)[1]

    @property
    def matrix(self) -> np.ndarray:
        """The intrinsic matrix K (3, 3)."""
        return np.array([[self.focal_u, 0.0, self.centre_u], [0.0, self.focal_v, self.centre_v], [0.0, 0.0, 1.0]])

    @property
    def projection(self) -> np.ndarray:
        """P = K [R | -R c] (3, 4): world metres -> homogeneous undistorted pixels."""
        return self.matrix @ np.hstack([self.rotation, -(self.rotation @ self.centre)[:, None]])

    def to_world(self, points_cam: np.ndarray) -> np.ndarray:
        """Camera-frame points (..., 3) metres -> world (..., 3) metres."""
        return np.asarray(points_cam, dtype=np.float64) @ self.rotation + self.centre

    def to_camera(self, points_world: np.ndarray) -> np.ndarray:
        """World points (..., 3) metres -> camera frame (..., 3) metres."""
        return (np.asarray(points_world, dtype=np.float64) - self.centre) @ self.rotation.T

    def project(self, points_world: np.ndarray, distort: bool = True) -> np.ndarray:
        """World points (..., 3) metres -> pixels (..., 2) of the image (distorted unless told)."""
        cam = self.to_camera(points_world)
        xy = cam[..., :2] / cam[..., 2:3]
        if distort:
            xy = _distort(xy, self.distortion)
        return xy * [self.focal_u, self.focal_v] + [self.centre_u, self.centre_v]

    def undistort(self, pixels: np.ndarray) -> np.ndarray:
        """Image pixels (..., 2) -> the pixels an ideal pinhole would give (..., 2); NaN stays NaN."""
        px = np.asarray(pixels, dtype=np.float64)
        if not np.any(self.distortion):
            return px.copy()
        flat = px.reshape(-1, 1, 2)
        good = np.isfinite(flat).all(-1)[:, 0]
        out = np.full_like(flat, np.nan)
        if good.any():
            out[good] = cv2.undistortPointsIter(flat[good], self.matrix, self.distortion, np.eye(3), self.matrix,
                                                (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-9))
        return out.reshape(px.shape)

    def without_distortion(self) -> "CalibratedCamera":
        return CalibratedCamera(self.name, self.rotation, self.centre, self.focal_u, self.focal_v,
                                self.centre_u, self.centre_v, np.zeros(5))


def _distort(xy: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Normalised image coordinates (..., 2) through the Brown-Conrady model (k1, k2, p1, p2, k3)."""
    k1, k2, p1, p2, k3 = (float(v) for v in dist)
    x, y = xy[..., 0], xy[..., 1]
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([xd, yd], -1)


def read_qca(path: Path, axes: str = "rows") -> dict[str, CalibratedCamera]:
    """The cameras of a Qualisys .qca calibration (the module docstring), by serial. axes:
    "rows" (the convention found) or "columns" (the other reading, for the convention check)."""
    if axes not in ("rows", "columns"):
        raise ValueError(f"axes must be 'rows' or 'columns', got {axes!r}")
    cameras = {}
    for cam in ET.parse(path).getroot().iter("camera"):
        t, k = cam.find("transform").attrib, cam.find("intrinsic").attrib
        r = np.array([[float(t[f"r{i}{j}"]) for j in "123"] for i in "123"])
        if axes == "columns":
            r = r.T
        dist = np.array([float(k.get(key, 0.0)) for key in ("radialDistortion1", "radialDistortion2",
                                                              "tangentalDistortion1", "tangentalDistortion2",
                                                              "radialDistortion3")])
        cameras[cam.attrib["serial"]] = CalibratedCamera(
            name=cam.attrib["serial"], rotation=QUALISYS_TO_OPENCV @ r,
            centre=np.array([float(t[a]) for a in "xyz"]) / 1000.0,
            focal_u=float(k["focalLengthU"]) / QCA_SUBPIXEL, focal_v=float(k["focalLengthV"]) / QCA_SUBPIXEL,
            centre_u=float(k["centerPointU"]) / QCA_SUBPIXEL, centre_v=float(k["centerPointV"]) / QCA_SUBPIXEL,
            distortion=dist)
    return cameras


def extract_demo_multiperson(folder: Path) -> tuple[dict[str, Path], Path]:
    """Write Demo_MultiPerson's four videos and its calibration from the pose2sim wheel into
    ``folder``: ({view: video path}, calibration path)."""
    if not POSE2SIM_WHEEL.is_file():
        raise SystemExit(f"missing {POSE2SIM_WHEEL} (run sample_videos/fetch.py)")
    videos, calib = {}, None
    with zipfile.ZipFile(POSE2SIM_WHEEL) as wheel:
        for name in wheel.namelist():
            if "Demo_MultiPerson/" not in name:
                continue
            if "/videos/" in name and Path(name).stem in VIEWS:
                videos[Path(name).stem] = folder / f"multiperson_{Path(name).name}"
                videos[Path(name).stem].write_bytes(wheel.read(name))
            elif name.endswith("calibration/Calib.qca.txt"):
                calib = folder / "Calib.qca.txt"
                calib.write_bytes(wheel.read(name))
    if calib is None or set(videos) != set(VIEWS):
        raise SystemExit(f"Demo_MultiPerson videos {VIEWS} and Calib.qca.txt not all in {POSE2SIM_WHEEL.name}")
    return videos, calib
