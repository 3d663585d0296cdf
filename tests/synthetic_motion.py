"""Known 3D human motion seen by a known camera, generated procedurally (a shared test helper).

World frame of the generated motion: metres, z UP, the floor (the soles) is z = 0, right-handed;
the person's first pelvis is above the world origin. H36M-17 joints (``lifter.skeleton``). The
ankle joints of a planted foot are ``ANKLE_HEIGHT_M`` = 0.08 m above the floor (as in the open
mocap data and ``demo.ground``).

:func:`walk_and_jump` (default 30 fps, ~6.3 s): the person walks ``strides`` strides
(1.2 m each, 1.1 s each, ~1.1 m/s; each foot planted 60% of the stride, so a stance ankle is
exactly still on the floor and both feet are down in double support; the swing foot lifts 8 cm),
settles (the rear foot steps next to the front one, the pelvis stops above them), stands, crouches
(15 cm), jumps straight up (both feet leave the floor, apex ``jump_m`` = 0.3 m, flight
2 sqrt(2 h / g) = 0.49 s), lands (knees absorb 12 cm) and stands. The torso leans forward 4 deg
when walking, 15 deg in the crouch (so body up is not exactly vertical); the arms swing.
The camera: 1280 x 720, 60 deg horizontal field of view (f = 1108.5 px, centre in the middle),
1.8 m above the floor, pitched 14 deg down, rolled 2 deg, 6.5 m from the middle of the walk,
looking across it (the walk goes left to right in the image and 20 deg away from the camera).
Everything stays inside the image (checked).

Ground truth in :class:`SyntheticScene`: world joints, camera (world -> camera rotation,
position, intrinsics, pitch/height/roll as ``demo.ground.Ground`` defines them), camera-frame
joints, root-relative 3D (what a perfect lifter gives), pixels, scores, per-frame foot contacts
(r_ankle, l_ankle) and the flight frames of the jump.

:func:`standing` (a person standing still, swaying slightly), :func:`on_platform` (standing or
balancing on one leg, leaning far, on a raised platform), :func:`floating` (feet cycling in the
air: never a contact) and :func:`scene_from_world` (any world motion through a camera) build
other scenes; :func:`add_noise` and :func:`drop_joints` degrade the observations (not the truth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

G = 9.81
ANKLE_HEIGHT_M = 0.08
THIGH_M, SHANK_M = 0.43, 0.44
UPPER_ARM_M, FOREARM_M = 0.27, 0.25
HIP_HALF_WIDTH_M, SHOULDER_HALF_WIDTH_M = 0.12, 0.17
FOOT_HALF_GAP_M = 0.11   # ankle to the walking line, sideways
STAND_PELVIS_M = 0.92    # pelvis height standing (legs nearly straight: 0.84 of 0.87 m)
WALK_PELVIS_M = 0.87    # with a 1.5 cm bob, lowest in double support: the legs reach the feet
STRIDE_M, STRIDE_S = 1.2, 1.1
STANCE_FRACTION = 0.6
SWING_LIFT_M = 0.08


@dataclass(frozen=True)
class SyntheticCamera:
    """A pinhole camera in a z-up world.

    rotation (3, 3) world -> camera (rows: camera x right, y down, z forward in world
    coordinates); position (3,) world metres; focal px; center (2,) px; width, height px.
    height_m = position z (above the floor); pitch_deg: optical axis below the horizon (positive
    down); roll_deg: as ``demo.ground.Ground.roll_deg`` (world up seen in the image, from image
    up towards image right).
    """

    rotation: np.ndarray
    position: np.ndarray
    focal: float
    center: np.ndarray
    width: int
    height: int
    pitch_deg: float
    height_m: float
    roll_deg: float

    @property
    def up_cam(self) -> np.ndarray:
        """World up (0, 0, 1) in camera coordinates (3,): the true ground normal."""
        return self.rotation[:, 2].copy()

    def to_camera(self, world: np.ndarray) -> np.ndarray:
        """World points (..., 3) -> camera frame (..., 3)."""
        return (np.asarray(world, dtype=np.float64) - self.position) @ self.rotation.T

    def project(self, cam: np.ndarray) -> np.ndarray:
        """Camera-frame points (..., 3) -> pixels (..., 2)."""
        return cam[..., :2] / cam[..., 2:3] * self.focal + self.center


@dataclass(frozen=True)
class SyntheticScene:
    """One person's generated motion and its observations.

    fps; time_s (T,); world (T, 17, 3) metres z up; camera (SyntheticCamera); cam (T, 17, 3)
    camera frame; kp3d_rel (T, 17, 3) root-relative camera frame; kp2d (T, 17, 2) px;
    scores (T, 17); valid (T,) bool; contact (T, 2) bool (r_ankle, l_ankle) planted (still, on
    the floor); jump_frames (K,) int: frames in the air; walked_m: horizontal path length of the
    pelvis (metres); pelvis_cam (T, 3) = cam[:, 0].
    """

    fps: float
    time_s: np.ndarray
    world: np.ndarray
    camera: SyntheticCamera
    cam: np.ndarray
    kp3d_rel: np.ndarray
    kp2d: np.ndarray
    scores: np.ndarray
    valid: np.ndarray
    contact: np.ndarray
    jump_frames: np.ndarray
    walked_m: float

    @property
    def pelvis_cam(self) -> np.ndarray:
        return self.cam[:, 0]


def make_camera(target_xy, distance_m: float = 6.5, height_m: float = 1.8, pitch_deg: float = 14.0,
                roll_deg: float = 2.0, yaw_deg: float = 90.0, width: int = 1280, height: int = 720,
                fov_deg: float = 60.0) -> SyntheticCamera:
    """A camera ``distance_m`` (horizontally) from the floor point ``target_xy``, looking towards it
    along the horizontal direction ``yaw_deg`` (from world +x towards +y), ``height_m`` up,
    pitched and rolled as :class:`SyntheticCamera` defines; fov along the width."""
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    look = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    position = np.array([*(np.asarray(target_xy, dtype=np.float64) - distance_m * look[:2]), height_m])
    forward = math.cos(pitch) * look + np.array([0.0, 0.0, -math.sin(pitch)])
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    # roll_deg is the angle of world up in the image (see Ground.roll_deg): rotate the image axes
    # about the optical axis by -roll
    rho = -math.radians(roll_deg)
    right, down = math.cos(rho) * right + math.sin(rho) * down, -math.sin(rho) * right + math.cos(rho) * down
    focal = width / 2.0 / math.tan(math.radians(fov_deg) / 2.0)
    return SyntheticCamera(rotation=np.stack([right, down, forward]), position=position, focal=focal,
                           center=np.array([width / 2.0, height / 2.0]), width=width, height=height,
                           pitch_deg=pitch_deg, height_m=height_m, roll_deg=roll_deg)


def _knee(hip: np.ndarray, ankle: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Two-link leg: the knee (T, 3) between hip and ankle (T, 3), bending towards ``forward``."""
    d = ankle - hip
    dist = np.linalg.norm(d, axis=-1, keepdims=True)
    e = d / dist
    dist = np.minimum(dist, 0.999 * (THIGH_M + SHANK_M))
    along = (THIGH_M ** 2 - SHANK_M ** 2 + dist ** 2) / (2 * dist)
    out = np.sqrt(np.maximum(THIGH_M ** 2 - along ** 2, 0.0))
    perp = forward - (e * forward).sum(-1, keepdims=True) * e
    perp /= np.linalg.norm(perp, axis=-1, keepdims=True)
    return hip + along * e + out * perp


def _smooth(q: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope at both ends."""
    q = np.clip(q, 0.0, 1.0)
    return (1.0 - np.cos(np.pi * q)) / 2.0


def _hermite(q: np.ndarray, duration: float, p0: float, p1: float, v0: float, v1: float) -> np.ndarray:
    """Cubic from p0 (velocity v0) to p1 (velocity v1) over ``duration`` s, q in [0, 1]."""
    q2, q3 = q * q, q * q * q
    return ((2 * q3 - 3 * q2 + 1) * p0 + (q3 - 2 * q2 + q) * duration * v0
            + (-2 * q3 + 3 * q2) * p1 + (q3 - q2) * duration * v1)


def _assemble(pelvis: np.ndarray, forward: np.ndarray, ankle_r: np.ndarray, ankle_l: np.ndarray,
              lean_rad: np.ndarray, arm_swing_rad: np.ndarray) -> np.ndarray:
    """World joints (T, 17, 3) from the pelvis, the facing direction (3,), ankles, lean, arm swing."""
    num = len(pelvis)
    up = np.array([0.0, 0.0, 1.0])
    right = np.cross(forward, up)
    joints = np.zeros((num, 17, 3))
    joints[:, 0] = pelvis
    joints[:, 1] = pelvis + HIP_HALF_WIDTH_M * right
    joints[:, 4] = pelvis - HIP_HALF_WIDTH_M * right
    joints[:, 3], joints[:, 6] = ankle_r, ankle_l
    fwd = np.broadcast_to(forward, (num, 3))
    joints[:, 2] = _knee(joints[:, 1], ankle_r, fwd)
    joints[:, 5] = _knee(joints[:, 4], ankle_l, fwd)
    torso = np.cos(lean_rad)[:, None] * up + np.sin(lean_rad)[:, None] * forward
    front = -np.sin(lean_rad)[:, None] * up + np.cos(lean_rad)[:, None] * forward  # unit, _|_ torso
    joints[:, 7] = pelvis + 0.25 * torso
    thorax = pelvis + 0.5 * torso
    joints[:, 8] = thorax
    joints[:, 9] = thorax + 0.10 * torso + 0.08 * front
    joints[:, 10] = thorax + 0.23 * torso + 0.02 * front
    for shoulder, elbow, wrist, side, sign in ((11, 12, 13, -1.0, 1.0), (14, 15, 16, 1.0, -1.0)):
        sh = thorax + side * SHOULDER_HALF_WIDTH_M * right - 0.03 * torso
        swing = sign * arm_swing_rad
        upper = -np.cos(swing)[:, None] * torso + np.sin(swing)[:, None] * front
        fore_angle = swing + 0.35
        lower = -np.cos(fore_angle)[:, None] * torso + np.sin(fore_angle)[:, None] * front
        joints[:, shoulder] = sh
        joints[:, elbow] = sh + UPPER_ARM_M * upper
        joints[:, wrist] = joints[:, elbow] + FOREARM_M * lower
    return joints


def scene_from_world(world: np.ndarray, camera: SyntheticCamera, fps: float, contact: np.ndarray | None = None,
                     jump_frames=(), score: float = 0.9, check_visible: bool = True) -> SyntheticScene:
    """Observe world joints (T, 17, 3) (z up) with ``camera``: camera frame, root-relative 3D,
    pixels, constant scores. contact (T, 2) bool (default: none). ValueError if a joint falls
    outside the image or within 0.5 m of the camera (``check_visible``)."""
    world = np.asarray(world, dtype=np.float64)
    num = len(world)
    cam = camera.to_camera(world)
    kp2d = camera.project(cam)
    if check_visible:
        inside = (cam[..., 2] > 0.5).all() and (kp2d >= 0).all() and (kp2d[..., 0] <= camera.width).all() \
            and (kp2d[..., 1] <= camera.height).all()
        if not inside:
            raise ValueError("the synthetic motion leaves the camera's image")
    pelvis_xy = world[:, 0, :2]
    walked = float(np.linalg.norm(np.diff(pelvis_xy, axis=0), axis=-1).sum()) if num > 1 else 0.0
    return SyntheticScene(
        fps=float(fps), time_s=np.arange(num) / float(fps), world=world, camera=camera, cam=cam,
        kp3d_rel=cam - cam[:, :1], kp2d=kp2d, scores=np.full((num, 17), score),
        valid=np.ones(num, bool),
        contact=np.zeros((num, 2), bool) if contact is None else np.asarray(contact, dtype=bool),
        jump_frames=np.asarray(jump_frames, dtype=np.int64), walked_m=walked)


def walk_and_jump(fps: float = 30.0, seed: int = 0, camera: SyntheticCamera | None = None,
                  start_xy=(0.0, 0.0), heading_deg: float | None = None, strides: int = 3,
                  jump_m: float = 0.3) -> SyntheticScene:
    """The walk, stop, crouch and vertical jump of the module docstring.

    seed: draws the body size (x0.95-1.05 for the upper body) and the heading (0 +- 10 deg from
    world +x) unless ``heading_deg`` is given. camera: default ``make_camera`` aimed at the
    middle of the walk from its left side (the walk crosses the image left to right, moving 20
    deg away from the camera).
    """
    rng = np.random.default_rng(seed)
    body = rng.uniform(0.95, 1.05)
    heading = math.radians(rng.uniform(-10.0, 10.0) if heading_deg is None else heading_deg)
    fwd = np.array([math.cos(heading), math.sin(heading), 0.0])
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    start = np.array([*np.asarray(start_xy, dtype=np.float64), 0.0])
    speed = STRIDE_M / STRIDE_S
    v_jump = math.sqrt(2 * G * jump_m)
    segments = {  # name: duration (s)
        "walk": strides * STRIDE_S, "settle": 0.5, "stand1": 0.4, "crouch": 0.35, "push": 0.15,
        "flight": 2 * v_jump / G, "absorb": 0.25, "recover": 0.35, "stand2": 0.5,
    }
    bounds = np.cumsum([0.0] + list(segments.values()))
    starts = dict(zip(segments, bounds[:-1]))
    num = int(math.floor(bounds[-1] * fps)) + 1
    t = np.arange(num) / float(fps)
    seg = np.searchsorted(bounds, t, side="right") - 1
    seg = np.clip(seg, 0, len(segments) - 1)
    names = list(segments)

    def local(name: str) -> tuple[np.ndarray, np.ndarray]:
        m = seg == names.index(name)
        return m, (t[m] - starts[name]) / segments[name]

    along = np.zeros(num)         # pelvis along the heading
    z = np.full(num, STAND_PELVIS_M)
    foot_along = np.zeros((num, 2))  # (right, left)
    foot_z = np.full((num, 2), ANKLE_HEIGHT_M)
    contact = np.zeros((num, 2), bool)
    lean = np.full(num, math.radians(1.0))
    swing = np.zeros(num)

    # walk: foot phase s = t / P + offset (right 0, left 0.5); stance for phase < 0.6, planted
    # where the pelvis is at mid-stance
    m, q = local("walk")
    tw = t[m]
    along[m] = speed * tw
    z[m] = WALK_PELVIS_M + 0.015 * np.cos(4 * np.pi * tw / STRIDE_S + np.pi)
    lean[m] = math.radians(4.0)
    swing[m] = 0.35 * np.sin(2 * np.pi * tw / STRIDE_S)
    for foot, offset in ((0, 0.0), (1, 0.5)):
        s = tw / STRIDE_S + offset
        k = np.floor(s)
        phase = s - k
        plant = STRIDE_M * (k + STANCE_FRACTION / 2 - offset)
        stance = phase < STANCE_FRACTION
        qs = (phase - STANCE_FRACTION) / (1 - STANCE_FRACTION)
        foot_along[m, foot] = np.where(stance, plant, plant + STRIDE_M * _smooth(qs))
        lift = SWING_LIFT_M * np.sin(np.pi * np.clip(qs, 0, 1))
        foot_z[m, foot] = np.where(stance, ANKLE_HEIGHT_M, ANKLE_HEIGHT_M + lift)
        contact[m, foot] = stance
    # the end of the walk: the right foot has just been planted, the left is behind
    walk_end = segments["walk"]
    right_plant = STRIDE_M * (strides + STANCE_FRACTION / 2)
    left_plant = STRIDE_M * (strides + STANCE_FRACTION / 2 - 0.5)
    z_end = WALK_PELVIS_M + 0.015 * np.cos(4 * np.pi * walk_end / STRIDE_S + np.pi)

    m, q = local("settle")
    along[m] = _hermite(q, segments["settle"], speed * walk_end, right_plant, speed, 0.0)
    z[m] = z_end + (STAND_PELVIS_M - z_end) * _smooth(q)
    lean[m] = math.radians(4.0) + (math.radians(1.0) - math.radians(4.0)) * _smooth(q)
    swing[m] = 0.35 * np.sin(2 * np.pi * walk_end / STRIDE_S) * (1 - _smooth(q))
    foot_along[m, 0] = right_plant
    contact[m, 0] = True
    foot_along[m, 1] = left_plant + (right_plant - left_plant) * _smooth(q)
    foot_z[m, 1] = ANKLE_HEIGHT_M + SWING_LIFT_M * np.sin(np.pi * q)
    after = t >= starts["settle"] + segments["settle"]
    foot_along[after] = right_plant
    along[after] = right_plant

    for name in ("stand1", "crouch", "push", "absorb", "recover", "stand2"):
        contact[local(name)[0]] = True
    m, q = local("crouch")
    z[m] = STAND_PELVIS_M - 0.15 * _smooth(q)
    lean[m] = math.radians(1.0) + math.radians(14.0) * _smooth(q)
    swing[m] = -0.6 * _smooth(q)
    m, q = local("push")
    z[m] = _hermite(q, segments["push"], STAND_PELVIS_M - 0.15, STAND_PELVIS_M, 0.0, v_jump)
    lean[m] = math.radians(15.0) - math.radians(14.0) * _smooth(q)
    swing[m] = -0.6 + 1.4 * _smooth(q)
    m, q = local("flight")
    tau = q * segments["flight"]
    rise = v_jump * tau - G * tau ** 2 / 2
    z[m] = STAND_PELVIS_M + rise
    foot_z[m] = ANKLE_HEIGHT_M + rise[:, None]
    swing[m] = 0.8 * (1 - _smooth(q))
    jump_frames = np.flatnonzero(m & (t > starts["flight"]))
    m, q = local("absorb")
    z[m] = _hermite(q, segments["absorb"], STAND_PELVIS_M, STAND_PELVIS_M - 0.12, -v_jump, 0.0)
    lean[m] = math.radians(1.0) + math.radians(9.0) * np.sin(np.pi * q / 2)
    m, q = local("recover")
    z[m] = STAND_PELVIS_M - 0.12 + 0.12 * _smooth(q)
    lean[m] = math.radians(10.0) - math.radians(9.0) * _smooth(q)

    lateral = np.array([FOOT_HALF_GAP_M, -FOOT_HALF_GAP_M])  # right foot on the right side
    pelvis = start + along[:, None] * fwd + z[:, None] * np.array([0.0, 0.0, 1.0])
    ankles = (start + foot_along[..., None] * fwd + lateral[None, :, None] * right
              + foot_z[..., None] * np.array([0.0, 0.0, 1.0]))
    world = _assemble(pelvis, fwd, ankles[:, 0], ankles[:, 1], lean, swing)
    # body size: scale the upper body about the pelvis (the legs are fixed by the feet)
    world[:, 7:] = pelvis[:, None] + body * (world[:, 7:] - pelvis[:, None])
    if camera is None:
        middle = start[:2] + fwd[:2] * right_plant / 2
        yaw = math.degrees(heading) + 90.0 - 20.0
        camera = make_camera(middle, yaw_deg=yaw)
    return scene_from_world(world, camera, fps, contact, jump_frames)


def standing(fps: float = 30.0, seconds: float = 2.0, seed: int = 0, camera: SyntheticCamera | None = None,
             position_xy=(0.0, 0.0), heading_deg: float = 0.0) -> SyntheticScene:
    """A person standing still (feet planted, pelvis and torso swaying by ~1 cm)."""
    rng = np.random.default_rng(seed)
    num = int(round(seconds * fps))
    t = np.arange(num) / float(fps)
    heading = math.radians(heading_deg)
    fwd = np.array([math.cos(heading), math.sin(heading), 0.0])
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    base = np.array([*np.asarray(position_xy, dtype=np.float64), 0.0])
    phase = rng.uniform(0, 2 * np.pi)
    sway = 0.01 * np.sin(2 * np.pi * 0.3 * t + phase)
    pelvis = base + sway[:, None] * right + np.array([0.0, 0.0, STAND_PELVIS_M])
    ankles = [base + side * FOOT_HALF_GAP_M * right + np.array([0.0, 0.0, ANKLE_HEIGHT_M]) for side in (1, -1)]
    world = _assemble(pelvis, fwd, np.broadcast_to(ankles[0], (num, 3)), np.broadcast_to(ankles[1], (num, 3)),
                      np.full(num, math.radians(1.0)), np.zeros(num))
    if camera is None:
        camera = make_camera(base[:2], yaw_deg=heading_deg + 90.0 - 20.0)
    return scene_from_world(world, camera, fps, np.ones((num, 2), bool))


def on_platform(platform_m: float = 0.0, fps: float = 30.0, seconds: float = 2.0, seed: int = 0,
                camera: SyntheticCamera | None = None, position_xy=(0.0, 0.0), heading_deg: float = 0.0,
                balancing: bool = False, check_visible: bool = True) -> SyntheticScene:
    """A person standing still on a level platform (a box, a treadmill) whose top is ``platform_m``
    above the floor: the soles at world z = platform_m, the planted ankles ANKLE_HEIGHT_M higher.

    balancing=False: :func:`standing` lifted onto the platform (both feet planted). balancing=True:
    like the person on the treadmill in pose2sim's Demo_MultiPerson: on the right foot only (the
    contacts), the left ankle held still 0.3 m higher and 0.35 m behind (never a contact: not the
    lower ankle), the pelvis 6 cm towards the stance foot, the torso leaning forward by 25 +- 10
    deg (0.4 Hz, random phase) and the arms waving, so that this person's pelvis->thorax
    directions are far from vertical and spread. camera: default as :func:`standing`'s. ValueError
    if the person leaves the image (``check_visible``, as :func:`scene_from_world`).
    """
    rng = np.random.default_rng(seed)
    num = int(round(seconds * fps))
    lift = np.array([0.0, 0.0, float(platform_m)])
    if camera is None:
        camera = make_camera(np.asarray(position_xy, dtype=np.float64), yaw_deg=heading_deg + 90.0 - 20.0)
    if not balancing:
        still = standing(fps, seconds, seed, camera, position_xy, heading_deg)
        return scene_from_world(still.world + lift, camera, fps, still.contact, check_visible=check_visible)
    t = np.arange(num) / float(fps)
    heading = math.radians(heading_deg)
    fwd = np.array([math.cos(heading), math.sin(heading), 0.0])
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    base = np.array([*np.asarray(position_xy, dtype=np.float64), 0.0]) + lift
    phase = rng.uniform(0, 2 * np.pi)
    lean = np.radians(25.0 + 10.0 * np.sin(2 * np.pi * 0.4 * t + phase))
    swing = 0.8 * np.sin(2 * np.pi * 0.4 * t + phase + 1.0)
    pelvis = np.broadcast_to(base + 0.06 * right + np.array([0.0, 0.0, STAND_PELVIS_M]), (num, 3))
    stance = base + FOOT_HALF_GAP_M * right + np.array([0.0, 0.0, ANKLE_HEIGHT_M])
    lifted = base - FOOT_HALF_GAP_M * right - 0.35 * fwd + np.array([0.0, 0.0, ANKLE_HEIGHT_M + 0.3])
    world = _assemble(pelvis, fwd, np.broadcast_to(stance, (num, 3)), np.broadcast_to(lifted, (num, 3)), lean, swing)
    contact = np.zeros((num, 2), bool)
    contact[:, 0] = True
    return scene_from_world(world, camera, fps, contact, check_visible=check_visible)


def floating(fps: float = 30.0, seconds: float = 2.0, camera: SyntheticCamera | None = None) -> SyntheticScene:
    """A person held 0.3 m above the floor, feet cycling (as on a bicycle): never a contact."""
    num = int(round(seconds * fps))
    t = np.arange(num) / float(fps)
    fwd = np.array([1.0, 0.0, 0.0])
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    pelvis = np.broadcast_to(np.array([0.0, 0.0, STAND_PELVIS_M + 0.3]), (num, 3))
    ankles = []
    for side, phase in ((1, 0.0), (-1, np.pi)):
        angle = 2 * np.pi * 1.0 * t + phase  # one turn a second, 0.12 m radius: ~0.75 m/s
        ankles.append(np.array([0.1, 0.0, 0.55])[None] + side * FOOT_HALF_GAP_M * right
                      + 0.12 * (np.cos(angle)[:, None] * fwd + np.sin(angle)[:, None] * np.array([0.0, 0.0, 1.0])))
    world = _assemble(pelvis, fwd, ankles[0], ankles[1], np.full(num, math.radians(5.0)), np.zeros(num))
    if camera is None:
        camera = make_camera((0.0, 0.0), yaw_deg=70.0)
    return scene_from_world(world, camera, fps)


def add_noise(scene: SyntheticScene, rng: np.random.Generator, px_sigma: float = 2.0,
              mm_sigma: float = 20.0) -> SyntheticScene:
    """A copy with Gaussian noise on the observations: ``px_sigma`` pixels on kp2d and ``mm_sigma``
    millimetres on every non-root joint of kp3d_rel (the pelvis stays 0). Truth is unchanged."""
    kp2d = scene.kp2d + rng.normal(0.0, px_sigma, scene.kp2d.shape)
    rel = scene.kp3d_rel + rng.normal(0.0, mm_sigma / 1000.0, scene.kp3d_rel.shape)
    rel[:, 0] = 0.0
    return replace(scene, kp2d=kp2d, kp3d_rel=rel)


def drop_joints(scene: SyntheticScene, rng: np.random.Generator, fraction: float = 0.1) -> SyntheticScene:
    """A copy where a random ``fraction`` of the 2D joints are missing (NaN, score 0)."""
    drop = rng.random(scene.scores.shape) < fraction
    kp2d = np.where(drop[..., None], np.nan, scene.kp2d)
    return replace(scene, kp2d=kp2d, scores=np.where(drop, 0.0, scene.scores))
