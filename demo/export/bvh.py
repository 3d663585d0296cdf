"""BVH export of one tracked person: an H36M-17 skeleton animated by joint rotations (pybvh).

One file per person, ``T`` frames (every frame of the video), ``Frame Time`` = 1 / fps exactly
(the shortest decimal that reads back as the same float), Y up, metres. Rotations are computed
from the joint positions so that forward kinematics of the file puts every H36M joint where
``keypoints_3d_world`` has it (up to the bone lengths: the file's bones are the track's median
lengths, and the lifter's output already has constant bones).

Axes and units
--------------
The Y-up frame of :mod:`demo.export.common`: metres, ``(X, Y, Z) = (x, z, -y)`` of the world of
keypoints.npz (z up, ground z = 0); right-handed. Blender's BVH importer (forward -Z, up Y, its
defaults) turns it back into exactly that z-up world. Angles in the file: degrees (pybvh's
convention on disk).

Hierarchy (BVH joint -> the H36M-17 joint at its head)
------------------------------------------------------
Every joint whose rotation matters has exactly one child with a non-zero offset, so its rotation
can aim that bone exactly; where H36M branches (pelvis -> hips + spine, thorax -> neck + both
shoulders) the side branches start with a zero-offset joint at the parent (like the CMU mocap
files' LHipJoint / LeftShoulder).

============= ============= ====================== ===== ====================================================
BVH joint     parent        H36M joint at its head order rest offset from the parent (metres)
============= ============= ====================== ===== ====================================================
Hips (ROOT)   -             pelvis                 YZX   (0, 0, 0); 6 channels, X/Y/Z position first
RHipJoint     Hips          pelvis (zero offset)   YZX   (0, 0, 0)
RightUpLeg    RHipJoint     r_hip                  YZX   (-|pelvis-r_hip|, 0, 0)
RightLeg      RightUpLeg    r_knee                 YZX   (0, -|r_hip-r_knee|, 0)
RightFoot     RightLeg      r_ankle                YZX   (0, -|r_knee-r_ankle|, 0); End Site (0, -0.08, 0.10)
LHipJoint     Hips          pelvis (zero offset)   YZX   (0, 0, 0)
LeftUpLeg     LHipJoint     l_hip                  YZX   (+|pelvis-l_hip|, 0, 0)
LeftLeg       LeftUpLeg     l_knee                 YZX   (0, -|l_hip-l_knee|, 0)
LeftFoot      LeftLeg       l_ankle                YZX   (0, -|l_knee-l_ankle|, 0); End Site (0, -0.08, 0.10)
Spine         Hips          spine                  YZX   (0, |pelvis-spine|, 0)
Spine1        Spine         thorax                 YZX   (0, |spine-thorax|, 0)
Neck          Spine1        neck_nose              YZX   (0, |thorax-neck_nose|, 0)
Head          Neck          head                   YZX   (0, |neck_nose-head|, 0); End Site (0, 0.10, 0)
RightShoulder Spine1        thorax (zero offset)   ZXY   (0, 0, 0)
RightArm      RightShoulder r_shoulder             ZXY   (-|thorax-r_shoulder|, 0, 0)
RightForeArm  RightArm      r_elbow                ZXY   (-|r_shoulder-r_elbow|, 0, 0)
RightHand     RightForeArm  r_wrist                ZXY   (-|r_elbow-r_wrist|, 0, 0); End Site (-0.08, 0, 0)
LeftShoulder  Spine1        thorax (zero offset)   ZXY   (0, 0, 0)
LeftArm       LeftShoulder  l_shoulder             ZXY   (+|thorax-l_shoulder|, 0, 0)
LeftForeArm   LeftArm       l_elbow                ZXY   (+|l_shoulder-l_elbow|, 0, 0)
LeftHand      LeftForeArm   l_wrist                ZXY   (+|l_elbow-l_wrist|, 0, 0); End Site (+0.08, 0, 0)
============= ============= ====================== ===== ====================================================

Bone lengths ``|a-b|``: the median over the person's present frames of that H36M bone's length.
End Sites (not H36M joints, drawn only): the toes 8 cm below and 10 cm in front of the ankle, the
hands 8 cm beyond the wrist along the forearm, the top of the head 10 cm above the head joint.

Rest pose (all rotations zero): a T-pose facing +Z with Y up: legs straight down, trunk, neck
and head straight up, the hips and shoulders along X (left = +X, right = -X), the arms
horizontal along +-X, the feet pointing +Z.

Channels and Euler orders
-------------------------
Root: ``Xposition Yposition Zposition`` then its rotation; every other joint: 3 rotation
channels. The order is chosen per joint so that its middle angle (the one whose +-90 degrees is a
gimbal lock) is the one least likely to get there: ``Yrotation Zrotation Xrotation`` (YZX) for
the trunk and the legs (bone along Y: heading / twist first, flexion last, sideways lean in the
middle), ``Zrotation Xrotation Yrotation`` (ZXY) for the clavicles and arms (bone along X: the
twist about the bone in the middle). Rotations are intrinsic, ``R = R1(a1) R2(a2) R3(a3)`` in
channel order (the BVH convention). The angles are continuous over time: of the two Euler
triples of each rotation and their 360-degree shifts, each frame takes the one closest to the
previous frame (a person turning round keeps adding to the root's Y angle instead of jumping
back by 360 degrees).

Rotations from positions
------------------------
World rotation W of a joint: maps its rest frame onto a frame built from the current direction
of its child bone (exact) and a twist reference; local rotation = W_parent^T W (root: W).

- Hips: bone pelvis -> spine, twist from the hip axis (l_hip - r_hip <-> rest +X).
- Spine, Spine1: their bone (spine -> thorax, thorax -> neck_nose), twist from the shoulder axis
  (l_shoulder - r_shoulder <-> rest +X).
- Neck, the zero-offset hip joints, the shins and forearms: the minimal swing from the parent's
  frame that aims the bone (no twist about the bone of its own).
- Thighs: the knee's hinge axis (rest +X) from the leg plane, cross(thigh, shin) (length
  sin(bend)), plus w x the +X axis the minimal swing from the pelvis would give (about the hip
  axis), w = ``HINGE_BLEND`` (0.25) x (1 - sin(bend) / sin(``PURE_HINGE_DEG`` = 30 degrees)),
  0 beyond: a straight leg keeps a defined twist that turns continuously into the leg plane's
  as the knee bends. The shin then swings from the thigh, so a knee bent 30 degrees or more is
  a pure hinge about +X (its local rotation has no other component).
- Upper arms: likewise with the elbow plane, cross(upper arm, forearm) <-> rest -Y (left) / +Y
  (right) (a T-pose elbow bends forward, +Z), the straight-arm reference from the clavicle frame.
- Clavicles (the zero-offset RightShoulder / LeftShoulder): their bone (thorax -> shoulder),
  twist from the trunk's up (spine -> thorax <-> rest +Y). (Spine1 aims at neck_nose, which H36M
  puts well in front of the thorax, so a swing from Spine1 would tilt the arms' reference.)
- Feet, hands, head: local rotation zero (they have no child joint; their End Sites follow the
  shin, forearm and neck).

Missing frames
--------------
A frame where the person is not present (a non-finite joint, :func:`demo.export.common.present`)
holds the last present pose; frames before the first present one hold the first present pose.
A person with no present frame cannot be exported (ValueError).

Root translation: the pelvis of ``keypoints_3d_world`` in the Y-up frame, so the skeleton
moves along the world trajectory; in the "fixed view" fallback (no ground found) that world is
demo.post's fixed view of root-centred poses, and so is the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybvh
from pybvh.bvhnode import BvhEndSite, BvhJoint, BvhNode, BvhRoot
from pybvh.rotations import euler_to_rotmat, rotmat_to_euler

from demo.export.common import present, y_up
from lifter.atomic import atomic_path
from lifter.skeleton import INDEX_17, PARENTS_17

#: weight of the parent-swing axis in a thigh's / upper arm's hinge at a straight knee / elbow
#: (the cross product of the two bone directions has length sin(bend)); it falls linearly with
#: sin(bend) to 0 at PURE_HINGE_DEG, from where on the hinge is the bend plane's normal alone
HINGE_BLEND = 0.25
PURE_HINGE_DEG = 30.0
#: End Site offsets in their joint's frame (metres): toes, hand tip, top of the head
FOOT_END = (0.0, -0.08, 0.10)
HAND_END = 0.08
HEAD_END = (0.0, 0.10, 0.0)

_EPS = 1e-9
_J = INDEX_17
_UP, _DOWN, _LEFT = (0.0, 1.0, 0.0), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0)


@dataclass(frozen=True)
class BvhJointSpec:
    """One BVH joint: its name, parent (None: the root), the H36M joint at its head, its Euler
    order, its one child bone with a non-zero rest offset (H36M joint at the bone's end, unit rest
    direction; None for the feet, hands and head) and how its rotation is found (``rule``)."""

    name: str
    parent: str | None
    h36m: str
    order: str
    child: str | None = None
    rest_dir: tuple[float, float, float] | None = None
    rule: str = "swing"           # "twist" | "hinge" | "swing" | "leaf"
    twist: tuple[str, str] | None = None          # "twist": (from, to) H36M joints of the reference
    rest_twist: tuple[float, float, float] | None = None  # "twist"/"hinge": its rest direction
    hinge_end: str | None = None  # "hinge": the H36M joint ending the next bone (knee/elbow plane)
    end_site: tuple[float, float, float] | None = None


def _leg(name: str, sign: float) -> tuple[BvhJointSpec, ...]:
    """The leg chain of side ``name`` ("Right" / "Left"), ``sign`` -1 / +1 (its side along X)."""
    s, hip = name[0].lower(), f"{name[0]}HipJoint"
    return (
        BvhJointSpec(hip, "Hips", "pelvis", "YZX", f"{s}_hip", (sign, 0.0, 0.0)),
        BvhJointSpec(f"{name}UpLeg", hip, f"{s}_hip", "YZX", f"{s}_knee", _DOWN,
                     rule="hinge", rest_twist=_LEFT, hinge_end=f"{s}_ankle"),
        BvhJointSpec(f"{name}Leg", f"{name}UpLeg", f"{s}_knee", "YZX", f"{s}_ankle", _DOWN),
        BvhJointSpec(f"{name}Foot", f"{name}Leg", f"{s}_ankle", "YZX", rule="leaf", end_site=FOOT_END),
    )


def _arm(name: str, sign: float) -> tuple[BvhJointSpec, ...]:
    """The clavicle and arm chain of side ``name``, ``sign`` -1 / +1 (its side along X)."""
    s = name[0].lower()
    return (
        BvhJointSpec(f"{name}Shoulder", "Spine1", "thorax", "ZXY", f"{s}_shoulder", (sign, 0.0, 0.0), rule="twist",
                     twist=("spine", "thorax"), rest_twist=_UP),
        BvhJointSpec(f"{name}Arm", f"{name}Shoulder", f"{s}_shoulder", "ZXY", f"{s}_elbow", (sign, 0.0, 0.0),
                     rule="hinge", rest_twist=(0.0, -sign, 0.0), hinge_end=f"{s}_wrist"),
        BvhJointSpec(f"{name}ForeArm", f"{name}Arm", f"{s}_elbow", "ZXY", f"{s}_wrist", (sign, 0.0, 0.0)),
        BvhJointSpec(f"{name}Hand", f"{name}ForeArm", f"{s}_wrist", "ZXY", rule="leaf",
                     end_site=(sign * HAND_END, 0.0, 0.0)),
    )


#: the skeleton, depth-first (the order of the file and of pybvh's joint_angles)
SKELETON: tuple[BvhJointSpec, ...] = (
    BvhJointSpec("Hips", None, "pelvis", "YZX", "spine", _UP, rule="twist", twist=("r_hip", "l_hip"),
                 rest_twist=_LEFT),
    *_leg("Right", -1.0),
    *_leg("Left", 1.0),
    BvhJointSpec("Spine", "Hips", "spine", "YZX", "thorax", _UP, rule="twist", twist=("r_shoulder", "l_shoulder"),
                 rest_twist=_LEFT),
    BvhJointSpec("Spine1", "Spine", "thorax", "YZX", "neck_nose", _UP, rule="twist",
                 twist=("r_shoulder", "l_shoulder"), rest_twist=_LEFT),
    BvhJointSpec("Neck", "Spine1", "neck_nose", "YZX", "head", _UP),
    BvhJointSpec("Head", "Neck", "head", "YZX", rule="leaf", end_site=HEAD_END),
    *_arm("Right", -1.0),
    *_arm("Left", 1.0),
)
#: BVH joint name -> the H36M-17 joint at its head
BVH_TO_H36M: dict[str, str] = {j.name: j.h36m for j in SKELETON}
BVH_JOINT_NAMES: tuple[str, ...] = tuple(j.name for j in SKELETON)


def bone_lengths(world: np.ndarray) -> np.ndarray:
    """(17,) median length (metres) over the present frames of each H36M bone parent -> joint
    (0 for the pelvis). world: (T, 17, 3) with NaN frames; ValueError if no frame is present."""
    world = np.asarray(world, dtype=np.float64)
    ok = present(world)
    if not ok.any():
        raise ValueError("the person has no frame with all 17 joints: nothing to export")
    pts = world[ok]
    lengths = np.zeros(17)
    for j, p in enumerate(PARENTS_17):
        if p >= 0:
            lengths[j] = float(np.median(np.linalg.norm(pts[:, j] - pts[:, p], axis=-1)))
    return lengths


def skeleton_nodes(lengths: np.ndarray) -> list[BvhNode]:
    """pybvh nodes (depth-first, End Sites included) of :data:`SKELETON` with the H36M bone
    lengths ``lengths`` (17,) metres as offsets (module docstring)."""
    nodes: list[BvhNode] = []
    by_name: dict[str, BvhJoint] = {}
    for spec in SKELETON:
        parent = by_name.get(spec.parent) if spec.parent else None
        if parent is None:
            node = BvhRoot(spec.name, [0.0, 0.0, 0.0], list("XYZ"), list(spec.order), [], None)
        else:
            node = BvhJoint(spec.name, _rest_offset(spec, lengths), list(spec.order), [], parent)
            parent.children = parent.children + [node]
        by_name[spec.name] = node
        nodes.append(node)
        if spec.end_site is not None:
            end = BvhEndSite(f"{spec.name}_End", list(spec.end_site), node)
            node.children = node.children + [end]
            nodes.append(end)
    return nodes


def _rest_offset(spec: BvhJointSpec, lengths: np.ndarray) -> list[float]:
    """Offset of a joint from its parent: the parent's child bone (rest direction x length), or 0
    for the zero-offset joints (whose head is the parent's H36M joint)."""
    parent = next(s for s in SKELETON if s.name == spec.parent)
    if parent.child != spec.h36m:
        return [0.0, 0.0, 0.0]
    return list(np.asarray(parent.rest_dir) * lengths[_J[spec.h36m]])


def _unit(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Rows of v (N, 3) normalised; ``fallback`` (N, 3) where a row is (nearly) zero."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(n > _EPS, v / np.maximum(n, _EPS), fallback)


def _align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 3, 3) the smallest rotations taking unit vectors a (N, 3) onto b (N, 3); a half turn
    about an axis perpendicular to a where b = -a."""
    k = np.cross(a, b)
    c = np.einsum("ni,ni->n", a, b)
    kx = np.zeros(a.shape[:1] + (3, 3))
    kx[:, 0, 1], kx[:, 0, 2], kx[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    kx[:, 1, 0], kx[:, 2, 0], kx[:, 2, 1] = k[:, 2], -k[:, 1], k[:, 0]
    opposite = c < -1.0 + 1e-9
    rot = np.eye(3) + kx + kx @ kx / np.where(opposite, 1.0, 1.0 + c)[:, None, None]
    if opposite.any():
        least = np.eye(3)[np.argmin(np.abs(a[opposite]), axis=-1)]
        n = _unit(np.cross(a[opposite], least), least)
        rot[opposite] = 2.0 * n[:, :, None] * n[:, None, :] - np.eye(3)
    return rot


def _aim(d: np.ndarray, v: np.ndarray, rest_d: np.ndarray, rest_v: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations taking the rest frame (rest_d, rest_v ⟂ rest_d, units) onto (d, the
    part of v ⟂ d), d (N, 3) unit, v (N, 3) with a non-zero part ⟂ d."""
    v = v - np.einsum("ni,ni->n", v, d)[:, None] * d
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    world = np.stack([d, v, np.cross(d, v)], axis=-1)
    rest = np.stack([rest_d, rest_v, np.cross(rest_d, rest_v)], axis=-1)
    return world @ rest.T


def world_rotations(points: np.ndarray) -> np.ndarray:
    """Rotations of every BVH joint from H36M positions: points (N, 17, 3) in the Y-up frame
    (finite) -> (N, J, 3, 3) world rotations (rest frame -> current), J = len(SKELETON), in
    SKELETON order; the rules of the module docstring."""
    pts = np.asarray(points, dtype=np.float64)
    n = pts.shape[0]
    out: dict[str, np.ndarray] = {}
    eye = np.broadcast_to(np.eye(3), (n, 3, 3))
    for spec in SKELETON:
        parent = out[spec.parent] if spec.parent else eye
        if spec.rule == "leaf":
            out[spec.name] = parent.copy()
            continue
        rest_d = np.asarray(spec.rest_dir)
        aimed = parent @ rest_d  # the bone's direction if the joint did not rotate
        d = _unit(pts[:, _J[spec.child]] - pts[:, _J[spec.h36m]], aimed)
        swing = _align(aimed, d) @ parent  # the minimal swing from the parent's frame
        if spec.rule == "swing":
            out[spec.name] = swing
            continue
        rest_v = np.asarray(spec.rest_twist)
        fallback = swing @ rest_v  # ⟂ d
        if spec.rule == "twist":
            ref = pts[:, _J[spec.twist[1]]] - pts[:, _J[spec.twist[0]]]
        else:  # "hinge": the bend plane's normal, blended with the parent-swing axis
            nxt = _unit(pts[:, _J[spec.hinge_end]] - pts[:, _J[spec.child]], d)
            normal = np.cross(d, nxt)  # length sin(bend)
            sin_bend = np.linalg.norm(normal, axis=-1, keepdims=True)
            weight = HINGE_BLEND * np.clip(1.0 - sin_bend / np.sin(np.radians(PURE_HINGE_DEG)), 0.0, 1.0)
            ref = normal + weight * fallback
        ref = ref - np.einsum("ni,ni->n", ref, d)[:, None] * d
        ref = _unit(ref, fallback)
        out[spec.name] = _aim(d, ref, rest_d, rest_v)
    return np.stack([out[s.name] for s in SKELETON], axis=1)


def local_rotations(world_rot: np.ndarray) -> np.ndarray:
    """(N, J, 3, 3) world rotations (SKELETON order) -> local ones: W_parent^T W (root: W)."""
    index = {s.name: k for k, s in enumerate(SKELETON)}
    local = np.empty_like(world_rot)
    for k, spec in enumerate(SKELETON):
        if spec.parent is None:
            local[:, k] = world_rot[:, k]
        else:
            local[:, k] = np.swapaxes(world_rot[:, index[spec.parent]], -1, -2) @ world_rot[:, k]
    return local


def _lock_split(rot: np.ndarray, order: str, first: float, middle: float) -> float:
    """Third Euler angle of ``rot`` (3, 3) when the first is fixed at ``first`` (gimbal lock)."""
    r1 = euler_to_rotmat(np.array([first, 0.0, 0.0]), order)
    r2 = euler_to_rotmat(np.array([0.0, middle, 0.0]), order)
    m = r2.T @ r1.T @ rot  # the third elementary rotation
    k = "XYZ".index(order[2])
    a, b = (k + 1) % 3, (k + 2) % 3
    return float(np.arctan2(m[b, a], m[a, a]))


def continuous_euler(rotmats: np.ndarray, orders: list[str]) -> np.ndarray:
    """Euler angles (T, J, 3) radians of rotations (T, J, 3, 3) (orders: one Tait-Bryan order per
    joint, e.g. "ZXY"), continuous over time: frame 0 takes the triple with the middle angle in
    [-90, 90] degrees; every later frame, of the two equivalent triples (a, b, c) and
    (a + pi, pi - b, c + pi) shifted by multiples of 2 pi, the one closest to the previous frame.
    In gimbal lock (middle angle at +-90 degrees) the first angle keeps its previous value."""
    rotmats = np.asarray(rotmats, dtype=np.float64)
    if any(o[0] == o[2] for o in orders):
        raise ValueError(f"Tait-Bryan orders only (three different axes): {orders}")
    base = rotmat_to_euler(rotmats, list(orders))  # (T, J, 3)
    alt = np.stack([base[..., 0] + np.pi, np.pi - base[..., 1], base[..., 2] + np.pi], axis=-1)
    cands = np.stack([base, alt], axis=-2)  # (T, J, 2, 3)
    locked = np.abs(np.cos(base[..., 1])) < 1e-6  # (T, J)
    out = np.empty_like(base)
    if len(base) == 0:
        return out
    out[0] = base[0]
    two_pi = 2.0 * np.pi
    for t in range(1, len(base)):
        prev = out[t - 1]
        cand = cands[t].copy()
        for j in np.flatnonzero(locked[t]):
            for c in range(2):
                cand[j, c, 0] = prev[j, 0]
                cand[j, c, 2] = _lock_split(rotmats[t, j], orders[j], prev[j, 0], cand[j, c, 1])
        shifted = cand + two_pi * np.round((prev[:, None] - cand) / two_pi)
        cost = np.abs(shifted - prev[:, None]).sum(-1)  # (J, 2)
        out[t] = shifted[np.arange(len(prev)), np.argmin(cost, axis=-1)]
    return out


def held_frames(ok: np.ndarray) -> np.ndarray:
    """(T,) index of the frame whose pose each frame shows: itself when present (ok), else the last
    present frame before it, else the first present frame."""
    ok = np.asarray(ok, dtype=bool)
    idx = np.where(ok, np.arange(len(ok)), -1)
    last = np.maximum.accumulate(idx)
    return np.where(last >= 0, last, np.flatnonzero(ok)[0])


def bvh_motion(world: np.ndarray, fps: float) -> pybvh.Bvh:
    """The BVH motion of one person: world (T, 17, 3) metres, z-up world of keypoints.npz (NaN
    where absent), fps > 0 -> pybvh.Bvh with T frames, frame_time = 1 / fps, the skeleton,
    channels and missing-frame rule of the module docstring (angles in radians, as pybvh holds
    them). ValueError if no frame is present or fps is not a positive number."""
    fps = float(fps)
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps}")
    world = np.asarray(world, dtype=np.float64)
    if world.ndim != 3 or world.shape[1:] != (17, 3):
        raise ValueError(f"world must be (T, 17, 3), got {world.shape}")
    points = y_up(world)
    lengths = bone_lengths(points)
    ok = present(points)
    rows = np.flatnonzero(ok)
    local = local_rotations(world_rotations(points[rows]))
    pick = np.searchsorted(rows, held_frames(ok))  # frame t -> row of its (held) pose
    orders = [s.order for s in SKELETON]
    angles = continuous_euler(local[pick], orders)
    root = points[rows][pick, _J["pelvis"]]
    return pybvh.Bvh(nodes=skeleton_nodes(lengths), root_pos=root, joint_angles=angles,
                     frame_time=1.0 / fps, world_up="+y")


def frame_time_text(fps: float) -> str:
    """The ``Frame Time`` value written: repr of 1 / fps, which reads back as exactly 1 / fps."""
    return repr(1.0 / float(fps))


def write_bvh(path: str | os.PathLike, result, p: int) -> Path:
    """Write person ``p`` (index into P) of a demo.outputs.Result as a BVH file (module
    docstring), atomically; returns the path. ValueError if the person is never present."""
    path = Path(path)
    motion = bvh_motion(result.keypoints_3d_world[p], result.fps)
    with atomic_path(path) as tmp:
        pybvh.write_bvh_file(motion, tmp)
        # pybvh writes the frame time with 10 significant digits; the file states 1 / fps exactly
        lines = Path(tmp).read_text().split("\n")
        at = next(i for i, line in enumerate(lines) if line.startswith("Frame Time:"))
        lines[at] = f"Frame Time: {frame_time_text(result.fps)}"
        Path(tmp).write_text("\n".join(lines))
    return path
