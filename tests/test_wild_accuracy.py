"""The measuring parts of bench/wild_accuracy.py on synthetic scenes: the Qualisys reader with its
distortion, robust triangulation, the pseudo ground truth's bone check, the rule for whose
detection a view holds, and the detector statistics that fit lifter.data.noise (a round
trip: noise drawn with known parameters is measured back)."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.calibration import CalibratedCamera, read_qca  # noqa: E402
from bench.triangulation import dlt, robust_triangulate  # noqa: E402
from bench.wild_accuracy import (CHECKED_BONES, consistent_bones, detector_errors, fit_noise, on_person,  # noqa: E402
                                 summarise_detector)
from lifter.data.cameras import project, sample_cameras, world_to_camera  # noqa: E402
from lifter.data.noise import FITTED_NOISE, NOISE_MODELS, DetectorNoise, noisy_keypoints  # noqa: E402
from lifter.data.recipe import derive_midpoints_2d  # noqa: E402
from lifter.skeleton import INDEX_17, JOINTS_17  # noqa: E402
from tests.synthetic_data import random_poses  # noqa: E402

QCA = """<?xml version='1.0' encoding='ASCII'?>
<calibration><cameras>{cams}</cameras></calibration>
"""
CAM = ('<camera serial="{name}"><transform x="{x}" y="{y}" z="{z}" {r}/>'
       '<intrinsic focalLengthU="{f}" focalLengthV="{f}" centerPointU="{cu}" centerPointV="{cv}" '
       'radialDistortion1="{k1}" radialDistortion2="{k2}" radialDistortion3="0" tangentalDistortion1="{p1}" '
       'tangentalDistortion2="{p2}"/></camera>')


def _look_at(centre: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rows of a Qualisys rotation (x image right, y image up, z backwards) for a camera at
    ``centre`` looking at ``target`` (world Z up)."""
    forward = (target - centre) / np.linalg.norm(target - centre)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return np.stack([right, up, -forward])


def _scene(tmp_path: Path, distortion=(-0.05, 0.12, 0.001, 0.0007)) -> dict[str, CalibratedCamera]:
    """Four cameras 4 m around the origin at 1.8 m height, written as a .qca file and read back."""
    cams = []
    for k in range(4):
        angle = k * math.pi / 2 + 0.3
        centre = np.array([4 * math.cos(angle), 4 * math.sin(angle), 1.8])
        rows = _look_at(centre, np.array([0.0, 0.0, 1.0]))
        r = " ".join(f'r{i + 1}{j + 1}="{rows[i, j]!r}"' for i in range(3) for j in range(3))
        cams.append(CAM.format(name=f"cam0{k + 1}", x=centre[0] * 1000, y=centre[1] * 1000, z=centre[2] * 1000, r=r,
                               f=1600 * 64, cu=544 * 64, cv=960 * 64, k1=distortion[0], k2=distortion[1],
                               p1=distortion[2], p2=distortion[3]))
    path = tmp_path / "Calib.qca.txt"
    path.write_text(QCA.format(cams="".join(cams)))
    return read_qca(path)


def _points(rng, n=200) -> np.ndarray:
    return rng.uniform([-0.6, -0.6, 0.0], [0.6, 0.6, 1.9], (n, 3))


def test_reader_projection_and_distortion(tmp_path):
    cams = _scene(tmp_path)
    cam = cams["cam01"]
    assert cam.focal_u == 1600.0 and (cam.centre_u, cam.centre_v) == (544.0, 960.0)
    np.testing.assert_allclose(cam.distortion, [-0.05, 0.12, 0.001, 0.0007, 0.0])
    pts = _points(np.random.default_rng(0))
    # the camera looks at the points: all in front, near the image centre
    assert (cam.to_camera(pts)[:, 2] > 2.0).all()
    px = cam.project(pts)
    assert (np.abs(px - [544, 960]) < 800).all()
    # distortion moves points (more further out), and undistort inverts it
    plain = cam.project(pts, distort=False)
    assert np.abs(px - plain).max() > 1.0
    np.testing.assert_allclose(cam.undistort(px), plain, atol=1e-4)
    assert np.isnan(cam.undistort(np.array([[np.nan, 1.0]]))).all()
    # a missing distortion attribute reads as 0
    text = (tmp_path / "Calib.qca.txt").read_text().replace('radialDistortion1="-0.05" ', "")
    (tmp_path / "b.qca.txt").write_text(text)
    assert read_qca(tmp_path / "b.qca.txt")["cam01"].distortion[0] == 0.0


def test_triangulation_recovers_points(tmp_path):
    cams = [c for _, c in sorted(_scene(tmp_path).items())]
    rng = np.random.default_rng(1)
    pts = _points(rng)
    proj = np.stack([c.projection for c in cams])
    px = np.stack([c.undistort(c.project(pts)) for c in cams])
    w = np.ones((4, len(pts)))
    # exact 2D: within 1 mm, every view used
    np.testing.assert_allclose(dlt(px, w, proj), pts, atol=1e-3)
    tri = robust_triangulate(px, w, proj, max_error_px=5.0)
    assert np.abs(tri.points - pts).max() < 1e-3 and (tri.count == 4).all() and tri.max_error_px.max() < 0.01
    # 2 px of noise: about 2 px / 1600 px x 4 m = 5 mm per view, less with four
    noisy = px + rng.normal(0, 2.0, px.shape)
    tri = robust_triangulate(noisy, w, proj, max_error_px=10.0)
    err = np.linalg.norm(tri.points - pts, axis=-1)
    assert np.median(err) < 0.006 and err.max() < 0.03 and (tri.count == 4).mean() > 0.95
    # one view wrong by 80 px on half the points: it is left out there, the others agree
    bad = noisy.copy()
    bad[2, ::2] += 80.0
    tri = robust_triangulate(bad, w, proj, max_error_px=10.0)
    assert not tri.views[2, ::2].any() and (tri.count[::2] == 3).all()
    assert np.median(np.linalg.norm(tri.points - pts, axis=-1)) < 0.008
    # a point seen by one view only fails; zero weight is "not seen"
    w1 = w.copy()
    w1[1:, 0] = 0
    tri = robust_triangulate(noisy, w1, proj, max_error_px=10.0)
    assert np.isnan(tri.points[0]).all() and tri.count[0] == 0 and tri.count[1] == 4


J = INDEX_17


def test_joints_whose_bones_jump_leave_the_pseudo_ground_truth():
    rng = np.random.default_rng(4)
    truth = random_poses(rng, 60, jitter=0.05)  # bone lengths vary by the pose's scale, 0.9-1.1
    counts = np.full((60, 17), 3)
    counts[:20] = 2  # frames agreed by two views only do not set the reference lengths
    ok = np.ones((60, 17), bool)
    points = truth.copy()
    points[:20, J["l_wrist"]] += [0.7, 0.0, 0.0]  # two views agreeing on a wrong wrist
    points[33, J["r_ankle"]] = points[33, J["r_knee"]] + 1.5 * (points[33, J["r_ankle"]] - points[33, J["r_knee"]])
    points[40, J["r_wrist"]] += [0.0, 0.5, 0.0]
    ok[40, J["r_wrist"]] = False  # a joint that did not triangulate is not checked and stays out
    out, bones = consistent_bones(points, ok, counts)
    reference = bones["reference_mm"]
    assert bones["largest_ratio"] > 2.5  # the wrong wrist, 0.7 m off a forearm of about 0.25 m
    expected = ok.copy()
    expected[:20, [J["l_elbow"], J["l_wrist"]]] = False
    expected[33, [J["r_knee"], J["r_ankle"]]] = False
    np.testing.assert_array_equal(out, expected)
    assert set(reference) == {f"{a}-{b}" for a, b in CHECKED_BONES}
    for a, b in CHECKED_BONES:
        true = np.median(np.linalg.norm(truth[20:, J[a]] - truth[20:, J[b]], axis=-1)) * 1000
        assert reference[f"{a}-{b}"] == pytest.approx(true, abs=20.0), (a, b)
    # without any three-view frame, every triangulated frame sets the reference
    _, bones = consistent_bones(truth, np.ones((60, 17), bool), np.full((60, 17), 2))
    assert 0.02 < bones["reference_spread_p90"] < 0.12  # the poses' scale, 0.9-1.1
    assert bones["reference_mm"]["l_elbow-l_wrist"] == pytest.approx(
        np.median(np.linalg.norm(truth[:, J["l_elbow"]] - truth[:, J["l_wrist"]], axis=-1)) * 1000, abs=0.1)


def test_a_view_on_the_other_person_is_told_apart():
    rng = np.random.default_rng(8)
    me = rng.uniform(400, 600, (30, 17, 2))
    them = me + [350.0, 20.0]
    det = me + rng.normal(0, 15.0, me.shape)
    det[10:15] = them[10:15] + rng.normal(0, 15.0, (5, 17, 2))  # the track drifted to the other person
    det[20:22] = (me[20:22] + them[20:22]) / 2 + [-5.0, 0.0]  # between the two, nearer me
    gone = them.copy()
    gone[12] = np.nan  # the other person not triangulated there: the frame stays mine
    np.testing.assert_array_equal(on_person(det, me, [them]), ~np.isin(np.arange(30), range(10, 15)))
    np.testing.assert_array_equal(on_person(det, me, [gone]), ~np.isin(np.arange(30), [10, 11, 13, 14]))
    assert on_person(det, me, []).all()
    # the torso decides: a missing hip keypoint is left out of the median
    det[3, J["l_hip"]] = np.nan
    det[3, J["r_hip"]] = them[3, J["r_hip"]]
    assert on_person(det, me, [them])[3]


def _clean_keypoints(rng, n):
    poses = random_poses(rng, n, jitter=0.25)
    cams = sample_cameras(rng, poses)
    clean = project(world_to_camera(poses, cams), cams.focal, cams.center)
    return derive_midpoints_2d(clean, np.ones(clean.shape[:2]))[0].astype(np.float64)


def _measure(params: DetectorNoise, n=20000, seed=3) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    clean = _clean_keypoints(rng, n)
    noisy, scores = noisy_keypoints(rng, clean, params)
    stats = summarise_detector([detector_errors(noisy, scores, clean, np.ones(scores.shape, bool))])
    return stats, fit_noise(stats)


def test_noise_statistics_match_their_parameters():
    """Noise drawn with known parameters (no clean samples, no box jitter) is measured back by the
    bench's own statistics and fit."""
    params = DetectorNoise(clean_fraction=0.0, sigma_range=(0.004, 0.02), outlier_prob=0.04, swap_prob=0.12,
                           drop_prob=0.03, box_shift=0.0, box_scale=0.0,
                           joint_factors=tuple(1.5 if n.endswith("wrist") else 1.0 for n in JOINTS_17),
                           limb_bias=tuple(0.1 if n.endswith("knee") else 0.0 for n in JOINTS_17),
                           collapse_prob=0.05, collapse_range=(0.2, 0.5))
    stats, fitted = _measure(params)
    joints = stats["joints"]
    assert fitted["sigma_range"][1] == pytest.approx(0.02, rel=0.15)
    assert joints["l_wrist"]["rms_per_axis"] / joints["l_shoulder"]["rms_per_axis"] == pytest.approx(1.5, rel=0.15)
    assert joints["l_knee"]["bias_along_limb"] == pytest.approx(0.1, abs=0.02)
    assert abs(joints["l_elbow"]["bias_along_limb"]) < 0.02
    assert fitted["swap_prob"] == pytest.approx(0.12, rel=0.25)
    assert fitted["collapse_prob"] == pytest.approx(0.05, rel=0.25)
    lo, hi = fitted["collapse_range"]
    assert 0.15 < lo < 0.3 and 0.4 < hi < 0.6
    assert fitted["drop_prob"] == pytest.approx(0.03, rel=0.2)
    assert fitted["outlier_prob"] == pytest.approx(0.04, rel=0.35)


def test_no_noise_measures_nothing():
    stats, fitted = _measure(DetectorNoise(clean_fraction=1.0), n=2000)
    assert fitted["swap_prob"] == 0 and fitted["collapse_prob"] == 0 and fitted["drop_prob"] == 0
    assert fitted["sigma_range"][1] < 1e-6


def test_the_fitted_model_is_named_and_differs_from_the_default():
    assert NOISE_MODELS["fitted"] is FITTED_NOISE and NOISE_MODELS["default"] == DetectorNoise()
    assert FITTED_NOISE.collapse_prob > 0 and FITTED_NOISE.joint_factors is not None
    # the default model draws what it drew before the new fields existed (evaluation sets unchanged)
    rng = np.random.default_rng(5)
    clean = _clean_keypoints(rng, 50)
    a = noisy_keypoints(np.random.default_rng(6), clean, DetectorNoise())[0]
    b = noisy_keypoints(np.random.default_rng(6), clean, DetectorNoise(limb_bias=(0.0,) * 17, collapse_prob=0.0))[0]
    np.testing.assert_array_equal(a, b)
