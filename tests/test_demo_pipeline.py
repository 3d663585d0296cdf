"""demo.pipeline on generated videos with stand-in detectors (one or several people) and lifter."""

import time
from dataclasses import replace

import numpy as np
import pytest

from _demo_fakes import RAW_MOTION, ExplodingLifter, FakeDetector, FakeLifter, expected_lift_xy, make_video
from demo.bones import bone_variation
from demo.motion import MotionSettings
from demo.pipeline import DEFAULT_MAX_PEOPLE, STAGES, Options, make_detector, run, timing_summary
from demo.repair import FILLED
from demo.stages import OrderedStage
from demo.video import VideoError, iter_frames, probe

#: the pipeline's mechanics, without the post-processing (its own test: test_motion.py)
QUIET = Options(progress=False, chunk=4, min_score=0.0, motion=RAW_MOTION)


def test_run_renders_with_input_fps_and_frame_count(tmp_path):
    video = make_video(tmp_path / "clip.mp4", frames=11, size=(96, 64), rate="30000/1001")
    det, lifter = FakeDetector(empty=lambda i: i % 3 == 0), FakeLifter()
    out = tmp_path / "out" / "clip_pose3d.mp4"
    res = run(video, QUIET, detector=det, lifter=lifter, render_to=out)
    assert res.num_frames == 11 and det.calls == 11 and not det.closed  # injected: not closed
    assert res.track_ids.tolist() == [1] and res.main_person == 0
    v = res.valid[0]
    assert v.tolist() == [i % 3 != 0 for i in range(11)]  # the first frame is empty
    assert sum(lifter.batches) == v.sum() and max(lifter.batches) <= 4  # at most `chunk` rows per call
    np.testing.assert_allclose(res.keypoints_3d[0, v, :, :2], expected_lift_xy(res.keypoints_2d[0, v], 96, 64),
                               atol=1e-6)
    assert np.isnan(res.keypoints_3d[0, ~v]).all() and np.isnan(res.keypoints_2d[0, ~v]).all()
    assert np.isnan(res.keypoints_3d_world[0, ~v]).all() and (res.scores[0, ~v] == 0).all()
    np.testing.assert_allclose(np.nanmin(res.keypoints_3d_world[0, v][..., 2], -1), 0, atol=1e-6)
    assert (res.fps, res.width, res.height) == (pytest.approx(30000 / 1001), 96, 64)
    np.testing.assert_allclose(np.diff(res.time_s), 1001 / 30000, rtol=1e-3)  # the frames' real times
    assert set(STAGES) <= set(res.timings_ms) and res.timings_ms["total"] > 0
    assert "frames/s" in timing_summary(res.timings_ms, res.num_frames)
    src, dst = probe(video), probe(out)
    assert dst.fps == src.fps and dst.height % 2 == 0 and dst.width % 2 == 0
    assert sum(1 for _ in iter_frames(out)) == sum(1 for _ in iter_frames(video)) == 11


def test_two_people_are_lifted_in_one_batch_and_placed_side_by_side(tmp_path):
    video = make_video(tmp_path / "two.mp4", frames=6, size=(160, 90))
    lifter = FakeLifter()
    res = run(video, replace(QUIET, chunk=8), detector=FakeDetector(people=2), lifter=lifter,
              render_to=tmp_path / "two_pose3d.mp4")
    assert res.keypoints_3d.shape == (2, 6, 17, 3) and res.valid.all() and res.track_ids.tolist() == [1, 2]
    assert lifter.batches == [8, 4]  # (frame, person) rows of both people in one call
    left, right = res.keypoints_2d[:, :, 0, 0].mean(1)
    assert left < right  # IDs in order of appearance, here left to right
    # fixed view: side by side, the person on the image's left is on the left (world -x) there too
    along = res.keypoints_3d_world[:, :, 0, 0]
    assert (along[0] < along[1] - 0.5).all()
    assert sum(1 for _ in iter_frames(tmp_path / "two_pose3d.mp4")) == 6


def test_max_people_and_person_keep_the_right_tracks(tmp_path):
    video = make_video(tmp_path / "three.mp4", frames=5, size=(160, 90))
    three = run(video, QUIET, detector=FakeDetector(people=3), lifter=FakeLifter())
    assert three.track_ids.tolist() == [1, 2, 3]
    capped = run(video, replace(QUIET, max_people=2), detector=FakeDetector(people=3), lifter=FakeLifter())
    assert capped.num_people == 2 and capped.valid.all()
    only = run(video, replace(QUIET, person=2), detector=FakeDetector(people=3), lifter=FakeLifter())
    assert only.track_ids.tolist() == [2]
    np.testing.assert_array_equal(only.keypoints_2d[0], three.keypoints_2d[1])


@pytest.mark.parametrize("flags, slots", [({}, DEFAULT_MAX_PEOPLE), ({"max_people": 2}, 2),
                                          ({"person": "largest"}, 1), ({"person": 3}, DEFAULT_MAX_PEOPLE)])
def test_the_detector_looks_for_the_people_followed(monkeypatch, flags, slots):
    import detectors

    asked = {}
    monkeypatch.setattr(detectors, "create_detector", lambda name, **kw: asked.update(kw) or FakeDetector())
    make_detector(Options(**flags))
    assert asked["max_people"] == slots  # a track ID needs everyone tracked


def test_the_default_chain_fills_a_missed_frame_and_keeps_the_raw_arrays(tmp_path):
    video = make_video(tmp_path / "gap.mp4", frames=12)
    det = FakeDetector(empty=lambda i: i == 5)
    res = run(video, replace(QUIET, motion=MotionSettings()), detector=det, lifter=FakeLifter())
    assert res.valid[0].all() and res.frames_with_person == 11  # the missed frame was filled ...
    assert (res.repair_flags[0, 5] & FILLED).all() and not res.repair_flags[0, [4, 6]].any()  # ... and marked
    assert np.isnan(res.keypoints_2d_raw[0, 5]).all() and np.isfinite(res.keypoints_2d[0, 5]).all()
    assert res.smoothing == "butterworth 6 Hz"
    assert bone_variation(res.keypoints_3d[0], res.valid[0]).max() < 1e-5  # constant bones
    raw = run(video, QUIET, detector=FakeDetector(empty=lambda i: i == 5), lifter=FakeLifter())
    assert not raw.valid[0, 5] and raw.smoothing == "off" and not raw.repair_flags.any()


def test_every_frame_empty(tmp_path):
    video = make_video(tmp_path / "empty.mp4", frames=5, size=(64, 48), rate="25")
    out = tmp_path / "empty_pose3d.mp4"
    res = run(video, QUIET, detector=FakeDetector(empty=lambda i: True), lifter=ExplodingLifter(), render_to=out)
    assert res.num_people == 0 and res.keypoints_3d.shape == (0, 5, 17, 3) and res.main_person == -1
    assert res.num_frames == 5 and res.frames_with_person == 0
    assert sum(1 for _ in iter_frames(out)) == 5 and probe(out).fps == 25


def test_low_scores_are_missing_when_lifting(tmp_path):
    video = make_video(tmp_path / "low.mp4", frames=3)
    lifter = FakeLifter()
    res = run(video, replace(QUIET, min_score=0.5), detector=FakeDetector(low=(13, 16)), lifter=lifter)
    assert np.isfinite(res.keypoints_2d[0, :, [13, 16]]).all()  # the detector's guess is kept in the outputs
    np.testing.assert_allclose(res.scores[0, :, [13, 16]], 0.1)
    # ... but lifted as missing: the wrists were filled with their elbows before lifting
    np.testing.assert_allclose(res.keypoints_3d[0, :, 13], res.keypoints_3d[0, :, 12])


def test_max_frames_16_joint_lifter_and_odd_size(tmp_path):
    video = make_video(tmp_path / "odd.mp4", frames=7, size=(81, 61))
    res = run(video, replace(QUIET, chunk=64, max_frames=5), detector=FakeDetector(),
              lifter=FakeLifter(num_joints=16), render_to=tmp_path / "odd_pose3d.mp4")
    assert res.num_frames == 5 and res.valid.all()
    kp = res.keypoints_3d[0]
    np.testing.assert_allclose(kp[:, 9], (kp[:, 8] + kp[:, 10]) / 2)
    assert sum(1 for _ in iter_frames(tmp_path / "odd_pose3d.mp4")) == 5


def test_errors(tmp_path):
    with pytest.raises(VideoError):
        run(tmp_path / "missing.mp4", QUIET, detector=FakeDetector(), lifter=FakeLifter())
    video = make_video(tmp_path / "e.mp4", frames=3)

    class Broken(FakeDetector):
        def detect(self, frame_rgb, time_s):
            raise RuntimeError("detector failed")

    out = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError, match="detector failed"):
        run(video, QUIET, detector=Broken(), lifter=FakeLifter(), render_to=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.mp4"]  # no partial video left
    with pytest.raises(ValueError, match="max_people"):
        run(video, replace(QUIET, max_people=0), detector=FakeDetector(), lifter=FakeLifter())


def test_encoder_failure_in_the_render_thread(tmp_path):
    """An error of the background thread reaches the caller; no partial video is left."""
    video = make_video(tmp_path / "f.mp4", frames=9)
    out = tmp_path / "f_pose3d.mp4"
    with pytest.raises(VideoError, match="encod"):
        run(video, replace(QUIET, preset="no-such-preset"), detector=FakeDetector(), lifter=FakeLifter(),
            render_to=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.mp4"]


def test_ordered_stage_keeps_one_item_in_flight_and_reports_errors():
    done, live = [], []

    def work(item):
        live.append(item)
        assert len(live) == 1  # never two items at once
        time.sleep(0.02)
        if item == "bad":
            raise RuntimeError("failed in the thread")
        done.append(item)
        live.remove(item)

    with OrderedStage(work, "test") as post:
        for i in range(4):
            post.submit(i)
            assert done == list(range(i))  # submit returned only once the previous item was done
        post.finish()
        assert done == [0, 1, 2, 3]
        post.submit("bad")
        with pytest.raises(RuntimeError, match="failed in the thread"):
            post.submit(5)


def test_results_do_not_depend_on_rendering(tmp_path):
    video = make_video(tmp_path / "same.mp4", frames=10)
    det = FakeDetector(empty=lambda i: i == 4, low=(3,), people=2)
    plain = run(video, QUIET, detector=det, lifter=FakeLifter())
    drawn = run(video, QUIET, detector=det, lifter=FakeLifter(), render_to=tmp_path / "same_pose3d.mp4")
    for name in ("keypoints_2d", "scores", "keypoints_3d", "keypoints_3d_world", "valid", "track_ids"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(drawn, name))


class _StrayDetector(FakeDetector):
    """One person throughout, and a second one found in frames 4-5 only (a brief false detection)."""

    def detect(self, frame_rgb, time_s):
        i = self.calls
        people = super().detect(frame_rgb, time_s)
        if i in (4, 5):
            people += FakeDetector(people=2).detect(frame_rgb, time_s)[1:]
        return people


def test_brief_tracks_are_dropped_with_a_note(tmp_path):
    video = make_video(tmp_path / "stray.mp4", frames=30, size=(160, 90))
    res = run(video, QUIET, detector=_StrayDetector(), lifter=FakeLifter())
    assert res.track_ids.tolist() == [1] and res.valid.all()
    assert "1 brief track(s) dropped, seen for under 0.5 s (ID 2); --min-track 0 keeps them" in res.notes
    everyone = run(video, replace(QUIET, min_track_s=0.0), detector=_StrayDetector(), lifter=FakeLifter())
    assert everyone.track_ids.tolist() == [1, 2] and everyone.valid[1].sum() == 2
    assert not any("brief" in note for note in everyone.notes)
