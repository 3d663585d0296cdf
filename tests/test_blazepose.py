"""detectors.base / detectors.blazepose: the factory, offline models, a real sample video."""

import numpy as np
import pytest

from detectors import FramePose, create_detector, to_h36m17
from detectors.blazepose import LANDMARK_MODELS, BlazePoseDetector, available_model_complexities
from detectors.layouts import BLAZEPOSE_33

from conftest import sample_video

N_FRAMES = 30


@pytest.fixture(scope="module")
def detector():
    with create_detector("blazepose") as det:
        yield det


@pytest.fixture(scope="module")
def sample_frames():
    """The first N_FRAMES RGB frames of the Pose2Sim sample video, (H, W, 3) uint8 each."""
    video = sample_video("cam01.mp4")
    import imageio_ffmpeg
    gen = imageio_ffmpeg.read_frames(str(video))
    width, height = next(gen)["size"]
    frames = [np.frombuffer(buf, np.uint8).reshape(height, width, 3).copy()
              for _, buf in zip(range(N_FRAMES), gen)]
    gen.close()
    return frames


def test_factory():
    with pytest.raises(ValueError, match="unknown detector 'openpose'.*blazepose"):
        create_detector("openpose")
    with pytest.raises(ValueError, match="model_complexity"):
        create_detector("blazepose", model_complexity=3)


def test_full_model_ships_and_others_are_never_downloaded():
    assert 1 in available_model_complexities()
    for complexity in set(LANDMARK_MODELS) - set(available_model_complexities()):
        with pytest.raises(ValueError, match=LANDMARK_MODELS[complexity]):
            BlazePoseDetector(model_complexity=complexity)


def test_blank_frame_has_no_person(detector):
    detector.reset()
    pose = detector.detect(np.full((240, 320, 3), 128, np.uint8))
    assert isinstance(pose, FramePose) and not pose.found
    assert pose.xy.shape == (33, 2) and np.isnan(pose.xy).all()
    assert pose.scores.shape == (33,) and (pose.scores == 0).all()


def test_bad_frame_raises(detector):
    with pytest.raises(ValueError, match="uint8 RGB frame"):
        detector.detect(np.zeros((240, 320), np.uint8))
    with pytest.raises(ValueError, match="uint8 RGB frame"):
        detector.detect(np.zeros((240, 320, 3), np.float32))


def test_closed_detector_refuses_frames():
    with create_detector("blazepose") as det:
        pass
    with pytest.raises(RuntimeError, match="after close"):
        det.detect(np.zeros((64, 64, 3), np.uint8))


@pytest.mark.heavy
def test_person_tracked_in_sample_video(detector, sample_frames):
    detector.reset()
    poses = [detector.detect(f) for f in sample_frames]
    found = [p for p in poses if p.found]
    assert len(found) >= 0.9 * len(poses)

    height, width = sample_frames[0].shape[:2]
    xy = np.stack([p.xy for p in found])  # (T, 33, 2)
    scores = np.stack([p.scores for p in found])
    assert xy.dtype == np.float32 and scores.dtype == np.float32
    assert ((scores >= 0) & (scores <= 1)).all()
    # the whole body is in view in this clip: body keypoints confident and inside the image
    body = [BLAZEPOSE_33.index(n) for n in ("nose", "l_shoulder", "r_shoulder", "l_hip", "r_hip",
                                            "l_knee", "r_knee", "l_ankle", "r_ankle")]
    assert np.median(scores[:, body]) > 0.8
    assert (xy[:, body, 0] > -0.02 * width).all() and (xy[:, body, 0] < 1.02 * width).all()
    assert (xy[:, body, 1] > -0.02 * height).all() and (xy[:, body, 1] < 1.02 * height).all()

    xy17, s17 = to_h36m17(xy, scores, "blazepose33")
    head_y, thorax_y, pelvis_y = xy17[:, 10, 1], xy17[:, 8, 1], xy17[:, 0, 1]
    ankles_y = xy17[:, [3, 6], 1].mean(1)
    assert (head_y < thorax_y).all() and (thorax_y < pelvis_y).all() and (pelvis_y < ankles_y).all()
    stature = ankles_y - head_y  # an upright adult filling a fair part of the portrait frame
    assert (stature > 0.15 * height).all() and (stature < height).all()
    # tracked: the pelvis moves smoothly from frame to frame
    assert np.abs(np.diff(xy17[:, 0], axis=0)).max() < 0.05 * height
