"""Virtual pinhole cameras for making 2D inputs from 3D motion: sampling, world->camera, projection.

Frames and units: world points in metres with Y up (the open mocap frame, right-handed); camera
frame x right, y down, z forward (see lifter.skeleton); pixels x right, y down, origin top-left.
All functions work on whole batches (B cameras, one per pose).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORLD_UP = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True)
class CameraRanges:
    """Ranges the virtual cameras are drawn from (uniform unless said otherwise)."""

    fov_deg: tuple[float, float] = (40.0, 85.0)        # horizontal field of view
    distance_m: tuple[float, float] = (2.5, 9.0)       # camera to the pelvis
    elevation_deg: tuple[float, float] = (-10.0, 40.0)  # camera height angle above the pelvis
    roll_std_deg: float = 3.0                          # Gaussian roll about the optical axis
    aim_jitter: float = 0.35                           # pan/tilt off the pelvis, fraction of half the fov
    principal_jitter: float = 0.02                     # principal point shift, fraction of width/height
    image_sizes: tuple[tuple[int, int], ...] = ((1920, 1080), (1280, 720), (1080, 1920), (1000, 1000))
    min_depth_m: float = 0.5                           # reject views with a point closer than this
    max_tries: int = 30                                # resampling rounds before the safe fallback view


@dataclass
class Cameras:
    """A batch of pinhole cameras.

    rotation (B, 3, 3): world -> camera (rows are the camera axes in world coordinates);
    position (B, 3) metres, world; focal (B,) pixels (square pixels); center (B, 2) pixels;
    size (B, 2) int, image width and height in pixels.
    """

    rotation: np.ndarray
    position: np.ndarray
    focal: np.ndarray
    center: np.ndarray
    size: np.ndarray


def world_to_camera(points: np.ndarray, cams: Cameras) -> np.ndarray:
    """World points (B, K, 3) metres -> camera frame (B, K, 3) metres."""
    return np.einsum("bij,bkj->bki", cams.rotation, points - cams.position[:, None, :])


def project(points_cam: np.ndarray, focal: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Camera-frame points (B, K, 3) -> pixels (B, K, 2); focal (B,), center (B, 2)."""
    return points_cam[..., :2] / points_cam[..., 2:3] * focal[:, None, None] + center[:, None, :]


def unproject(pixels: np.ndarray, depth: np.ndarray, focal: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Inverse of :func:`project`: pixels (B, K, 2) and depths z (B, K) -> camera frame (B, K, 3)."""
    xy = (pixels - center[:, None, :]) / focal[:, None, None] * depth[..., None]
    return np.concatenate([xy, depth[..., None]], -1)


def look_at(position: np.ndarray, target: np.ndarray, roll_rad: np.ndarray) -> np.ndarray:
    """World -> camera rotations (B, 3, 3) of cameras at ``position`` (B, 3) looking at ``target``.

    The image x axis is horizontal before the roll (radians, about the optical axis) is applied.
    """
    forward = target - position
    forward /= np.linalg.norm(forward, axis=-1, keepdims=True)
    right = np.cross(forward, WORLD_UP)
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    down = np.cross(forward, right)
    c, s = np.cos(roll_rad)[:, None], np.sin(roll_rad)[:, None]
    right, down = c * right + s * down, -s * right + c * down
    return np.stack([right, down, forward], axis=1)


def _draw(rng: np.random.Generator, n: int, pelvis: np.ndarray, r: CameraRanges, safe: bool) -> Cameras:
    sizes = np.array(r.image_sizes, dtype=np.int64)[rng.integers(0, len(r.image_sizes), n)]
    fov = np.deg2rad(np.full(n, r.fov_deg[1]) if safe else rng.uniform(*r.fov_deg, n))
    dist = np.full(n, r.distance_m[1]) if safe else rng.uniform(*r.distance_m, n)
    elev = np.deg2rad(np.zeros(n) if safe else rng.uniform(*r.elevation_deg, n))
    azim = rng.uniform(0.0, 2 * np.pi, n)
    offset = np.stack([np.cos(elev) * np.sin(azim), np.sin(elev), np.cos(elev) * np.cos(azim)], -1)
    position = pelvis + dist[:, None] * offset
    # aim: a target shifted sideways/vertically so the person is not always in the image centre
    half = np.tan(fov / 2) * dist
    jitter = 0.0 if safe else r.aim_jitter
    shift = rng.uniform(-jitter, jitter, (n, 2)) * half[:, None]
    side = np.cross(-offset, WORLD_UP)
    side /= np.linalg.norm(side, axis=-1, keepdims=True)
    target = pelvis + shift[:, :1] * side + shift[:, 1:] * WORLD_UP
    roll = np.zeros(n) if safe else np.deg2rad(rng.normal(0.0, r.roll_std_deg, n))
    focal = sizes[:, 0] / 2 / np.tan(fov / 2)
    pj = 0.0 if safe else r.principal_jitter
    center = sizes / 2 * (1 + rng.uniform(-pj, pj, (n, 2)) * 2)
    return Cameras(look_at(position, target, roll), position, focal, center, sizes)


def _valid(points: np.ndarray, cams: Cameras, min_depth: float) -> np.ndarray:
    pc = world_to_camera(points, cams)
    in_front = (pc[..., 2] > min_depth).all(-1)
    px = project(np.where(pc[..., 2:3] > 1e-6, pc, 1.0), cams.focal, cams.center)
    inside = ((px >= 0) & (px <= cams.size[:, None, :])).all((-1, -2))
    return in_front & inside


def sample_cameras(rng: np.random.Generator, points: np.ndarray, root: int = 0,
                   ranges: CameraRanges = CameraRanges()) -> Cameras:
    """One random camera per pose that sees every point of it.

    points: (B, K, 3) metres, world, Y up; ``points[:, root]`` is the pelvis the camera aims at.
    Views with a point behind the camera, closer than ``min_depth_m`` or outside the image are
    redrawn (only those) up to ``max_tries`` rounds; what remains gets the safe view (widest fov,
    farthest distance, level, aimed at the pelvis).
    """
    n = points.shape[0]
    pelvis = points[:, root]
    cams = _draw(rng, n, pelvis, ranges, safe=False)
    bad = ~_valid(points, cams, ranges.min_depth_m)
    for attempt in range(ranges.max_tries + 1):
        if not bad.any():
            break
        idx = np.nonzero(bad)[0]
        new = _draw(rng, len(idx), pelvis[idx], ranges, safe=attempt == ranges.max_tries)
        for field in ("rotation", "position", "focal", "center", "size"):
            getattr(cams, field)[idx] = getattr(new, field)
        bad[idx] = ~_valid(points[idx], new, ranges.min_depth_m)
    return cams
