"""What every export shares: who is exported, file names, the Y-up frame and the marker names.

Input of every writer: a :class:`demo.outputs.Result` (P people, T frames, H36M-17). The exported
positions are ``keypoints_3d_world`` (metres, the world of demo/outputs.py: z up, z = 0 on the
ground; in the "fixed view" fallback the root-centred poses of that view). A person is present
in frame t when all 17 of its world joints are finite there (:func:`present`).

Y-up frame (BVH, TRC, the viewer): metres, ``(X, Y, Z) = (x, z, -y)`` of the world; right-handed,
Y up, X the camera's image-right direction along the ground, Z towards the camera. Blender's BVH
importer (Y up -> its Z up) turns it back into exactly the world of keypoints.npz.
"""

from __future__ import annotations

import numpy as np

from lifter.skeleton import JOINTS_17

#: H36M-17 joint -> marker name (TRC, C3D, CSV). The 14 shared with Pose2Sim's COCO-17 marker set
#: (Pose2Sim/OpenSim_Setup/Markers_Coco17.xml) carry its names (thorax = Neck: the point between
#: the shoulders; neck_nose = Nose); the other three: Hip (pelvis, Pose2Sim's name for the hip
#: centre), Spine and Head (the ear midpoint).
MARKERS: dict[str, str] = {
    "pelvis": "Hip", "r_hip": "RHip", "r_knee": "RKnee", "r_ankle": "RAnkle", "l_hip": "LHip",
    "l_knee": "LKnee", "l_ankle": "LAnkle", "spine": "Spine", "thorax": "Neck", "neck_nose": "Nose",
    "head": "Head", "l_shoulder": "LShoulder", "l_elbow": "LElbow", "l_wrist": "LWrist",
    "r_shoulder": "RShoulder", "r_elbow": "RElbow", "r_wrist": "RWrist",
}
#: marker names in H36M-17 order
MARKER_NAMES: tuple[str, ...] = tuple(MARKERS[j] for j in JOINTS_17)

#: world (z up) -> Y up: X = x, Y = z, Z = -y
WORLD_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def y_up(world: np.ndarray) -> np.ndarray:
    """World points (..., 3), z up -> the Y-up frame (..., 3) (module docstring); NaN stays NaN."""
    return np.asarray(world, dtype=np.float64) @ WORLD_TO_Y_UP.T


def present(world: np.ndarray) -> np.ndarray:
    """(..., T, 17, 3) -> (..., T) bool: every joint finite."""
    return np.isfinite(np.asarray(world)).all(axis=(-1, -2))


def exported_people(result) -> list[int]:
    """Indices into P of the people with at least one present frame (the ones given files)."""
    world = np.asarray(result.keypoints_3d_world)
    return [p for p in range(world.shape[0]) if present(world[p]).any()]


def person_stem(video_stem: str, track_id: int) -> str:
    """File stem of one person's per-skeleton exports: ``<video stem>_person<track ID>``."""
    return f"{video_stem}_person{int(track_id)}"
