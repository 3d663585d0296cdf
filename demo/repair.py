"""Repair of one person's 2D keypoint track before lifting: left/right swaps, outliers, short gaps.

Input and output (lifter.skeleton conventions): ``kp2d`` (T, J, 2) pixels (x right, y down),
NaN = missing; ``scores`` (T, J) in [0, 1], 0 = not detected; ``valid`` (T,) bool, the person
exists in that frame; ``fps`` frames per second. J is 17 (H36M-17) or 16 (``layout``). A joint
is *present* when ``valid`` is True and ``lifter.keypoints.joint_present(kp2d, scores,
min_score)``; only present joints are evidence. :func:`repair_track` returns a
:class:`Repaired` with the same T: float32 ``kp2d``, float32 ``scores``, bool ``valid`` and
uint8 ``flags`` (T, J), an OR of ``SWAPPED``, ``OUTLIER`` and ``FILLED``. Frames still
invalid after the repair are NaN / 0 / False; missing joints of valid frames that are not
filled keep their given values and scores. The input arrays are not modified.

Three stages, in this order, each switchable in :class:`RepairSettings`; windows are given in
seconds so that they mean the same at any frame rate:

1. Left/right swaps (``SWAPPED``). The limbs are grouped by where they attach (from the joint
   table): arms (shoulder, elbow, wrist: thorax) and legs (hip, knee, ankle: pelvis). Every
   frame takes one of four states: as given, arms swapped, legs swapped, both (a whole-body
   flip). A state's cost is the sum over the present limb joints of the pixel distance to a
   robust reference, the per-joint median of the +-k neighbouring frames *without* the frame
   itself (k = ``swap_half_window_s``, at least 3 frames; it needs >= 3 neighbours, so up to
   k - 1 consecutive flipped frames are outvoted), plus a facing term: ``swap_face_weight``
   times how far the shoulder line (l - r) and the hip line point in opposite image
   directions (the projection of one on the other, 0 when they agree, small in a side view),
   so a state where shoulders and hips agree is preferred. A frame is changed only when the
   best state beats "as given" by more than ``swap_margin`` times the person's 2D size (the
   running median of the box diagonal of the present joints): a true flip in a front view
   moves the six joints by the limb spread, several times this margin; legs or arms crossing
   each other in a side view gain about nothing and are left alone. It must also cost at most
   ``swap_max_ratio`` times "as given" (clearly better, not two poor fits, as at the track's
   ends where the one-sided reference lags behind moving limbs). The decisions are made
   for all frames at once and repeated against the corrected track (``swap_iterations``).
   Pelvis and thorax (mid-hips, mid-shoulders) and the other central joints never move.
2. Outliers (``OUTLIER``): a Hampel filter on every joint coordinate, the median and the
   MAD * 1.4826 of the +-h window (h = ``hampel_half_window_s``, at least 2 frames, the frame
   itself included, present joints only, >= max(3, h + 1) of them). A joint is an outlier when
   one of its coordinates is farther from the window median than both ``hampel_sigmas``
   robust sigmas and ``min_outlier_size`` times the person's 2D size (the floor keeps
   detector jitter and smooth fast motion from being touched); both coordinates are replaced
   by the window medians, the score is kept.
3. Gaps (``FILLED``): a joint missing in at most ``max_fill_s * fps`` consecutive frames
   (missing joints of valid frames and whole invalid frames alike) between two present
   samples is interpolated linearly between them, its score set to the smaller of the two
   neighbouring scores (so the lifter uses it); a frame that gets a filled joint becomes
   valid. Longer gaps, and gaps at the start or end of the track, are left as they are.

Cost: numpy over all frames (sorted sliding windows for the medians), Python loops only over
the four swap states and the iterations; about 0.04 ms per frame on a 300-frame 30 fps track
(tests/test_repair.py prints it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from lifter.keypoints import LIFT_MIN_SCORE, check_min_score, joint_present
from lifter.skeleton import layout

#: flag bits, per frame and joint (``Repaired.flags``)
SWAPPED, OUTLIER, FILLED = 1, 2, 4

#: MAD -> standard deviation for normally distributed data
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class RepairSettings:
    """What :func:`repair_track` does; windows in seconds, sizes relative to the person's 2D size.

    Defaults and why:

    - ``max_fill_s`` 0.25: about half a walking step; over longer gaps limbs change direction
      and a straight line between the ends is no longer a good guess.
    - ``swap_half_window_s`` 0.15 (>= 3 frames; +-4 at 25 fps, +-5 at 30, +-9 at 60):
      detector left/right flips usually last 1-3 frames; the median reference outvotes up to
      k - 1 consecutive ones while the limbs move little in 0.15 s.
    - ``swap_margin`` 0.15: in a front view a flipped arm pair moves both shoulders, elbows and
      wrists by the limb spread (about 0.2 of the box diagonal each, so the gain is several
      times the margin); crossing legs in a side view gain about zero.
    - ``swap_max_ratio`` 0.5: the chosen state must also cost at most half of "as given". A
      true flip fits its neighbours almost exactly (measured ratio about 0.05 on the tests'
      walks); near the track's ends the one-sided reference lags behind fast legs and both
      states fit about equally badly (ratio about 0.8), which must not count as a flip.
    - ``swap_face_weight`` 0.5: the facing term is a tie breaker; alone (no temporal evidence,
      e.g. a one-frame track) it is at most half the hip width, below the margin, so it never
      swaps by itself.
    - ``hampel_half_window_s`` 0.1 (>= 2 frames, +-3 at 30 fps): a 7-frame window whose median
      survives 3 bad frames, short enough to follow a limb's swing.
    - ``hampel_sigmas`` 3.0: the usual Hampel value.
    - ``min_outlier_size`` 0.05: 5 % of the box diagonal (about 9 cm on an adult): detector
      jitter stays below it, wrong joints (a wrist on the other hand, a knee on the other
      knee) are far above it.
    - ``min_score``: the project's ``LIFT_MIN_SCORE``, the threshold of joint_present.
    """

    swaps: bool = True
    outliers: bool = True
    fill: bool = True
    max_fill_s: float = 0.25
    swap_half_window_s: float = 0.15
    swap_margin: float = 0.15
    swap_max_ratio: float = 0.5
    swap_face_weight: float = 0.5
    swap_iterations: int = 3
    hampel_half_window_s: float = 0.1
    hampel_sigmas: float = 3.0
    min_outlier_size: float = 0.05
    min_score: float = LIFT_MIN_SCORE

    def __post_init__(self) -> None:
        for name in ("max_fill_s", "swap_half_window_s", "swap_margin", "swap_max_ratio",
                     "swap_face_weight", "hampel_half_window_s", "hampel_sigmas", "min_outlier_size"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"RepairSettings.{name} must be a finite number >= 0, got {value!r}")
        if int(self.swap_iterations) != self.swap_iterations or self.swap_iterations < 1:
            raise ValueError("RepairSettings.swap_iterations must be an int >= 1, "
                             f"got {self.swap_iterations!r}")
        check_min_score(self.min_score)


@dataclass
class Repaired:
    """The repaired track: kp2d (T, J, 2) float32 pixels, scores (T, J) float32, valid (T,) bool,
    flags (T, J) uint8 (OR of SWAPPED, OUTLIER, FILLED)."""

    kp2d: np.ndarray
    scores: np.ndarray
    valid: np.ndarray
    flags: np.ndarray


def _frames(seconds: float, fps: float, minimum: int) -> int:
    """A duration in seconds as a whole number of frames (rounded half up), at least ``minimum``."""
    return max(minimum, int(np.floor(seconds * fps + 0.5)))


def _window_median(x: np.ndarray, half: int, exclude_center: bool) -> tuple[np.ndarray, np.ndarray]:
    """Median over the +-half frames (axis 0) ignoring NaN: x (T, ...) -> (median, count).

    Frames outside the track count as missing; with ``exclude_center`` the frame itself is left
    out. Where no value is finite the median is NaN and the count 0.
    """
    pad = np.full((half,) + x.shape[1:], np.nan)
    win = sliding_window_view(np.concatenate([pad, x, pad]), 2 * half + 1, axis=0)  # (T, ..., W)
    if exclude_center:
        win = np.concatenate([win[..., :half], win[..., half + 1:]], axis=-1)
    srt = np.sort(win, axis=-1)  # NaN sort last
    count = np.isfinite(srt).sum(-1)
    lo = np.take_along_axis(srt, np.maximum(count - 1, 0)[..., None] // 2, -1)[..., 0]
    hi = np.take_along_axis(srt, (count // 2)[..., None], -1)[..., 0]
    med = np.where(count > 0, 0.5 * (lo + hi), np.nan)
    return med, count


def _limb_groups(num_joints: int) -> list[tuple[np.ndarray, np.ndarray, int, int]]:
    """Left/right limb groups from the joint table: (left idx, right idx, l attach, r attach).

    Pairs are grouped by the central joint their chain hangs from (pelvis: legs, thorax: arms);
    the attach pair (hips, shoulders) is the one whose parent is that central joint.
    """
    lay = layout(num_joints)
    parents, side = lay["parents"], set(lay["left"]) | set(lay["right"])
    groups: dict[int, list[tuple[int, int]]] = {}
    for left, right in zip(lay["left"], lay["right"]):
        top = left
        while parents[top] in side:
            top = parents[top]
        groups.setdefault(parents[top], []).append((left, right))
    out = []
    for base in sorted(groups):
        pairs = groups[base]
        attach = next(p for p in pairs if parents[p[0]] == base)
        out.append((np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]), *attach))
    return out


def _person_size(points: np.ndarray, half: int) -> np.ndarray:
    """(T,) robust 2D size in pixels: running median of the box diagonal of the present joints."""
    ok = np.isfinite(points[..., 0])
    any_ok = ok.any(1)
    size = np.full(len(points), np.nan)
    if any_ok.any():
        lo = np.nanmin(points[any_ok], axis=1)
        hi = np.nanmax(points[any_ok], axis=1)
        size[any_ok] = np.hypot(*(hi - lo).T)
        size = _window_median(size[:, None], half, exclude_center=False)[0][:, 0]
        size[~np.isfinite(size)] = np.nanmedian(size) if np.isfinite(size).any() else 0.0
    return np.nan_to_num(size)


def _pair_costs(points: np.ndarray, ref: np.ndarray, left: np.ndarray, right: np.ndarray):
    """Summed distances to the reference of one limb group as given and swapped: (T,), (T,)."""
    def dist(a, b):
        return np.linalg.norm(points[:, a] - ref[:, b], axis=-1)

    d_ll, d_lr, d_rr, d_rl = dist(left, left), dist(left, right), dist(right, right), dist(right, left)
    ok_l = np.isfinite(d_ll) & np.isfinite(d_lr)
    ok_r = np.isfinite(d_rr) & np.isfinite(d_rl)
    keep = np.where(ok_l, d_ll, 0.0).sum(1) + np.where(ok_r, d_rr, 0.0).sum(1)
    swap = np.where(ok_l, d_lr, 0.0).sum(1) + np.where(ok_r, d_rl, 0.0).sum(1)
    return keep, swap


def _fix_swaps(kp, scores, present, size, groups, half, settings):
    """Stage 1, in place on kp / scores / present; returns (T, J) bool: joints net swapped."""
    num_frames, num_joints = present.shape
    num_states = 1 << len(groups)
    perms = np.tile(np.arange(num_joints), (num_states, 1))  # state -> joint permutation
    for state in range(num_states):
        for g, (left, right, _, _) in enumerate(groups):
            if state >> g & 1:
                perms[state, left], perms[state, right] = right, left
    limb = np.concatenate([np.concatenate([g[0], g[1]]) for g in groups])
    parity = np.zeros(num_frames, dtype=np.int64)  # bit g set: group g net swapped
    rows = np.arange(num_frames)[:, None]
    for _ in range(int(settings.swap_iterations)):
        points = np.where(present[..., None], kp, np.nan)
        ref = np.full_like(points, np.nan)
        med, count = _window_median(points[:, limb], half, exclude_center=True)
        ref[:, limb] = np.where(count >= 3, med, np.nan)
        costs = [_pair_costs(points, ref, left, right) for left, right, _, _ in groups]
        total = np.zeros((num_frames, num_states))
        for state in range(num_states):
            for g, (keep, swap) in enumerate(costs):
                total[:, state] += swap if state >> g & 1 else keep
        if len(groups) == 2 and settings.swap_face_weight > 0:
            (_, _, l_hip, r_hip), (_, _, l_sh, r_sh) = groups
            hips, shoulders = points[:, l_hip] - points[:, r_hip], points[:, l_sh] - points[:, r_sh]
            dot = np.nan_to_num((hips * shoulders).sum(-1))
            longer = np.maximum(np.linalg.norm(hips, axis=-1), np.linalg.norm(shoulders, axis=-1))
            longer = np.where(np.isfinite(longer) & (longer > 0), longer, np.inf)
            disagree_as_given = np.maximum(-dot, 0.0) / longer
            disagree_one_flipped = np.maximum(dot, 0.0) / longer
            for state in range(num_states):
                odd = bin(state).count("1") % 2
                total[:, state] += settings.swap_face_weight * (
                    disagree_one_flipped if odd else disagree_as_given)
        best = np.argmin(total, axis=1)  # ties keep the first state, "as given"
        gain = total[:, 0] - total[rows[:, 0], best]
        change = ((best > 0) & (gain > settings.swap_margin * size)
                  & (total[rows[:, 0], best] <= settings.swap_max_ratio * total[:, 0]))
        if not change.any():
            break
        state = np.where(change, best, 0)
        perm = perms[state]
        kp[:] = kp[rows, perm]
        scores[:] = scores[rows, perm]
        present[:] = present[rows, perm]
        parity ^= state
    swapped = np.zeros((num_frames, num_joints), dtype=bool)
    for g, (left, right, _, _) in enumerate(groups):
        net = (parity >> g & 1).astype(bool)
        swapped[np.ix_(net, np.concatenate([left, right]))] = True
    return swapped


def running_median(x: np.ndarray, half: int) -> np.ndarray:
    """The median of the +-half frames around each frame along axis 0, ignoring NaN: x (T, ...) ->
    (T, ...); NaN where x is NaN (missing frames stay missing)."""
    med = _window_median(x, half, exclude_center=False)[0]
    return np.where(np.isfinite(x), med, np.nan)


def hampel(x: np.ndarray, half: int, sigmas: float, floor, min_count: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The Hampel test along axis 0: x (T, ...) with NaN = missing -> (window median (T, ...),
    outlier (T, ...) bool). A sample is an outlier when it lies further from the median of its
    +-half frames than max(sigmas x 1.4826 x their median absolute deviation, floor) (floor: a
    number or an array broadcasting to x) and the window holds at least ``min_count`` samples."""
    med, count = _window_median(x, half, exclude_center=False)
    mad = _window_median(np.abs(x - med), half, exclude_center=False)[0]
    limit = np.maximum(sigmas * _MAD_TO_SIGMA * mad, floor)
    return med, (np.abs(x - med) > limit) & (count >= min_count)  # False where NaN


def _fix_outliers(kp, present, size, half, settings):
    """Stage 2, in place on kp; returns (T, J) bool: joints replaced."""
    points = np.where(present[..., None], kp, np.nan)
    med, far = hampel(points, half, settings.hampel_sigmas, settings.min_outlier_size * size[:, None, None],
                      min_count=max(3, half + 1))
    outlier = present & far.any(-1)
    kp[outlier] = med[outlier]
    return outlier


def _fill_gaps(kp, scores, present, max_fill):
    """Stage 3, in place on kp / scores; returns (T, J) bool: joints filled."""
    num_frames = len(present)
    idx = np.broadcast_to(np.arange(num_frames)[:, None], present.shape)
    prev = np.maximum.accumulate(np.where(present, idx, -1), axis=0)
    nxt = np.minimum.accumulate(np.where(present, idx, num_frames)[::-1], axis=0)[::-1]
    fill = ~present & (prev >= 0) & (nxt < num_frames) & (nxt - prev - 1 <= max_fill)
    if not fill.any():
        return fill
    p, n = np.clip(prev, 0, num_frames - 1), np.clip(nxt, 0, num_frames - 1)
    w = np.where(fill, (idx - p) / np.maximum(n - p, 1), 0.0)[..., None]
    kp_p, kp_n = np.take_along_axis(kp, p[..., None], 0), np.take_along_axis(kp, n[..., None], 0)
    kp[fill] = ((1.0 - w) * kp_p + w * kp_n)[fill]
    sc = np.minimum(np.take_along_axis(scores, p, 0), np.take_along_axis(scores, n, 0))
    scores[fill] = sc[fill]
    return fill


def repair_track(kp2d: np.ndarray, scores: np.ndarray, valid: np.ndarray, fps: float,
                 settings: RepairSettings = RepairSettings()) -> Repaired:
    """Repair one person's 2D track: swaps, then outliers, then short gaps (module docstring).

    kp2d (T, J, 2) pixels, scores (T, J), valid (T,) bool, fps > 0. Returns a :class:`Repaired`
    with the same T. ValueError for mismatched shapes or a bad fps.
    """
    kp = np.array(kp2d, dtype=np.float64, copy=True)
    sc = np.nan_to_num(np.array(scores, dtype=np.float64, copy=True), nan=0.0)
    ok = np.asarray(valid, dtype=bool).copy()
    if kp.ndim != 3 or kp.shape[-1] != 2 or sc.shape != kp.shape[:2] or ok.shape != kp.shape[:1]:
        raise ValueError("repair_track needs kp2d (T, J, 2), scores (T, J) and valid (T,); got "
                         f"{np.shape(kp2d)}, {np.shape(scores)} and {np.shape(valid)}")
    num_frames, num_joints = sc.shape
    groups = _limb_groups(num_joints)  # also rejects an unknown J
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a finite number > 0, got {fps!r}")
    flags = np.zeros((num_frames, num_joints), dtype=np.uint8)
    if num_frames == 0:
        return Repaired(kp.astype(np.float32), sc.astype(np.float32), ok, flags)

    present = joint_present(kp, sc, settings.min_score) & ok[:, None]
    swap_half = _frames(settings.swap_half_window_s, fps, 3)
    hampel_half = _frames(settings.hampel_half_window_s, fps, 2)
    if present.any():
        size = _person_size(np.where(present[..., None], kp, np.nan), max(swap_half, hampel_half))
        if settings.swaps:
            flags[_fix_swaps(kp, sc, present, size, groups, swap_half, settings)] |= SWAPPED
        if settings.outliers:
            flags[_fix_outliers(kp, present, size, hampel_half, settings)] |= OUTLIER
        if settings.fill:
            max_fill = int(np.floor(settings.max_fill_s * fps + 1e-9))
            filled = _fill_gaps(kp, sc, present, max_fill)
            flags[filled] |= FILLED
            revived = ~ok & filled.any(1)  # joints of a revived frame that were not filled: missing
            kp[revived[:, None] & ~filled] = np.nan
            sc[revived[:, None] & ~filled] = 0.0
            ok |= revived
    kp[~ok] = np.nan
    sc[~ok] = 0.0
    return Repaired(kp.astype(np.float32), sc.astype(np.float32), ok, flags)
