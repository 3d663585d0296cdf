"""Data: Human3.6M layout (synthetic file), open mocap (tiny real slice or stand-in), cameras,
the detector points, the noise model, fill_missing, the epoch batches."""

import numpy as np
import pytest

from lifter.data import EpochBatches, flip_poses, open_source
from lifter.data.cameras import CameraRanges, look_at, project, sample_cameras, unproject, world_to_camera
from lifter.data.h36m_cameras import EXTRINSICS, quaternion_to_matrix
from lifter.data.make_gt2d import main as make_gt2d_main
from lifter.data.noise import DetectorNoise, apply_noise, noisy_keypoints
from lifter.data.openmocap import bone_lengths, scale_bones
from lifter.data.recipe import EAR_BACK_M, NOSE_FORWARD_M, derive_midpoints_2d, detector_points_3d
from lifter.skeleton import PARENTS_17, SUBSET_16, fill_missing
from synthetic_data import SHARED_MOCAP, openmocap_slice, random_poses, write_h36m, write_openmocap


@pytest.fixture(scope="module")
def h36m_files(tmp_path_factory):
    return write_h36m(tmp_path_factory.mktemp("h36m"), np.random.default_rng(0))


@pytest.fixture(scope="module")
def mocap_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mocap")
    if SHARED_MOCAP.exists():
        return openmocap_slice(SHARED_MOCAP, folder / "slice.npz")
    return write_openmocap(folder / "standin.npz", np.random.default_rng(3))


# -- cameras -----------------------------------------------------------------------------------

def test_published_quaternion_matches_published_rotation():
    # world->camera rotation of S1 camera 54138969 as published with the dataset
    published = np.array([[-0.9153617321513369, 0.40180836633680234, 0.02574754463350265],
                          [0.051548117060134555, 0.1803735689384521, -0.9822464900705729],
                          [-0.399319034032262, -0.8977836111057917, -0.185819527201491]])
    r = quaternion_to_matrix(np.array(EXTRINSICS["S1"][0]["orientation"]))
    assert np.allclose(r.T, published, atol=1e-6)


def test_projection_round_trip_and_validity():
    rng = np.random.default_rng(5)
    poses = random_poses(rng, 500)
    ranges = CameraRanges()
    cams = sample_cameras(rng, poses, ranges=ranges)
    pc = world_to_camera(poses, cams)
    px = project(pc, cams.focal, cams.center)
    assert np.allclose(unproject(px, pc[..., 2], cams.focal, cams.center), pc, atol=1e-9)
    assert (pc[..., 2] > ranges.min_depth_m).all()
    assert ((px >= 0) & (px <= cams.size[:, None, :])).all()
    rot = cams.rotation
    assert np.allclose(rot @ rot.transpose(0, 2, 1), np.eye(3), atol=1e-9)
    assert np.allclose(np.linalg.det(rot), 1.0)
    assert len(np.unique(cams.size, axis=0)) > 1


def test_look_at_centres_the_target_and_keeps_up_up():
    pos = np.array([[0.0, 1.5, 5.0]])
    target = np.array([[0.0, 1.0, 0.0]])
    rot = look_at(pos, target, np.zeros(1))
    cam = world_to_camera(np.stack([target, target + [0, 1.0, 0]], 1), _cams(rot, pos))
    assert np.allclose(cam[0, 0, :2], 0, atol=1e-12)  # target on the optical axis
    assert cam[0, 1, 1] < cam[0, 0, 1]  # world up is image up (y down)


def _cams(rot, pos):
    from lifter.data.cameras import Cameras

    return Cameras(rot, pos, np.ones(1), np.zeros((1, 2)), np.ones((1, 2), np.int64))


# -- recipe, bones, noise, fill_missing ---------------------------------------------------------

def test_detector_points_follow_the_documented_recipe():
    pose = random_poses(np.random.default_rng(1), 4)
    det = detector_points_3d(pose)
    assert np.allclose(det[:, 0], (pose[:, 1] + pose[:, 4]) / 2, atol=1e-6)
    assert np.allclose(det[:, 8], (pose[:, 11] + pose[:, 14]) / 2, atol=1e-6)
    assert np.allclose(det[:, 7], (det[:, 0] + det[:, 8]) / 2, atol=1e-6)
    assert np.allclose(np.linalg.norm(det[:, 9] - pose[:, 9], axis=-1), NOSE_FORWARD_M, atol=1e-6)
    ear_mid = (pose[:, 9] + pose[:, 10]) / 2
    assert np.allclose(np.linalg.norm(det[:, 10] - ear_mid, axis=-1), EAR_BACK_M, atol=1e-6)
    unchanged = [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16]
    assert np.allclose(det[:, unchanged], pose[:, unchanged], atol=1e-6)
    # the template faces +z: the nose moves forward (+z), the ears backward
    upright = random_poses(np.random.default_rng(2), 1, jitter=0.0)
    d = detector_points_3d(upright)
    assert d[0, 9, 2] > upright[0, 9, 2] and d[0, 10, 2] < ((upright[0, 9] + upright[0, 10]) / 2)[2]


def test_scale_bones_sets_lengths_and_keeps_directions():
    rng = np.random.default_rng(4)
    pose = random_poses(rng, 8)
    target = rng.uniform(0.1, 0.5, (8, 17))
    out = scale_bones(pose, target)
    assert np.allclose(bone_lengths(out)[:, 1:], target[:, 1:])
    for j, p in enumerate(PARENTS_17[1:], start=1):
        a, b = pose[:, j] - pose[:, p], out[:, j] - out[:, p]
        cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
        assert np.allclose(cos, 1.0)


def _fill_reference(xy, scores):
    """The rule written the plain way, one pose at a time."""
    out = xy.copy()
    for n in range(len(xy)):
        ok = scores[n] > 0
        fallback = xy[n][ok].mean(0) if ok.any() else np.zeros(2)
        for j, p in enumerate(PARENTS_17):
            if ok[j]:
                continue
            while p >= 0 and not ok[p]:
                p = PARENTS_17[p]
            out[n, j] = xy[n, p] if p >= 0 else fallback
    return out


def test_fill_missing_matches_the_plain_rule():
    rng = np.random.default_rng(7)
    xy = rng.normal(size=(300, 17, 2)).astype(np.float32)
    scores = (rng.random((300, 17)) > 0.3).astype(np.float32)
    scores[0] = 0  # nothing detected
    scores[1, 0] = 0  # root missing
    assert np.allclose(fill_missing(xy, scores), _fill_reference(xy, scores), atol=1e-6)


def test_noise_model_parameters_act():
    rng = np.random.default_rng(8)
    clean = project(world_to_camera(random_poses(rng, 4000), c := sample_cameras(rng, random_poses(rng, 4000))),
                    c.focal, c.center)
    same, s = apply_noise(rng, clean, DetectorNoise(clean_fraction=1.0))
    # a clean sample is the input with the demo's recipe applied (pelvis/thorax/spine from the 2D)
    assert np.allclose(same, derive_midpoints_2d(clean, np.ones(clean.shape[:2]))[0], atol=1e-3) and (s == 1).all()
    assert not np.allclose(same[:, 0], clean[:, 0], atol=1e-3)  # random_poses' pelvis is not mid-hips
    clean = derive_midpoints_2d(clean, np.ones(clean.shape[:2]))[0].astype(np.float64)
    params = DetectorNoise(clean_fraction=0.0, outlier_prob=0.0, swap_prob=0.0, drop_prob=0.0, box_shift=0.0, box_scale=0.0)
    noisy, _ = apply_noise(rng, clean, params)
    err = np.linalg.norm(noisy - clean, axis=-1).mean(0)
    assert err[13] > 1.5 * err[11] and err[3] > 1.3 * err[11]  # wrist and ankle worse than a shoulder
    dropped, scores = apply_noise(rng, clean, DetectorNoise(clean_fraction=0.0, drop_prob=1.0))
    assert (scores == 0).all() and np.isfinite(dropped).all()


def test_noisy_keypoints_is_apply_noise_before_the_fill():
    rng = np.random.default_rng(10)
    clean = rng.uniform(100, 900, (500, 17, 2))
    params = DetectorNoise(drop_prob=0.2)
    raw, s_raw = noisy_keypoints(np.random.default_rng(11), clean, params)
    filled, s_filled = apply_noise(np.random.default_rng(11), clean, params)
    np.testing.assert_array_equal(s_raw, s_filled)
    dropped = s_raw == 0
    assert 0.1 < dropped.mean() < 0.5 and set(np.unique(s_raw)) == {0.0, 1.0}
    np.testing.assert_allclose(filled[~dropped], raw[~dropped], atol=1e-3)
    assert np.isfinite(raw).all() and (np.abs(filled - raw).max(-1)[dropped] > 1e-3).mean() > 0.9
    np.testing.assert_allclose(fill_missing(raw, s_raw), filled, atol=1e-4)


# -- Human3.6M ---------------------------------------------------------------------------------

def test_h36m_loader_on_the_synthetic_file(h36m_files, capsys):
    p3, p2 = h36m_files
    src = open_source("h36m", 17, p3, p2)
    assert "S5 absent" in capsys.readouterr().err
    assert src.train_size() == 2 * 4 * 40  # S1: 2 actions x 4 cameras x 40 frames (2D truncated from 43)
    test = src.eval_set("test")
    assert len(test) == 320 and test.group_names == ("Directions", "Walking") and test.average == "groups"
    assert np.allclose(test.targets[:, 0], 0) and np.abs(test.targets).max() < 2.0
    assert np.abs(test.inputs).max() < 1.5
    # the 2D were made with the lens distortion projection of the 3D: residual ~ 0
    assert src.uv_noise_std().max() < 1e-5
    # a camera-frame target is consistent with the 2D (depth > 0 ahead of the camera is implied by
    # the residual); the 16-joint GT file of the tool equals the 17-joint 2D minus Neck/Nose
    out16 = p3.parent / "gt16.npz"
    assert make_gt2d_main(["--data-3d", str(p3), "--out", str(out16)]) == 0
    src16 = open_source("h36m", 16, p3, out16)
    assert np.allclose(src16.eval_set("test").inputs, test.inputs[:, list(SUBSET_16)], atol=1e-5)
    assert np.allclose(src16.eval_set("test").targets, test.targets[:, list(SUBSET_16)])


def test_h36m_symmetry_mismatch_is_refused(h36m_files, tmp_path):
    from lifter.data.h36m import load_npz_dicts
    from lifter.data.make_gt2d import write_2d_file

    p3, p2 = h36m_files
    d = load_npz_dicts(p2, ("positions_2d",), ("metadata",))
    bad = tmp_path / "bad.npz"
    write_2d_file(bad, d["positions_2d"], {"keypoints_symmetry": [[1, 2, 3, 14, 15, 16], [4, 5, 6, 11, 12, 13]]})
    with pytest.raises(ValueError, match="keypoints_symmetry"):
        open_source("h36m", 17, p3, bad)
    with pytest.raises(FileNotFoundError):
        open_source("h36m", 17, p3, tmp_path / "missing.npz")


# -- open mocap --------------------------------------------------------------------------------

def test_openmocap_eval_sets_are_fixed_and_sane(mocap_file):
    src = open_source("openmocap", 17, mocap_file, noise="clean")
    a, b = src.eval_set("test"), open_source("openmocap", 17, mocap_file, noise="clean").eval_set("test")
    assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.targets, b.targets)
    assert a.inputs.shape[1:] == (17, 2) and a.targets.shape[1:] == (17, 3)
    assert np.allclose(a.targets[:, 0], 0)
    # clean 2D: inside the image, x in [-1, 1]
    assert np.abs(a.inputs[..., 0]).max() <= 1.0 + 1e-5
    # no augmentation in evaluation: the bone lengths are the file's (metres)
    with np.load(mocap_file) as d:
        rows = (d["split"] == 2) & (d["primary"] == 1)
        raw = d["joints"][rows] / 1000.0
    assert np.allclose(bone_lengths(a.targets), bone_lengths(raw), atol=1e-4)
    noisy = open_source("openmocap", 17, mocap_file, noise="detector").eval_set("test")
    assert not np.allclose(noisy.inputs, a.inputs)


def test_openmocap_up_axis_and_handedness(mocap_file):
    """The recipe's 'forward' (cross(l_shoulder - r_shoulder, up)) must point to the face:
    neck_nose lies in front of the thorax in most frames (right-handed, Y-up data)."""
    with np.load(mocap_file) as d:
        j = d["joints"][d["primary"] == 1].astype(np.float64)
    up = j[:, 8] - j[:, 0]
    fwd = np.cross(j[:, 11] - j[:, 14], up)
    assert ((fwd * (j[:, 9] - j[:, 8])).sum(-1) > 0).mean() > 0.9
    assert (up[:, 1] > 0).mean() > 0.8


def test_epoch_batches_are_reproducible_and_shaped(mocap_file):
    src = open_source("openmocap", 16, mocap_file)
    b1 = EpochBatches(src, epoch=1, batch_size=32, seed=0)
    x1, y1 = b1[0]
    x2, y2 = EpochBatches(src, epoch=1, batch_size=32, seed=0)[0]
    assert x1.shape == (32, 16, 2) and y1.shape == (32, 16, 3)
    assert (x1 == x2).all() and (y1 == y2).all()
    assert not (EpochBatches(src, epoch=2, batch_size=32, seed=0)[0][0] == x1).all()
    assert len(b1) == src.train_size() // 32
    # two processes see disjoint frames covering the epoch
    r0 = EpochBatches(src, 1, 32, 0, rank=0, world_size=2).order
    r1 = EpochBatches(src, 1, 32, 0, rank=1, world_size=2).order
    assert len(set(r0) & set(r1)) <= 1 and len(set(r0) | set(r1)) == src.train_size()


def test_flip_poses_is_an_involution():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 17, 2)).astype(np.float32), rng.normal(size=(5, 17, 3)).astype(np.float32)
    rows = np.array([True, False, True, False, True])
    fx, fy = flip_poses(x, y, rows)
    assert np.array_equal(fx[1], x[1]) and not np.allclose(fx[0], x[0])
    assert np.allclose(fx[0, 4, 0], -x[0, 1, 0]) and np.allclose(fy[0, 4, 0], -y[0, 1, 0])
    bx, by = flip_poses(fx, fy, rows)
    assert np.allclose(bx, x) and np.allclose(by, y)
