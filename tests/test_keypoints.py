"""lifter.keypoints: layouts -> H36M-17 on hand-made poses, the presence rule, and the same recipe
in training (projected mocap detector points) and in the demo (BlazePose keypoints)."""

import numpy as np
import pytest

from lifter.data.cameras import project, sample_cameras, world_to_camera
from lifter.data.recipe import derive_midpoints_2d, detector_points_3d
from lifter.keypoints import (BLAZEPOSE_33, COCO_17, KNOWN_LAYOUTS, LAYOUTS, LIFT_MIN_SCORE, MOCAP_POINTS,
                              joint_present, num_keypoints, to_h36m17)
from lifter.skeleton import INDEX_17, JOINTS_17, fill_missing, flip_permutation
from synthetic_data import random_poses

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
    j = INDEX_17
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
    with pytest.raises(ValueError, match="needs xy"):
        to_h36m17(np.zeros((33, 2)), np.zeros(33), "h36m17")
    with pytest.raises(ValueError, match="min_score must be in"):
        joint_present(np.zeros((17, 2)), np.zeros(17), 1.5)
    with pytest.raises(ValueError, match="joint_present needs"):
        joint_present(np.zeros((17, 2)), np.zeros(16))


def test_layout_sizes_and_h36m_pass_through():
    assert [num_keypoints(name) for name in KNOWN_LAYOUTS] == [33, 17, 25, 18, 26, 17, 17]
    assert tuple(LAYOUTS) == ("blazepose33", "coco17", "body25", "coco18", "halpe26")
    xy, scores = _random_pose(17, np.random.default_rng(6))
    xy17, s17 = to_h36m17(xy, scores, "h36m17")
    np.testing.assert_array_equal(xy17, xy)
    np.testing.assert_array_equal(s17, scores)
    xy17[0] = -1  # a new array: the caller's is untouched
    assert (xy[0] != -1).all()


# -- the training's layout -----------------------------------------------------------------------

def test_mocap_points_layout_rebuilds_the_midpoints_only():
    """MOCAP_POINTS: pelvis/thorax/spine rebuilt from hips and shoulders, every other joint (nose at
    neck_nose, ear midpoint at head) kept; scores as the recipe says."""
    xy, scores = _random_pose(17, np.random.default_rng(7))
    xy17, s17 = to_h36m17(xy, scores, MOCAP_POINTS)
    np.testing.assert_allclose(xy17[0], (xy[1] + xy[4]) / 2, rtol=1e-6)
    np.testing.assert_allclose(xy17[8], (xy[11] + xy[14]) / 2, rtol=1e-6)
    np.testing.assert_allclose(xy17[7], (xy17[0] + xy17[8]) / 2, rtol=1e-6)
    kept = [1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16]
    np.testing.assert_array_equal(xy17[kept], xy[kept])
    np.testing.assert_array_equal(s17[kept], scores[kept])
    assert s17[7] == scores[[1, 4, 11, 14]].min() and s17[0] == scores[[1, 4]].min()


def _blazepose_from_mocap(joints: np.ndarray, cams, rng: np.random.Generator) -> np.ndarray:
    """BlazePose-33 keypoints (N, 33, 3) in the camera frame of a mocap pose (N, 17, 3) world metres.

    Limb keypoints are the mocap joints; the nose is the detector nose of detector_points_3d; the
    ears lie 7 cm either side of its ear midpoint, along the shoulder line flattened to constant depth,
    so that their projected midpoint is exactly the projected ear midpoint (a pinhole projection is
    affine along a line of constant depth). Unused keypoints (eyes, mouth, hands, feet) are random.
    """
    det = world_to_camera(detector_points_3d(joints).astype(np.float64), cams)
    cam = world_to_camera(joints, cams)
    kp = rng.normal(0, 1, (len(joints), 33, 3)) + cam[:, :1]
    for name in ("l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle", "l_shoulder", "r_shoulder",
                 "l_elbow", "r_elbow", "l_wrist", "r_wrist"):
        kp[:, BLAZEPOSE_33.index(name)] = cam[:, JOINTS_17.index(name)]
    kp[:, BLAZEPOSE_33.index("nose")] = det[:, JOINTS_17.index("neck_nose")]
    side = cam[:, JOINTS_17.index("l_shoulder")] - cam[:, JOINTS_17.index("r_shoulder")]
    side[:, 2] = 0
    side *= 0.07 / np.linalg.norm(side, axis=-1, keepdims=True)
    ear_mid = det[:, JOINTS_17.index("head")]
    kp[:, BLAZEPOSE_33.index("l_ear")] = ear_mid + side
    kp[:, BLAZEPOSE_33.index("r_ear")] = ear_mid - side
    return kp


def test_training_recipe_equals_the_demo_converter():
    """The same 3D person gives the same H36M-17 2D through training's synthesis (detector_points_3d
    -> project -> derive_midpoints_2d) and through the demo's converter (BlazePose-33 -> to_h36m17)."""
    rng = np.random.default_rng(8)
    joints = random_poses(rng, 200)
    cams = sample_cameras(rng, np.concatenate([joints, detector_points_3d(joints)], 1))
    kp33 = _blazepose_from_mocap(joints, cams, rng)
    scores33 = rng.uniform(0.5, 1.0, (len(joints), 33))
    demo_xy, demo_s = to_h36m17(project(kp33, cams.focal, cams.center), scores33, "blazepose33")
    det_px = project(world_to_camera(detector_points_3d(joints).astype(np.float64), cams), cams.focal, cams.center)
    train_xy, train_s = derive_midpoints_2d(det_px, np.ones((len(joints), 17)))
    scale = np.abs(train_xy).max()
    np.testing.assert_allclose(demo_xy, train_xy, atol=1e-5 * scale)
    assert (train_s == 1).all() and demo_s.shape == train_s.shape
    # the 3D midpoints' projections are not the recipe (perspective): the 2D midpoints differ a little
    assert np.abs(det_px[:, 0] - train_xy[:, 0]).max() > 1e-5 * scale


# -- the presence rule --------------------------------------------------------------------------

def test_joint_present_rule():
    xy = np.array([[10, 20], [np.nan, 5], [0, 0], [0, 7], [3, 3], [4, 4], [5, 5], [np.inf, 1]], np.float32)
    scores = np.array([0.9, 0.9, 0.9, 0.9, 0.0, np.nan, 0.2, 0.9], np.float32)
    np.testing.assert_array_equal(joint_present(xy, scores), [1, 0, 0, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(joint_present(xy, scores, 0.3), [1, 0, 0, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(joint_present(xy, scores, 0.2), [1, 0, 0, 1, 0, 0, 1, 0])  # >= threshold
    batch = joint_present(np.stack([xy, xy]), np.stack([scores, scores]))
    assert batch.shape == (2, 8) and batch.dtype == bool
    assert 0.0 <= LIFT_MIN_SCORE <= 1.0


def test_fill_missing_uses_the_presence_rule():
    """fill_missing replaces exactly the joints joint_present rejects, at the threshold given."""
    rng = np.random.default_rng(9)
    xy = rng.uniform(10, 500, (50, 17, 2)).astype(np.float32)
    scores = rng.uniform(0, 1, (50, 17)).astype(np.float32)
    xy[0, 5] = 0  # a detector's "missing" (0, 0) with a score, on l_knee
    scores[0, 4] = 1.0  # its parent l_hip present at every threshold
    xy[1, 6] = np.nan
    for min_score in (0.0, 0.4):
        out = fill_missing(xy, scores, min_score=min_score)
        kept = joint_present(xy, scores, min_score)
        assert np.isfinite(out).all()
        np.testing.assert_array_equal(out[kept], xy[kept])
        assert (out[0, 5] == out[0, 4]).all()  # l_knee takes its present parent l_hip's place
        moved = (out != xy).any(-1)
        assert not (moved & kept).any() and moved[~kept & np.isfinite(xy).all(-1)].mean() > 0.5
    assert (fill_missing(xy, scores, min_score=0.4) != fill_missing(xy, scores)).any()
