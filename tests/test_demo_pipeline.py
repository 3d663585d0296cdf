"""demo.pipeline on generated videos with a stand-in detector and lifter."""

import time
from dataclasses import replace

import numpy as np
import pytest

from _demo_fakes import ExplodingLifter, FakeDetector, FakeLifter, expected_lift_xy, make_video
from demo import pipeline
from demo.outputs import read_npz, write_outputs
from demo.pipeline import STAGES, Options, render_video, run, timing_summary
from demo.video import VideoError, iter_frames, probe

QUIET = Options(progress=False, chunk=4)


def test_run_renders_with_input_fps_and_frame_count(tmp_path):
    video = make_video(tmp_path / "clip.mp4", frames=11, size=(96, 64), rate="30000/1001")
    det, lifter = FakeDetector(empty=lambda i: i % 3 == 0), FakeLifter()
    out = tmp_path / "out" / "clip_pose3d.mp4"
    res = run(video, QUIET, detector=det, lifter=lifter, render_to=out)
    assert res.num_frames == 11 and det.calls == 11 and not det.closed  # injected: not closed
    assert res.valid.tolist() == [i % 3 != 0 for i in range(11)]  # the first frame is empty
    assert sum(lifter.batches) == res.valid.sum() and max(lifter.batches) <= 4  # batched per chunk
    v = res.valid
    np.testing.assert_allclose(res.keypoints_3d[v, :, :2], expected_lift_xy(res.keypoints_2d[v], 96, 64), atol=1e-6)
    assert np.isnan(res.keypoints_3d[~v]).all() and np.isnan(res.keypoints_2d[~v]).all()
    assert np.isnan(res.keypoints_3d_world[~v]).all() and (res.scores[~v] == 0).all()
    np.testing.assert_allclose(np.nanmin(res.keypoints_3d_world[v][..., 2], -1), 0, atol=1e-6)
    assert (res.fps, res.width, res.height) == (pytest.approx(30000 / 1001), 96, 64)
    assert set(STAGES) <= set(res.timings_ms) and res.timings_ms["total"] > 0
    assert "frames/s" in timing_summary(res.timings_ms, res.num_frames)
    src, dst = probe(video), probe(out)
    assert dst.fps == src.fps and dst.height % 2 == 0 and dst.width % 2 == 0
    assert sum(1 for _ in iter_frames(out)) == sum(1 for _ in iter_frames(video)) == 11


def test_every_frame_empty(tmp_path):
    video = make_video(tmp_path / "empty.mp4", frames=5, size=(64, 48), rate="25")
    out = tmp_path / "empty_pose3d.mp4"
    res = run(video, QUIET, detector=FakeDetector(empty=lambda i: True), lifter=ExplodingLifter(), render_to=out)
    assert not res.valid.any() and np.isnan(res.keypoints_3d).all() and (res.scores == 0).all()
    assert sum(1 for _ in iter_frames(out)) == 5 and probe(out).fps == 25


def test_names_make_and_close_components(tmp_path, monkeypatch):
    video = make_video(tmp_path / "n.mp4", frames=3)
    made = {}

    def make_detector(options):
        made["detector"] = options.detector
        made["det"] = FakeDetector()
        return made["det"]

    def make_lifter(options):
        made["lifter"] = (options.lifter, options.weights, options.device, options.flip)
        return FakeLifter()

    monkeypatch.setattr(pipeline, "make_detector", make_detector)
    monkeypatch.setattr(pipeline, "make_lifter", make_lifter)
    res = run(video, Options(progress=False, device="cpu", flip=False), detector="other", lifter="ckpt.safetensors")
    assert made["detector"] == "other" and made["det"].closed
    assert made["lifter"] == ("ckpt.safetensors", None, "cpu", False)
    assert res.lifter == "ckpt.safetensors" and res.detector == "fake" and res.valid.all()


def test_max_frames_16_joint_lifter_and_odd_size(tmp_path):
    video = make_video(tmp_path / "odd.mp4", frames=7, size=(81, 61))
    res = run(video, Options(progress=False, chunk=64, max_frames=5), detector=FakeDetector(),
              lifter=FakeLifter(num_joints=16), render_to=tmp_path / "odd_pose3d.mp4")
    assert res.num_frames == 5 and res.valid.all()
    np.testing.assert_allclose(res.keypoints_3d[:, 9], (res.keypoints_3d[:, 8] + res.keypoints_3d[:, 10]) / 2)
    assert sum(1 for _ in iter_frames(tmp_path / "odd_pose3d.mp4")) == 5


def test_render_video_from_saved_result(tmp_path):
    video = make_video(tmp_path / "s.mp4", frames=6)
    res = run(video, QUIET, detector=FakeDetector(low=(13,)), lifter=FakeLifter())
    paths = write_outputs(tmp_path, res)
    out = render_video(video, read_npz(paths["npz"]), tmp_path / "again.mp4", QUIET)
    assert sum(1 for _ in iter_frames(out)) == 6


def test_errors(tmp_path):
    with pytest.raises(VideoError):
        run(tmp_path / "missing.mp4", QUIET, detector=FakeDetector(), lifter=FakeLifter())
    video = make_video(tmp_path / "e.mp4", frames=3)

    class Broken(FakeDetector):
        def detect(self, frame_rgb):
            raise RuntimeError("detector failed")

    out = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError, match="detector failed"):
        run(video, QUIET, detector=Broken(), lifter=FakeLifter(), render_to=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.mp4"]  # no partial video left


def test_encoder_failure_in_the_render_thread(tmp_path):
    """An error of the background thread reaches the caller; no partial video is left."""
    video = make_video(tmp_path / "f.mp4", frames=9)
    out = tmp_path / "f_pose3d.mp4"
    with pytest.raises(VideoError, match="encod"):
        run(video, replace(QUIET, preset="no-such-preset"), detector=FakeDetector(), lifter=FakeLifter(),
            render_to=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.mp4"]


def test_background_keeps_one_item_in_flight_and_reports_errors():
    done, live = [], []

    def work(item):
        live.append(item)
        assert len(live) == 1  # never two items at once
        time.sleep(0.02)
        if item == "bad":
            raise RuntimeError("failed in the thread")
        done.append(item)
        live.remove(item)

    with pipeline._Background(work, "test") as post:
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
    det = FakeDetector(empty=lambda i: i == 4, low=(3,))
    plain = run(video, QUIET, detector=det, lifter=FakeLifter())
    drawn = run(video, QUIET, detector=det, lifter=FakeLifter(), render_to=tmp_path / "same_pose3d.mp4")
    for name in ("keypoints_2d", "scores", "keypoints_3d", "keypoints_3d_world", "valid"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(drawn, name))
