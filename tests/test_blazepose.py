"""detectors: the .task bundle, the stderr filter, BlazePoseDetector (Tasks API), real sample videos."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from detectors import DETECTOR_NAMES, REPLAY, PersonPose, create_detector
from detectors.base import same_person
from detectors import task_bundle
from detectors import blazepose
from detectors.blazepose import BlazePoseDetector
from detectors.native_log import drop_noise, filtered_stderr
from detectors.person_search import Candidate, PersonSearch
from lifter.keypoints import BLAZEPOSE_33

from conftest import sample_video

ROOT = Path(__file__).resolve().parents[1]
BLANK = np.full((240, 320, 3), 128, np.uint8)


def iter_frames(name: str, count: int) -> Iterator[tuple[np.ndarray, float]]:
    """The first ``count`` frames of a sample video: (H, W, 3) uint8 RGB and time in seconds."""
    import imageio_ffmpeg
    gen = imageio_ffmpeg.read_frames(str(sample_video(name)))
    meta = next(gen)
    width, height = meta["size"]
    try:
        for i, buf in zip(range(count), gen):
            yield np.frombuffer(buf, np.uint8).reshape(height, width, 3).copy(), i / float(meta["fps"])
    finally:
        gen.close()


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """The bundle is built into a folder of this test session, not the user's cache."""
    folder = tmp_path_factory.mktemp("pose3d-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(task_bundle.CACHE_ENV, str(folder))
        yield folder


@pytest.fixture(scope="module")
def detector():
    with create_detector("blazepose", max_people=2) as det:
        yield det


# --- the .task bundle ------------------------------------------------------------------------

def test_bundle_is_deterministic_and_cached(tmp_path, monkeypatch):
    first = task_bundle.ensure_bundle(tmp_path / "a")
    second = task_bundle.ensure_bundle(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes() == task_bundle.build_bundle()
    assert first.name == f"pose_landmarker_full-{task_bundle.bundle_key()}.task"
    with zipfile.ZipFile(first) as bundle:
        infos = bundle.infolist()
    assert [i.filename for i in infos] == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]
    assert all(i.compress_type == zipfile.ZIP_STORED and i.date_time == (1980, 1, 1, 0, 0, 0)
               for i in infos)

    # cached: a second call reads the file, builds nothing
    def no_build(*_):
        raise AssertionError("rebuilt a cached bundle")
    monkeypatch.setattr(task_bundle, "build_bundle", no_build)
    assert task_bundle.ensure_bundle(tmp_path / "a") == first
    # the folder comes from the environment; no temporary files are left behind
    monkeypatch.setenv(task_bundle.CACHE_ENV, str(tmp_path / "a"))
    assert task_bundle.default_cache_dir() == tmp_path / "a"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [first.name]


def test_bundle_carries_the_input_normalisation(private_cache):
    from mediapipe.tasks.python.metadata.metadata import MetadataDisplayer
    path = task_bundle.ensure_bundle()
    assert path.parent == private_cache
    with zipfile.ZipFile(path) as bundle:
        for entry in task_bundle.ENTRIES:
            meta = json.loads(MetadataDisplayer.with_model_buffer(bundle.read(entry.name))
                              .get_metadata_json())
            units = meta["subgraph_metadata"][0]["input_tensor_metadata"][0]["process_units"]
            norm = units[0]["options"]
            assert norm["mean"] == [entry.norm_mean] and norm["std"] == [entry.norm_std]


def test_bad_cached_bundle_is_rebuilt_and_unwritable_folder_is_reported(tmp_path):
    path = task_bundle.ensure_bundle(tmp_path)
    path.write_bytes(b"truncated")
    assert task_bundle.ensure_bundle(tmp_path) == path and task_bundle.is_bundle(path)
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OSError, match=f"cannot write the pose model bundle.*{task_bundle.CACHE_ENV}"):
        task_bundle.ensure_bundle(tmp_path / "file" / "cache")


def test_concurrent_builds_give_one_valid_file(tmp_path):
    paths, errors = [], []

    def build():
        try:
            paths.append(task_bundle.ensure_bundle(tmp_path))
        except Exception as exc:  # reported below
            errors.append(exc)
    threads = [threading.Thread(target=build) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(paths)) == 1 and task_bundle.is_bundle(paths[0])
    assert [p.name for p in tmp_path.iterdir()] == [paths[0].name]


# --- stderr filter ---------------------------------------------------------------------------

NOISE = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
         b"I0000 00:00:1795850724.260683    5706 task_runner.cc:85] GPU suport is not available\n"
         b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
         b"W0000 00:00:1795850724.365405    5724 inference_feedback_manager.cc:114] Feedback manager\n")


def test_drop_noise_keeps_errors_and_other_text():
    error = b"E0000 00:00:1795850724.365405    5724 calculator_graph.cc:1] it broke\n"
    assert drop_noise(NOISE) == b""
    assert drop_noise(NOISE + error + b"Traceback: INFO: not at line start\n") == \
        error + b"Traceback: INFO: not at line start\n"


def test_filtered_stderr_restores_fd2(capfd):
    before = os.fstat(2)
    with filtered_stderr():
        os.write(2, NOISE + b"kept line\n")
    assert capfd.readouterr().err == "kept line\n"
    with pytest.raises(KeyError):
        with filtered_stderr():
            os.write(2, NOISE)
            raise KeyError("boom")
    assert capfd.readouterr().err == NOISE.decode()  # after a failure every line is shown
    with filtered_stderr(enabled=False):
        os.write(2, NOISE)
    assert capfd.readouterr().err == NOISE.decode()
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)


_QUIET_SCRIPT = """
import sys, numpy as np
sys.path.insert(0, {root!r})
from detectors import create_detector
frames = [np.zeros((240, 320, 3), np.uint8)]
if {video!r}:
    import imageio_ffmpeg
    gen = imageio_ffmpeg.read_frames({video!r}); w, h = next(gen)["size"]
    frames += [np.frombuffer(next(gen), np.uint8).reshape(h, w, 3)]
with create_detector("blazepose", max_people=1, verbose={verbose}) as det:
    counts = [len(det.detect(f, i / 30)) for i, f in enumerate(frames)]
    det.reset()
    det.detect(frames[0], 0.0)
print(counts)
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_mediapipe_log_lines_only_when_verbose(verbose):
    """In a fresh process: mediapipe's C++ log lines reach stderr only with verbose=True.

    With the sample video, a frame with a person is included: it triggers the once-per-process
    NORM_RECT warning, emitted during detection rather than creation.
    """
    sample = ROOT / "sample_videos" / "cam01.mp4"
    video = str(sample) if sample.is_file() else ""
    script = _QUIET_SCRIPT.format(root=str(ROOT), video=video, verbose=verbose)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("[0, 1]" if video else "[0]")
    if verbose:
        assert "XNNPACK" in proc.stderr and "inference_feedback_manager" in proc.stderr
        assert ("NORM_RECT" in proc.stderr) == bool(video)
    else:
        assert proc.stderr == ""


# --- PersonPose and the factory -----------------------------------------------------------------

def test_person_from_keypoints():
    xy = np.array([[10, 20], [30, 5], [np.nan, 1], [500, 500]], np.float32)
    scores = np.array([0.5, 1.5, 0.9, 0.0], np.float32)
    person = PersonPose.from_keypoints(xy, scores)
    np.testing.assert_array_equal(person.scores, [0.5, 1.0, 0.0, 0.0])
    assert np.isnan(person.xy[2:]).all() and not np.isnan(xy[3]).any()  # input not modified
    np.testing.assert_array_equal(person.box, [10, 5, 30, 20])
    assert person.score == pytest.approx(0.375)
    assert PersonPose.from_keypoints(xy, np.zeros(4)) is None
    with pytest.raises(ValueError, match="xy \\(K, 2\\), scores \\(K,\\)"):
        PersonPose(xy=np.zeros((4, 2)), scores=np.zeros(3), box=np.zeros(4), score=0.5)
    with pytest.raises(ValueError, match="score must be in"):
        PersonPose(xy=np.zeros((4, 2)), scores=np.zeros(4), box=np.zeros(4), score=1.5)
    assert person.world is None
    with pytest.raises(ValueError, match="world must be \\(K, 3\\)"):
        PersonPose(xy=np.zeros((4, 2)), scores=np.zeros(4), box=np.zeros(4), score=0.5, world=np.zeros((3, 3)))


def test_same_person():
    rng = np.random.default_rng(0)
    body = rng.uniform(0, 100, (33, 2)).astype(np.float32)  # box diagonal about 140 px
    a = PersonPose.from_keypoints(body, np.full(33, 0.6))
    copy = PersonPose.from_keypoints(body + 5, np.full(33, 0.9))      # 7 px apart: same person
    other = PersonPose.from_keypoints(body + 60, np.full(33, 0.5))    # 85 px apart: someone else
    assert same_person(a, copy) and same_person(copy, a)
    assert not same_person(a, other)
    hidden = a.xy.copy()
    hidden[:30] = np.nan                                              # few joints in common still count
    partial = PersonPose.from_keypoints(hidden, np.full(33, 0.7))
    assert same_person(partial, a)
    lone = PersonPose.from_keypoints(np.where(np.arange(33)[:, None] == 0, body + 1, np.nan), np.full(33, 0.7))
    hidden_first = PersonPose.from_keypoints(np.where(np.arange(33)[:, None] == 0, np.nan, body), np.full(33, 0.7))
    assert not same_person(lone, hidden_first)                        # no joint found in both
    assert not same_person(a, PersonPose.from_keypoints(body[:17], np.full(17, 0.6)))  # other layout


@pytest.mark.parametrize("options, message", [
    ({"max_people": 0}, "max_people must be an integer >= 1"),
    ({"max_people": 1.5}, "max_people must be an integer >= 1"),
    ({"max_people": True}, "max_people must be an integer >= 1"),
    ({"min_detection_confidence": -0.1}, "min_detection_confidence must be a number in"),
    ({"min_presence_confidence": float("nan")}, "min_presence_confidence must be a number in"),
    ({"min_tracking_confidence": "0.5"}, "min_tracking_confidence must be a number in"),
    ({"model_complexity": 1}, "unknown option.*model_complexity.*known: min_detection_confidence"),
    ({"model_path": "/nonexistent/pose.task"}, "model_path '/nonexistent/pose.task' is not a file"),
    ({"threads": 0}, "threads must be an integer >= 1"),
    ({"threads": 2.0}, "threads must be an integer >= 1"),
    ({"search_s": -0.1}, "search_s must be a number of seconds >= 0"),
    ({"lost_s": float("inf")}, "lost_s must be a number of seconds >= 0"),
])
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        create_detector("blazepose", **options)


def test_factory():
    assert DETECTOR_NAMES == ("blazepose", "mmpose")  # the frame detectors; REPLAY ("keypoints") is not one
    with pytest.raises(ValueError, match="unknown detector 'openpose'.*blazepose"):
        create_detector("openpose")
    assert REPLAY == "keypoints" and REPLAY not in DETECTOR_NAMES
    with create_detector("blazepose", max_people=3, verbose=True, min_tracking_confidence=0.3) as det:
        assert isinstance(det, BlazePoseDetector)
        assert (det.name, det.layout, det.max_people, det.verbose) == ("blazepose", "blazepose33", 3, True)


def test_model_path_that_is_not_a_model(tmp_path):
    bad = tmp_path / "bad.task"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot load the pose model"):
        create_detector("blazepose", model_path=bad)


# --- BlazePoseDetector on generated frames ---------------------------------------------------

def test_blank_frame_has_nobody(detector):
    detector.reset()
    assert detector.detect(BLANK, 0.0) == []
    assert detector.detect(np.zeros((1, 1, 3), np.uint8), 0.1) == []


@pytest.mark.parametrize("frame", [np.zeros((240, 320), np.uint8), np.zeros((240, 320, 3), np.float32),
                                   np.zeros((240, 320, 4), np.uint8), np.zeros((0, 320, 3), np.uint8),
                                   [[[0, 0, 0]]]])
def test_bad_frame_raises(detector, frame):
    with pytest.raises(ValueError, match="uint8 RGB frame"):
        detector.detect(frame, 100.0)


def test_times(detector):
    detector.reset()
    detector.detect(BLANK, 1.0)
    detector.detect(BLANK, 1.0)      # the same time again: moved 1 ms later
    detector.detect(BLANK, 1.0004)   # the same millisecond after rounding: moved too
    assert detector._clock.last_ms == 1002
    detector.detect(BLANK, 1.5)
    assert detector._clock.last_ms == 1500
    with pytest.raises(ValueError, match="went back from 1.500000 s to 0.500000 s.*reset"):
        detector.detect(BLANK, 0.5)
    for bad in (float("nan"), float("inf"), None, "2.0"):
        with pytest.raises(ValueError, match="time_s must be a finite number"):
            detector.detect(BLANK, bad)
    detector.reset()                 # a new video: times start again
    assert detector.detect(BLANK, 0.0) == []


def test_reset_closes_the_followers_and_keeps_the_searcher():
    frame = next(iter_frames("cam01.mp4", 1))[0]
    with create_detector("blazepose", max_people=2) as det:
        searcher = det._search_graph
        assert len(det.detect(frame, 0.0)) == 1 and det.following == 1
        det.reset()
        assert det.following == 0 and det._search_graph is searcher
        assert len(det.detect(frame, 0.0)) == 1  # times start again


def test_threads_leave_the_keypoints_unchanged(monkeypatch):
    """The networks' thread count is a speed setting only: bit for bit the same keypoints."""
    frames = list(iter_frames("cam01.mp4", 4))
    runs = []
    for threads in (1, 2):
        with create_detector("blazepose", max_people=1, threads=threads) as det:
            assert det.threads == threads
            runs.append([det.detect(f, t)[0].xy for f, t in frames])
    assert all(np.array_equal(a, b) for a, b in zip(*runs))
    monkeypatch.setenv(blazepose.THREADS_ENV, "3")
    assert blazepose.default_threads() == 3
    monkeypatch.setenv(blazepose.THREADS_ENV, "many")
    with pytest.raises(ValueError, match="POSE3D_DETECTOR_THREADS must be an integer >= 1, got 'many'"):
        blazepose.default_threads()
    monkeypatch.delenv(blazepose.THREADS_ENV)
    assert 1 <= blazepose.default_threads() <= blazepose.MAX_DEFAULT_THREADS


def test_followers_are_started_kept_and_closed():
    """Two copies of one person side by side, then the right one blanked: a follower each, found
    by the first search (each follower started with the other copy blacked out); the one whose
    person left is closed ``lost_s`` later; when the person is back, the next search (at most
    ``search_s`` later) gives them a follower again."""
    frame = next(iter_frames("cam01.mp4", 1))[0]
    pair = np.hstack([frame, frame])
    half = frame.shape[1]
    left_only = pair.copy()
    left_only[:, half:] = 0
    fps = 30.0
    with create_detector("blazepose", max_people=4, search_s=0.2, lost_s=0.1) as det:
        people = det.detect(pair, 0.0)
        assert len(people) == 2 and det.following == 2
        assert sorted((p.box[0] + p.box[2]) / 2 < half for p in people) == [False, True]
        for i in range(1, 4):
            assert len(det.detect(pair, i / fps)) == 2 and det.following == 2
        counts = [(len(det.detect(left_only, i / fps)), det.following) for i in range(4, 12)]
        assert counts[-1] == (1, 1), counts  # closed after lost_s (3 frames)
        assert all(n == 1 for n, _ in counts)
        back = [(len(det.detect(pair, i / fps)), det.following) for i in range(12, 20)]
        assert back[-1] == (2, 2), back       # found again by a search, every 0.2 s (6 frames)


def test_person_search_finds_the_person_alone():
    """The person detector alone (legacy graph): the person of cam01's first frame, hips inside
    the box of the landmarks the detector gives; nobody on a blank frame."""
    frame = next(iter_frames("cam01.mp4", 1))[0]
    search = PersonSearch()
    try:
        found = search.find(frame)
        assert len(found) == 1 and 0.5 <= found[0].score <= 1.0
        with create_detector("blazepose", max_people=1) as det:
            person = det.detect(frame, 0.0)[0]
        assert found[0].inside(person.box, margin=0.0)
        assert found[0].radius > 0.25 * (person.box[3] - person.box[1])  # a circle around the body
        assert search.find(BLANK) == []
        assert search.find(frame, min_score=1.0) == []
    finally:
        search.close()
    search.close()  # idempotent
    with pytest.raises(RuntimeError, match="after close"):
        search.find(frame)


def test_candidate_box_and_inside():
    c = Candidate(centre=(100.0, 50.0), radius=20.0, score=0.9)
    assert c.box.tolist() == [80.0, 30.0, 120.0, 70.0]
    assert c.inside(np.array([90, 40, 110, 60]), margin=0.0)
    assert not c.inside(np.array([0, 0, 95, 100]), margin=0.0)
    assert c.inside(np.array([0, 0, 95, 100]), margin=0.1)   # grown by 9.5 px


class _FakeLandmarker:
    """Stands in for a video-mode landmarker: returns the next of ``xys`` (a (33, 2) array of
    normalised coordinates, or None for nobody) at each call."""

    def __init__(self, xys):
        self.xys = list(xys)
        self.closed = False

    def detect_for_video(self, image, timestamp_ms):
        from types import SimpleNamespace
        xy = self.xys.pop(0)
        marks = [] if xy is None else [[SimpleNamespace(x=float(x), y=float(y), visibility=0.9) for x, y in xy]]
        return SimpleNamespace(pose_landmarks=marks, pose_world_landmarks=[])

    def close(self):
        self.closed = True


def test_twin_and_lost_followers_are_closed():
    """Of two followers on one person the later is closed; one without its person for ``lost_s``
    is closed; a follower that finds its person again in time is kept."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 0.4, (33, 2)), rng.uniform(0.6, 0.9, (33, 2))
    c = np.column_stack([rng.uniform(0.1, 0.4, 33), rng.uniform(0.6, 0.9, 33)])
    with create_detector("blazepose", max_people=3, lost_s=0.1, search_s=10.0) as det:
        first = _FakeLandmarker([a, a, a, a])
        twin = _FakeLandmarker([b, a + 0.001, b, b])   # drifts onto the first one's person
        gap = _FakeLandmarker([c, None, None, c])       # loses its person for 2 frames
        det._followers = [blazepose._Follower(m) for m in (first, twin, gap)]
        det._last_search = 0.0
        frame = np.zeros((100, 100, 3), np.uint8)
        assert len(det.detect(frame, 0.0)) == 3 and det.following == 3
        det.detect(frame, 0.04)
        assert twin.closed and det.following == 2 and not gap.closed
        det.detect(frame, 0.08)                        # lost for 0.04 s < lost_s
        assert not gap.closed
        people = det.detect(frame, 0.12)               # back before lost_s ran out
        assert len(people) == 2 and not gap.closed and not first.closed


def test_closed_detector_refuses_frames():
    with create_detector("blazepose", max_people=1) as det:
        pass
    det.close()  # idempotent
    with pytest.raises(RuntimeError, match="after close"):
        det.detect(BLANK, 0.0)


# --- real sample videos ------------------------------------------------------------------------

def _check_people(people: list[PersonPose], width: int, height: int) -> None:
    for p in people:
        assert p.xy.shape == (len(BLAZEPOSE_33), 2) and p.xy.dtype == np.float32
        assert p.scores.shape == (len(BLAZEPOSE_33),) and p.scores.dtype == np.float32
        assert ((p.scores >= 0) & (p.scores <= 1)).all() and 0 <= p.score <= 1
        assert p.score == pytest.approx(float(p.scores.mean()), abs=1e-6)
        x0, y0, x1, y1 = p.box
        assert x0 < x1 and y0 < y1 and -0.5 * width < x0 and x1 < 1.5 * width and y1 < 1.5 * height
        # mediapipe's world landmarks: metres, origin between the hips
        assert p.world.shape == (len(BLAZEPOSE_33), 3) and p.world.dtype == np.float32
        hips = p.world[[BLAZEPOSE_33.index("l_hip"), BLAZEPOSE_33.index("r_hip")]]
        assert np.abs(hips.mean(0)).max() < 0.05 and np.linalg.norm(hips[0] - hips[1]) < 0.5


@pytest.mark.heavy
def test_two_people_on_demo_video():
    """Sports2D sample from its start: both people are in view in frames 60-159 and found.

    (The woman walks in side-on: BlazePose's person detector finds her only in some frames, and
    the landmark model then follows her; so the video is run from its first frame.)
    """
    counts = []
    with create_detector("blazepose", max_people=2) as det:
        for frame, time_s in iter_frames("demo.mp4", 160):
            people = det.detect(frame, time_s)
            _check_people(people, frame.shape[1], frame.shape[0])
            counts.append(len(people))
    counts = np.array(counts)
    assert (counts <= 2).all()
    assert np.mean(counts[60:] == 2) >= 0.8, np.bincount(counts[60:])


@pytest.mark.heavy
def test_max_people_caps_a_frame_with_two_people():
    """A frame of the one-person clip next to itself: two people; never more than max_people."""
    frame = next(iter_frames("cam01.mp4", 1))[0]
    pair = np.hstack([frame, frame])
    for max_people, expected in ((1, 1), (2, 2), (4, 2)):
        with create_detector("blazepose", max_people=max_people) as det:
            people = det.detect(pair, 0.0)
        assert len(people) == expected
    centres = sorted((p.box[0] + p.box[2]) / 2 for p in people)
    half = frame.shape[1]
    assert centres[0] < half < centres[1]  # one in each copy


@pytest.mark.heavy
def test_same_keypoints_as_the_legacy_api():
    """Tasks API (max_people=1) vs legacy ``mediapipe.solutions.pose`` (model_complexity=1).

    First 60 frames of the Pose2Sim clip (1080x1920, the person about 740 px tall), joints with
    visibility > 0.5 in both. Measured: the first frame (a fresh detection in both) agrees to
    0.3 px median; over the 60 frames, median 3.3 px, 95th percentile 9.9 px. The networks are
    the same (on independent single images: median 0.25 px, p95 2.3 px); from frame 2 on the two
    graphs follow the person and smooth the landmarks a little differently.
    """
    from mediapipe.python.solutions.pose import Pose

    frames = list(iter_frames("cam01.mp4", 60))
    height, width = frames[0][0].shape[:2]
    with create_detector("blazepose", max_people=1) as det:
        tasks = [det.detect(f, t) for f, t in frames]
    with filtered_stderr(), Pose(static_image_mode=False, model_complexity=1) as pose:
        legacy = [pose.process(f).pose_landmarks for f, _ in frames]
    distances = []
    for people, landmarks in zip(tasks, legacy):
        assert len(people) == 1 and landmarks is not None
        old = np.array([(p.x * width, p.y * height, p.visibility) for p in landmarks.landmark])
        both = (people[0].scores > 0.5) & (old[:, 2] > 0.5)
        distances.append(np.linalg.norm(people[0].xy - old[:, :2], axis=1)[both])
    assert np.median(distances[0]) < 1.0
    every = np.concatenate(distances)
    assert every.size > 0.8 * 60 * len(BLAZEPOSE_33)
    assert np.median(every) < 5.0 and np.percentile(every, 95) < 15.0


def test_a_landmarker_kept_for_later_never_sees_a_frame_twice():
    """After a start that found nobody, another start in the same frame waits for the next search
    (mediapipe refuses a time it has seen); a later frame uses the kept landmarker."""
    frame = np.zeros((100, 100, 3), np.uint8)
    box = np.array([10, 10, 60, 90], np.float32)
    with create_detector("blazepose", max_people=2) as det:
        det._spare.close()
        det._spare = kept = _FakeLandmarker([None])  # finds nobody once; a second call would fail
        assert det._start(frame, box, [], 1000, 1.0) is None and det._spare is kept and det._spare_ms == 1000
        assert det._start(frame, box, [], 1000, 1.0) is None and det._spare is kept  # not called again
        kept.xys.append(np.full((33, 2), 0.3))
        follower = det._start(frame, box, [], 1040, 1.04)
        assert follower is not None and follower.landmarker is kept and det._spare is None

