"""demo.repair: left/right swaps, Hampel outliers and short gaps on small generated 2D tracks.

The tracks come from a procedural walking stick figure (``walk``), seen from the front (the
person faces the camera: their left side is on the image's right) or from the side (walking to
the image's right, the legs and arms cross each other twice per stride), projected
orthographically to pixels (300 px per metre).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from demo.repair import FILLED, OUTLIER, SWAPPED, RepairSettings, Repaired, repair_track
from lifter.skeleton import INDEX_17, LEFT_16, LEFT_17, RIGHT_16, RIGHT_17, SUBSET_16, flip_permutation

J = INDEX_17
ARMS_L, ARMS_R = [11, 12, 13], [14, 15, 16]
LEGS_L, LEGS_R = [4, 5, 6], [1, 2, 3]
PX_PER_M = 300.0


def walk(frames: int = 120, fps: float = 30.0, view: str = "front", stride_hz: float = 0.9,
         seed: int | None = None, noise_px: float = 0.0, speed: float = 1.2):
    """A walking figure: kp2d (T, 17, 2) float32 pixels, scores (T, 17), valid (T,).

    Person frame: forward f, left l, up u (metres). Gait: hip angle +-25 deg at ``stride_hz``
    (left and right in opposite phase), knee bend in the swing, arms swinging against the
    legs; the pelvis advances ``speed`` m/s and bobs 2 cm. stride_hz=0, speed=0: standing.
    """
    t = np.arange(frames) / fps
    phase = 2 * np.pi * stride_hz * t
    pts = np.zeros((frames, 17, 3))  # (f, l, u)
    pelvis = np.stack([speed * t, 0.0 * t, 0.95 + 0.02 * np.cos(2 * phase)], -1)
    pts[:, J["pelvis"]] = pelvis
    for side, sign, ph in (("r", -1.0, phase), ("l", 1.0, phase + np.pi)):
        hip = pelvis + [0.0, sign * 0.11, 0.0]
        theta = np.radians(25) * np.sin(ph)
        bend = np.radians(30) * np.clip(np.cos(ph), 0, None)
        knee = hip + 0.45 * np.stack([np.sin(theta), 0 * t, -np.cos(theta)], -1)
        ankle = knee + 0.43 * np.stack([np.sin(theta - bend), 0 * t, -np.cos(theta - bend)], -1)
        pts[:, J[f"{side}_hip"]], pts[:, J[f"{side}_knee"]], pts[:, J[f"{side}_ankle"]] = hip, knee, ankle
        thorax = pelvis + [0.0, 0.0, 0.5]
        shoulder = thorax + [0.0, sign * 0.19, 0.0]
        alpha = -0.7 * theta
        elbow = shoulder + 0.28 * np.stack([np.sin(alpha), 0 * t, -np.cos(alpha)], -1)
        wrist = elbow + 0.25 * np.stack([np.sin(alpha + 0.3), 0 * t, -np.cos(alpha + 0.3)], -1)
        pts[:, J[f"{side}_shoulder"]], pts[:, J[f"{side}_elbow"]], pts[:, J[f"{side}_wrist"]] = \
            shoulder, elbow, wrist
    pts[:, J["spine"]] = pelvis + [0.0, 0.0, 0.25]
    pts[:, J["thorax"]] = pelvis + [0.0, 0.0, 0.5]
    pts[:, J["neck_nose"]] = pelvis + [0.08, 0.0, 0.62]
    pts[:, J["head"]] = pelvis + [0.0, 0.0, 0.72]
    if view == "front":  # facing the camera, walking towards it: the person's left is image right
        u, v = 640 + PX_PER_M * pts[..., 1], 600 - PX_PER_M * pts[..., 2]
    else:  # side view, walking to the image's right
        u, v = 200 + PX_PER_M * pts[..., 0], 600 - PX_PER_M * pts[..., 2]
    kp = np.stack([u, v], -1)
    if noise_px:
        kp = kp + np.random.default_rng(seed).normal(0.0, noise_px, kp.shape)
    return kp.astype(np.float32), np.full((frames, 17), 0.9, np.float32), np.ones(frames, bool)


def swap_groups(kp, scores, frames, groups):
    """Swap left and right joints of the given groups ("arms", "legs") at the given frames."""
    kp, scores = kp.copy(), scores.copy()
    left = sum(([ARMS_L, LEGS_L][g == "legs"] for g in groups), [])
    right = sum(([ARMS_R, LEGS_R][g == "legs"] for g in groups), [])
    for t in frames:
        kp[t, left + right], kp[t, right + left] = kp[t, right + left], kp[t, left + right]
        scores[t, left + right] = scores[t, right + left]
    return kp, scores


def test_flag_values_and_shapes():
    assert (SWAPPED, OUTLIER, FILLED) == (1, 2, 4)
    kp, sc, ok = walk(60)
    out = repair_track(kp, sc, ok, 30.0)
    assert isinstance(out, Repaired)
    assert out.kp2d.shape == (60, 17, 2) and out.kp2d.dtype == np.float32
    assert out.scores.shape == (60, 17) and out.scores.dtype == np.float32
    assert out.valid.shape == (60,) and out.valid.dtype == bool
    assert out.flags.shape == (60, 17) and out.flags.dtype == np.uint8


@pytest.mark.parametrize("view", ["front", "side"])
@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_clean_walk_untouched(view, fps):
    """No false swaps (legs and arms crossing in the side view) and no false outliers."""
    kp, sc, ok = walk(int(4 * fps), fps, view=view, noise_px=1.5, seed=1)
    out = repair_track(kp, sc, ok, fps)
    assert not out.flags.any(), np.argwhere(out.flags)
    np.testing.assert_array_equal(out.kp2d, kp)
    np.testing.assert_array_equal(out.scores, sc)
    assert out.valid.all()


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_ratio_guard_alone_keeps_track_ends(fps):
    """Without the size margin, the ratio test alone keeps the side-view track's ends (where the
    one-sided reference lags behind the crossing legs) from being swapped."""
    kp, sc, ok = walk(int(4 * fps), fps, view="side", noise_px=1.5, seed=1)
    out = repair_track(kp, sc, ok, fps, RepairSettings(swap_margin=0.0, outliers=False))
    assert not (out.flags & SWAPPED).any(), np.argwhere(out.flags)


def test_standing_side_view_noise_not_swapped():
    """Left and right limbs on top of each other plus pixel noise: no swap is "clearly better"."""
    kp, sc, ok = walk(300, 30.0, view="side", stride_hz=0.0, speed=0.0, noise_px=2.0, seed=7)
    out = repair_track(kp, sc, ok, 30.0, RepairSettings(outliers=False))
    assert not (out.flags & SWAPPED).any()


def test_side_view_legs_really_cross():
    """The side-view test above is meaningful: the feet change order along x many times."""
    kp, _, _ = walk(120, 30.0, view="side")
    order = np.sign(kp[:, J["l_ankle"], 0] - kp[:, J["r_ankle"], 0])
    assert (np.diff(order) != 0).sum() >= 5


@pytest.mark.parametrize("groups", [("arms",), ("legs",), ("arms", "legs")])
@pytest.mark.parametrize("fps", [30.0, 60.0])
def test_injected_swaps_repaired(groups, fps):
    kp, sc, ok = walk(int(4 * fps), fps, view="front", noise_px=1.0, seed=2)
    sc = sc + np.linspace(0, 0.05, 17, dtype=np.float32)  # per-joint scores travel with the joints
    scale = int(fps // 30)
    bad = [s * scale for s in (20, 50, 51, 80, 81, 82)]  # 1-, 2- and 3-frame flips
    if scale == 2:  # the same durations in seconds: 2-, 4- and 6-frame flips at 60 fps
        bad = [40, 41, 100, 101, 102, 103, 160, 161, 162, 163, 164, 165]
    kp_bad, sc_bad = swap_groups(kp, sc, bad, groups)
    out = repair_track(kp_bad, sc_bad, ok, fps)
    np.testing.assert_allclose(out.kp2d, kp, atol=1e-4)
    np.testing.assert_allclose(out.scores, sc, atol=1e-6)
    joints = sum(([ARMS_L + ARMS_R, LEGS_L + LEGS_R][g == "legs"] for g in groups), [])
    expect = np.zeros(out.flags.shape, bool)
    expect[np.ix_(bad, joints)] = True
    np.testing.assert_array_equal(out.flags & SWAPPED > 0, expect)
    assert not (out.flags & ~np.uint8(SWAPPED)).any()


def test_16_joint_layout():
    """The limb groups come from lifter.skeleton.layout, so the 16-joint layout works too."""
    kp, sc, ok = walk(90, 30.0, view="front")
    kp16, sc16 = kp[:, list(SUBSET_16)], sc[:, list(SUBSET_16)]
    perm = flip_permutation(16)
    bad = kp16.copy()
    bad[30:32] = kp16[30:32][:, perm]
    out = repair_track(bad, sc16, ok, 30.0)
    np.testing.assert_allclose(out.kp2d, kp16, atol=1e-4)
    assert (out.flags[30:32, list(LEFT_16 + RIGHT_16)] == SWAPPED).all()
    assert np.count_nonzero(out.flags) == 2 * 12


def test_whole_body_flip_via_flip_permutation():
    """A detector's mirrored frame (every left/right pair exchanged) is undone."""
    kp, sc, ok = walk(90, 30.0, view="front")
    perm = flip_permutation(17)
    kp_bad = kp.copy()
    kp_bad[40:42] = kp[40:42][:, perm]
    out = repair_track(kp_bad, sc, ok, 30.0)
    np.testing.assert_allclose(out.kp2d, kp, atol=1e-4)
    assert (out.flags[40:42, list(LEFT_17 + RIGHT_17)] == SWAPPED).all()
    assert not out.flags[:, [0, 7, 8, 9, 10]].any()  # central joints never move
    assert out.flags.sum() == 2 * 12 * SWAPPED


def test_swap_repair_off_keeps_swaps():
    kp, sc, ok = walk(90, 30.0, view="front")
    kp_bad, sc_bad = swap_groups(kp, sc, [30], ("arms",))
    out = repair_track(kp_bad, sc_bad, ok, 30.0, RepairSettings(swaps=False, outliers=False))
    np.testing.assert_array_equal(out.kp2d, kp_bad)
    assert not out.flags.any()


def test_swap_with_missing_joint():
    """A flip in a frame where one wrist is missing is still repaired (the score moves too)."""
    kp, sc, ok = walk(90, 30.0, view="front")
    kp_bad, sc_bad = swap_groups(kp, sc, [45], ("arms",))
    kp_bad[45, J["l_wrist"]] = np.nan  # the detector's "l_wrist" (really r_wrist) is missing
    sc_bad[45, J["l_wrist"]] = 0.0
    out = repair_track(kp_bad, sc_bad, ok, 30.0, RepairSettings(fill=False))
    assert (out.flags[45, ARMS_L + ARMS_R] & SWAPPED).all()
    assert np.isnan(out.kp2d[45, J["r_wrist"]]).all() and out.scores[45, J["r_wrist"]] == 0
    np.testing.assert_allclose(out.kp2d[45, J["l_wrist"]], kp[45, J["l_wrist"]], atol=1e-4)


def test_hampel_spike_replaced():
    kp, sc, ok = walk(120, 30.0, view="side", noise_px=1.0, seed=3)
    bad = kp.copy()
    bad[60, J["r_wrist"]] += [90.0, -60.0]
    bad[61, J["l_knee"], 1] += 70.0  # one coordinate only
    out = repair_track(bad, sc, ok, 30.0)
    expect = np.zeros(out.flags.shape, bool)
    expect[60, J["r_wrist"]] = expect[61, J["l_knee"]] = True
    np.testing.assert_array_equal(out.flags == OUTLIER, expect)
    assert not (out.flags & ~np.uint8(OUTLIER)).any()
    # replaced by the window median: close to the true position, far from the spike
    assert np.linalg.norm(out.kp2d[60, J["r_wrist"]] - kp[60, J["r_wrist"]]) < 15.0
    assert np.linalg.norm(out.kp2d[61, J["l_knee"]] - kp[61, J["l_knee"]]) < 15.0
    keep = ~expect
    np.testing.assert_array_equal(out.kp2d[keep], bad[keep])
    assert out.scores[60, J["r_wrist"]] == sc[60, J["r_wrist"]]
    off = repair_track(bad, sc, ok, 30.0, RepairSettings(outliers=False))
    np.testing.assert_array_equal(off.kp2d, bad)


def test_small_deviation_below_size_floor_kept():
    """A 2-px bump on a still joint is many MADs off but under min_outlier_size: kept."""
    kp, sc, ok = walk(60, 30.0, view="front")
    kp[:, J["head"]] = kp[0, J["head"]]  # perfectly still: MAD = 0
    kp[30, J["head"], 0] += 2.0
    out = repair_track(kp, sc, ok, 30.0)
    assert not (out.flags & OUTLIER).any()
    big = kp.copy()
    big[30, J["head"], 0] += 60.0
    assert repair_track(big, sc, ok, 30.0).flags[30, J["head"]] == OUTLIER


@pytest.mark.parametrize("speed_px", [0.5, 8.0, 40.0])
def test_linear_motion_untouched(speed_px):
    """Every joint moving on a straight line at constant speed: no flag, values unchanged."""
    base, sc, ok = walk(1, 30.0, view="front")
    t = np.arange(100, dtype=np.float32)[:, None, None]
    kp = (base + t * np.array([speed_px, 0.3 * speed_px], np.float32)).astype(np.float32)
    out = repair_track(kp, np.repeat(sc, 100, 0), np.ones(100, bool), 30.0)
    assert not out.flags.any()
    np.testing.assert_array_equal(out.kp2d, kp)


def test_joint_gap_filled_and_long_gap_not():
    kp, sc, ok = walk(120, 30.0, view="side")
    sc = sc.copy()
    sc[29, J["l_wrist"]], sc[35, J["l_wrist"]] = 0.6, 0.8
    bad = kp.copy()
    bad[30:35, J["l_wrist"]] = np.nan  # 5 frames: filled
    bad[60:80, J["r_knee"]] = np.nan  # 20 frames (0.67 s): left alone
    bad[0:3, J["head"]] = np.nan  # at the start: no anchor before, left alone
    bad[90:93, J["neck_nose"]] = 0.0  # (0, 0) means missing too: filled
    out = repair_track(bad, sc, ok, 30.0)
    expect = np.zeros(out.flags.shape, bool)
    expect[30:35, J["l_wrist"]] = expect[90:93, J["neck_nose"]] = True
    np.testing.assert_array_equal(out.flags == FILLED, expect)
    assert not (out.flags & ~np.uint8(FILLED)).any()
    # linear between the two neighbours, exactly
    a, b = kp[29, J["l_wrist"]].astype(float), kp[35, J["l_wrist"]].astype(float)
    w = (np.arange(30, 35) - 29)[:, None] / 6.0
    np.testing.assert_allclose(out.kp2d[30:35, J["l_wrist"]], (1 - w) * a + w * b, atol=1e-3)
    # close to the truth on this smooth motion
    assert np.abs(out.kp2d[30:35, J["l_wrist"]] - kp[30:35, J["l_wrist"]]).max() < 20.0
    np.testing.assert_allclose(out.scores[30:35, J["l_wrist"]], 0.6)
    assert np.isnan(out.kp2d[60:80, J["r_knee"]]).all() and np.isnan(out.kp2d[0:3, J["head"]]).all()
    np.testing.assert_array_equal(out.kp2d[90:93, J["neck_nose"]] > 0, True)


def test_missing_frames_filled_become_valid():
    kp, sc, ok = walk(150, 30.0, view="front")
    bad, bsc, bok = kp.copy(), sc.copy(), ok.copy()
    for lo, hi in ((40, 44), (90, 110)):  # 4 frames (filled), 20 frames (not)
        bad[lo:hi], bsc[lo:hi], bok[lo:hi] = np.nan, 0.0, False
    bad[144:], bsc[144:], bok[144:] = 123.0, 0.5, False  # trailing invalid frames with junk
    out = repair_track(bad, bsc, bok, 30.0)
    assert len(out.kp2d) == 150
    assert out.valid[40:44].all() and not out.valid[90:110].any() and not out.valid[144:].any()
    assert (out.flags[40:44] == FILLED).all()
    assert not out.flags[:40].any() and not out.flags[44:].any()
    assert np.abs(out.kp2d[40:44] - kp[40:44]).max() < 20.0
    assert (out.scores[40:44] == 0.9).all()
    assert np.isnan(out.kp2d[90:110]).all() and (out.scores[90:110] == 0).all()
    assert np.isnan(out.kp2d[144:]).all() and (out.scores[144:] == 0).all()


def test_max_fill_is_in_seconds():
    """7 missing frames are filled at 30 fps (0.23 s) and not at 25 fps (0.28 s) with 0.25 s."""
    for fps, filled in ((30.0, True), (25.0, False)):
        kp, sc, ok = walk(100, fps, view="front")
        kp[50:57, J["r_ankle"]] = np.nan
        out = repair_track(kp, sc, ok, fps)
        assert bool((out.flags[50:57, J["r_ankle"]] == FILLED).all()) is filled
        assert bool(np.isfinite(out.kp2d[50:57, J["r_ankle"]]).all()) is filled


def test_all_three_stages_together():
    kp, sc, ok = walk(150, 30.0, view="front", noise_px=1.0, seed=4)
    bad, bsc = swap_groups(kp, sc, [30, 31], ("legs",))
    bad[70, J["l_elbow"]] += [0.0, 80.0]
    bad[100:103, J["r_wrist"]] = np.nan
    out = repair_track(bad, bsc, ok, 30.0)
    assert (out.flags[30:32, LEGS_L + LEGS_R] == SWAPPED).all()
    assert out.flags[70, J["l_elbow"]] == OUTLIER
    assert (out.flags[100:103, J["r_wrist"]] == FILLED).all()
    assert np.count_nonzero(out.flags) == 2 * 6 + 1 + 3
    assert np.abs(out.kp2d - kp).max() < 20.0


@pytest.mark.parametrize("frames", [0, 1, 2, 5])
def test_tiny_tracks(frames):
    kp, sc, ok = walk(max(frames, 1), 30.0)
    kp, sc, ok = kp[:frames], sc[:frames], ok[:frames]
    out = repair_track(kp, sc, ok, 30.0)
    assert out.kp2d.shape == (frames, 17, 2) and out.flags.shape == (frames, 17)
    np.testing.assert_array_equal(out.kp2d, kp)
    assert not out.flags.any()


def test_one_frame_with_disagreeing_facing_is_not_swapped():
    """No temporal evidence: the facing term alone never swaps."""
    kp, sc, ok = walk(1, 30.0, view="front")
    bad, bsc = swap_groups(kp, sc, [0], ("arms",))
    out = repair_track(bad, bsc, ok, 30.0)
    np.testing.assert_array_equal(out.kp2d, bad)


def test_invalid_and_nan_everywhere():
    kp, sc, ok = walk(40, 30.0)
    out = repair_track(kp, sc, np.zeros(40, bool), 30.0)
    assert not out.valid.any() and np.isnan(out.kp2d).all() and (out.scores == 0).all()
    assert not out.flags.any()
    nan = np.full((40, 17, 2), np.nan, np.float32)
    out = repair_track(nan, np.full((40, 17), np.nan, np.float32), ok, 30.0)
    assert out.valid.all() and np.isnan(out.kp2d).all() and (out.scores == 0).all()
    zero_scores = repair_track(kp, np.zeros((40, 17), np.float32), ok, 30.0)
    assert not zero_scores.flags.any()


def test_inputs_not_modified():
    kp, sc, ok = walk(60, 30.0)
    bad, bsc = swap_groups(kp, sc, [20], ("arms",))
    bad[40, 3] = np.nan
    copies = bad.copy(), bsc.copy(), ok.copy()
    repair_track(bad, bsc, ok, 30.0)
    np.testing.assert_array_equal(bad, copies[0])
    np.testing.assert_array_equal(bsc, copies[1])
    np.testing.assert_array_equal(ok, copies[2])


def test_min_score_makes_low_scores_missing():
    kp, sc, ok = walk(60, 30.0, view="front")
    sc = sc.copy()
    sc[20:22, J["l_knee"]] = 0.1
    out = repair_track(kp, sc, ok, 30.0, RepairSettings(min_score=0.3))
    assert (out.flags[20:22, J["l_knee"]] == FILLED).all()
    np.testing.assert_allclose(out.scores[20:22, J["l_knee"]], 0.9)


def test_bad_arguments():
    kp, sc, ok = walk(10, 30.0)
    with pytest.raises(ValueError):
        repair_track(kp, sc[:, :16], ok, 30.0)
    with pytest.raises(ValueError):
        repair_track(kp, sc, ok[:5], 30.0)
    with pytest.raises(ValueError):
        repair_track(kp[..., :1], sc, ok, 30.0)
    for fps in (0.0, -5.0, float("nan")):
        with pytest.raises(ValueError):
            repair_track(kp, sc, ok, fps)
    with pytest.raises(ValueError):
        RepairSettings(max_fill_s=-1.0)
    with pytest.raises(ValueError):
        RepairSettings(min_score=2.0)
    with pytest.raises(ValueError):
        RepairSettings(swap_iterations=0)


def test_speed_300_frames():
    kp, sc, ok = walk(300, 30.0, view="front", noise_px=1.0, seed=5)
    bad, bsc = swap_groups(kp, sc, [50, 51, 200], ("arms", "legs"))
    bad[120, J["r_wrist"]] += 80.0
    bad[150:154, 5] = np.nan
    repair_track(bad, bsc, ok, 30.0)  # warm-up
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        repair_track(bad, bsc, ok, 30.0)
    per_frame_ms = (time.perf_counter() - start) / runs / 300 * 1e3
    print(f"\nrepair_track: {per_frame_ms:.4f} ms per frame (300-frame track, 17 joints)")
