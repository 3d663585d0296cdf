"""detectors.keypoint_files: each format from a small hand-made file, the frame-index rules, the
whole-body prefixes, malformed files, and the exact replay of this project's keypoints.npz."""

import json

import numpy as np
import pytest

from _demo_fakes import STANDING_17, pixels_of
from test_keypoints import EXPECTED_COCO
from demo.outputs import Result, write_outputs
from demo.repair import SWAPPED, repair_track
from detectors.keypoint_files import KeypointFile, KeypointFileError, read_keypoints
from lifter.keypoints import LAYOUTS, joint_present, num_keypoints, to_h36m17

# H36M-17 index -> source keypoint indices (mean of xy, min of scores), written out by hand from
# the OpenPose output documentation (BODY_25, COCO-18) and the COCO / Halpe keypoint lists, not
# from lifter.keypoints' tables; COCO-17's is test_keypoints' hand-written one.
EXPECTED_COCO17 = EXPECTED_COCO
EXPECTED_BODY25 = {
    0: (9, 12), 1: (9,), 2: (10,), 3: (11,), 4: (12,), 5: (13,), 6: (14,),
    7: (9, 12, 2, 5), 8: (2, 5), 9: (0,), 10: (17, 18),
    11: (5,), 12: (6,), 13: (7,), 14: (2,), 15: (3,), 16: (4,),
}
EXPECTED_COCO18 = {
    0: (8, 11), 1: (8,), 2: (9,), 3: (10,), 4: (11,), 5: (12,), 6: (13,),
    7: (8, 11, 2, 5), 8: (2, 5), 9: (0,), 10: (16, 17),
    11: (5,), 12: (6,), 13: (7,), 14: (2,), 15: (3,), 16: (4,),
}
EXPECTED = {"coco17": EXPECTED_COCO17, "halpe26": EXPECTED_COCO17,  # Halpe-26 begins with COCO-17
            "body25": EXPECTED_BODY25, "coco18": EXPECTED_COCO18}
HALPE_EXTRA = ("head", "neck", "mid_hip", "l_big_toe", "r_big_toe", "l_small_toe", "r_small_toe", "l_heel",
               "r_heel")


def _pose(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random keypoints (K, 2) pixels, scores (K,) in [0.1, 1], exactly representable in float32."""
    rng = np.random.default_rng(seed)
    xy = np.round(rng.uniform(10, 600, size=(k, 2)), 2).astype(np.float32).astype(np.float64)
    scores = np.round(rng.uniform(0.1, 1.0, size=k), 3).astype(np.float32).astype(np.float64)
    return xy, scores


def _expected_h36m(xy: np.ndarray, scores: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """H36M-17 of a source pose by the hand-written tables (NaN sources give NaN joints)."""
    table = EXPECTED[layout]
    xy17 = np.stack([xy[list(table[j])].mean(0) for j in range(17)])
    s17 = np.array([scores[list(table[j])].min() for j in range(17)])
    return xy17, s17


def _flat(xy: np.ndarray, scores: np.ndarray) -> list[float]:
    return np.concatenate([xy, scores[:, None]], axis=1).ravel().tolist()


def _write(path, doc) -> object:
    path.write_text(json.dumps(doc))
    return path


def _only(kf: KeypointFile, frame: int):
    (person,) = kf.frames[frame]
    return person


def _check_person(person, xy, scores, layout, track_id=None):
    """The person holds the written keypoints (missing joints NaN / 0) and converts to the H36M-17
    of the hand-written recipe."""
    k = num_keypoints(layout)
    xy, scores = xy[:k], scores[:k]
    present = joint_present(xy, scores)
    np.testing.assert_array_equal(person.xy, np.where(present[:, None], xy, np.nan).astype(np.float32))
    np.testing.assert_array_equal(person.scores, np.where(present, np.clip(scores, 0, 1), 0).astype(np.float32))
    assert person.track_id == track_id
    got_xy, got_s = to_h36m17(person.xy, person.scores, layout)
    want_xy, want_s = _expected_h36m(person.xy.astype(np.float64), person.scores.astype(np.float64), layout)
    np.testing.assert_allclose(got_xy, want_xy, rtol=1e-6)
    np.testing.assert_allclose(got_s, want_s, rtol=1e-6)


# -- layouts --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout,k", [("body25", 25), ("coco18", 18), ("halpe26", 26)])
def test_new_layouts_follow_the_recipe(layout, k):
    assert num_keypoints(layout) == k
    xy, scores = _pose(k, 1)
    got_xy, got_s = to_h36m17(xy, scores, layout)
    want_xy, want_s = _expected_h36m(xy, scores, layout)
    np.testing.assert_allclose(got_xy, want_xy, rtol=1e-6)
    np.testing.assert_allclose(got_s, want_s, rtol=1e-6)
    if layout == "halpe26":
        assert LAYOUTS["halpe26"][:17] == LAYOUTS["coco17"] and LAYOUTS["halpe26"][17:] == HALPE_EXTRA


# -- COCO -----------------------------------------------------------------------------------------------

def test_coco_results(tmp_path):
    a, sa = _pose(17, 2)
    b, sb = _pose(17, 3)
    c, sc = _pose(17, 4)
    sc[3] = 0.0           # zero confidence: missing
    c[13] = 0.0           # written at (0, 0) with a score: missing
    nobody, snobody = _pose(17, 5)
    snobody[:] = 0.0      # no joint present: not a person
    doc = [
        {"image_id": 0, "category_id": 1, "keypoints": _flat(a, sa), "score": 0.9, "track_id": 1},
        {"image_id": 0, "category_id": 1, "keypoints": _flat(b, sb), "score": 1.7, "track_id": 2},
        {"image_id": 3, "category_id": 1, "keypoints": _flat(c, sc)},
        {"image_id": 3, "category_id": 1, "keypoints": _flat(nobody, snobody), "score": 0.5},
    ]
    kf = read_keypoints(_write(tmp_path / "results.json", doc))
    assert (kf.format, kf.layout, kf.num_frames, sorted(kf.frames)) == ("coco", "coco17", 4, [0, 3])
    assert (kf.width, kf.height, kf.fps, kf.time_s) == (None, None, None, None)
    p0, p1 = kf.frames[0]
    _check_person(p0, a, sa, "coco17", track_id=1)
    _check_person(p1, b, sb, "coco17", track_id=2)
    assert p0.score == pytest.approx(0.9) and p1.score == 1.0  # clipped to [0, 1]
    p3 = _only(kf, 3)
    _check_person(p3, c, sc, "coco17")
    assert np.isnan(p3.xy[[3, 13]]).all() and (p3.scores[[3, 13]] == 0).all()
    assert p3.score == pytest.approx(p3.scores.mean())  # no score: the mean keypoint score
    assert any("frames 1-2" in n for n in kf.notes) and any("1 person without any joint" in n for n in kf.notes)


@pytest.mark.parametrize("image_id,frame", [(7, 7), ("7.jpg", 7), ("frame_000012.png", 12),
                                            ("clip2/img_0005.jpeg", 5), ("42", 42)])
def test_results_image_id_to_frame(tmp_path, image_id, frame):
    xy, s = _pose(17, 6)
    kf = read_keypoints(_write(tmp_path / "r.json", [{"image_id": image_id, "category_id": 1,
                                                      "keypoints": _flat(xy, s), "score": 0.5}]))
    assert list(kf.frames) == [frame] and kf.num_frames == frame + 1


def test_coco_wholebody_reads_the_first_17(tmp_path):
    xy, s = _pose(133, 7)
    kf = read_keypoints(_write(tmp_path / "wb.json", [{"image_id": 0, "category_id": 1, "keypoints": _flat(xy, s),
                                                       "score": 0.8}]))
    assert (kf.format, kf.layout) == ("coco", "coco17")
    person = _only(kf, 0)
    assert person.xy.shape == (17, 2)
    _check_person(person, xy, s, "coco17")
    assert any("COCO-WholeBody" in n for n in kf.notes)


def test_coco_dataset_images_are_the_frames(tmp_path):
    a, sa = _pose(17, 8)
    b, sb = _pose(17, 9)
    vis = np.where(np.arange(17) % 4 == 0, 0.0, 2.0)  # COCO visibility flags: 0 not labelled
    images = [{"id": 100 + i, "file_name": f"v/{i + 1:06d}.jpg", "width": 640, "height": 480, "frame_id": i + 1}
              for i in range(5)]  # frame_ids 1-5: frames 0-4
    doc = {"images": images, "categories": [{"id": 1, "name": "person"}], "annotations": [
        {"id": 1, "image_id": 101, "category_id": 1, "keypoints": _flat(a, vis), "track_id": 4},
        {"id": 2, "image_id": 103, "category_id": 1, "keypoints": _flat(b, sb), "score": 0.6},
    ]}
    kf = read_keypoints(_write(tmp_path / "dataset.json", doc))
    assert (kf.format, kf.layout, kf.num_frames, sorted(kf.frames)) == ("coco", "coco17", 5, [1, 3])
    assert (kf.width, kf.height) == (640, 480)
    person = _only(kf, 1)
    _check_person(person, a, vis, "coco17", track_id=4)
    assert np.isnan(person.xy[::4]).all() and (person.scores[1:4] == 1).all()  # flags 2 -> score 1
    _check_person(_only(kf, 3), b, sb, "coco17")
    assert any("frames 0, 2, 4" in n for n in kf.notes) and any("frame_id" in n for n in kf.notes)


@pytest.mark.parametrize("images,frames", [
    ([{"id": 1, "file_name": "a_0011.jpg"}, {"id": 2, "file_name": "a_0010.jpg"}], {1: 1, 2: 0}),  # names
    ([{"id": 1, "file_name": "x.jpg"}, {"id": 2, "file_name": "y.jpg"}], {1: 0, 2: 1}),  # no numbers: order
    ([{"id": 1, "frame_id": 10003420007}, {"id": 2, "frame_id": 10003420000}], {1: 7, 2: 0}),  # PoseTrack
])
def test_coco_dataset_frame_rules(tmp_path, images, frames):
    xy, s = _pose(17, 10)
    anns = [{"image_id": i, "keypoints": _flat(xy, s)} for i in frames]
    kf = read_keypoints(_write(tmp_path / "d.json", {"images": images, "annotations": anns}))
    assert sorted(kf.frames) == sorted(frames.values())
    assert kf.width is None and kf.height is None


# -- AlphaPose --------------------------------------------------------------------------------------------

def test_alphapose_tracked_halpe26(tmp_path):
    a, sa = _pose(26, 11)
    b, sb = _pose(26, 12)
    c, sc = _pose(26, 13)
    sa[0] = 0.0
    doc = [
        {"image_id": "0.jpg", "category_id": 1, "keypoints": _flat(a, sa), "score": 2.6, "box": [1, 2, 30, 40],
         "idx": 3.0},
        {"image_id": "0.jpg", "category_id": 1, "keypoints": _flat(b, sb), "score": 4.0, "box": [5, 6, 30, 40],
         "idx": [5]},
        {"image_id": "2.jpg", "category_id": 1, "keypoints": _flat(c, sc), "score": 1.3, "box": [1, 2, 30, 40],
         "idx": [[3.0]]},
    ]
    kf = read_keypoints(_write(tmp_path / "alphapose-results.json", doc))
    assert (kf.format, kf.layout, kf.num_frames, sorted(kf.frames)) == ("alphapose", "halpe26", 3, [0, 2])
    p0, p1 = kf.frames[0]
    _check_person(p0, a, sa, "halpe26", track_id=3)
    _check_person(p1, b, sb, "halpe26", track_id=5)
    _check_person(_only(kf, 2), c, sc, "halpe26", track_id=3)
    assert p0.score == pytest.approx(0.8) and p1.score == 1.0  # AlphaPose's score / 3.25, clipped


def test_alphapose_untracked_idx_is_not_an_identity(tmp_path):
    a, sa = _pose(17, 14)
    b, sb = _pose(17, 15)
    # without --pose_track every detection's idx is 0, a list when pose NMS merged several
    doc = [{"image_id": "4.jpg", "category_id": 1, "keypoints": _flat(a, sa), "score": 2.0, "idx": [0.0]},
           {"image_id": "4.jpg", "category_id": 1, "keypoints": _flat(b, sb), "score": 2.0, "idx": [0.0]},
           {"image_id": "5.jpg", "category_id": 1, "keypoints": _flat(b, sb), "score": 2.0, "idx": [0.0, 0.0]}]
    kf = read_keypoints(_write(tmp_path / "alphapose-results.json", doc))
    assert (kf.format, kf.layout, kf.num_frames) == ("alphapose", "coco17", 6)
    assert [p.track_id for t in kf.frames for p in kf.frames[t]] == [None, None, None]
    assert any("idx repeats" in n for n in kf.notes)


def test_alphapose_halpe136_reads_the_first_26(tmp_path):
    xy, s = _pose(136, 16)
    kf = read_keypoints(_write(tmp_path / "ap.json", [{"image_id": "1.jpg", "category_id": 1,
                                                       "keypoints": _flat(xy, s), "score": 2.0, "idx": [1]}]))
    assert (kf.format, kf.layout) == ("alphapose", "halpe26")
    _check_person(_only(kf, 1), xy, s, "halpe26", track_id=1)
    assert any("Halpe-136" in n for n in kf.notes)


# -- OpenPose ---------------------------------------------------------------------------------------------

def _openpose(people):
    return {"version": 1.3, "people": [{"person_id": pid, "pose_keypoints_2d": _flat(xy, s),
                                        "face_keypoints_2d": [], "hand_left_keypoints_2d": []}
                                       for xy, s, pid in people]}


def test_openpose_folder_body25(tmp_path):
    a, sa = _pose(25, 17)
    b, sb = _pose(25, 18)
    sb[9] = 0.0  # r_hip missing: pelvis and spine too
    _write(tmp_path / "clip_000000000000_keypoints.json", _openpose([(a, sa, [-1])]))
    _write(tmp_path / "clip_000000000001_keypoints.json", _openpose([]))
    _write(tmp_path / "clip_000000000003_keypoints.json", _openpose([(a, sa, [7]), (b, sb, [2])]))
    (tmp_path / "notes.txt").write_text("not a keypoint file")
    kf = read_keypoints(tmp_path)
    assert (kf.format, kf.layout, kf.num_frames, sorted(kf.frames)) == ("openpose", "body25", 4, [0, 3])
    _check_person(_only(kf, 0), a, sa, "body25")
    p, q = kf.frames[3]
    _check_person(p, a, sa, "body25", track_id=7)
    _check_person(q, b, sb, "body25", track_id=2)
    xy17, s17 = to_h36m17(q.xy, q.scores, "body25")
    assert np.isnan(xy17[[0, 1, 7]]).all() and (s17[[0, 1, 7]] == 0).all()
    assert any("frames 1-2" in n for n in kf.notes)


def test_openpose_single_file_coco18(tmp_path):
    xy, s = _pose(18, 19)
    kf = read_keypoints(_write(tmp_path / "x_000000000005_keypoints.json", _openpose([(xy, s, 0)])))
    assert (kf.format, kf.layout, kf.num_frames) == ("openpose", "coco18", 6)
    _check_person(_only(kf, 5), xy, s, "coco18", track_id=0)


# -- mmpose -----------------------------------------------------------------------------------------------

def _instance(xy, s, **extra):
    return {"keypoints": xy.tolist(), "keypoint_scores": s.tolist(), "bbox": [[0, 0, 10, 10]], **extra}


def test_mmpose_inferencer_and_demo_frame_bases(tmp_path):
    a, sa = _pose(133, 20)
    b, sb = _pose(133, 21)
    sa[2] = 1.4  # RTMPose scores can exceed 1: clipped
    frames = [[], [_instance(a, sa, bbox_score=0.7, track_id=9)], [], [_instance(b, sb)]]
    inferencer = [{"frame_id": i, "instances": inst} for i, inst in enumerate(frames)]  # 0-based
    demo = {"meta_info": {"dataset_name": "coco_wholebody"},
            "instance_info": [{"frame_id": i + 1, "instances": inst} for i, inst in enumerate(frames)]}  # 1-based
    for doc in (inferencer, demo):
        kf = read_keypoints(_write(tmp_path / "pred.json", doc))
        assert (kf.format, kf.layout, kf.num_frames, sorted(kf.frames)) == ("mmpose", "coco17", 4, [1, 3])
        p = _only(kf, 1)
        _check_person(p, a, sa, "coco17", track_id=9)
        assert p.scores[2] == 1.0 and p.score == pytest.approx(0.7)
        _check_person(_only(kf, 3), b, sb, "coco17")


def test_mmpose_single_image(tmp_path):
    a, sa = _pose(17, 22)
    for doc in ([_instance(a, sa, bbox_score=0.5)], {"meta_info": {}, "instance_info": [_instance(a, sa)]}):
        kf = read_keypoints(_write(tmp_path / "img.json", doc))
        assert (kf.format, kf.layout, kf.num_frames) == ("mmpose", "coco17", 1)
        _check_person(_only(kf, 0), a, sa, "coco17")


# -- this project's keypoints.npz ------------------------------------------------------------------------

def _track(t: int, centre: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A standing person walking right: (T, 17, 2) pixels with jitter, (T, 17) distinct scores."""
    rng = np.random.default_rng(seed)
    kp = pixels_of(STANDING_17, 640, 480, centre)[None] + np.arange(t, dtype=np.float32)[:, None, None] * [2, 0]
    kp = (kp + rng.normal(0, 0.3, kp.shape)).astype(np.float32)
    scores = rng.uniform(0.3, 1.0, (t, 17)).astype(np.float32)
    return kp, scores


def test_npz_replays_the_detector_keypoints_bit_for_bit(tmp_path):
    t = 30
    kp = np.full((2, t, 17, 2), np.nan, np.float32)
    scores = np.zeros((2, t, 17), np.float32)
    valid = np.zeros((2, t), bool)
    kp[0], scores[0] = _track(t, 200.0, 0)
    kp[1, 5:20], scores[1, 5:20] = [a[5:20] for a in _track(t, 450.0, 1)]
    valid[0], valid[1, 5:20] = True, True
    legs_l, legs_r = [4, 5, 6], [1, 2, 3]
    kp[0, 12, legs_l + legs_r] = kp[0, 12, legs_r + legs_l]  # a left/right swap the repair fixes
    kp[0, 12, 6], scores[0, 12, 6] = np.nan, 0.0               # ... with one side missing
    kp[0, 20:22], scores[0, 20:22], valid[0, 20:22] = np.nan, 0.0, False  # a gap the repair fills
    kp[0, 25, 13], scores[0, 25, 13] = np.nan, 0.0             # a joint the repair fills

    rep = [repair_track(kp[p], scores[p], valid[p], 30.0) for p in range(2)]
    flags = np.stack([r.flags for r in rep])
    assert (flags[0, 12, legs_l + legs_r] & SWAPPED).all()  # the repair did move scores
    assert rep[0].scores[12, 3] != scores[0, 12, 3] and rep[0].valid[20]  # stored: not the detector's
    kp3d = np.zeros((2, t, 17, 3), np.float32)
    result = Result(keypoints_2d=np.stack([r.kp2d for r in rep]), scores=np.stack([r.scores for r in rep]),
                    keypoints_3d=kp3d, keypoints_3d_world=kp3d, valid=np.stack([r.valid for r in rep]),
                    track_ids=np.array([3, 8]), time_s=np.arange(t) / 29.97, fps=29.97, width=640, height=480,
                    main_person=0, keypoints_2d_raw=kp, repair_flags=flags)
    paths = write_outputs(tmp_path, result)

    kf = read_keypoints(paths["npz"])
    assert (kf.format, kf.layout, kf.num_frames, kf.width, kf.height, kf.fps) == ("npz", "h36m17", t, 640, 480, 29.97)
    assert kf.time_s.dtype == np.float64 and np.array_equal(kf.time_s, result.time_s)
    assert sorted(kf.frames) == [f for f in range(t) if f not in (20, 21)]  # filled frames have no raw joints
    for frame, people in kf.frames.items():
        ids = [p.track_id for p in people]
        assert ids == [3, 8] if 5 <= frame < 20 else ids == [3]
        for person in people:
            p = [3, 8].index(person.track_id)
            xy17, s17 = to_h36m17(person.xy, person.scores, kf.layout)
            assert xy17.tobytes() == kp[p, frame].tobytes()  # bit for bit, NaN where absent
            assert s17.tobytes() == scores[p, frame].tobytes()  # the detector's scores, swaps undone
    assert any("frames 20-21" in n for n in kf.notes)


# -- malformed files ----------------------------------------------------------------------------------------

def _coco(k=17, image_id=0, **extra):
    xy, s = _pose(k, 30)
    return {"image_id": image_id, "category_id": 1, "keypoints": _flat(xy, s), "score": 0.5, **extra}


BAD_JSON = [
    ("not_json", "{'image_id': 0", "not JSON"),
    ("not_utf8", b"\xff\xfe\x00garbage", "not JSON"),
    ("empty_list", [], "empty JSON list"),
    ("unknown_object", {"foo": 1}, "unknown keypoint format"),
    ("unknown_list", [{"a": 1}], "unknown keypoint format"),
    ("scalar", 3, "unknown keypoint format"),
    ("entry_not_object", [_coco(), 5], "entry 1 is 5, not an object"),
    ("wrong_count", [_coco(), {**_coco(), "keypoints": [1.0] * 50}], "entry 1: keypoints has 50 numbers"),
    ("mixed_k", [_coco(), _coco(k=26)], "entry 1: 26 keypoints, but entry 0 has 17"),
    ("not_numbers", [{**_coco(), "keypoints": ["a"] * 51}], "entry 0: keypoints is not a regular list of numbers"),
    ("negative_frame", [_coco(image_id=-2)], "entry 0 (image_id -2): negative frame index"),
    ("nameless_frame", [_coco(image_id="first.jpg")], "has no frame number"),
    ("float_image_id", [_coco(image_id=1.5)], "neither an integer nor a file name"),
    ("no_image_id", [_coco(), {"keypoints": []}], "entry 1: no image_id"),
    ("duplicate_track", [_coco(track_id=4), _coco(track_id=1), _coco(track_id=4)],
     "entry 2: track ID 4 appears twice in frame 0 (also entry 0)"),
    ("bad_track", [_coco(track_id="bob")], "entry 0: track_id 'bob' is not a whole number"),
    ("bad_score", [_coco(score="high")], "entry 0: score 'high' is not a number"),
    ("dataset_unknown_image", {"images": [{"id": 1, "file_name": "1.jpg"}],
                               "annotations": [{"image_id": 2, "keypoints": _coco()["keypoints"]}]},
     "annotations[0]: image_id 2 is not in images"),
    ("dataset_duplicate_frame", {"images": [{"id": 1, "frame_id": 3}, {"id": 2, "frame_id": 3}],
                                 "annotations": []}, "images[1]: frame 0 (frame_id 3) is also images[0]"),
    ("dataset_no_people", {"images": [{"id": 1}], "annotations": []}, "no person with keypoints"),
    ("mmpose_duplicate_frame", [{"frame_id": 0, "instances": []}, {"frame_id": 0, "instances": []}],
     "entry 1: frame_id 0 appears twice (also entry 0)"),
    ("mmpose_demo_frame_0", {"meta_info": {}, "instance_info": [{"frame_id": 0, "instances": []}]},
     "instance_info[0]: negative frame index -1 (frame_id 0, counted from 1)"),
    ("mmpose_shape", [{"frame_id": 0, "instances": [{"keypoints": [[1, 2]] * 16, "keypoint_scores": [1] * 17}]}],
     "entry 0.instances[0]: keypoints has shape (16, 2); expected (17, 2)"),
    ("mmpose_no_frame_id", [{"instances": []}], "entry 0: no frame_id or instances"),
    ("mmpose_ragged", [{"frame_id": 0, "instances": [{"keypoints": [[1, 2]] * 16 + [[3]], "keypoint_scores": [1] * 17}]}],
     "entry 0.instances[0]: keypoints is not a regular list of numbers"),
]


def _assert_one_line_error(path, fragment):
    with pytest.raises(KeypointFileError) as info:
        read_keypoints(path)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert fragment in message, message


@pytest.mark.parametrize("name,content,fragment", BAD_JSON, ids=[c[0] for c in BAD_JSON])
def test_malformed_json_files(tmp_path, name, content, fragment):
    path = tmp_path / f"{name}.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        _write(path, content)
    _assert_one_line_error(path, fragment)


def test_malformed_openpose_folders(tmp_path):
    xy, s = _pose(25, 31)
    empty = tmp_path / "empty"
    empty.mkdir()
    _assert_one_line_error(empty, "empty folder")
    other = tmp_path / "other"
    other.mkdir()
    _write(other / "frame1.json", _openpose([(xy, s, [-1])]))
    _assert_one_line_error(other, "no OpenPose <name>_<12 digits>_keypoints.json file among its 1 files")

    twice = tmp_path / "twice"
    twice.mkdir()
    _write(twice / "a_000000000002_keypoints.json", _openpose([(xy, s, [-1])]))
    _write(twice / "b_000000000002_keypoints.json", _openpose([(xy, s, [-1])]))
    at_fault = twice / "b_000000000002_keypoints.json"
    assert _error_of(twice) == f"{at_fault}: frame 2 again (also a_000000000002_keypoints.json)"

    ids = tmp_path / "ids"
    ids.mkdir()
    bad = _write(ids / "a_000000000000_keypoints.json", _openpose([(xy, s, [1]), (xy + 50, s, [1])]))
    assert _error_of(ids) == f"{bad}: people[1]: track ID 1 appears twice in frame 0 (also people[0])"

    count = tmp_path / "count"
    count.mkdir()
    bad = _write(count / "a_000000000000_keypoints.json", _openpose([(xy[:17], s[:17], [-1])]))
    assert _error_of(count).startswith(f"{bad}: people[0]: pose_keypoints_2d has 51 numbers")

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a_000000000000_keypoints.json").write_text("{")
    assert _error_of(broken).startswith(f"{broken / 'a_000000000000_keypoints.json'}: not JSON (")
    _assert_one_line_error(tmp_path / "missing.json", "no such file or folder")


def _error_of(path) -> str:
    with pytest.raises(KeypointFileError) as info:
        read_keypoints(path)
    return str(info.value)


def test_malformed_npz(tmp_path):
    old = tmp_path / "old.npz"
    np.savez(old, format_version=np.int64(2))
    _assert_one_line_error(old, "format version 2")
    partial = tmp_path / "partial.npz"
    np.savez(partial, format_version=np.int64(3))
    _assert_one_line_error(partial, "not a readable keypoints.npz")
