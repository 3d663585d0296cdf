"""demo.render: the one output size (swept over thousands of inputs), and pixel checks of the drawing:
each person's 2D skeleton where its joints are, in its track colour, with its ID above it; nothing
elsewhere; the 3D panel at the camera's projections; low-confidence and missing joints; no person.
The world of the 3D panel (Scene): robust bounds from world joints, a camera that never moves and
frames far-away people when the bounds include them, a viewpoint on the input camera's side, the
grid step growing with the floor, the fading pelvis trail (NaN gaps, empty trails), the legend
and mode title in both modes, a jump visibly leaving the shadow, the input camera's mark."""

import itertools

import cv2
import numpy as np
import pytest

from _demo_fakes import STANDING_17, pixels_of
from demo.post import to_world_view
from demo.render import (CAMERA_MARK_COLOR, FLOOR_COLOR, LOW_COLOR, PALETTE, SHADOW_COLOR,
                         DrawnPerson, Renderer, RenderStyle, Scene, grid_step_for, light_tint, output_size,
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


# --- the world of the 3D panel (Scene) -----------------------------------------------------------

def _world_pose(x=0.0, y=0.0, lift=0.0):
    """STANDING_17 (camera frame, facing the camera) as a world pose (z up, y away from the input
    camera): pelvis at (x, y), ankles 0.08 m above the floor, everything raised by ``lift`` metres."""
    p = STANDING_17.astype(np.float64)
    world = np.stack([p[:, 0], p[:, 2], -p[:, 1]], -1)
    world[:, 2] += 0.98 + lift
    return world + [x, y, 0.0]


def _walk(start, end, frames=40):
    """(frames, 17, 3) a standing pose moved along a straight line on the floor."""
    return np.stack([_world_pose(*xy) for xy in np.linspace(start, end, frames)])


def _nobody_2d(track_id, kp3d, trail=None):
    return DrawnPerson(track_id, np.full((17, 2), np.nan), np.ones(17), kp3d, trail)


def _inside(px, h, margin=0.0):
    return bool(((px >= margin) & (px <= h - 1 - margin)).all())


def test_scene_default_validation_and_hashable():
    assert Scene() == Scene.from_box(2.0, 2.0) and not Scene().ground
    assert np.array_equal(Scene().lo, [-2, -2, 0]) and np.array_equal(Scene().hi, [2, 2, 2])
    r = Renderer(64, 48, 25.0)
    assert r.scene == Scene()
    s = Scene(np.array([[0, 0, 0], [1, 2, 3]]), True, np.array([0.5, 0.5, np.nan]))
    assert s.bounds == ((0, 0, 0), (1, 2, 3)) and s.camera_position is None and hash(s) == hash(s)
    for bad in (np.zeros((2, 2)), [[0, 0, 0], [1, 1, 0]], [[0, 0, 0], [1, np.inf, 1]]):
        with pytest.raises(ValueError, match="bounds"):
            Scene(bad)
    with pytest.raises(ValueError, match="camera_position"):
        Scene(camera_position=(1.0, 2.0))


def test_scene_from_world_is_robust():
    walk = _walk((-6.0, 3.0), (5.0, 9.0), 200)
    wild = walk.copy()
    wild[50, 3] = [400.0, -300.0, 90.0]  # one wild joint and one wild frame
    wild[51] += 80.0
    brief = np.full_like(walk, np.nan)
    brief[:5] = _world_pose(8.0, 0.0)  # a second person, seen in 5 frames only
    s = Scene.from_world(np.stack([wild, brief]), ground=True, camera_position=(0.0, -3.0, 1.5))
    assert s.ground and s.camera_position == (0.0, -3.0, 1.5)
    lo, hi = s.lo, s.hi
    assert (lo[:2] <= [-6.4, 0.0]).all() and hi[0] >= 8.4 and hi[1] >= 9.1  # both people (with their arms)
    assert (hi[:2] < [12, 13]).all() and hi[2] < 3.0  # the wild values ignored
    assert lo[2] == 0.0 and hi[2] >= 1.7 + 0.2  # floor to above the heads
    # the same from a list of per-person arrays of different lengths, and from one person
    assert Scene.from_world([wild, brief[:5]], ground=True).bounds == \
        Scene.from_world(np.stack([wild, brief]), ground=True).bounds
    one = Scene.from_world(_world_pose(10.0, 20.0)[None])  # (T, 17, 3), a single frame
    assert np.allclose((one.hi - one.lo)[:2], 4.0) and np.allclose((one.lo + one.hi)[:2] / 2, [10, 20], atol=0.1)
    assert one.hi[2] - one.lo[2] >= 2.0
    assert Scene.from_world(np.full((2, 3, 17, 3), np.nan), ground=False) == Scene()  # nothing finite
    assert Scene.from_world(np.zeros((0, 17, 3))) == Scene(ground=True)
    huge = Scene.from_world(_walk((0.0, 0.0), (100.0, 0.0), 300))
    assert np.isclose(huge.hi[0] - huge.lo[0], 40.0) and huge.lo[0] < 50 < huge.hi[0]


def test_grid_step_grows_with_the_floor():
    steps = [grid_step_for(Scene(((0, 0, 0), (side, 3.0, 2.0))), 0.5) for side in (4, 6, 10, 20, 60)]
    assert steps == [0.5, 0.5, 1.0, 2.0, 2.0]
    assert grid_step_for(Scene(), 0.25) == 1.0 and grid_step_for(Scene(), 3.0) == 3.0  # 16 cells: too many
    assert Renderer(320, 240, 25.0, scene=Scene(((0, 0, 0), (20, 5, 2)), True)).grid_step == 2.0


def test_3d_camera_never_moves_and_the_viewpoint_is_on_the_input_camera_side():
    walk = _walk((-3.0, 1.0), (3.0, 6.0), 30)
    r = Renderer(320, 240, 30.0, 30, scene=Scene.from_world(walk, ground=True))
    cam = r.camera
    state = (cam.eye.copy(), cam.basis.copy(), cam.focal, cam.center.copy())
    background = r.background.copy()
    frame = np.zeros((240, 320, 3), np.uint8)
    first = r.render(frame, 0, [_nobody_2d(1, walk[0])])
    for t in range(1, 30):
        r.render(frame, t, [_nobody_2d(1, walk[t], walk[max(0, t - 10): t, 0]), _nobody_2d(2, walk[29 - t])])
    assert np.array_equal(cam.eye, state[0]) and np.array_equal(cam.basis, state[1])
    assert cam.focal == state[2] and np.array_equal(cam.center, state[3]) and r.camera is cam
    assert np.array_equal(r.background, background)
    assert np.array_equal(r.render(frame, 0, [_nobody_2d(1, walk[0])]), first)  # the same picture again
    # the default viewpoint: on the input camera's side (-y), slightly above; world +x goes right
    assert cam.eye[1] < cam.target[1] and cam.eye[2] > cam.target[2]
    (px, depth) = cam.project(np.array([[0.0, 2.0, 0.0], [1.0, 2.0, 0.0], [0.0, 3.0, 0.0]]))
    assert px[1, 0] - px[0, 0] > 3 * abs(px[1, 1] - px[0, 1])  # +x: to the right, mostly
    assert depth[2] > depth[0]  # +y: away from the viewer


def test_far_person_is_inside_the_panel_when_the_scene_includes_them():
    w, h = 640, 360
    walk = _walk((24.0, 30.0), (27.0, 33.0), 20)  # far from the origin
    r = Renderer(w, h, 30.0, None, scene=Scene.from_world(walk, ground=True))
    legend_top = r.legend_box[1]
    frame = np.zeros((h, w, 3), np.uint8)
    for t in (0, 10, 19):
        px = r.camera.project(walk[t])[0]
        assert _inside(px, h, 5) and px[:, 1].max() < legend_top  # not under the legend
        right = r.render(frame, t, [_nobody_2d(3, walk[t])])[:, r.left_width:]
        mine = _track_pixels(right, 3) & (right != r.background).any(-1)  # (the axis triad's y is green)
        assert mine.sum() > 60
        assert not (mine & ~_near(right.shape, px, 6) & ~_above(right.shape, px)).any()
    default = Renderer(w, h, 30.0, None)  # the default box does not reach that far
    assert not _inside(default.camera.project(walk[0])[0], h)


def test_trail_in_track_colour_fading_with_age_and_gaps():
    w, h = 960, 720
    scene = Scene(((-3.0, 0.0, 0.0), (3.0, 5.0, 2.0)), ground=True)
    r = Renderer(w, h, 30.0, None, scene=scene)
    K = 12
    trail = np.stack([np.linspace(-2.6, 1.8, K), np.full(K, 1.3), np.full(K, 0.98)], -1)  # pelvis heights
    person = _nobody_2d(5, _world_pose(2.2, 1.3))  # the pelvis follows the trail's line
    frame = np.zeros((h, w, 3), np.uint8)
    without = r.render(frame, 0, [person])[:, w:]
    right = r.render(frame, 0, [DrawnPerson(5, person.kp2d, person.scores, person.kp3d_world, trail)])[:, w:]
    floor = trail.copy()
    floor[:, 2] = 0.0
    px = r.camera.project(floor)[0]
    colour, base = np.array(track_color(5)), np.array(FLOOR_COLOR)
    distances = []
    for i in range(K - 1):  # segment i .. i + 1 ends K - 2 - i frames before the newest trail point
        x, y = np.round((px[i] + px[i + 1]) / 2).astype(int)
        expect = base + (colour - base) * (i + 1) / K
        got = right[y, x].astype(int)
        assert np.abs(got - expect).max() <= 12, (i, got, expect)
        distances.append(np.abs(got - colour).sum())
    assert all(a > b for a, b in zip(distances, distances[1:]))  # fading toward the floor with age
    assert distances[-1] < 60 and distances[0] > 350
    changed = (right != without).any(-1)  # only along the trail, up to the current pelvis's floor point
    assert changed.sum() > 200
    pelvis = person.kp3d_world[:1] * [1, 1, 0]
    path = np.concatenate([px, r.camera.project(pelvis)[0]])
    assert not (changed & ~_near(right.shape, path, 5, [(k, k + 1) for k in range(K)])).any()
    # NaN gaps: the segments touching a NaN point are not drawn
    gappy = trail.copy()
    gappy[[4, 5]] = np.nan
    right = r.render(frame, 0, [DrawnPerson(5, person.kp2d, person.scores, person.kp3d_world, gappy)])[:, w:]
    for i in (3, 4, 5):
        x, y = np.round((px[i] + px[i + 1]) / 2).astype(int)
        assert (right[y - 1: y + 2, x - 1: x + 2] == without[y - 1: y + 2, x - 1: x + 2]).all(), i
    x, y = np.round((px[8] + px[9]) / 2).astype(int)
    assert not (right[y, x] == without[y, x]).all()
    # empty and all-NaN trails draw nothing; a trail without a 3D pose is still drawn
    for empty in (np.zeros((0, 3)), np.full((6, 3), np.nan), None):
        got = r.render(frame, 0, [DrawnPerson(5, person.kp2d, person.scores, person.kp3d_world, empty)])
        assert np.array_equal(got[:, w:], without)
    alone = r.render(frame, 0, [DrawnPerson(5, person.kp2d, person.scores, None, trail)])[:, w:]
    x, y = np.round((px[K - 3] + px[K - 2]) / 2).astype(int)
    assert np.abs(alone[y, x].astype(int) - colour).max() <= 40
    with pytest.raises(ValueError, match="trail"):
        r.render(frame, 0, [DrawnPerson(5, person.kp2d, person.scores, None, np.zeros((4, 2)))])


def test_legend_and_mode_title_in_both_modes():
    h = 720
    backgrounds = {}
    for ground in (True, False):
        r = Renderer(960, h, 30.0, None, scene=Scene(ground=ground))
        x0, y0, x1, y1 = r.legend_box
        legend = r.background[y0:y1, x0:x1]
        for colour in (track_color(1), light_tint(track_color(1)), LOW_COLOR, SHADOW_COLOR, (30, 30, 30)):
            assert _has(legend, colour, 6 if colour != (30, 30, 30) else 40).sum() > 20, (ground, colour)
        out = r.render(np.zeros((h, 960, 3), np.uint8), 0, [])  # also in a frame without anybody
        assert np.array_equal(out[y0:y1, 960 + x0: 960 + x1], legend)
        backgrounds[ground] = r.background
    title = (slice(0, 40), slice(0, 420))
    assert (backgrounds[True][title] != backgrounds[False][title]).any(-1).sum() > 200  # the mode differs
    assert _has(backgrounds[True], FLOOR_COLOR, 0).sum() > 50000  # the estimated ground is shaded ...
    assert _has(backgrounds[False], FLOOR_COLOR, 0).sum() < 500  # ... the fixed view's floor is not


def test_jump_leaves_the_shadow():
    w, h = 960, 720
    r = Renderer(w, h, 30.0, None, scene=Scene(((-2.0, 0.0, 0.0), (2.0, 4.0, 2.5)), ground=True))
    frame = np.zeros((h, w, 3), np.uint8)
    for lift in (0.0, 0.45):
        pose = _world_pose(0.0, 2.0, lift)
        right = r.render(frame, 0, [_nobody_2d(2, pose)])[:, w:]
        ankles = r.camera.project(pose[[3, 6]])[0]
        shadow_pose = pose.copy()
        shadow_pose[:, 2] = 0.0
        shadows = r.camera.project(shadow_pose[[3, 6]])[0]
        gap = np.linalg.norm(ankles - shadows, axis=1)
        shadow_px = _has(right, SHADOW_COLOR, 8)
        for a, s in zip(ankles, shadows):  # the shadow of each ankle is drawn under it
            x, y = np.round(s).astype(int)
            assert shadow_px[y - 2: y + 3, x - 2: x + 3].any() or lift == 0.0
        if lift == 0.0:
            assert gap.max() < 8  # standing: the feet touch their shadow
        else:
            assert gap.min() > 40
            for a, s in zip(ankles, shadows):  # between a foot and its shadow: only floor
                x, y = np.round((a + s) / 2).astype(int)
                between = right[y - 3: y + 4, x - 3: x + 4]
                assert not _track_pixels(between, 2).any() and not _has(between, SHADOW_COLOR, 8).any()


def test_camera_mark_only_over_the_floor():
    bounds = ((-2.0, 0.0, 0.0), (2.0, 5.0, 2.0))
    without = Renderer(640, 480, 30.0, None, scene=Scene(bounds, True))
    plain = without.background
    inside = Renderer(640, 480, 30.0, None, scene=Scene(bounds, True, (0.5, 0.4, 1.6)))
    outside = Renderer(640, 480, 30.0, None, scene=Scene(bounds, True, (0.0, -3.0, 1.6)))
    assert inside.camera_mark and not outside.camera_mark
    assert np.array_equal(outside.background, plain)
    x, y = np.round(inside.camera.project(np.array([[0.5, 0.45, 0.0]]))[0][0]).astype(int)
    assert _has(inside.background[y - 3: y + 4, x - 3: x + 4], CAMERA_MARK_COLOR, 10).any()
    assert _has(inside.background[inside.legend_box[1]:], CAMERA_MARK_COLOR, 10).sum() > 20  # in the legend too
    assert not _has(plain[y - 3: y + 4, x - 3: x + 4], CAMERA_MARK_COLOR, 10).any()
    floor_area = slice(plain.shape[0] // 3, without.legend_box[1])  # (the caption and legend have grey text)
    assert not _has(plain[floor_area], CAMERA_MARK_COLOR, 10).any() and not without.camera_mark
