"""detectors.mmpose_backend: the real mmpose/mmdet configs with random weights (no download).

Needs the optional stack (`make mmpose`): skipped when it is missing on a developer machine,
a failure under CI (CI=true installs it, so a skip there would hide a broken install).
"""

from __future__ import annotations

import os
import urllib.error

import numpy as np
import pytest

pytestmark = pytest.mark.heavy  # builds two real networks and runs them on CPU (about 30 s)

try:
    import mmcv.ops  # noqa: F401  (compiled ops)
    import mmdet  # noqa: F401
    import mmengine  # noqa: F401
    import mmpose  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the machine
    _reason = f"mmpose stack not installed (run `make mmpose`): {exc}"
    if os.environ.get("CI"):
        pytest.fail(_reason, pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

import torch  # noqa: E402

from detectors import PersonPose  # noqa: E402
from detectors import mmpose_backend as mb  # noqa: E402
from detectors.base import Detector  # noqa: E402
from detectors.mmpose_backend import (MMPoseDetector, MMPoseError, MissingWeightsError,  # noqa: E402
                                      MODELS)
from lifter.keypoints import COCO_17, LAYOUTS  # noqa: E402

from conftest import sample_video  # noqa: E402

# The same crop the top-down model sees: mmpose's GetBBoxCenterScale pads the box 1.25x, then
# TopdownAffine widens it to the input's aspect ratio (192 x 256 for both named pose configs).
PADDING = 1.25
ASPECT = 192 / 256


def crop_region(box: np.ndarray) -> np.ndarray:
    """x0, y0, x1, y1 of the region of the frame the keypoint model sees for ``box``."""
    center = (box[:2] + box[2:]) / 2
    w, h = (box[2:] - box[:2]) * PADDING
    if w > h * ASPECT:
        h = w / ASPECT
    else:
        w = h * ASPECT
    return np.array([center[0] - w / 2, center[1] - h / 2, center[0] + w / 2, center[1] + h / 2])


def assert_person(person: PersonPose) -> None:
    """The documented contract of one person."""
    assert isinstance(person, PersonPose)
    assert person.xy.shape == (17, 2) and person.xy.dtype == np.float32
    assert person.scores.shape == (17,) and person.scores.dtype == np.float32
    assert ((person.scores >= 0) & (person.scores <= 1)).all()
    found = np.isfinite(person.xy).all(1)
    assert found.any() and (person.scores[~found] == 0).all() and (person.scores[found] > 0).all()
    assert person.box.shape == (4,) and 0.0 <= person.score <= 1.0
    np.testing.assert_allclose(person.box, np.r_[person.xy[found].min(0), person.xy[found].max(0)])


def same_people(a: list[PersonPose], b: list[PersonPose]) -> None:
    assert len(a) == len(b)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.xy, q.xy)
        np.testing.assert_array_equal(p.scores, q.scores)
        assert p.score == q.score


@pytest.fixture(autouse=True)
def no_network_no_user_cache(tmp_path, monkeypatch):
    """No test reads or fills the user's torch hub cache or reaches the network."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))

    def offline(url, *args, **kwargs):
        raise urllib.error.URLError(OSError(101, "Network is unreachable"))

    monkeypatch.setattr(mb, "urlopen", offline)


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    """The first frame of the real sample video demo.mp4, (H, W, 3) uint8 RGB."""
    import cv2
    capture = cv2.VideoCapture(str(sample_video("demo.mp4")))
    ok, bgr = capture.read()
    capture.release()
    assert ok, "cannot read a frame of demo.mp4"
    return np.ascontiguousarray(bgr[..., ::-1])


@pytest.fixture(scope="module")
def det() -> MMPoseDetector:
    """RTMDet-m + RTMPose-m from the installed configs, seeded random weights, CPU."""
    with MMPoseDetector(max_people=2, random_init=True, device="cpu") as detector:
        yield detector


@pytest.fixture(scope="module")
def checkpoints(det, tmp_path_factory) -> dict[str, str]:
    """The fixture's two models saved as mmengine saves checkpoints: {"pose": path, "box": path}."""
    from mmengine.runner.checkpoint import save_checkpoint

    folder = tmp_path_factory.mktemp("checkpoints")
    pose, box = folder / "pose.pth", folder / "box.pth"
    torch.save({"meta": {"dataset_meta": {"dataset_name": "coco"}},
                "state_dict": det.pose_net.state_dict()}, pose)
    save_checkpoint({"meta": {}, "state_dict": det.box_net.state_dict()}, str(box))
    return {"pose": str(pose), "box": str(box)}


def two_boxes(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    return np.array([[0.05 * w, 0.1 * h, 0.3 * w, 0.9 * h],
                     [0.6 * w, 0.3 * h, 0.8 * w, 0.7 * h]], np.float32)


# --- the real configs on a real frame ----------------------------------------------------------

def test_the_named_configs_ship_with_the_wheels():
    for name, spec in MODELS.items():
        path, got = mb._resolve_config(name, spec.kind)
        assert path.is_file() and got is spec, name
        assert spec.url.startswith("https://download.openmmlab.com/") and spec.url.endswith(".pth")


def test_detector_contract(det):
    assert isinstance(det, Detector)
    assert det.name == "mmpose" and det.layout == "coco17" and det.max_people == 2
    assert LAYOUTS[det.layout] == COCO_17
    assert det.weights_files == {"pose": None, "box": None}
    assert det.device == "cpu"


def test_real_frame_boxes_and_people(det, frame):
    height, width = frame.shape[:2]
    boxes, scores = det.find_people(frame)
    assert boxes.dtype == np.float32 and scores.dtype == np.float32
    assert boxes.ndim == 2 and boxes.shape[1] == 4 and scores.shape == (len(boxes),)
    assert len(boxes) <= det.max_people
    assert (scores >= det.box_threshold).all() and (scores <= 1).all()
    assert (np.diff(scores) <= 0).all()  # best first
    assert (boxes[:, 2:] >= boxes[:, :2]).all()
    assert (boxes >= -1).all() and (boxes[:, [0, 2]] <= width + 1).all() \
        and (boxes[:, [1, 3]] <= height + 1).all()  # pixels of this frame, not normalised

    people = det.detect(frame, 0.0)
    assert isinstance(people, list) and len(people) <= len(boxes)
    for person in people:
        assert_person(person)
    # detect() is exactly the two public stages in a row
    same_people(people, det.detect_in_boxes(frame, boxes, scores))


def test_keypoints_lie_in_the_crop_of_their_box_in_frame_pixels(det, frame):
    boxes = two_boxes(frame)
    people = det.detect_in_boxes(frame, boxes, np.array([0.9, 0.4]))
    assert len(people) == 2  # one per box, in box order
    for person, box, score in zip(people, boxes, (0.9, 0.4)):
        assert_person(person)
        assert person.score == pytest.approx(score)
        region = crop_region(box)
        xy = person.xy[np.isfinite(person.xy).all(1)]
        assert (xy >= region[:2] - 1).all() and (xy <= region[2:] + 1).all(), (xy, region)
    # the two crops do not overlap: each person's keypoints belong to its own box
    assert np.nanmax(people[0].xy[:, 0]) < np.nanmin(people[1].xy[:, 0])
    # without box scores: the mean keypoint score
    alone = det.detect_in_boxes(frame, boxes[1:])
    assert alone[0].score == pytest.approx(float(alone[0].scores.mean()))
    np.testing.assert_array_equal(alone[0].xy, people[1].xy)  # boxes are independent
    assert det.detect_in_boxes(frame, np.zeros((0, 4))) == []


def test_box_stage_on_a_small_frame(det):
    frame = np.random.default_rng(0).integers(0, 255, (90, 160, 3), dtype=np.uint8)
    boxes, scores = det.find_people(frame)
    assert boxes.shape == (len(scores), 4) and len(scores) <= 2
    for person in det.detect(frame, 1.5):
        assert_person(person)


def test_bad_input(det, frame):
    with pytest.raises(ValueError, match="uint8 RGB frame"):
        det.detect(frame[..., 0], 0.0)
    with pytest.raises(ValueError, match="time_s"):
        det.detect(frame, float("nan"))
    with pytest.raises(ValueError, match="boxes must be"):
        det.detect_in_boxes(frame, [[10, 10, 5, 20]])
    with pytest.raises(ValueError, match="one score per box"):
        det.detect_in_boxes(frame, two_boxes(frame), [0.5])


# --- weights -------------------------------------------------------------------------------------

def test_saved_checkpoints_load_in_any_order_and_give_identical_output(det, frame, checkpoints):
    boxes = two_boxes(frame)
    with MMPoseDetector(max_people=2, device="cpu",
                        weights=[checkpoints["box"], checkpoints["pose"]]) as loaded:
        assert {k: str(v) for k, v in loaded.weights_files.items()} == checkpoints
        same_people(loaded.detect_in_boxes(frame, boxes), det.detect_in_boxes(frame, boxes))
        same_people(loaded.detect(frame, 0.0), det.detect(frame, 0.0))
        for name in ("box_net", "pose_net"):
            for (key, a), b in zip(getattr(det, name).state_dict().items(),
                                   getattr(loaded, name).state_dict().values()):
                assert torch.equal(a, b), key


def test_default_checkpoint_is_taken_from_the_torch_hub_cache(det, frame, checkpoints):
    """The download path: a file already in the cache under the URL's name is used as is,
    through the same reader and loader as a given file (the network is unreachable here)."""
    cached = mb.cached_checkpoint(MODELS["rtmpose-m"])
    assert cached.parent == mb.default_cache_dir()
    assert str(cached).startswith(os.environ["TORCH_HOME"])
    cached.parent.mkdir(parents=True)
    cached.write_bytes(open(checkpoints["pose"], "rb").read())
    with MMPoseDetector(max_people=2, device="cpu", weights=checkpoints["box"]) as loaded:
        assert loaded.weights_files["pose"] == cached
        boxes = two_boxes(frame)
        same_people(loaded.detect_in_boxes(frame, boxes), det.detect_in_boxes(frame, boxes))


def test_offline_error_names_the_url_and_the_flag(checkpoints):
    with pytest.raises(MissingWeightsError) as caught:
        MMPoseDetector(device="cpu", weights=[checkpoints["pose"]])
    message = str(caught.value)
    box = MODELS["rtmdet-m"]
    assert "\n" not in message
    assert box.url in message and "--detector-weights FILE" in message
    assert "Network is unreachable" in message and box.label in message
    assert isinstance(caught.value, ValueError)  # the CLI shows it as is (demo.errors.one_line)
    assert list(mb.default_cache_dir().glob("*")) == []  # no partial download left behind
    # the keypoint model's default file is named first when both are missing
    with pytest.raises(MissingWeightsError, match=MODELS["rtmpose-m"].url):
        MMPoseDetector(device="cpu")


def test_weights_that_fit_neither_model(tmp_path, checkpoints):
    other = tmp_path / "classifier.pth"
    torch.save({"state_dict": {"fc.weight": torch.zeros(2, 2)}}, other)
    with pytest.raises(MMPoseError, match="is neither an mmpose keypoint-model checkpoint"):
        MMPoseDetector(device="cpu", random_init=True, weights=[other])
    text = tmp_path / "notes.pth"
    text.write_text("not a checkpoint")
    with pytest.raises(MMPoseError, match="cannot read weights file"):
        MMPoseDetector(device="cpu", random_init=True, weights=[text])
    with pytest.raises(MMPoseError, match="not found"):
        MMPoseDetector(device="cpu", random_init=True, weights=[tmp_path / "missing.pth"])
    with pytest.raises(MMPoseError, match="two keypoint model weights files"):
        MMPoseDetector(device="cpu", random_init=True,
                       weights=[checkpoints["pose"], checkpoints["pose"]])
    with pytest.raises(MMPoseError, match="at most 2"):
        MMPoseDetector(device="cpu", random_init=True, weights=[checkpoints["pose"]] * 3)


def test_weights_that_do_not_fit_the_config(tmp_path, checkpoints):
    state = torch.load(checkpoints["pose"], weights_only=True)["state_dict"]
    state.pop(next(k for k in state if k.startswith("backbone.")))
    partial = tmp_path / "partial.pth"
    torch.save(state, partial)  # a bare state dict is accepted too
    with pytest.raises(MMPoseError, match=r"do not fit the keypoint model config "
                                          r"rtmpose-m_8xb256-420e_body8-256x192\.py: 1 tensors missing"):
        MMPoseDetector(device="cpu", random_init=True, weights=[partial])


def test_options_are_checked():
    with pytest.raises(MMPoseError, match="pose_model must be one of rtmpose-m, hrnet-w32"):
        MMPoseDetector(pose_model="rtmpose-x", random_init=True)
    with pytest.raises(MMPoseError, match="box_model must be one of rtmdet-m, faster-rcnn"):
        MMPoseDetector(box_model="yolo.yaml", random_init=True)
    with pytest.raises(MMPoseError, match="device must be"):
        MMPoseDetector(device="tpu", random_init=True)
    with pytest.raises(ValueError, match="max_people"):
        MMPoseDetector(max_people=0, random_init=True)
    with pytest.raises(ValueError, match="box_threshold"):
        MMPoseDetector(box_threshold=1.5, random_init=True)


def test_a_config_path_needs_weights(tmp_path):
    path, _ = mb._resolve_config("hrnet-w32", "pose")
    with pytest.raises(MMPoseError, match="no default weights .* --detector-weights FILE"):
        MMPoseDetector(device="cpu", pose_model=path, box_model="rtmdet-m", weights=[])


def test_hrnet_and_faster_rcnn_configs(frame):
    """The other two named models build from their configs and keep the same contract."""
    small = np.ascontiguousarray(frame[::4, ::4])
    with MMPoseDetector(max_people=1, pose_model="hrnet-w32", box_model="faster-rcnn",
                        random_init=True, device="cpu") as other:
        boxes, scores = other.find_people(small)
        assert boxes.shape == (len(scores), 4) and len(scores) <= 1
        people = other.detect_in_boxes(small, two_boxes(small))
        assert len(people) == 2
        for person, box in zip(people, two_boxes(small)):
            assert_person(person)
            region = crop_region(box)
            xy = person.xy[np.isfinite(person.xy).all(1)]
            assert (xy >= region[:2] - 1).all() and (xy <= region[2:] + 1).all()


def test_closed_detector_refuses_frames(frame):
    with MMPoseDetector(max_people=1, random_init=True, device="cpu") as one:
        one.reset()
    one.close()  # idempotent
    with pytest.raises(RuntimeError, match="after close"):
        one.detect(frame, 0.0)


def test_a_checkpoint_with_other_python_objects_is_refused(tmp_path, checkpoints):
    """Weights are read with torch.load(weights_only=True) only: an arbitrary object is not unpickled."""
    path = tmp_path / "training.pth"
    torch.save({"state_dict": {"head.w": torch.zeros(1)}, "meta": {"hook": _Unsafe()}}, path)
    with pytest.raises(MMPoseError, match=r"holds Python objects besides tensors \(e\.g\. .*_Unsafe\)"):
        MMPoseDetector(device="cpu", random_init=True, weights=[path])


class _Unsafe:
    pass


# --- through the CLI ----------------------------------------------------------------------------

def test_cli_with_local_weights_and_offline_without(checkpoints, tmp_path, capsys):
    """--detector mmpose --detector-weights (either order) runs the whole chain on the real clip;
    without the files, offline, one line names the URL and the flag."""
    from demo import vis
    from demo.outputs import NPZ_NAME, read_npz

    video = sample_video("demo.mp4")
    common = ["--video", str(video), "--detector", "mmpose", "--device", "cpu", "--max-frames", "3", "--no-video",
              "--export", "none", "--no-progress", "--max-people", "2"]
    out = tmp_path / "out"
    assert vis.main([*common, "--detector-weights", checkpoints["box"], checkpoints["pose"],
                     "--output-dir", str(out)]) == 0, capsys.readouterr().err
    result = read_npz(out / NPZ_NAME)
    assert result.detector == "mmpose" and result.num_frames == 3 and result.keypoints_2d.shape[1:] == (3, 17, 2)
    capsys.readouterr()
    assert vis.main([*common, "--output-dir", str(tmp_path / "offline")]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(err) == 1 and "download https://download.openmmlab.com/" in err[0] and "--detector-weights FILE" in err[0]
    assert not (tmp_path / "offline" / NPZ_NAME).exists()


def test_a_default_checkpoint_is_downloaded_into_the_cache(checkpoints, monkeypatch):
    """The download itself, from a local HTTP server: the file lands in the cache under the URL's
    name (written under a temporary name, then renamed) and is found there next time."""
    import functools
    import http.server
    import threading
    import urllib.request
    from pathlib import Path

    folder = Path(checkpoints["pose"]).parent
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(mb, "urlopen", urllib.request.urlopen)  # the autouse fixture's offline stub undone
    try:
        spec = mb.ModelSpec("pose", "test keypoint model", "mmpose", MODELS["rtmpose-m"].config,
                            f"http://127.0.0.1:{server.server_address[1]}/pose.pth")
        path = mb.default_checkpoint(spec)
    finally:
        server.shutdown()
    assert path == mb.default_cache_dir() / "pose.pth" and path.read_bytes() == Path(checkpoints["pose"]).read_bytes()
    assert sorted(p.name for p in path.parent.iterdir()) == ["pose.pth"]
    assert mb.default_checkpoint(spec) == path  # cached: no second download (the server is gone)
