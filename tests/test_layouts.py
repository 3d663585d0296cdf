"""detectors.layouts: BlazePose-33 / COCO-17 -> H36M-17 on hand-made poses."""

import numpy as np
import pytest

from detectors.layouts import BLAZEPOSE_33, COCO_17, to_h36m17
from lifter.skeleton import JOINTS_17, flip_permutation

# Written out by hand from the BlazePose and COCO documentation (not from the module's tables):
# H36M-17 index -> source keypoint indices (mean of xy, min of scores).
EXPECTED_BLAZEPOSE = {
    0: (23, 24), 1: (24,), 2: (26,), 3: (28,), 4: (23,), 5: (25,), 6: (27,),
    7: (23, 24, 11, 12), 8: (11, 12), 9: (0,), 10: (7, 8),
    11: (11,), 12: (13,), 13: (15,), 14: (12,), 15: (14,), 16: (16,),
}
EXPECTED_COCO = {
    0: (11, 12), 1: (12,), 2: (14,), 3: (16,), 4: (11,), 5: (13,), 6: (15,),
    7: (11, 12, 5, 6), 8: (5, 6), 9: (0,), 10: (3, 4),
    11: (5,), 12: (7,), 13: (9,), 14: (6,), 15: (8,), 16: (10,),
}
CASES = [("blazepose33", 33, EXPECTED_BLAZEPOSE), ("coco17", 17, EXPECTED_COCO)]


def _random_pose(k, rng, batch=()):
    xy = rng.uniform(0, 1000, size=batch + (k, 2)).astype(np.float32)
    scores = rng.uniform(0.05, 1, size=batch + (k,)).astype(np.float32)
    return xy, scores


@pytest.mark.parametrize("layout,k,expected", CASES)
def test_each_joint_follows_recipe(layout, k, expected):
    xy, scores = _random_pose(k, np.random.default_rng(0))
    xy17, s17 = to_h36m17(xy, scores, layout)
    assert xy17.shape == (17, 2) and s17.shape == (17,)
    assert xy17.dtype == np.float32 and s17.dtype == np.float32
    for j, src in expected.items():
        np.testing.assert_allclose(xy17[j], xy[list(src)].mean(0), rtol=1e-6, err_msg=JOINTS_17[j])
        assert s17[j] == scores[list(src)].min(), JOINTS_17[j]


def test_standing_person_coco():
    """A hand-placed upright person: derived joints land where the recipe says."""
    pts = {"nose": (100, 40), "l_eye": (105, 35), "r_eye": (95, 35), "l_ear": (112, 42),
           "r_ear": (88, 38), "l_shoulder": (125, 80), "r_shoulder": (75, 80),
           "l_elbow": (135, 120), "r_elbow": (65, 120), "l_wrist": (140, 160),
           "r_wrist": (60, 160), "l_hip": (115, 180), "r_hip": (85, 180),
           "l_knee": (117, 240), "r_knee": (83, 240), "l_ankle": (118, 300), "r_ankle": (82, 300)}
    xy = np.array([pts[n] for n in COCO_17], np.float32)
    scores = np.ones(17, np.float32)
    scores[COCO_17.index("r_ear")] = 0.3
    scores[COCO_17.index("l_hip")] = 0.6
    xy17, s17 = to_h36m17(xy, scores, "coco17")
    j = {n: i for i, n in enumerate(JOINTS_17)}
    np.testing.assert_allclose(xy17[j["pelvis"]], (100, 180))
    np.testing.assert_allclose(xy17[j["thorax"]], (100, 80))
    np.testing.assert_allclose(xy17[j["spine"]], (100, 130))
    np.testing.assert_allclose(xy17[j["neck_nose"]], (100, 40))
    np.testing.assert_allclose(xy17[j["head"]], (100, 40))
    np.testing.assert_allclose(xy17[j["l_ankle"]], (118, 300))
    np.testing.assert_allclose(xy17[j["r_wrist"]], (60, 160))
    assert s17[j["head"]] == pytest.approx(0.3)
    assert s17[j["pelvis"]] == pytest.approx(0.6) and s17[j["spine"]] == pytest.approx(0.6)
    assert s17[j["thorax"]] == 1.0 and s17[j["l_hip"]] == pytest.approx(0.6)


def test_both_layouts_agree_on_the_same_person():
    rng = np.random.default_rng(1)
    xy33, s33 = _random_pose(33, rng)
    idx = [BLAZEPOSE_33.index(n) for n in COCO_17]  # every COCO keypoint is a BlazePose one
    a = to_h36m17(xy33, s33, "blazepose33")
    b = to_h36m17(xy33[idx], s33[idx], "coco17")
    np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("layout,k,expected", CASES)
def test_batch_dims(layout, k, expected):
    xy, scores = _random_pose(k, np.random.default_rng(2), batch=(2, 3))
    xy17, s17 = to_h36m17(xy, scores, layout)
    assert xy17.shape == (2, 3, 17, 2) and s17.shape == (2, 3, 17)
    one_xy, one_s = to_h36m17(xy[1, 2], scores[1, 2], layout)
    np.testing.assert_allclose(xy17[1, 2], one_xy, rtol=1e-6)
    np.testing.assert_array_equal(s17[1, 2], one_s)


@pytest.mark.parametrize("layout,k,expected", CASES)
def test_missing_person_passes_through_as_nan(layout, k, expected):
    xy, scores = _random_pose(k, np.random.default_rng(3), batch=(3,))
    xy[1] = np.nan
    scores[1] = 0
    xy17, s17 = to_h36m17(xy, scores, layout)
    assert np.isnan(xy17[1]).all() and (s17[1] == 0).all()
    assert np.isfinite(xy17[[0, 2]]).all() and (s17[[0, 2]] > 0).all()


def test_unused_missing_keypoint_does_not_leak():
    """A NaN hand keypoint (unused by the recipe) leaves every H36M joint finite."""
    xy, scores = _random_pose(33, np.random.default_rng(4))
    xy[BLAZEPOSE_33.index("l_pinky")] = np.nan
    scores[BLAZEPOSE_33.index("l_pinky")] = 0
    xy17, s17 = to_h36m17(xy, scores, "blazepose33")
    assert np.isfinite(xy17).all() and (s17 > 0).all()
    xy[BLAZEPOSE_33.index("r_ear")] = np.nan
    xy17, _ = to_h36m17(xy, scores, "blazepose33")
    assert np.isnan(xy17[JOINTS_17.index("head")]).all()
    assert np.isfinite(np.delete(xy17, JOINTS_17.index("head"), axis=0)).all()


@pytest.mark.parametrize("layout,names", [("blazepose33", BLAZEPOSE_33), ("coco17", COCO_17)])
def test_left_right_mirror_matches_skeleton_flip(layout, names):
    """Swapping the detector's l_/r_ keypoints equals swapping H36M-17 left/right joints."""
    xy, scores = _random_pose(len(names), np.random.default_rng(5))
    swap = {"l_": "r_", "r_": "l_"}
    mirror = [names.index(swap.get(n[:2], n[:2]) + n[2:]) if n[:2] in swap else i
              for i, n in enumerate(names)]
    a_xy, a_s = to_h36m17(xy[mirror], scores[mirror], layout)
    b_xy, b_s = to_h36m17(xy, scores, layout)
    perm = flip_permutation(17)
    np.testing.assert_allclose(a_xy, b_xy[perm], rtol=1e-6)
    np.testing.assert_array_equal(a_s, b_s[perm])


def test_bad_input_raises():
    with pytest.raises(ValueError, match="unknown keypoint layout"):
        to_h36m17(np.zeros((17, 2)), np.zeros(17), "openpose25")
    with pytest.raises(ValueError, match="needs xy"):
        to_h36m17(np.zeros((17, 2)), np.zeros(17), "blazepose33")
    with pytest.raises(ValueError, match="needs xy"):
        to_h36m17(np.zeros((2, 17, 2)), np.zeros(17), "coco17")
