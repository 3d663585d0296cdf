"""The ground plane under the people, from their planted feet, and the z-up world it defines.

Inputs are full camera-frame joints (T, 17, 3) metres (x right, y down, z forward; the lifter's
root-relative 3D plus ``demo.trajectory.root_translation``), H36M-17 order
(``lifter.skeleton.JOINTS_17``), NaN where a frame is missing; ``valid`` (T,) bool.

1. Up prior (:func:`body_up`): the most common pelvis->thorax direction over all people's frames
   (a mode, not a mean: people are upright most of the time, and one person leaning far for a
   whole clip, e.g. balancing on one leg, must not tilt everyone's up; see ``UP_WINDOW_DEG``).
2. Foot contacts (:func:`foot_contacts`): an ankle is planted in a frame when it is at rest (its
   speed stays under ``CONTACT_SPEED_MPS`` during +-``STILL_HALF_WINDOW_S``; the speed is the
   central difference over +-``VELOCITY_HALF_WINDOW_S``) and it is the lower ankle along the
   up direction (or within ``LOWER_MARGIN_M`` of the other). Stillness over a window, not just a
   low speed, keeps the top of a jump (speed 0 for an instant) out. The speed is the motion
   across the image (perpendicular to the ankle's viewing ray, in m/s at the ankle's depth): the
   component along the ray carries the depth noise of a monocular translation (several cm per
   frame, which would read as 1-2 m/s), while a foot that moves also moves across the image
   (the camera is above the feet: walking straight at the camera, a swinging foot still moves
   down the image at a third of its speed or more).
3. Plane (:func:`estimate_ground`). The contacts of all people are written as heights
   h = a x + b y + c over the prior's horizontal axes (x, y); the tilt (a, b) is shared by
   every support surface, the offset c is not. Scenes often have several support levels: the
   floor, and a box, a stage or a treadmill that someone stands on; and a monocular depth error
   of one person (a body smaller than the lifter's average reads as farther away) moves all of
   that person's contacts along the viewing rays, so up or down. A plane fitted through two
   people's contacts at different heights is then tilted for no reason (one person's contacts
   along a line, another's in a cluster beside it: any tilt about the line fits both). So:

   a. Tilt from each person's own contacts (offsets free per person): RANSAC
      (``RANSAC_HYPOTHESES`` minimal 3-contact fits within one person, fixed seed, plus the
      prior itself), each hypothesis scored by MSAC with the inlier band ``INLIER_M`` around the
      person's densest height (so a person who stepped down from a box is scored on one of
      the two levels). Only hypotheses within ``MAX_TILT_DEG`` of the prior are eligible. The
      winner's inliers are re-selected twice with a practically unregularised fit, then the
      ridge fit below gives the tilt.
   b. Support levels: under that tilt, the contacts' residual heights are grouped into levels
      (the densest ``2 INLIER_M`` band, its contacts removed, the next, ...; levels closer than
      ``LEVEL_GAP_M`` merged). The tilt is then refitted with one offset per level (so people on
      the same level now inform the tilt together, people on different levels do not), and
      the levels found again under it (two rounds).
   c. The ground is the LOWEST level holding at least ``min_contacts`` contacts: people stand on
      the ground or on things standing on it, never below it (a box top, a treadmill or a stage
      is higher than the floor around it). Levels with fewer contacts are left out as noise.
      ``Ground.people`` and the note name the people whose contacts make the ground, and
      ``Ground.raised_m`` / the note the supported levels left out (their height above it).

   The ridge: the fits minimise the squared residuals plus N ``PRIOR_SPREAD_M``^2 (a^2 + b^2)
   (N contacts), which pulls the tilt towards the body's up. Along a direction in which a
   level's contacts spread with a standard deviation s, the data's weight in the tilt is
   s^2 / (s^2 + PRIOR_SPREAD_M^2): contacts spread over an area fix the tilt; where they do not
   spread (one person walking a line: the tilt about that line; standing still: both) the prior
   decides. The ground is ``ANKLE_HEIGHT_M`` below its level's ankle plane.
4. Reliability: the ground level holds at least ``min_contacts`` contacts; at most
   ``MAX_LEVELS`` levels hold that many, and together at least ``MIN_INLIER_FRACTION`` of the
   contacts (more surfaces than that, or most contacts on none, are scattered depth errors
   rather than a scene); the normal is within ``MAX_TILT_DEG`` of body up; the camera is above
   the ground. Otherwise ``(None, one-line reason)``; when a single plane steeper than
   ``MAX_TILT_DEG`` would explain the contacts, the reason says so.

World frame (the project's convention): metres, z up (the ground normal), x = the camera's x
axis (image right) projected onto the ground, y = z cross x (along the ground, away from the
camera), right-handed; origin on the ground under the main person's first valid pelvis; the
ground (the soles) is z = 0. ``world = (p_cam - origin_cam) @ rotation.T``.

Cost (numpy, one core): ~10 ms for three people over 190 frames (0.06 ms a frame), ~60 ms over
5700 frames (the RANSAC scores at most ``MAX_SCORED_CONTACTS`` contacts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d

#: the open mocap data's ankles sit about 80 mm above its floor: the soles are this far below
#: the fitted ankle plane
ANKLE_HEIGHT_M = 0.08
#: an ankle slower than this is at rest. A stance ankle is at 0 m/s, walking moves the pelvis at
#: ~1.0-1.5 m/s and a swinging foot at 2-5 m/s; 0.5 m/s leaves room for the noise left after
#: smoothing (10 mm of white noise per frame at 30 fps reads as ~0.15 m/s through the
#: difference below)
CONTACT_SPEED_MPS = 0.5
#: the speed is (p[t+k] - p[t-k]) / (2k / fps), k = max(1, round(this x fps)): 0.05 s (k = 2 at
#: 30 fps) averages frame-to-frame noise without blurring a 0.6 s stance
VELOCITY_HALF_WINDOW_S = 0.05
#: the speed must stay low over +-this: at the top of a jump the speed is g |t - t_apex|, which
#: reaches 0.98 m/s 0.1 s away, so the apex is not taken for a contact; a walking stance keeps
#: ~0.4 s of contacts
STILL_HALF_WINDOW_S = 0.1
#: an ankle counts only if it is not higher than the other ankle by more than this along up
#: (both feet are down in double support; a 0.7 m step seen with a 5-10 deg wrong up differs by
#: up to ~0.1 m)
LOWER_MARGIN_M = 0.1
#: fewest contact samples (frames x ankles, all people) for a ground: ~1 s of standing at 30 fps
#: gives 60, a 2 s walk ~50
MIN_CONTACTS = 20
#: inlier band (metres, along up) around a level's ankle plane
INLIER_M = 0.05
#: the supported levels (min_contacts or more each) must hold at least this fraction of the contacts
MIN_INLIER_FRACTION = 0.5
#: the ground and a few raised surfaces (a box, a treadmill, a stage) may be in view; contacts
#: on more supported levels than this are scattered (depth errors), not a scene
MAX_LEVELS = 3
#: levels closer than this (metres, along up) are one level: two INLIER_M bands; a step, a
#: box or a treadmill is at least ~0.15 m high
LEVEL_GAP_M = 2 * INLIER_M
#: the ground's normal must be within this angle of the body's up, and so must every RANSAC
#: hypothesis. On real clips the up prior is off by up to ~8-10 deg (the torso of a walker leans
#: 5-10 deg; on pose2sim's Demo_MultiPerson the mode of the torso directions is 3-5 deg from the
#: calibrated vertical, while a person balancing on one leg leans 25 deg), and a walkable
#: ground slopes by up to ~10 deg (ramps <= 5 deg, steep streets ~10 deg): 20 deg covers both,
#: and rejects the ~20-30 deg planes that join a floor and a raised surface a metre away
MAX_TILT_DEG = 20.0
#: spread of the contacts (std, metres) at which the data and the body-up prior weigh the same in
#: the tilt along a direction: a 3 m walk (std ~0.9 m) is 90% data (body up leans ~5 deg when
#: walking: <= 0.5 deg left), the ~0.2 m between one person's feet is 10% data (a 2 cm error
#: between the two feet's heights would tilt a pure data fit by ~6 deg). Per contact sample
#: (ridge = N x this^2), because contacts in consecutive frames are the same planted foot and
#: their errors are not independent.
PRIOR_SPREAD_M = 0.3
#: a tiny ridge (metres, as PRIOR_SPREAD_M) for the RANSAC and inlier fits: keeps degenerate
#: samples solvable without biasing a spread-out sample's tilt
_SOLVABLE_SPREAD_M = 0.02
RANSAC_HYPOTHESES = 200
RANSAC_SEED = 0
#: the RANSAC scores at most this many contacts (evenly spaced in time: consecutive contacts are
#: mostly the same planted foot), which bounds its cost on long clips
MAX_SCORED_CONTACTS = 2000
#: body up: the mode of the torso directions is the mean of those within this angle of it. A
#: walker's or a standing person's torso stays within a few degrees of its mean (walking leans it
#: ~4 deg forward), so the window holds their upright frames; a person balancing with the torso
#: 15-35 deg off vertical (pose2sim's Demo_MultiPerson) stays out of it. 15 deg let such a
#: person's least-leaning frames in: the synthetic trap of tests/test_ground.py then had body up
#: 5.2 deg off (3.6 with 10); 8-12 deg gave the same on the real views within 0.5 deg
UP_WINDOW_DEG = 10.0
_UP_ITERATIONS = 10
_LEVEL_ROUNDS = 2

PELVIS, R_ANKLE, L_ANKLE, THORAX = 0, 3, 6, 8


@dataclass(frozen=True)
class Ground:
    """The ground plane (the soles) in the camera frame and the z-up world it defines.

    normal (3,): unit, camera frame, pointing up (away from the ground, towards the people's
    heads). offset: the plane is ``normal . p + offset = 0`` for camera-frame points p on the
    ground; ``normal . p + offset`` is a point's height above it, so offset = height_m.
    rotation (3, 3): camera -> world, rows = world x, y, z axes in camera coordinates.
    origin_cam (3,): the world origin (on the ground) in camera coordinates.
    height_m: the camera's height above the ground (metres).
    pitch_deg: angle of the optical axis below the horizon, positive looking down:
    asin(-normal_z).
    roll_deg: direction of world up as seen in the image, measured from the image's up (-y)
    towards the image's right (+x): atan2(normal_x, -normal_y); positive when world up leans to
    the image's right (vertical lines lean clockwise: the camera is rolled counter-clockwise as
    seen from behind it).
    contacts: the foot-contact samples the plane was fitted to (the inliers on the ground level).
    people: indices (into estimate_ground's ``tracks``) of the people with contacts on the ground.
    raised_m: heights (metres above the ground, ascending) of the other support levels holding
    at least ``min_contacts`` contacts (a box, a treadmill...), left out of the ground.
    """

    normal: np.ndarray
    offset: float
    rotation: np.ndarray
    origin_cam: np.ndarray
    height_m: float
    pitch_deg: float
    roll_deg: float
    contacts: int
    people: tuple[int, ...] = ()
    raised_m: tuple[float, ...] = ()

    def to_world(self, points_cam: np.ndarray) -> np.ndarray:
        """Camera-frame points (..., 3) metres -> world (..., 3) metres (z up, ground z = 0)."""
        return (np.asarray(points_cam, dtype=np.float64) - self.origin_cam) @ self.rotation.T

    def to_camera(self, points_world: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_world`: world points (..., 3) -> camera frame (..., 3)."""
        return np.asarray(points_world, dtype=np.float64) @ self.rotation + self.origin_cam

    @property
    def camera_world(self) -> np.ndarray:
        """The camera's position in world coordinates (3,); its z is ``height_m``."""
        return self.to_world(np.zeros(3))


def make_ground(normal: np.ndarray, offset: float, anchor_cam: np.ndarray, contacts: int = 0,
                people: tuple[int, ...] = (), raised_m: tuple[float, ...] = ()) -> Ground:
    """The :class:`Ground` of the plane ``normal . p + offset = 0`` (camera frame, normal up,
    normalised here) with its origin under the camera-frame point ``anchor_cam`` (3,)."""
    n = np.asarray(normal, dtype=np.float64)
    scale = np.linalg.norm(n)
    n, d = n / scale, float(offset) / scale
    x = np.array([1.0, 0.0, 0.0]) - n[0] * n
    if np.linalg.norm(x) < 1e-6:  # the camera's x axis is vertical (a 90 deg roll): use its y
        x = np.array([0.0, 1.0, 0.0]) - n[1] * n
    x /= np.linalg.norm(x)
    y = np.cross(n, x)
    anchor = np.asarray(anchor_cam, dtype=np.float64)
    origin = anchor - (n @ anchor + d) * n
    pitch_deg, roll_deg = camera_angles(n)
    return Ground(normal=n, offset=d, rotation=np.stack([x, y, n]), origin_cam=origin, height_m=d,
                  pitch_deg=pitch_deg, roll_deg=roll_deg, contacts=int(contacts),
                  people=tuple(int(p) for p in people), raised_m=tuple(float(h) for h in raised_m))


def camera_angles(up_cam: np.ndarray) -> tuple[float, float]:
    """(pitch, roll) in degrees of a camera, from world up (3,) in its frame (unit length):
    pitch = the optical axis' angle below the horizon (positive looking down), roll = the angle
    from the image's up direction to world up as seen in the image (positive leaning right)."""
    up = np.asarray(up_cam, dtype=np.float64)
    return (math.degrees(math.asin(float(np.clip(-up[2], -1.0, 1.0)))),
            math.degrees(math.atan2(up[0], -up[1])))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def body_up(tracks: list[np.ndarray]) -> np.ndarray:
    """The most common pelvis->thorax direction (3,) unit over all people's frames.

    tracks: list of camera-frame joints (T, 17, 3) (NaN frames are skipped). A mode search: from
    the mean direction of all frames and from each person's mean, repeatedly the mean of the
    directions within ``UP_WINDOW_DEG``; the result holding the most frames in its window wins
    (the first on a tie: deterministic). All NaN when no frame has both joints.
    """
    dirs = []
    for p in tracks:
        p = np.asarray(p, dtype=np.float64)
        if not len(p):
            continue
        d = p[:, THORAX] - p[:, PELVIS]
        length = np.linalg.norm(d, axis=-1)
        keep = np.isfinite(length) & (length > 1e-6)
        if keep.any():
            dirs.append(d[keep] / length[keep, None])
    if not dirs:
        return np.full(3, np.nan)
    d = np.concatenate(dirs)
    seeds = [_unit(d.mean(0))] + [_unit(x.mean(0)) for x in dirs if len(dirs) > 1]
    cos_window = math.cos(math.radians(UP_WINDOW_DEG))
    best, best_count = seeds[0], -1
    for mean in seeds:
        if not np.isfinite(mean).all():  # directions that cancel out exactly
            continue
        for _ in range(_UP_ITERATIONS):
            close = d @ mean > cos_window
            if not close.any():
                break
            new = _unit(d[close].mean(0))
            if np.allclose(new, mean, atol=1e-12):
                break
            mean = new
        count = int((d @ mean > cos_window).sum())
        if count > best_count:
            best, best_count = mean, count
    return best


def foot_contacts(points_cam: np.ndarray, valid: np.ndarray | None, fps: float, up: np.ndarray,
                  speed_mps: float = CONTACT_SPEED_MPS) -> np.ndarray:
    """Planted ankles (T, 2) bool for (r_ankle, l_ankle) of one track.

    points_cam (T, 17, 3) camera-frame joints (metres; pass smoothed joints: raw per-frame jitter
    reads as speed); valid (T,) bool or None; up (3,) the up direction (camera frame). See the
    module docstring for the rule. Frames that are not valid, and frames whose speed cannot be
    measured (a neighbour missing within the window), are never contacts.
    """
    if not float(fps) > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    pts = np.asarray(points_cam, dtype=np.float64)
    num = pts.shape[0]
    if num < 2:
        return np.zeros((num, 2), bool)
    ankles = pts[:, [R_ANKLE, L_ANKLE]].copy()  # (T, 2, 3)
    if valid is not None:
        ankles[~np.asarray(valid, dtype=bool)] = np.nan
    k = max(1, int(round(VELOCITY_HALF_WINDOW_S * fps)))
    idx = np.arange(num)
    lo, hi = np.clip(idx - k, 0, num - 1), np.clip(idx + k, 0, num - 1)
    dt = (hi - lo) / float(fps)
    move = ankles[hi] - ankles[lo]  # (T, 2, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        ray = ankles / np.linalg.norm(ankles, axis=-1, keepdims=True)
        across = move - (move * ray).sum(-1, keepdims=True) * ray  # motion across the image
        speed = np.linalg.norm(across, axis=-1) / dt[:, None]  # (T, 2)
    speed = np.where(np.isfinite(speed), speed, np.inf)
    m = max(0, int(round(STILL_HALF_WINDOW_S * fps)))
    if m:
        speed = maximum_filter1d(speed, size=2 * m + 1, axis=0, mode="nearest")
    height = ankles @ _unit(np.asarray(up, dtype=np.float64))
    lower = height <= height[:, ::-1] + LOWER_MARGIN_M
    return (speed < speed_mps) & np.nan_to_num(lower, nan=False).astype(bool)


# --- the plane ----------------------------------------------------------------------------------

def _ridge_fit(x: np.ndarray, y: np.ndarray, h: np.ndarray, lam: float) -> np.ndarray:
    """Ridge least squares of h = a x + b y + c, batched: (..., N) -> (..., 3) = (a, b, c)."""
    ones = np.ones_like(x)
    A = np.stack([x, y, ones], -1)  # (..., N, 3)
    normal = np.swapaxes(A, -1, -2) @ A
    normal[..., 0, 0] += lam
    normal[..., 1, 1] += lam
    rhs = np.swapaxes(A, -1, -2) @ h[..., None]
    return np.linalg.solve(normal, rhs)[..., 0]


def _group_fit(x: np.ndarray, y: np.ndarray, h: np.ndarray, group: np.ndarray, use: np.ndarray,
               groups: int, spread_m: float) -> tuple[float, float, np.ndarray]:
    """Least squares of h = a x + b y + c[group] over the contacts ``use`` (N,) bool, one free
    offset per group (ints in [0, groups)), ridge N_used spread_m^2 (a^2 + b^2):
    (a, b, c (groups,) NaN for a group without a used contact)."""
    w = use.astype(np.float64)
    count = np.bincount(group, w, groups)
    safe = np.maximum(count, 1e-300)
    means = [np.bincount(group, w * v, groups) / safe for v in (x, y, h)]
    dx, dy, dh = (v - m[group] for v, m in zip((x, y, h), means))
    lam = w.sum() * spread_m ** 2
    sxx, sxy, syy = (w * dx * dx).sum() + lam, (w * dx * dy).sum(), (w * dy * dy).sum() + lam
    sxh, syh = (w * dx * dh).sum(), (w * dy * dh).sum()
    det = sxx * syy - sxy * sxy
    a, b = (syy * sxh - sxy * syh) / det, (sxx * syh - sxy * sxh) / det
    c = np.where(count > 0, means[2] - a * means[0] - b * means[1], np.nan)
    return float(a), float(b), c


def _densest(values: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row of values (H, n): the centre of the densest window [v, v + width] and how many
    values it holds -> (centres (H,), counts (H,)); rows need n >= 1."""
    s = np.sort(values, axis=1)
    rows, n = s.shape
    span = float(s[:, -1].max() - s[:, 0].min()) + 2 * width + 1.0
    shift = (np.arange(rows) * span)[:, None]
    flat = (s + shift).ravel()  # rows laid end to end, still sorted
    end = np.searchsorted(flat, (s + width + shift).ravel(), side="right").reshape(rows, n)
    end -= (np.arange(rows) * n)[:, None]
    count = end - np.arange(n)[None]
    first = np.argmax(count, axis=1)
    r = np.arange(rows)
    return (s[r, first] + s[r, end[r, first] - 1]) / 2, count[r, first]


def _person_offsets(resid: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Residual heights (H, N) with each person's densest height subtracted (people contiguous,
    person k = columns starts[k]:starts[k + 1])."""
    out = np.empty_like(resid)
    for lo, hi in zip(starts[:-1], starts[1:]):
        if hi > lo:
            centre, _ = _densest(resid[:, lo:hi], 2 * INLIER_M)
            out[:, lo:hi] = resid[:, lo:hi] - centre[:, None]
    return out


def _tilt_per_person(x, y, h, person, starts, rng) -> tuple[float, float, np.ndarray]:
    """Step 3a: the tilt (a, b) from each person's own contacts (RANSAC + ridge, the module
    docstring): (a, b, every hypothesis (H, 2) for :func:`_single_plane`)."""
    n = len(h)
    sizes = np.diff(starts)
    first = rng.integers(0, n, RANSAC_HYPOTHESES)
    k = np.searchsorted(starts, first, side="right") - 1
    others = starts[k][:, None] + rng.integers(0, sizes[k][:, None], (RANSAC_HYPOTHESES, 2))
    triples = np.concatenate([first[:, None], others], axis=1)
    coef = _ridge_fit(x[triples], y[triples], h[triples], 3 * _SOLVABLE_SPREAD_M ** 2)[:, :2]
    coef = np.concatenate([np.zeros((1, 2)), coef])  # the prior itself is a hypothesis
    tilt = np.degrees(np.arctan(np.hypot(coef[:, 0], coef[:, 1])))
    scored = np.unique(np.linspace(0, n - 1, min(n, MAX_SCORED_CONTACTS)).round().astype(np.int64))
    scored_starts = np.searchsorted(scored, starts)
    resid = h[scored][None] - coef[:, :1] * x[scored][None] - coef[:, 1:] * y[scored][None]
    resid = _person_offsets(resid, scored_starts)
    cost = np.minimum(resid ** 2, INLIER_M ** 2).sum(1)
    eligible = tilt <= MAX_TILT_DEG
    best = coef[np.flatnonzero(eligible)[np.argmin(cost[eligible])]]
    a, b = best
    groups = len(starts) - 1
    inliers = np.abs(_person_offsets((h - a * x - b * y)[None], starts)[0]) < INLIER_M
    for spread in (_SOLVABLE_SPREAD_M, _SOLVABLE_SPREAD_M, PRIOR_SPREAD_M):
        if inliers.sum() < 3:
            break
        a, b, c = _group_fit(x, y, h, person, inliers, groups, spread)
        if spread != PRIOR_SPREAD_M:
            inliers = np.abs(h - a * x - b * y - np.nan_to_num(c[person], nan=np.inf)) < INLIER_M
    return a, b, coef


def _single_plane(x, y, h, coef) -> tuple[float, int]:
    """For the failure note: the hypothesis (H, 2) that puts the most contacts on ONE plane (one
    offset for everyone), whatever its tilt: (its angle from the prior in deg, its inliers)."""
    n = len(h)
    scored = np.unique(np.linspace(0, n - 1, min(n, MAX_SCORED_CONTACTS)).round().astype(np.int64))
    resid = h[scored][None] - coef[:, :1] * x[scored][None] - coef[:, 1:] * y[scored][None]
    resid -= _densest(resid, 2 * INLIER_M)[0][:, None]
    best = int(np.argmin(np.minimum(resid ** 2, INLIER_M ** 2).sum(1)))
    one = h - coef[best, 0] * x - coef[best, 1] * y
    inliers = int((np.abs(one - _densest(one[None], 2 * INLIER_M)[0][0]) < INLIER_M).sum())
    return math.degrees(math.atan(math.hypot(*coef[best]))), inliers


def _levels(resid: np.ndarray) -> np.ndarray:
    """Step 3b: support levels of residual heights (N,): labels (N,) int, 0 = the lowest level,
    -1 = on no level. The densest 2 INLIER_M window, its contacts (within INLIER_M of their mean)
    removed, the next...; levels closer than LEVEL_GAP_M merged."""
    label = np.full(len(resid), -1)
    centres = []
    free = np.ones(len(resid), bool)
    while free.sum() >= 3 and len(centres) < 4 * MAX_LEVELS:
        centre, count = _densest(resid[free][None], 2 * INLIER_M)
        if count[0] < 3:
            break
        member = free & (np.abs(resid - centre[0]) < INLIER_M)
        centre = resid[member].mean()
        member = free & (np.abs(resid - centre) < INLIER_M)
        if not member.any():
            break
        label[member] = len(centres)
        centres.append(resid[member].mean())
        free &= ~member
    if not centres:
        return label
    order = np.argsort(centres)
    new = np.empty(len(centres), np.int64)
    merged, last = -1, -np.inf
    for i in order:  # ascending: a level within LEVEL_GAP_M of the previous one joins it
        if centres[i] - last >= LEVEL_GAP_M:
            merged += 1
        new[i] = merged
        last = centres[i]
    return np.where(label >= 0, new[np.maximum(label, 0)], -1)


def estimate_ground(tracks: list[tuple[np.ndarray, np.ndarray]], fps: float, main: int = 0,
                    min_contacts: int = MIN_CONTACTS) -> tuple[Ground | None, str]:
    """The ground under all people, and a one-line note.

    tracks: list of (points_cam (T, 17, 3) full camera-frame joints, valid (T,) bool), one per
    person (the same camera and frames); main: index of the person whose first valid pelvis
    gives the world origin. Returns (Ground, "ground from N foot contacts (who) ...") or
    (None, "ground not estimated: <reason>"). Deterministic (fixed RANSAC seed). The note names
    the people whose contacts make the ground (indices into ``tracks``) and the raised levels
    left out.
    """
    if not tracks:
        return None, "ground not estimated: no person"
    if not 0 <= main < len(tracks):
        raise ValueError(f"main person index {main} is out of range for {len(tracks)} tracks")
    pts = [np.asarray(p, dtype=np.float64) for p, _ in tracks]
    valids = [np.ones(len(p), bool) if v is None else np.asarray(v, dtype=bool) for p, (_, v) in zip(pts, tracks)]
    masked = [np.where(v[:, None, None], p, np.nan) for p, v in zip(pts, valids)]
    up = body_up(masked)
    if not np.isfinite(up).all():
        return None, "ground not estimated: no person with a valid pelvis and thorax"
    pelvis = masked[main][:, PELVIS]
    first = np.flatnonzero(np.isfinite(pelvis).all(-1))
    if not len(first):
        return None, "ground not estimated: the main person has no valid frame"
    samples = [p[:, [R_ANKLE, L_ANKLE]][foot_contacts(p, v, fps, up)] for p, v in zip(masked, valids)]
    found = sum(len(s) for s in samples)
    need = max(3, min_contacts)
    if found < need:
        return None, f"ground not estimated: only {found} foot contacts (need {need})"
    points = np.concatenate(samples)
    person = np.repeat(np.arange(len(samples)), [len(s) for s in samples])
    starts = np.concatenate([[0], np.cumsum([len(s) for s in samples])])

    e1 = np.array([1.0, 0.0, 0.0]) - up[0] * up
    if np.linalg.norm(e1) < 1e-6:
        e1 = np.array([0.0, 1.0, 0.0]) - up[1] * up
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(up, e1)
    x, y, h = points @ e1, points @ e2, points @ up
    x0, y0 = np.median(x), np.median(y)  # centred: better conditioned fits
    x, y = x - x0, y - y0
    rng = np.random.default_rng(RANSAC_SEED)
    a, b, hypotheses = _tilt_per_person(x, y, h, person, starts, rng)

    for _ in range(_LEVEL_ROUNDS):
        label = _levels(h - a * x - b * y)
        if not (label >= 0).any():
            break
        a, b, _ = _group_fit(x, y, h, np.maximum(label, 0), label >= 0, int(label.max()) + 1, PRIOR_SPREAD_M)
    label = _levels(h - a * x - b * y)
    levels = int(label.max()) + 1
    counts = np.bincount(label[label >= 0], minlength=levels)
    offsets = np.array([np.mean((h - a * x - b * y)[label == i]) for i in range(levels)])
    supported = np.flatnonzero(counts >= need)
    held = int(counts[supported].sum())
    share_need = math.ceil(MIN_INLIER_FRACTION * found)
    if not len(supported) or held < share_need or len(supported) > MAX_LEVELS:
        free_tilt, free_inliers = _single_plane(x, y, h, hypotheses)
        if free_tilt > MAX_TILT_DEG and free_inliers >= max(need, share_need):
            return None, (f"ground not estimated: the foot contacts' plane is {free_tilt:.0f} deg from the "
                          f"people's up direction (at most {MAX_TILT_DEG:.0f})")
        if len(supported) > MAX_LEVELS:
            return None, (f"ground not estimated: the foot contacts do not lie on one plane or on up to "
                          f"{MAX_LEVELS - 1} levels parallel to it ({len(supported)} levels of {need} or more)")
        kept, want = (int(counts.max(initial=0)), need) if not len(supported) else (held, share_need)
        return None, (f"ground not estimated: only {kept} of {found} foot contacts lie on one plane "
                      f"or on up to {MAX_LEVELS - 1} levels parallel to it (need {want})")
    ground_level = int(supported[0])  # levels are numbered from the lowest: the lowest supported
    on_ground = label == ground_level

    normal = up - a * e1 - b * e2
    scale = np.linalg.norm(normal)
    normal = normal / scale
    tilt = math.degrees(math.acos(float(np.clip(normal @ up, -1.0, 1.0))))
    if tilt > MAX_TILT_DEG:
        return None, (f"ground not estimated: the foot contacts' plane is {tilt:.0f} deg from the "
                      f"people's up direction (at most {MAX_TILT_DEG:.0f})")
    # h - a x - b y = c with x, y centred: normal . p + offset = 0 on the level's ankle plane
    c = offsets[ground_level]
    ankle_offset = -(c - a * x0 - b * y0) / scale
    offset = ankle_offset + ANKLE_HEIGHT_M  # the soles: ANKLE_HEIGHT_M further from the camera side
    if offset <= 0:
        return None, "ground not estimated: the fitted ground would be above the camera"
    kept = int(on_ground.sum())
    people = tuple(int(p) for p in np.unique(person[on_ground]))
    raised = [i for i in supported if i != ground_level]
    raised_m = tuple(float((offsets[i] - c) / scale) for i in raised)
    ground = make_ground(normal, offset, pelvis[first[0]], contacts=kept, people=people, raised_m=raised_m)
    who = "1 person" if len(people) == 1 else f"{len(people)} people"
    who += ": " + ", ".join(f"#{p}" for p in people)
    left = found - kept
    aside = ""
    if raised:
        higher = ", ".join(f"{int(counts[i])} on a level {(offsets[i] - c) / scale:.2f} m higher "
                           f"(#{', #'.join(str(p) for p in np.unique(person[label == i]))})" for i in raised)
        aside = f"; the lowest of {len(raised) + 1} support levels, set aside: {higher}"
    elif left:
        aside = f"; {left} other contacts set aside"
    return ground, (f"ground from {kept} foot contacts ({who}{aside}): camera {ground.height_m:.2f} m above it, "
                    f"pitch {ground.pitch_deg:.1f} deg down, roll {ground.roll_deg:.1f} deg")
