"""Multi-view consistency of the lifted 3D poses, on real video: pose2sim's Demo_MultiPerson.

Four synchronised views (cam01..cam04, 1088x1920, 60 fps, 100 frames) of the same two people:
a man who moves a lot (arm swings, a sideways kick from about frame 44) and a woman who mostly
stands. Each view goes through the real pipeline on its own (BlazePose -> tracking -> PGFormer,
shipped weights). A person's 3D pose lifted from view k must then be the pose lifted from view 1
up to a similarity transform (each view has its own camera frame, and monocular scale is
ambiguous): per frame, view k's pose is aligned to view 1's by Procrustes (scale, rotation,
translation) and the mean joint distance left (P-MPJPE) is the disagreement.

Choices (each measured on this data; see the figures in test_views_agree):

- Frames: the first FRAMES (40) are compared; the pipeline runs on FRAMES + SHIFT (60) so that
  view k's frames 20..59 exist for the time-shift control. From frame ~44 BlazePose labels the
  kicking leg as the other leg in cam02 (a 2D left/right error: P-MPJPE there 180-320 mm), and
  from frame ~48 the kick, seen end-on from cam03, is lifted with the wrong depth (150-280 mm);
  the 40 frames before are what the pipeline should get right in every view.
- No cutting and no scaling: the wheel's videos are read directly with ``Options.max_frames``
  (the original frames, nothing re-encoded). Scaled to 544 or 816 px wide, BlazePose lost the
  man in most cam02 frames, so the full size is kept; the four views take ~15 s in all (2 cores).
- ``max_people=2`` (the two people of the scene; a third stands far in the back of cam01/02):
  with the default (4) BlazePose in video mode alternated between the two people in cam02 and
  cam04 (each found in only 50-75% of the frames, the man split over two track IDs), with 2 it
  finds both in 93-100% of them (the man enters cam01's tracking at frame 8: 80% of frames 0-39).
- The woman is not found in cam03 by BlazePose (nor with lower detection thresholds), so cam03
  is checked for one person (EXPECTED_PEOPLE). A view where fewer people than that are each
  found in at least MIN_FOUND (70%) of the compared frames fails the test, listing every track's
  coverage (never a skip: only a wheel that cannot be fetched skips, as conftest.sample_video).
- Matching people across views by their poses, not with the calibration
  (calibration/Calib.qca.txt, which would need parsing QTM's format and triangulating): view 1's two longest tracks are the reference people; the tracks
  of view k are paired with them by the one-to-one assignment with the lowest summed median
  P-MPJPE. The other assignment is the negative control: it must exceed the tolerance, which
  shows both that the identities are unambiguous and that the check can fail.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from conftest import pose2sim_file

DEMO = "Pose2Sim/Demo_MultiPerson"
VIEWS = ("cam01", "cam02", "cam03", "cam04")  # cam01 is the reference view
FRAMES = 40  # compared frames (the first ones)
SHIFT = 20  # time shift of the negative control, frames (1/3 s at 60 fps)
MIN_FOUND = 0.7  # a person must be valid in at least this share of the compared frames
#: people BlazePose must find in most compared frames of each view (cam03 misses the woman)
EXPECTED_PEOPLE = {"cam01": 2, "cam02": 2, "cam03": 1, "cam04": 2}

#: tolerances on the per-frame P-MPJPE (mm) of one person, view k against view 1 (see
#: test_views_agree for the measured values)
MEDIAN_TOL_MM = 92.0
P90_TOL_MM = 115.0


def similarity_error(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean joint distance between ``y`` and ``x`` aligned to it by the best similarity transform.

    x, y: (..., J, 3) poses. For each pose pair, the scale s > 0, rotation R (det +1) and
    translation t minimising sum_j |s x_j R + t - y_j|^2 (Umeyama's closed form, via the SVD of
    the cross-covariance) are applied to x; returns (...,) the mean of |s x_j R + t - y_j|.
    """
    x0 = x - x.mean(-2, keepdims=True)
    y0 = y - y.mean(-2, keepdims=True)
    u, s, vt = np.linalg.svd(np.swapaxes(x0, -1, -2) @ y0)  # (..., 3, 3) cross-covariance
    sign = np.sign(np.linalg.det(u @ vt))  # -1: the best orthogonal fit is a reflection
    u[..., :, -1] *= sign[..., None]
    s[..., -1] *= sign
    rot = u @ vt
    scale = s.sum(-1) / (x0 ** 2).sum((-2, -1))
    aligned = scale[..., None, None] * (x0 @ rot)
    return np.linalg.norm(aligned - y0, axis=-1).mean(-1)


def test_similarity_error_removes_similarity():
    """The alignment undoes any scale, rotation and translation, and no more (no reflection)."""
    rng = np.random.default_rng(0)
    pose = rng.normal(size=(5, 17, 3))
    q, _ = np.linalg.qr(rng.normal(size=(5, 3, 3)))
    q *= np.sign(np.linalg.det(q))[:, None, None]  # proper rotations
    moved = 2.5 * pose @ q + rng.normal(size=(5, 1, 3))
    np.testing.assert_allclose(similarity_error(moved, pose), 0.0, atol=1e-9)
    np.testing.assert_allclose(similarity_error(pose, moved), 0.0, atol=1e-9)
    mirrored = pose * np.array([-1.0, 1.0, 1.0])
    assert (similarity_error(mirrored, pose) > 0.1).all()
    noisy = pose + 0.01 * rng.normal(size=pose.shape)
    assert (similarity_error(noisy, pose) < 0.02).all()


@dataclass
class Track:
    """One person of one view: 3D poses (T, 17, 3) metres, valid (T,), track ID."""

    view: str
    track_id: int
    kp3d: np.ndarray
    valid: np.ndarray

    def coverage(self) -> float:
        return float(self.valid[:FRAMES].mean())


def errors_mm(ref: Track, other: Track, shift: int = 0) -> np.ndarray:
    """Per-frame P-MPJPE (mm) of ``other`` at frame t + shift against ``ref`` at frame t, over
    the compared frames t < FRAMES where both are valid."""
    t = np.arange(FRAMES)
    both = ref.valid[t] & other.valid[t + shift]
    t = t[both]
    return 1000.0 * similarity_error(other.kp3d[t + shift], ref.kp3d[t])


def _summary(e: np.ndarray) -> str:
    return f"median {np.median(e):.1f} mm, p90 {np.percentile(e, 90):.1f} mm over {e.size} frames"


def run_views(folder) -> dict[str, list[Track]]:
    """Each view through the real pipeline: its tracks valid in at least MIN_FOUND of the
    compared frames, longest first. Fails when a view has fewer than EXPECTED_PEOPLE of them."""
    from demo.pipeline import Options, make_detector, make_lifter, run

    paths = {v: pose2sim_file(f"{DEMO}/videos/{v}.mp4", folder / f"{v}.mp4") for v in VIEWS}
    opts = Options(progress=False, max_people=2, max_frames=FRAMES + SHIFT)
    det = make_detector(opts)
    try:
        lifter = make_lifter(opts)
        results = {v: run(p, opts, detector=det, lifter=lifter) for v, p in paths.items()}
    finally:
        det.close()

    out = {}
    for view, res in results.items():
        assert res.num_frames == FRAMES + SHIFT, f"{view}: {res.num_frames} frames decoded"
        out[view] = people_found(view, [Track(view, int(res.track_ids[p]), res.keypoints_3d[p], res.valid[p])
                                        for p in range(res.num_people)])
    return out


def people_found(view: str, tracks: list[Track]) -> list[Track]:
    """The EXPECTED_PEOPLE[view] longest of ``tracks`` valid in at least MIN_FOUND of the
    compared frames; fails, listing every track's coverage, when there are fewer."""
    long = sorted((t for t in tracks if t.coverage() >= MIN_FOUND), key=Track.coverage, reverse=True)
    if len(long) < EXPECTED_PEOPLE[view]:
        found = ", ".join(f"track {t.track_id} in {t.coverage():.0%}" for t in tracks) or "nobody"
        pytest.fail(f"{view}: {EXPECTED_PEOPLE[view]} people should each be found in at least {MIN_FOUND:.0%} "
                    f"of the first {FRAMES} frames, but only {len(long)} were ({found})")
    return long[:EXPECTED_PEOPLE[view]]


@pytest.fixture(scope="module")
def views(tmp_path_factory) -> dict[str, list[Track]]:
    return run_views(tmp_path_factory.mktemp("multiview"))


def _pairings(refs: list[Track], tracks: list[Track]) -> list[list[tuple[Track, Track]]]:
    """Every one-to-one pairing of ``tracks`` with reference people, best (lowest summed median
    P-MPJPE) first."""
    options = [list(zip(perm, tracks)) for perm in itertools.permutations(refs, len(tracks))]
    return sorted(options, key=lambda pairs: sum(np.median(errors_mm(r, t)) for r, t in pairs))


def agrees(e: np.ndarray) -> bool:
    """The check of test_views_agree on per-frame P-MPJPE (mm) of one person."""
    return bool(np.median(e) < MEDIAN_TOL_MM and np.percentile(e, 90) < P90_TOL_MM)


@pytest.mark.heavy
def test_views_agree(views):
    """The same person's 3D pose, lifted from each view, agrees with view 1's after a similarity
    fit: per (view, person), median P-MPJPE < MEDIAN_TOL_MM and 90th percentile < P90_TOL_MM.

    Measured (CPU, frames 0-39 of each view against cam01's; median / p90):
      cam02: woman 48.9 / 72.0 mm, man 48.5 / 75.2 mm
      cam03: man 57.0 / 81.6 mm (the woman is not found in cam03)
      cam04: woman 61.4 / 76.0 mm, man 73.0 / 81.7 mm
    Tolerances 92 / 115 mm: 19 / 33 mm above the worst of these, and as far below the closest
    negative control (test_mismatches_fail).
    """
    refs = views[VIEWS[0]]
    for view in VIEWS[1:]:
        for ref, track in _pairings(refs, views[view])[0]:
            e = errors_mm(ref, track)
            assert e.size >= FRAMES // 2, f"{view} track {track.track_id}: only {e.size} frames in common with {VIEWS[0]}"
            assert agrees(e), (f"{view} track {track.track_id} vs {VIEWS[0]} track {ref.track_id}: {_summary(e)}; "
                               f"tolerance: median < {MEDIAN_TOL_MM} mm, p90 < {P90_TOL_MM} mm")


@pytest.mark.heavy
def test_mismatches_fail(views):
    """Negative controls: the check of test_views_agree rejects views that do not show the same
    person at the same time, so it can fail.

    1. Wrong person: each view's tracks paired with the other reference person must exceed both
       tolerances. Measured median / p90: cam02 131.8 / 145.2 and 132.0 / 163.8 mm, cam03
       111.2 / 168.7, cam04 124.6 / 140.3 and 134.5 / 163.2 mm (closest: median 111.2 > 92).
    2. Time shift: view k's frames t + 20 against cam01's frames t, each person of each view,
       must fail the check. Measured median / p90: cam02 woman 90.0 / 146.5 mm (p90 fails), man
       132.5 / 202.5; cam03 man 151.8 / 250.4; cam04 woman 107.0 / 158.2, man 111.8 / 118.8
       (median fails).
    """
    refs = views[VIEWS[0]]
    for view in VIEWS[1:]:
        pairings = _pairings(refs, views[view])
        for pairs in pairings[1:]:
            for ref, track in pairs:
                e = errors_mm(ref, track)
                msg = (f"{view} track {track.track_id} paired with the wrong person ({VIEWS[0]} track "
                       f"{ref.track_id}): {_summary(e)}")
                assert np.median(e) > MEDIAN_TOL_MM and np.percentile(e, 90) > P90_TOL_MM, msg
        for ref, track in pairings[0]:
            e = errors_mm(ref, track, SHIFT)
            assert e.size >= FRAMES // 2, f"{view} track {track.track_id}: only {e.size} frames when shifted"
            assert not agrees(e), f"{view} track {track.track_id} shifted by {SHIFT} frames still agrees: {_summary(e)}"
