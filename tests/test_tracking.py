"""demo.tracking: stable IDs on synthetic people moving in straight lines, and the Selector."""

from __future__ import annotations

import numpy as np
import pytest

from demo.tracking import Selector, Tracker, dropped_note, lasting
from detectors.base import PersonPose

FPS = 30.0

#: a standing person, COCO-17 order, x right / y down, in units of body height, feet at y = 0
_FIGURE = np.array([
    [0.00, -0.93], [-0.02, -0.95], [0.02, -0.95], [-0.05, -0.93], [0.05, -0.93],   # face
    [-0.12, -0.82], [0.12, -0.82], [-0.15, -0.63], [0.15, -0.63],                  # shoulders, elbows
    [-0.16, -0.46], [0.16, -0.46], [-0.09, -0.50], [0.09, -0.50],                  # wrists, hips
    [-0.10, -0.27], [0.10, -0.27], [-0.10, -0.02], [0.10, -0.02],                  # knees, ankles
])


def person(x: float, height: float, y_feet: float = 600.0, score: float = 0.9) -> PersonPose:
    """A synthetic 17-keypoint person whose feet are at (x, y_feet) px, ``height`` px tall."""
    xy = (_FIGURE * height + np.array([x, y_feet])).astype(np.float32)
    box = np.array([*xy.min(0), *xy.max(0)], np.float32)
    return PersonPose(xy=xy, scores=np.full(17, score, np.float32), box=box, score=score)


def walk(x0: float, x1: float, frames: int) -> np.ndarray:
    """x positions (frames,) of a person walking from x0 to x1 at constant speed."""
    return np.linspace(x0, x1, frames)


def run(tracker: Tracker, frames: list[list[PersonPose]]) -> list[list[int]]:
    """IDs frame by frame; frame i is at time i / FPS."""
    return [tracker.update(people, i / FPS) for i, people in enumerate(frames)]


def ids_of(frames: list[list[PersonPose]], ids: list[list[int]], tag: dict[int, str]) -> dict[str, set[int]]:
    """Which IDs each tagged person got; ``tag`` maps id(PersonPose) -> person name."""
    got: dict[str, set[int]] = {}
    for people, frame_ids in zip(frames, ids):
        for p, i in zip(people, frame_ids):
            got.setdefault(tag[id(p)], set()).add(i)
    return got


def two_walkers(frames: int, hidden_b: range = range(0), shuffle: bool = False,
                heights: tuple[float, float] = (300.0, 260.0), y_b: float = 600.0):
    """A walks right, B walks left; they cross in the middle. Returns (frames, tag)."""
    rng = np.random.default_rng(0)
    xa, xb = walk(100, 1100, frames), walk(1100, 100, frames)
    out, tag = [], {}
    for i in range(frames):
        people = [person(xa[i], heights[0])]
        tag[id(people[0])] = "A"
        if i not in hidden_b:
            people.append(person(xb[i], heights[1], y_feet=y_b))
            tag[id(people[-1])] = "B"
        if shuffle:
            people = [people[j] for j in rng.permutation(len(people))]
        out.append(people)
    return out, tag


def test_crossing_keeps_ids():
    frames, tag = two_walkers(60, shuffle=True)
    got = ids_of(frames, run(Tracker(FPS), frames), tag)
    assert got == {"A": {1}, "B": {2}} or got == {"A": {2}, "B": {1}}


def test_crossing_same_size_slightly_apart_keeps_ids():
    # same height, feet 40 px apart vertically: at the crossing the boxes overlap almost fully
    frames, tag = two_walkers(60, shuffle=True, heights=(300.0, 300.0), y_b=640.0)
    got = ids_of(frames, run(Tracker(FPS), frames), tag)
    assert len(got["A"]) == 1 and len(got["B"]) == 1 and got["A"] != got["B"]


def test_crossing_identical_people_is_resolved_by_their_motion():
    # same size, same line: only the direction of motion tells them apart after they meet
    frames, tag = two_walkers(60, shuffle=True, heights=(300.0, 300.0))
    got = ids_of(frames, run(Tracker(FPS), frames), tag)
    assert len(got["A"]) == 1 and len(got["B"]) == 1 and got["A"] != got["B"]


def test_crossing_with_occlusion_gives_the_hidden_person_back_their_id():
    # B is behind A (not detected) for 10 frames around the crossing at frame 30
    frames, tag = two_walkers(60, hidden_b=range(25, 35))
    got = ids_of(frames, run(Tracker(FPS), frames), tag)
    assert len(got["A"]) == 1 and len(got["B"]) == 1 and got["A"] != got["B"]


def test_vanishing_for_ten_frames_gets_the_same_id():
    xs = walk(200, 800, 60)
    frames = [[] if 20 <= i < 30 else [person(xs[i], 300)] for i in range(60)]
    ids = run(Tracker(FPS, max_gap_s=2.0), frames)
    assert {i for f in ids for i in f} == {1}


def test_leaving_longer_than_max_gap_gives_a_new_id():
    # seen for 1 s, gone for 3 s (> max_gap_s = 2), back at the same place
    frames = [[person(500, 300)] if i < 30 or i >= 120 else [] for i in range(150)]
    ids = run(Tracker(FPS, max_gap_s=2.0), frames)
    assert ids[29] == [1] and ids[120] == [2] and ids[-1] == [2]


def test_leaving_at_the_edge_and_coming_back_within_max_gap_keeps_the_id():
    # walks out on the right (x = 1280), away 1.5 s, walks back in from the right
    frames = [[person(x, 300)] for x in walk(900, 1280, 30)]
    frames += [[] for _ in range(45)]
    frames += [[person(x, 300)] for x in walk(1280, 900, 30)]
    ids = run(Tracker(FPS, max_gap_s=2.0), frames)
    assert {i for f in ids for i in f} == {1}


def test_gap_limit_is_configurable():
    frames = [[person(500, 300)] if i < 30 or i >= 75 else [] for i in range(90)]  # gone 1.5 s
    assert run(Tracker(FPS, max_gap_s=2.0), frames)[-1] == [1]
    assert run(Tracker(FPS, max_gap_s=1.0), frames)[-1] == [2]


def test_missed_single_frames_keep_ids():
    frames, tag = two_walkers(90)
    frames = [[] if i % 7 == 3 else f for i, f in enumerate(frames)]  # detector misses a frame
    frames[50] = frames[50][:1]  # and B alone once
    got = ids_of(frames, run(Tracker(FPS), frames), tag)
    assert len(got["A"]) == 1 and len(got["B"]) == 1 and got["A"] != got["B"]


def test_zero_people():
    tracker = Tracker(FPS)
    assert tracker.update([], 0.0) == []
    assert run(Tracker(FPS), [[], [], [person(300, 300)], [person(305, 300)], []]) == \
        [[], [], [1], [1], []]


def test_person_entering_mid_clip_gets_a_new_id_and_others_keep_theirs():
    xa = walk(100, 500, 60)
    frames = [[person(xa[i], 300)] + ([person(1200, 280)] if i >= 30 else []) for i in range(60)]
    ids = run(Tracker(FPS), frames)
    assert ids[29] == [1] and all(f == [1, 2] for f in ids[30:])


def test_a_stray_detection_is_not_kept_for_re_identification():
    # seen in 2 frames (< confirm_frames = 5), gone 0.5 s, back at the same place: a new ID;
    # seen in 10 frames: confirmed, the same ID
    for seen, expected in ((2, [2]), (10, [1])):
        frames = [[person(500, 300)] for _ in range(seen)] + [[] for _ in range(15)] + [[person(500, 300)]]
        assert run(Tracker(FPS, confirm_frames=5), frames)[-1] == expected


def test_two_people_of_one_frame_never_share_an_id():
    ids = run(Tracker(FPS), [[person(500, 300), person(500, 300), person(510, 300)]])
    assert sorted(ids[0]) == [1, 2, 3]


def test_reset_restarts_ids():
    tracker = Tracker(FPS)
    tracker.update([person(100, 300), person(900, 300)], 0.0)
    tracker.reset()
    assert tracker.update([person(500, 300)], 0.0) == [1]


def test_33_keypoints_and_missing_joints():
    rng = np.random.default_rng(1)
    frames = []
    for x in walk(200, 700, 40):
        xy = np.concatenate([_FIGURE, _FIGURE[:16] * 0.9]) * 300 + [x, 600]
        scores = np.full(33, 0.8, np.float32)
        gone = rng.choice(33, 8, replace=False)
        xy[gone] = np.nan
        scores[gone] = 0.0
        present = xy[scores > 0]
        frames.append([PersonPose(xy.astype(np.float32), scores,
                                  np.array([*present.min(0), *present.max(0)], np.float32), 0.8)])
    assert {i for f in run(Tracker(FPS), frames) for i in f} == {1}


@pytest.mark.parametrize("call, message", [
    (lambda t: t.update([], float("nan")), "finite"),
    (lambda t: (t.update([], 1.0), t.update([], 1.0)), "increase"),
    (lambda t: t.update([object()], 0.0), "PersonPose"),
    (lambda t: (t.update([person(1, 300)], 0.0),
                t.update([PersonPose(np.full((33, 2), 5.0), np.ones(33), np.array([5, 5, 5, 5]), 1.0)],
                         0.1)), "keypoints"),
    (lambda t: t.update([PersonPose(np.full((17, 2), np.nan), np.zeros(17),
                                    np.array([0, 0, 1, 1.0]), 0.0)], 0.0), "no keypoint"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(Tracker(FPS))


@pytest.mark.parametrize("kwargs", [{"fps": 0}, {"fps": 30, "max_gap_s": -1},
                                    {"fps": 30, "min_similarity": 1.5}])
def test_bad_options_are_a_clear_error(kwargs):
    with pytest.raises(ValueError):
        Tracker(**kwargs)


# -- Selector ---------------------------------------------------------------------------------


def select_all(selector: Selector, frames: list[list[tuple[int, PersonPose]]]) -> list[list[int]]:
    return [selector.select(i, [t for t, _ in f], [p for _, p in f]) for i, f in enumerate(frames)]


def test_selector_keeps_everyone_by_default():
    frames = [[(1, person(100, 300)), (2, person(500, 200)), (3, person(900, 100))]] * 3
    assert select_all(Selector(None, None), frames) == [[1, 2, 3]] * 3


def test_selector_keeps_the_most_prominent_with_hysteresis():
    small, mid, big, huge = person(100, 150), person(400, 200), person(700, 300), person(1000, 400)
    # frames 0-9: IDs 1 (small), 2 (mid), 3 (big); from frame 10 a huge ID 4 joins;
    # from frame 20 ID 3 is gone for good
    frames = [[(1, small), (2, mid), (3, big)] for _ in range(10)]
    frames += [[(1, small), (2, mid), (3, big), (4, huge)] for _ in range(10)]
    frames += [[(1, small), (2, mid), (4, huge)] for _ in range(100)]
    selector = Selector(max_people=2, fps=FPS, max_gap_s=2.0)
    kept = select_all(selector, frames)
    assert kept[0] == [2, 3]
    assert kept[15] == [2, 3]                     # 4 is bigger but 2 and 3 are still alive
    assert kept[20] == [2]                        # 3 unseen, not yet ended: its slot waits
    assert kept[-1] == [2, 4]                     # 3 ended after 2 s: the slot goes to 4
    first_4 = next(i for i, k in enumerate(kept) if 4 in k)
    assert first_4 == 19 + 61                    # last seen at frame 19, > 60 frames later
    assert selector.notes == [f"frame {first_4}: person 3 lost; person 4 kept in its place"]


def test_selector_largest_follows_and_notes_the_switch():
    big, small = person(300, 300), person(900, 200)
    frames = [[(1, big), (2, small)] for _ in range(30)]
    frames += [[(2, small)] for _ in range(30)]            # 1 lost for 1 s: keep waiting
    frames += [[(1, big), (2, small)] for _ in range(10)]   # 1 is back (same ID)
    frames += [[(2, small), (3, big)] for _ in range(100)]  # 1 gone for good, 3 is new
    selector = Selector(None, "largest", fps=FPS, max_gap_s=2.0)
    kept = select_all(selector, frames)
    assert kept[0] == [1] and kept[40] == [] and kept[65] == [1]
    switch = 69 + 61                                        # 1 last seen at frame 69
    assert all(k == [] for k in kept[70:switch])            # waits max_gap_s before switching
    assert kept[switch] == [3] and kept[-1] == [3]          # the most prominent other: 3, not 2
    assert selector.notes == [f"frame {switch}: person 1 lost; now following person 3"]


def test_selector_with_tracker_frees_the_slot_of_a_forgotten_stray_track():
    # frame 0: a stray one-frame detection next to A; from frame 10 B walks in
    tracker = Tracker(FPS, confirm_frames=5)
    selector = Selector(max_people=2, tracker=tracker)
    kept = []
    for i in range(40):
        people = [person(300, 300)] + ([person(900, 250)] if i == 0 else []) \
            + ([person(1200 - 5 * i, 280)] if i >= 10 else [])
        ids = tracker.update(people, i / FPS)
        kept.append(selector.select(i, ids, people))
    assert kept[0] == [1, 2] and kept[10] == [1, 3] and kept[-1] == [1, 3]
    assert selector.notes == ["frame 10: person 2 lost; person 3 kept in its place"]


def test_selector_max_people_one_is_largest():
    frames = [[(1, person(300, 100)), (2, person(900, 300))]] * 5
    assert select_all(Selector(1, None), frames) == select_all(Selector(None, "largest"), frames) \
        == [[2]] * 5


def test_selector_one_person_id():
    frames = [[(1, person(300, 300)), (2, person(900, 200))], [(1, person(300, 300))]]
    assert select_all(Selector(None, 2), frames) == [[2], []]
    assert Selector(None, 2).notes == []


@pytest.mark.parametrize("args", [(0, None), (None, "smallest"), (None, 0), (1.5, None), (True, None)])
def test_selector_bad_options(args):
    with pytest.raises(ValueError):
        Selector(*args)


def test_selector_bad_calls():
    selector = Selector(2, None)
    with pytest.raises(ValueError, match="ids"):
        selector.select(0, [1, 2], [person(1, 300)])
    with pytest.raises(ValueError, match="differ"):
        selector.select(0, [1, 1], [person(1, 300), person(500, 300)])
    selector.select(3, [], [])
    with pytest.raises(ValueError, match="increase"):
        selector.select(3, [], [])


def test_brief_tracks_are_dropped_unless_they_cover_half_the_clip():
    valid = np.zeros((4, 40), bool)
    valid[0] = True                 # everywhere
    valid[1, 10:24] = True          # 14 frames: under 0.5 s at 30 fps, and under half the clip
    valid[2, 5:20] = True           # 15 frames = 0.5 s: kept
    valid[3, 30] = True             # one frame
    keep = lasting(valid, 30.0, 0.5)
    assert keep.tolist() == [True, False, True, False]
    assert lasting(valid, 30.0, 0.0).all()
    assert lasting(valid[:, :2], 30.0, 0.5).tolist() == [True, False, False, False]  # a 2-frame clip
    assert lasting(valid[:, 10:12], 30.0, 0.5).tolist() == [True, True, True, False]
    assert dropped_note(np.array([3, 5, 8, 9]), keep, 0.5) == [
        "2 brief track(s) dropped, seen for under 0.5 s (ID 5, 9); --min-track 0 keeps them"]
    assert dropped_note(np.array([1]), np.array([True]), 0.5) == []
