"""Results to export, made from known synthetic motion (a shared test helper for tests/test_export_*).

:func:`make_result`: 0, 1 or 2 people walking and jumping (tests/synthetic_motion.py), seen by the
synthetic camera, as a demo.outputs.Result with every array filled consistently: the world is the
generated motion itself (z up, ground z = 0), camera = its camera. ``gaps``: the second person
arrives late (absent in the first 10 frames) and misses frames 40-44; the first person misses
frames 20-21. Absent frames hold NaN / 0 / False like a real result.
"""

from __future__ import annotations

import numpy as np

from demo.motion import WORLD_GROUND, WorldCamera
from demo.outputs import Result
from tests.synthetic_motion import walk_and_jump

FIRST_MISSING = (20, 21)
SECOND_ABSENT_UNTIL = 10
SECOND_MISSING = tuple(range(40, 45))


def make_result(people: int = 2, frames: int = 90, fps: float = 30.0, gaps: bool = True) -> Result:
    both = [walk_and_jump(fps=fps, seed=0), walk_and_jump(fps=fps, seed=1, start_xy=(-0.5, 2.0), heading_deg=5.0)]
    scenes = both[:people]
    cam = both[0].camera
    T = min(frames, scenes[0].world.shape[0]) if people else frames
    P = len(scenes)
    kp2d = np.full((P, T, 17, 2), np.nan, np.float32)
    scores = np.zeros((P, T, 17), np.float32)
    kp3d = np.full((P, T, 17, 3), np.nan, np.float32)
    world = np.full((P, T, 17, 3), np.nan, np.float32)
    root = np.full((P, T, 3), np.nan, np.float32)
    valid = np.zeros((P, T), bool)
    for p, s in enumerate(scenes):
        kp2d[p], scores[p] = s.kp2d[:T], s.scores[:T]
        kp3d[p], world[p], root[p] = s.kp3d_rel[:T], s.world[:T], s.cam[:T, 0]
        valid[p] = True
    if gaps and P >= 1:
        missing = [(0, list(FIRST_MISSING))]
        if P >= 2:
            missing.append((1, list(range(SECOND_ABSENT_UNTIL)) + list(SECOND_MISSING)))
        for p, rows in missing:
            rows = [r for r in rows if r < T]
            kp2d[p, rows] = kp3d[p, rows] = world[p, rows] = np.nan
            root[p, rows] = np.nan
            scores[p, rows] = 0.0
            valid[p, rows] = False
    R = cam.rotation  # world -> camera
    camera = WorldCamera(focal_px=cam.focal, center_px=np.asarray(cam.center, float), kind=WORLD_GROUND,
                         to_world=R.T.copy(), origin_cam=-(R @ cam.position), height_m=cam.height_m,
                         pitch_deg=cam.pitch_deg, roll_deg=cam.roll_deg, contacts=100)
    return Result(keypoints_2d=kp2d, scores=scores, keypoints_3d=kp3d, keypoints_3d_world=world, valid=valid,
                  track_ids=np.arange(1, P + 1, dtype=np.int64), time_s=np.arange(T) / fps, fps=fps,
                  width=cam.width, height=cam.height, main_person=0 if P else -1, video="synthetic.mp4",
                  detector="synthetic", lifter="synthetic", root_translation=root, camera=camera,
                  smoothing="off")
