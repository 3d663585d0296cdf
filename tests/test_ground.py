"""demo.ground: foot contacts, body up, the ground plane and the z-up world it defines."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy.signal import butter, filtfilt

from demo.ground import ANKLE_HEIGHT_M, body_up, estimate_ground, foot_contacts, make_ground
from demo.trajectory import root_translation
from synthetic_motion import add_noise, floating, make_camera, on_platform, standing, walk_and_jump

ANKLES = [3, 6]


def _angle_deg(a, b) -> float:
    return math.degrees(math.acos(float(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def _chain(scene, rng=None, px=2.0, mm=20.0, cutoff_hz=6.0):
    """What the demo does: noisy 2D + 3D -> pelvis path -> full joints, smoothed (zero-phase 6 Hz)."""
    obs = scene if rng is None else add_noise(scene, rng, px, mm)
    t = root_translation(obs.kp2d, obs.scores, obs.kp3d_rel, obs.valid, scene.camera.focal, scene.camera.center)
    pts = obs.kp3d_rel + t[:, None]
    if cutoff_hz:
        b, a = butter(2, cutoff_hz / (scene.fps / 2))
        pts = filtfilt(b, a, pts, axis=0)
    return pts


def _check_world(ground, pts, scene, tol_stance=0.03):
    world = ground.to_world(pts)
    # origin on the ground under the first pelvis
    assert np.abs(world[0, 0, :2]).max() < 1e-9
    assert world[0, 0, 2] == pytest.approx(scene.world[0, 0, 2], abs=0.1)
    # the jump: both feet leave the ground (apex 0.3 m), clearly at the top of the flight
    flight = world[scene.jump_frames][:, ANKLES, 2]
    assert (flight > ANKLE_HEIGHT_M + 0.03).all()
    middle = scene.jump_frames[len(scene.jump_frames) // 2]
    assert (world[middle, ANKLES, 2] > ANKLE_HEIGHT_M + 0.2).all()
    # stance ankles sit ANKLE_HEIGHT_M above z = 0 (the soles on the ground)
    stance = world[:, ANKLES, 2][scene.contact]
    assert np.median(np.abs(stance - ANKLE_HEIGHT_M)) < tol_stance
    return world


def test_clean_walk_and_jump_gives_the_true_ground():
    scene = walk_and_jump(seed=0)
    cam = scene.camera
    ground, note = estimate_ground([(scene.cam, scene.valid)], scene.fps, main=0)
    assert ground is not None, note
    assert note.startswith("ground from") and "1 person" in note
    assert _angle_deg(ground.normal, cam.up_cam) < 1.0
    assert ground.height_m == pytest.approx(cam.height_m, abs=0.05)
    assert ground.offset == ground.height_m
    assert ground.pitch_deg == pytest.approx(cam.pitch_deg, abs=1.0)
    assert ground.roll_deg == pytest.approx(cam.roll_deg, abs=1.0)
    assert ground.contacts >= 100
    _check_world(ground, scene.cam, scene, tol_stance=0.02)
    # the world frame: orthonormal, right-handed, z = normal, x = camera x on the ground
    rot = ground.rotation
    assert np.allclose(rot @ rot.T, np.eye(3), atol=1e-9) and np.linalg.det(rot) == pytest.approx(1.0)
    assert np.allclose(rot[2], ground.normal)
    assert abs(rot[0] @ ground.normal) < 1e-9 and rot[0][0] > 0.99
    cam_world = ground.camera_world
    assert cam_world[2] == pytest.approx(ground.height_m)
    assert cam_world[1] < -3.0  # y points away from the camera: the camera is behind the people
    assert np.allclose(ground.to_camera(ground.to_world(scene.cam)), scene.cam)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_chain_gives_the_ground_within_tolerance(seed):
    scene = walk_and_jump(seed=seed)
    cam = scene.camera
    pts = _chain(scene, np.random.default_rng(seed))
    ground, note = estimate_ground([(pts, scene.valid)], scene.fps)
    assert ground is not None, note
    assert _angle_deg(ground.normal, cam.up_cam) < 3.0
    assert ground.height_m == pytest.approx(cam.height_m, abs=0.1)
    assert ground.pitch_deg == pytest.approx(cam.pitch_deg, abs=2.0)
    assert ground.roll_deg == pytest.approx(cam.roll_deg, abs=2.0)
    _check_world(ground, pts, scene)


def test_roll_and_pitch_signs_follow_the_camera():
    for pitch, roll, height, distance in ((10.0, -4.0, 1.5, 6.5), (20.0, 5.0, 2.5, 7.0)):
        cam = make_camera((2.0, 0.0), distance_m=distance, pitch_deg=pitch, roll_deg=roll, height_m=height,
                          yaw_deg=70.0)
        scene = walk_and_jump(seed=4, camera=cam, heading_deg=0.0)
        ground, note = estimate_ground([(scene.cam, scene.valid)], scene.fps)
        assert ground is not None, note
        assert ground.pitch_deg == pytest.approx(pitch, abs=1.0)
        assert ground.roll_deg == pytest.approx(roll, abs=1.0)
        assert ground.height_m == pytest.approx(height, abs=0.05)


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_foot_contacts_are_planted_feet_only(fps):
    scene = walk_and_jump(fps=fps, seed=1)
    contacts = foot_contacts(scene.cam, scene.valid, fps, scene.camera.up_cam)
    assert contacts.shape == (len(scene.cam), 2) and contacts.dtype == bool
    assert not (contacts & ~scene.contact).any()  # never a moving or lifted foot
    assert contacts.sum() > 0.6 * scene.contact.sum()
    assert not contacts[scene.jump_frames].any()  # not even at the top of the jump (speed 0)
    # both stance feet of the walk are found (the right and the left)
    walk = slice(0, int(3 * 1.1 * fps))
    assert contacts[walk, 0].sum() > 0.3 * fps and contacts[walk, 1].sum() > 0.3 * fps


def test_foot_contacts_invalid_frames_and_short_tracks():
    scene = walk_and_jump(seed=0)
    valid = scene.valid.copy()
    valid[150:170] = False
    contacts = foot_contacts(scene.cam, valid, scene.fps, scene.camera.up_cam)
    assert not contacts[150:170].any()
    assert contacts[:150].any()
    assert foot_contacts(scene.cam[:1], None, 30.0, scene.camera.up_cam).shape == (1, 2)
    assert not foot_contacts(scene.cam[:1], None, 30.0, scene.camera.up_cam).any()
    assert foot_contacts(np.zeros((0, 17, 3)), None, 30.0, scene.camera.up_cam).shape == (0, 2)
    assert not foot_contacts(floating().cam, None, 30.0, scene.camera.up_cam).any()


def test_a_still_foot_held_up_is_not_a_contact():
    still = standing(seconds=1.0, seed=0)
    world = still.world.copy()
    world[:, 6, 2] += 0.3  # the left ankle held still 30 cm up (standing on the right leg)
    contacts = foot_contacts(still.camera.to_camera(world), None, 30.0, still.camera.up_cam)
    assert contacts[:, 0].all() and not contacts[:, 1].any()


def test_body_up():
    scene = walk_and_jump(seed=0)
    up = body_up([scene.cam])
    assert np.linalg.norm(up) == pytest.approx(1.0)
    assert _angle_deg(up, scene.camera.up_cam) < 6.0  # the torso leans 1-15 deg
    assert np.isnan(body_up([])).all()
    assert np.isnan(body_up([np.full((5, 17, 3), np.nan)])).all()


def test_collinear_and_clustered_contacts_take_the_tilt_from_body_up():
    walk = walk_and_jump(seed=2)
    only_walk = slice(0, 100)  # one person walking a line: contacts nearly collinear
    ground, note = estimate_ground([(walk.cam[only_walk], walk.valid[only_walk])], walk.fps)
    assert ground is not None, note
    assert _angle_deg(ground.normal, walk.camera.up_cam) < 3.0
    still = standing(seconds=2.0, seed=1)  # standing: two clusters 0.22 m apart
    ground, note = estimate_ground([(still.cam, still.valid)], still.fps)
    assert ground is not None, note
    assert _angle_deg(ground.normal, still.camera.up_cam) < 3.0
    assert ground.height_m == pytest.approx(still.camera.height_m, abs=0.1)


def test_unreliable_cases_give_none_and_a_reason():
    scene = walk_and_jump(seed=0)
    ground, note = estimate_ground([(floating().cam, None)], 30.0)
    assert ground is None and note == "ground not estimated: only 0 foot contacts (need 20)"
    ground, note = estimate_ground([(scene.cam[:8], scene.valid[:8])], scene.fps)
    assert ground is None and "foot contacts (need 20)" in note
    assert estimate_ground([], 30.0)[0] is None
    # the main person never valid
    ground, note = estimate_ground([(scene.cam, scene.valid), (scene.cam, np.zeros(len(scene.cam), bool))],
                                   scene.fps, main=1)
    assert ground is None and "main person" in note
    with pytest.raises(ValueError):
        estimate_ground([(scene.cam, scene.valid)], scene.fps, main=2)
    # people at seven unrelated heights: a plane holds at most three of them, not half
    cam = make_camera((0.0, 0.0), yaw_deg=90.0)
    tracks = []
    places = [(-2.4, 0, 0.0), (-1.6, 1, 0.6), (-0.8, 0, 1.2), (0, 1, 0.3), (0.8, 0, 0.9), (1.6, 1, 1.5), (2.4, 0, 0.45)]
    for i, (x, y, h) in enumerate(places):
        person = standing(seconds=1.0, seed=i, camera=cam, position_xy=(x, y))
        tracks.append((cam.to_camera(person.world + [0.0, 0.0, h]), person.valid))
    ground, note = estimate_ground(tracks, 30.0)
    assert ground is None and "lie on one plane" in note
    # feet planted on a 50 deg slope while the bodies stay upright
    walk = walk_and_jump(seed=0, heading_deg=0.0)
    world = walk.world[:100].copy()
    world[..., 2] += math.tan(math.radians(50.0)) * world[..., 0]
    ground, note = estimate_ground([(walk.camera.to_camera(world), None)], 30.0)
    assert ground is None and "from the people's up direction" in note
    # ... while a 10 deg slope is a ground
    world = walk.world[:100].copy()
    world[..., 2] += math.tan(math.radians(10.0)) * world[..., 0]
    ground, note = estimate_ground([(walk.camera.to_camera(world), None)], 30.0)
    assert ground is not None, note
    # a camera under the floor (looking up at the people) is not believable
    below = make_camera((2.0, 0.0), height_m=-1.0, pitch_deg=-25.0, yaw_deg=70.0)
    ground, note = estimate_ground([(below.to_camera(scene.world), None)], 30.0)
    assert ground is None and "above the camera" in note


def test_tracks_are_pooled():
    cam = make_camera((0.0, 1.0), yaw_deg=90.0)
    places = [(-1.5, 0.0), (1.5, 2.0)]
    people = [standing(seconds=0.3, seed=i, camera=cam, position_xy=xy) for i, xy in enumerate(places)]
    alone = [estimate_ground([(p.cam, p.valid)], 30.0) for p in people]
    assert all(g is None for g, _ in alone)  # 18 contacts each: too few
    ground, note = estimate_ground([(p.cam, p.valid) for p in people], 30.0, main=1)
    assert ground is not None, note
    assert "2 people" in note and ground.contacts == 4 * len(people[0].cam)
    assert _angle_deg(ground.normal, cam.up_cam) < 1.0  # two places 3.6 m apart fix the tilt
    assert ground.height_m == pytest.approx(cam.height_m, abs=0.08)
    origin_world = ground.to_world(people[1].cam[0, 0])  # the origin is under the main person
    assert np.abs(origin_world[:2]).max() < 1e-9
    # a walker and a bystander: the contacts add up and stay deterministic
    walk = walk_and_jump(seed=0)
    by = standing(seconds=len(walk.cam) / 30.0, seed=3, camera=walk.camera, position_xy=(1.0, 2.0))
    g1, n1 = estimate_ground([(walk.cam, walk.valid), (by.cam, by.valid)], 30.0)
    g2, n2 = estimate_ground([(walk.cam, walk.valid), (by.cam, by.valid)], 30.0)
    solo, _ = estimate_ground([(walk.cam, walk.valid)], 30.0)
    assert g1 is not None and n1 == n2 and np.array_equal(g1.normal, g2.normal)
    assert g1.contacts > solo.contacts
    assert _angle_deg(g1.normal, walk.camera.up_cam) < 1.0


def _platform_scene(platforms, balancing=False):
    """A walker on the floor (heading along world x) and people standing still on platforms:
    platforms = [(height m, (x, y))], seen by a camera 2.5 m up, pitched 10 deg, rolled 3 deg
    (high enough to see a person on a 1 m box whole)."""
    cam = make_camera((2.2, 0.5), distance_m=8.0, height_m=2.5, pitch_deg=10.0, roll_deg=3.0, yaw_deg=70.0)
    walk = walk_and_jump(seed=0, camera=cam, heading_deg=0.0)
    others = [on_platform(h, seconds=len(walk.cam) / walk.fps, seed=i + 1, camera=cam, position_xy=xy,
                          heading_deg=-90.0, balancing=balancing) for i, (h, xy) in enumerate(platforms)]
    return cam, walk, others


@pytest.mark.parametrize("platforms", [[(0.2, (1.0, 1.5))], [(1.0, (3.2, 2.0))],
                                       [(0.2, (1.0, 1.5)), (1.0, (3.2, 2.0))]])
@pytest.mark.parametrize("noisy", [False, True])
def test_people_on_platforms_do_not_lift_or_tilt_the_ground(platforms, noisy):
    """A walker on the floor and people standing still on a 0.2 m and a 1 m box: the boxes' tops
    are support levels parallel to the floor, and the ground is the lowest one (the floor), even
    though the standing people have twice the walker's contacts."""
    cam, walk, others = _platform_scene(platforms)
    rng = np.random.default_rng(7)
    tracks = [(_chain(s, rng) if noisy else s.cam, s.valid) for s in [walk, *others]]
    ground, note = estimate_ground(tracks, walk.fps, main=0)
    assert ground is not None, note
    assert _angle_deg(ground.normal, cam.up_cam) < 3.0, note
    # the camera is 8-9 m from the people: 0.5 deg of tilt (the standing people lean 1 deg) is 8 cm
    assert ground.height_m == pytest.approx(cam.height_m, abs=0.15 if noisy else 0.1)
    assert ground.people == (0,) and "1 person: #0" in note
    assert len(ground.raised_m) == len(platforms) and "support levels" in note
    for got, (want, _) in zip(ground.raised_m, sorted(platforms)):
        assert got == pytest.approx(want, abs=0.08 if noisy else 0.03)
    world = ground.to_world(tracks[0][0])
    assert np.median(np.abs(world[:, ANKLES, 2][walk.contact] - ANKLE_HEIGHT_M)) < 0.03
    for (h, _), (pts, _), scene in zip(platforms, tracks[1:], others):  # their feet stand on the boxes
        z = ground.to_world(pts)[:, ANKLES, 2][scene.contact]
        assert np.median(z) == pytest.approx(h + ANKLE_HEIGHT_M, abs=0.08 if noisy else 0.03)


@pytest.mark.parametrize("noisy", [False, True])
def test_a_floor_line_and_a_raised_cluster_are_not_one_tilted_plane(noisy):
    """The trap of pose2sim's Demo_MultiPerson: one person's contacts along a line on the floor,
    another's in a cluster on a 0.35 m treadmill 0.8 m beside that line, balancing on one leg with
    the torso leaning 15-35 deg. One plane through both is tilted ~24 deg about the line (within
    the old 35 deg limit: the old pooled fit took it, 13 deg off the truth with the pooled body
    up); the ground must be the floor, and body up must not follow the leaning person."""
    cam, walk, others = _platform_scene([(0.35, (2.0, 0.8))], balancing=True)
    leaner = others[0]
    rng = np.random.default_rng(3)
    tracks = [(_chain(s, rng) if noisy else s.cam, s.valid) for s in (walk, leaner)]
    assert _angle_deg(body_up([leaner.cam]), cam.up_cam) > 15.0  # the leaner alone is far off
    assert _angle_deg(body_up([p for p, _ in tracks]), cam.up_cam) < 5.0  # the walker's upright frames win
    trap = math.degrees(math.atan2(0.35, 0.8))
    assert 20.0 < trap < 35.0
    for main in (0, 1):
        ground, note = estimate_ground(tracks, walk.fps, main=main)
        assert ground is not None, note
        assert _angle_deg(ground.normal, cam.up_cam) < 3.0, note
        assert ground.height_m == pytest.approx(cam.height_m, abs=0.15 if noisy else 0.1)
        assert ground.people == (0,) and ground.raised_m[0] == pytest.approx(0.35, abs=0.08)
        # the origin is under the main person's first pelvis (the leaner's is above the box)
        assert ground.to_world(tracks[main][0][0, 0])[:2] == pytest.approx([0.0, 0.0], abs=1e-9)


def test_ground_hypotheses_stay_near_body_up():
    """Two people standing 1 m apart, one on a 0.4 m box: the plane through both is 22 deg off
    vertical. The ground is the lower person's level with the body's up, not the joining plane."""
    cam = make_camera((0.0, 0.5), distance_m=7.0, height_m=2.2, pitch_deg=12.0, yaw_deg=90.0)
    low = on_platform(0.0, seconds=2.0, seed=1, camera=cam, position_xy=(-0.5, 0.5))
    high = on_platform(0.4, seconds=2.0, seed=2, camera=cam, position_xy=(0.5, 0.5))
    ground, note = estimate_ground([(high.cam, high.valid), (low.cam, low.valid)], 30.0)
    assert ground is not None, note
    assert ground.people == (1,) and _angle_deg(ground.normal, cam.up_cam) < 2.0
    assert ground.height_m == pytest.approx(cam.height_m, abs=0.05)
    assert ground.raised_m == pytest.approx((0.4,), abs=0.03)


def test_make_ground_definitions():
    # a camera 1.5 m up, looking 30 deg down, no roll: up in camera coords is (0, -cos30, -sin30)
    normal = np.array([0.0, -math.cos(math.radians(30)), -math.sin(math.radians(30))])
    ground = make_ground(normal * 2.0, 3.0, np.array([0.0, -0.5, 2.0]))  # normalised inside
    assert ground.height_m == pytest.approx(1.5) and ground.pitch_deg == pytest.approx(30.0)
    assert ground.roll_deg == pytest.approx(0.0, abs=1e-9)
    anchor_world = ground.to_world(np.array([0.0, -0.5, 2.0]))
    assert np.abs(anchor_world[:2]).max() < 1e-9 and anchor_world[2] > 0
    # world up leaning to the image's right is a positive roll
    tilted = make_ground(np.array([math.sin(math.radians(10)), -math.cos(math.radians(10)), 0.0]), 1.0, np.zeros(3))
    assert tilted.roll_deg == pytest.approx(10.0) and tilted.pitch_deg == pytest.approx(0.0, abs=1e-9)


def test_speed_is_printed():
    scene = walk_and_jump(fps=48.0, seed=0)  # ~300 frames
    obs = add_noise(scene, np.random.default_rng(0))
    cam = scene.camera
    start = time.perf_counter()
    for _ in range(3):
        t = root_translation(obs.kp2d, obs.scores, obs.kp3d_rel, obs.valid, cam.focal, cam.center)
        estimate_ground([(obs.kp3d_rel + t[:, None], obs.valid)], scene.fps)
    per_frame = (time.perf_counter() - start) / 3 / len(scene.cam)
    print(f"root_translation + estimate_ground: {per_frame * 1e3:.4f} ms per frame ({len(scene.cam)} frames)")
