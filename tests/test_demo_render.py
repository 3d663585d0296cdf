"""demo.render: the one output size (swept over thousands of inputs), and pixel checks of the drawing:
each person's 2D skeleton where its joints are, in its track colour, with its ID above it; nothing
elsewhere; the 3D panel at the camera's projections; low-confidence and missing joints; no person."""

import itertools

import cv2
import numpy as np
import pytest

from _demo_fakes import STANDING_17, pixels_of
from demo.post import to_world_view
from demo.render import (LOW_COLOR, PALETTE, DrawnPerson, Renderer, RenderStyle, light_tint, output_size,
                         track_color)
from lifter.skeleton import LEFT_17, edges

BONES = edges(17)
TOL = 25  # per-channel tolerance of "this pixel has that colour" (anti-aliased edges blend)


# --- output size ---------------------------------------------------------------------------------

def _check_size(w, h, style):
    width, height, left = output_size(w, h, style)
    where = f"{w}x{h} panel_height={style.panel_height} max_width={style.max_width}"
    assert width == left + height, where  # square 3D panel
    assert width % 2 == 0 and height % 2 == 0 and left % 2 == 0, where
    assert left >= 2 and height >= 2, where
    assert height <= max(h, 2), where  # never enlarged (except to the 2-pixel minimum)
    if style.panel_height is not None:
        assert height <= max(style.panel_height, 2), where
    if style.max_width is not None:
        assert width <= style.max_width, where
    else:  # nothing else limits the height; the left panel keeps the aspect ratio
        cap = h if style.panel_height is None else min(h, style.panel_height)
        assert height == max(2, cap - cap % 2), where
        assert abs(left - w / h * height) <= 2.5 or left == 2, where
    return width, height, left


EDGE_SIZES = [(1920, 1080), (1080, 1920), (1280, 720), (3840, 2160), (1, 1), (1, 4000), (4000, 1), (2, 3),
              (3, 2), (7, 5), (33, 17), (16, 4000), (4000, 16), (1, 2), (2, 1), (999, 1001), (641, 479)]
EDGE_STYLES = [RenderStyle(), RenderStyle(panel_height=None), RenderStyle(max_width=1878),
               RenderStyle(max_width=1000), RenderStyle(max_width=4), RenderStyle(max_width=5),
               RenderStyle(max_width=1001), RenderStyle(panel_height=2), RenderStyle(panel_height=3),
               RenderStyle(panel_height=None, max_width=7), RenderStyle(panel_height=481, max_width=999)]


def test_output_size_edge_cases():
    for (w, h), style in itertools.product(EDGE_SIZES, EDGE_STYLES):
        _check_size(w, h, style)
    # the reported crash: 1920x1080 with --max-width 1878 (the renderer must agree exactly)
    assert output_size(1920, 1080, RenderStyle(max_width=1878)) == (1878, 676, 1202)
    assert output_size(1920, 1080) == (1280 + 720, 720, 1280)
    assert output_size(1920, 1080, RenderStyle(panel_height=None))[:2] == (1920 + 1080, 1080)
    assert output_size(1080, 1920)[1:] == (720, 404)  # portrait


def test_output_size_sweep_random():
    rng = np.random.default_rng(7)
    for _ in range(6000):
        w, h = (int(v) for v in rng.integers(1, 4001, 2))
        if rng.random() < 0.2:  # very thin frames
            w = int(rng.integers(1, 20))
        ph = None if rng.random() < 0.3 else int(rng.integers(2, 2200))
        mw = None if rng.random() < 0.4 else int(rng.integers(4, 5000))
        _check_size(w, h, RenderStyle(panel_height=ph, max_width=mw))


def test_renderer_uses_output_size_exactly():
    rng = np.random.default_rng(3)
    person = DrawnPerson(1, pixels_of(STANDING_17, 1, 1), np.ones(17), to_world_view(STANDING_17))
    for k in range(300):
        w, h = (int(v) for v in rng.integers(1, 65, 2))
        ph = None if k % 3 == 0 else int(rng.integers(2, 80))
        mw = None if k % 2 == 0 else int(rng.integers(4, 140))
        style = RenderStyle(panel_height=ph, max_width=mw)
        width, height, left = output_size(w, h, style)
        r = Renderer(w, h, 25.0, 9, style)
        assert r.size == (width, height) and r.left_width == left and r.panel_size == (left, height)
        frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        p = DrawnPerson(k % 9 + 1, person.kp2d * [w, h] + [w / 2, h / 2], person.scores, person.kp3d_world)
        for given in (frame, r.shrink(frame)):
            out = r.render(given, k, [p] if k % 4 else [])
            assert out.shape == (height, width, 3) and out.dtype == np.uint8
    big = Renderer(1920, 1080, 30.0, None, RenderStyle(max_width=1878))
    assert big.size == (1878, 676)
    assert big.render(np.zeros((1080, 1920, 3), np.uint8), 0, []).shape == (676, 1878, 3)


# --- helpers for the pixel checks ---------------------------------------------------------------

def _has(img, color, tol=TOL):
    """(H, W) bool: the pixel has this RGB colour, within tol per channel."""
    return (np.abs(img.astype(int) - np.array(color)) <= tol).all(-1)


def _near(shape, points, radius, bones=BONES):
    """(H, W) bool: within about radius pixels of a joint or bone of one skeleton (points (17, 2))."""
    mask = np.zeros(shape[:2], np.uint8)
    ok = np.isfinite(points).all(-1)
    p = np.round(np.nan_to_num(points)).astype(int)
    for a, b in bones:
        if ok[a] and ok[b]:
            cv2.line(mask, tuple(map(int, p[a])), tuple(map(int, p[b])), 1, 2 * radius + 1)
    for j in np.nonzero(ok)[0]:
        cv2.circle(mask, tuple(map(int, p[j])), radius, 1, -1)
    return mask.astype(bool)


def _above(shape, points, height=48, half_width=60):
    """(H, W) bool: the box above a skeleton's highest point, where its ID label belongs."""
    mask = np.zeros(shape[:2], bool)
    pts = points[np.isfinite(points).all(-1)]
    cx, top = int(round((pts[:, 0].min() + pts[:, 0].max()) / 2)), int(round(pts[:, 1].min()))
    mask[max(0, top - height): max(0, top), max(0, cx - half_width): cx + half_width] = True
    return mask


def _colours(track_id):
    main = track_color(track_id)
    return main, light_tint(main)


def _track_pixels(img, track_id):
    main, light = _colours(track_id)
    return _has(img, main) | _has(img, light)


def _two_people(w=960, h=720):
    """Two standing people side by side (IDs 1 and 2), in pixels of a w x h frame and in the world."""
    kp = pixels_of(STANDING_17, w, h)
    dx = 0.18 * w
    world = to_world_view(STANDING_17)
    a = DrawnPerson(1, kp - [dx, 0], np.ones(17, np.float32), world + [-1.0, 0.3, 0.0])
    b = DrawnPerson(2, kp + [dx, 0], np.ones(17, np.float32), world + [1.2, -0.4, 0.0])
    return a, b


def _noise(w, h, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


TEXT_BOX = (slice(0, 45), slice(0, 420))  # the "frame i of N   fps" label (top-left, at 720 rows)


# --- 2D panel -----------------------------------------------------------------------------------

def test_2d_skeletons_where_the_joints_are_in_track_colours():
    w, h = 960, 720
    r = Renderer(w, h, 30.0, 50)  # 720 rows: no scaling, 2D joints are left-panel pixels
    assert r.panel_size == (w, h)
    a, b = _two_people(w, h)
    frame = np.full((h, w, 3), 90, np.uint8)
    out = r.render(frame, 3, [a, b])
    left = out[:, :w]
    for person, other in ((a, b), (b, a)):
        main, light = _colours(person.track_id)
        for j, (x, y) in enumerate(np.round(person.kp2d).astype(int)):  # each joint's dot, in its side's shade
            expect = light if j in LEFT_17 else main
            assert _has(left[y, x], expect, 12), (person.track_id, j, left[y, x], expect)
        mine = _track_pixels(left, person.track_id)
        assert mine.sum() > 1500
        allowed = _near(left.shape, person.kp2d, 8) | _above(left.shape, person.kp2d)
        assert not (mine & ~allowed).any(), f"track {person.track_id} colour drawn away from its skeleton"
        assert not (mine & _near(left.shape, other.kp2d, 8)).any()
    # left and right shins: light tint vs full colour (left / right stay apart)
    mid = lambda p, i, j: np.round((p.kp2d[i] + p.kp2d[j]) / 2).astype(int)  # noqa: E731
    x, y = mid(a, 5, 6)
    assert _has(left[y, x], light_tint(track_color(1)), 12)
    x, y = mid(a, 2, 3)
    assert _has(left[y, x], track_color(1), 12)


def test_2d_labels_above_the_right_person_and_nothing_else_drawn():
    w, h = 960, 720
    r = Renderer(w, h, 30.0, 50)
    a, b = _two_people(w, h)
    frame = _noise(w, h)
    left = r.render(frame, 3, [a, b])[:, :w]
    for person, other in ((a, b), (b, a)):
        label = _above(left.shape, person.kp2d)
        assert (_has(left, track_color(person.track_id), 0) & label).sum() > 150  # the filled ID label
        assert not (_has(left, track_color(other.track_id), 0) & label).any()
    # every pixel away from the skeletons, their labels and the frame text is the input's
    drawn = np.zeros((h, w), bool)
    for person in (a, b):
        drawn |= _near(left.shape, person.kp2d, 8) | _above(left.shape, person.kp2d)
    drawn[TEXT_BOX] = True
    assert (left[~drawn] == frame[~drawn]).all()
    assert (left[drawn] != frame[drawn]).any(-1).sum() > 3000


def test_2d_scaled_frame_and_shrunk_frame_give_the_same_picture():
    w, h = 1920, 1440  # drawn at 720 rows: half size
    r = Renderer(w, h, 25.0, None)
    assert r.panel_size == (960, 720)
    a, b = _two_people(w, h)
    frame = np.full((h, w, 3), 60, np.uint8)
    out = r.render(frame, 0, [a, b])
    assert (out == r.render(r.shrink(frame), 0, [a, b])).all()
    for person in (a, b):
        for j, (x, y) in enumerate(np.round(person.kp2d * 0.5).astype(int)):
            main, light = _colours(person.track_id)
            assert _has(out[y, x], light if j in LEFT_17 else main, 12)
        allowed = _near((720, 960), person.kp2d * 0.5, 8) | _above((720, 960), person.kp2d * 0.5)
        assert not (_track_pixels(out[:, :960], person.track_id) & ~allowed).any()


def test_low_score_joints_grey_and_missing_joints_not_drawn():
    w, h = 960, 720
    r = Renderer(w, h, 30.0, 50, RenderStyle(min_score=0.3))  # the default (LIFT_MIN_SCORE) is 0
    a, _ = _two_people(w, h)
    frame = np.full((h, w, 3), 40, np.uint8)
    low = DrawnPerson(1, a.kp2d, a.scores.copy(), a.kp3d_world)
    low.scores[[12, 13]] = 0.05  # left elbow and wrist below min_score
    left = r.render(frame, 0, [low])[:, :w]
    x, y = np.round((a.kp2d[12] + a.kp2d[13]) / 2).astype(int)  # the forearm: a grey bone
    assert _has(left[y, x], LOW_COLOR, 30)
    wrist = _near(left.shape, a.kp2d[[13]], 6, bones=[])
    assert not (_track_pixels(left, 1) & wrist).any()  # no track colour around a low joint ...
    assert (_has(left, LOW_COLOR, 30) & wrist).sum() > 10  # ... a grey ring instead
    # a NaN wrist: nothing drawn there, nor on the forearm
    gone = DrawnPerson(1, a.kp2d.copy(), a.scores, a.kp3d_world)
    gone.kp2d[13] = np.nan
    left = r.render(frame, 0, [gone])[:, :w]
    far_from_rest = _near(left.shape, a.kp2d[[13]], 6, bones=[]) & ~_near(left.shape, np.delete(a.kp2d, 13, 0), 8, [])
    assert far_from_rest.sum() > 50 and (left[far_from_rest] == 40).all()
    assert (left[y, x] == 40).all()
    # a person with no joint at all: nothing drawn (no skeleton, no label)
    nobody = DrawnPerson(1, np.full((17, 2), np.nan), np.zeros(17), None)
    left = r.render(frame, 0, [nobody])[:, :w]
    outside = np.ones((h, w), bool)
    outside[TEXT_BOX] = False
    assert (left[outside] == 40).all()


def test_frame_label_with_and_without_total():
    w, h = 320, 240
    frame = np.full((h, w, 3), 200, np.uint8)
    dark = lambda out: _has(out[:40, :w], (20, 20, 20), 0).any(0).sum()  # noqa: E731  label box width
    with_total = dark(Renderer(w, h, 30.0, 1000).render(frame, 12))
    without = dark(Renderer(w, h, 30.0, None).render(frame, 12))
    assert with_total > without > 20


# --- 3D panel -----------------------------------------------------------------------------------

def test_3d_panel_people_at_their_projections_in_track_colours():
    w, h = 960, 720
    r = Renderer(w, h, 30.0, 50)
    a, b = _two_people(w, h)
    out = r.render(np.zeros((h, w, 3), np.uint8), 0, [a, b])
    right = out[:, w:]
    assert right.shape == r.background.shape
    drawn = np.zeros((h, h), bool)
    for person, other in ((a, b), (b, a)):
        px = r.camera.project(person.kp3d_world)[0]
        hits = [_track_pixels(right[int(round(y)) - 2: int(round(y)) + 3, int(round(x)) - 2: int(round(x)) + 3],
                              person.track_id).any() for x, y in px]
        assert all(hits), f"track {person.track_id}: joints without its colour: {np.nonzero(~np.array(hits))}"
        mine = _track_pixels(right, person.track_id) & (right != r.background).any(-1)  # (the axis triad is blue)
        allowed = _near(right.shape, px, 8) | _above(right.shape, px)
        assert not (mine & ~allowed).any(), f"track {person.track_id} drawn away from its 3D projection"
        assert not (mine & _near(right.shape, r.camera.project(other.kp3d_world)[0], 6)).any()
        assert (_has(right, track_color(person.track_id), 0) & _above(right.shape, px)).sum() > 80  # ID label
        for (i, j), shade in (((5, 6), light_tint(track_color(person.track_id))),  # left shin: light tint
                              ((2, 3), track_color(person.track_id))):  # right shin: full colour
            x, y = np.round((px[i] + px[j]) / 2).astype(int)
            assert _has(right[y - 1: y + 2, x - 1: x + 2], shade, 12).any(), (person.track_id, i, j)
        floor = person.kp3d_world.copy()
        floor[:, 2] = 0
        drawn |= allowed | _near(right.shape, r.camera.project(floor)[0], 6)  # skeleton, label, shadow
    assert (right[~drawn] == r.background[~drawn]).all()  # nothing else changed in the panel


def test_3d_nearer_person_drawn_over_farther_one():
    w, h = 960, 720
    r = Renderer(w, h, 30.0, 50)
    world = to_world_view(STANDING_17)
    away = r.camera.eye[:2] / np.linalg.norm(r.camera.eye[:2])  # horizontal direction towards the camera
    near = DrawnPerson(1, np.full((17, 2), np.nan), np.ones(17), world + [*(0.6 * away), 0.0])
    far = DrawnPerson(2, np.full((17, 2), np.nan), np.ones(17), world + [*(-0.6 * away), 0.0])
    frame = np.zeros((h, w, 3), np.uint8)
    for people in ([near, far], [far, near]):  # whatever the order given
        right = r.render(frame, 0, people)[:, w:]
        both = _near(right.shape, r.camera.project(near.kp3d_world)[0], 1) & \
            _near(right.shape, r.camera.project(far.kp3d_world)[0], 1)
        assert both.sum() > 30
        assert _track_pixels(right, 1)[both].sum() > 3 * _track_pixels(right, 2)[both].sum()


def test_3d_people_far_apart_stay_in_the_fixed_view():
    r = Renderer(640, 480, 30.0, None)
    h = r.size[1]
    world = to_world_view(STANDING_17)
    for dx, dy in itertools.product((-2.0, 2.0), (-2.0, 2.0)):
        px = r.camera.project(world + [dx, dy, 0.0])[0]
        assert (px > 0).all() and (px < h).all(), (dx, dy)


def test_no_person_and_no_3d_pose():
    w, h = 320, 240
    r = Renderer(w, h, 30.0, 10)
    frame = np.full((h, w, 3), 128, np.uint8)
    a = DrawnPerson(4, pixels_of(STANDING_17, w, h), np.ones(17), None)
    nan_3d = DrawnPerson(4, a.kp2d, a.scores, np.full((17, 3), np.nan))
    empty = r.render(frame, 0, [])
    unlifted = r.render(frame, 0, [a])
    right = slice(r.left_width, None)
    assert (empty[:, right] != r.background).any(-1).sum() > 50  # the "no person" text
    assert (empty[:, right] != unlifted[:, right]).any()  # "no 3D pose" is another text
    assert (unlifted == r.render(frame, 0, [nan_3d])).all()
    assert not _track_pixels(unlifted[:, right], 4).any()
    assert _track_pixels(unlifted[:, :w], 4).sum() > 50  # but drawn in 2D
    outside = np.ones((h, w), bool)
    outside[:30, :200] = False
    assert (empty[:, :w][outside] == 128).all()


# --- colours and inputs -------------------------------------------------------------------------

def test_palette_colours_distinct_and_not_grey():
    colours = [np.array(track_color(i)) for i in range(1, len(PALETTE) + 1)]
    tints = [np.array(light_tint(tuple(c))) for c in colours]
    for i, j in itertools.combinations(range(len(colours)), 2):
        assert np.abs(colours[i] - colours[j]).max() >= 70
        assert np.abs(tints[i] - tints[j]).max() >= 35
    for c, t in zip(colours, tints):
        assert np.abs(c - t).max() >= 50  # left vs right of one person
        assert min(np.abs(c - LOW_COLOR).max(), np.abs(t - LOW_COLOR).max()) >= 40  # not low-confidence grey
    assert track_color(1) != track_color(2) and track_color(1) == track_color(1 + len(PALETTE))


def test_bad_inputs_raise_clear_errors():
    r = Renderer(64, 48, 25.0, 3)
    frame = np.zeros((48, 64, 3), np.uint8)
    good = DrawnPerson(1, np.zeros((17, 2)), np.ones(17), None)
    with pytest.raises(ValueError, match="shape"):
        r.render(frame[:-2], 0, [good])
    with pytest.raises(ValueError, match="uint8"):
        r.render(frame.astype(np.float32), 0, [good])
    with pytest.raises(ValueError, match="shape"):
        r.shrink(frame[:, :-2])
    with pytest.raises(ValueError, match="kp2d"):
        r.render(frame, 0, [DrawnPerson(1, np.zeros((16, 2)), np.ones(16), None)])
    with pytest.raises(ValueError, match="kp3d_world"):
        r.render(frame, 0, [DrawnPerson(1, np.zeros((17, 2)), np.ones(17), np.zeros((17, 2)))])
    with pytest.raises(ValueError, match="max_width"):
        RenderStyle(max_width=3)
    with pytest.raises(ValueError, match="panel_height"):
        RenderStyle(panel_height=1)
    with pytest.raises(ValueError, match="frame size"):
        output_size(0, 10)


def test_far_off_joints_are_survived():
    r = Renderer(320, 240, 30.0, 3)
    frame = np.zeros((240, 320, 3), np.uint8)
    huge = DrawnPerson(3, np.full((17, 2), 1e12), np.ones(17), to_world_view(STANDING_17) + [0, 0, 50.0])
    behind = DrawnPerson(4, np.full((17, 2), -1e12), np.ones(17), to_world_view(STANDING_17) + [*r.camera.eye[:2], 0])
    out = r.render(frame, 0, [huge, behind])
    assert out.shape == (240, 560, 3)
