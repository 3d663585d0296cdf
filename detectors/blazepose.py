"""MediaPipe BlazePose through mediapipe's Tasks ``PoseLandmarker`` as a multi-person Detector.

People are found by BlazePose's person detector (which keys on the face), then followed from
frame to frame by the landmark model, each by a video-mode landmarker of its own (a follower,
mediapipe's ``num_poses`` = 1). Observed on the Sports2D sample: a person the detector finds
only in some frames (seen side-on, small) stays followed once found, so frames must come in order
from the start of the video. No identities across frames; ``demo.tracking`` gives them. Output
layout "blazepose33" (``lifter.keypoints.BLAZEPOSE_33``).

Why followers: one landmarker asked for ``max_people`` runs its person detector on every frame
in which it follows fewer people than that (the usual case with a cap of 4), and its people are
processed one after the other. Followers only run the landmark network; several run side by
side in threads (mediapipe releases the GIL), one CPU thread each; one person alone
(``max_people=1``) gets every thread. While fewer than ``max_people`` are followed, an
image-mode landmarker searches the whole frame every ``search_s`` seconds (on every frame while
nobody is followed); each person it finds who is not followed is returned with that frame's
people and gets a follower, started on that frame with the other people blacked out, so that
the follower's own person detector picks that person. A follower that loses its person looks
for it with its own detector for ``lost_s`` seconds, then is closed; of two followers on one
person, the later is closed. Measured with bench/pipeline_speed.py and bench/identity_check.py
(README, "Speed").

Model: the full landmark model, from a ``.task`` bundle built offline from the networks the
mediapipe wheel ships (``detectors.task_bundle``); nothing is downloaded. ``model_path`` may name
another PoseLandmarker ``.task`` file instead (e.g. the lite or heavy one, fetched by the user).

Coordinates: mediapipe gives x, y normalised by the image width and height; they are multiplied
by (W, H) to get pixels. Keypoint scores: the landmark ``visibility`` (mediapipe's estimate that
the point is in view and not occluded), clipped to [0, 1]. Person score: the mean of the 33
keypoint scores (the Tasks API reports no per-person score). Box: the bounds of the 33 keypoints
(BlazePose places all of them, the hidden ones too), not clipped to the image. Nobody is
reported twice: of two followers on one person (``detectors.base.same_person``) the later is
closed, and a new follower on someone already followed is not kept.

Threads: mediapipe's Python options can only choose "CPU", which runs each network on one
thread. ``threads`` asks the XNNPACK delegate (the CPU engine TFLite uses anyway) for that many
threads through the options' ``acceleration`` field (mediapipe's own protocol buffers, present in
0.10.21, the pinned release). The keypoints do not depend on it (checked bit for bit on the
Sports2D clip). The default (:func:`default_threads`) is the CPUs this process may use, at most
4; the worker processes of a batch share them (``POSE3D_DETECTOR_THREADS``, set by demo.executors).

Times: ``detect`` passes the frame's real time to mediapipe as an integer millisecond timestamp,
which must strictly increase within a video: a time equal to the previous one after rounding to
milliseconds is moved 1 ms after it; a time earlier than the previous frame's raises ValueError.
``reset`` starts a new video (no follower kept, so times may start again from 0).
"""

from __future__ import annotations

import math
import numbers
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from detectors.base import (THREADS_ENV, PersonPose, check_frame, check_max_people, check_probability,
                            check_time, same_person, usable_cpus)
from detectors.native_log import filtered_stderr
from detectors.person_search import Candidate, PersonSearch

#: more threads than this gain little on networks of this size
MAX_DEFAULT_THREADS = 4

#: whether this process already logged mediapipe's once-per-process warning about the first
#: person's landmarks (after that, ``detect`` needs no stderr filtering)
_first_person_logged = False


def default_threads() -> int:
    """Threads per network: $POSE3D_DETECTOR_THREADS when set, else the usable CPUs, at most 4."""
    text = os.environ.get(THREADS_ENV, "").strip()
    if text:
        try:
            return check_threads(int(text))
        except ValueError:
            raise ValueError(f"{THREADS_ENV} must be an integer >= 1, got {text!r}") from None
    return min(usable_cpus(), MAX_DEFAULT_THREADS)


def check_threads(value: object) -> int:
    """``value`` as an int >= 1, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"threads must be an integer >= 1, got {value!r}")
    return int(value)


def _base_options(model_path: Path, threads: int):
    """mediapipe BaseOptions for ``model_path`` whose networks run on XNNPACK with ``threads`` threads."""
    from mediapipe.calculators.tensor.inference_calculator_pb2 import InferenceCalculatorOptions
    from mediapipe.tasks.cc.core.proto.acceleration_pb2 import Acceleration
    from mediapipe.tasks.python import BaseOptions

    class _ThreadedOptions(BaseOptions):
        def to_pb2(self):
            proto = super().to_pb2()
            proto.acceleration.CopyFrom(Acceleration(
                xnnpack=InferenceCalculatorOptions.Delegate.Xnnpack(num_threads=threads)))
            return proto

    return _ThreadedOptions(model_asset_path=str(model_path))


def _people(result, shape: tuple[int, ...]) -> list[PersonPose]:
    """A PoseLandmarker result on a frame of ``shape`` (H, W, 3) -> people in pixels."""
    global _first_person_logged
    size = np.array([shape[1], shape[0]], dtype=np.float32)
    people = []
    worlds = result.pose_world_landmarks or [None] * len(result.pose_landmarks)
    for landmarks, world in zip(result.pose_landmarks, worlds):
        _first_person_logged = True
        xyv = np.array([(p.x, p.y, np.nan if p.visibility is None else p.visibility)
                        for p in landmarks], dtype=np.float32)  # (33, 3)
        person = PersonPose.from_keypoints(xyv[:, :2] * size, xyv[:, 2])
        if person is not None:
            if world is not None and len(world) == len(landmarks):
                person.world = np.array([(p.x, p.y, p.z) for p in world], dtype=np.float32)
            people.append(person)
    return people


def _check_seconds(label: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < math.inf:
        raise ValueError(f"{label} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _box_slices(box: np.ndarray, shape: tuple[int, ...], margin: float) -> tuple[slice, slice]:
    """Rows and columns of ``box`` (x0, y0, x1, y1 pixels) grown by ``margin`` of its size on
    every side, clipped to a frame of ``shape``."""
    height, width = shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    grow_x, grow_y = margin * (x1 - x0), margin * (y1 - y0)
    left, right = int(np.clip(x0 - grow_x, 0, width)), int(np.clip(np.ceil(x1 + grow_x), 0, width))
    top, bottom = int(np.clip(y0 - grow_y, 0, height)), int(np.clip(np.ceil(y1 + grow_y), 0, height))
    return slice(top, bottom), slice(left, right)


def _hide_others(frame: np.ndarray, keep: np.ndarray, others: list[np.ndarray], margin: float = 0.1) -> np.ndarray:
    """The (H, W, 3) frame with the boxes of ``others`` blacked out (grown by ``margin``), the
    box ``keep`` left as it is; the frame itself when there are no others. (Blacking out all but
    the person fails: BlazePose's person detector needs the scene around the person.)"""
    if not others:
        return frame
    out = frame.copy()
    for box in others:
        out[_box_slices(box, frame.shape, margin)] = 0
    rows, cols = _box_slices(keep, frame.shape, 0.0)
    out[rows, cols] = frame[rows, cols]
    return out


def _mp_image(frame: np.ndarray):
    """A mediapipe SRGB image viewing a C-contiguous (H, W, 3) uint8 frame."""
    import mediapipe as mp
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=frame)


class _VideoClock:
    """Frame times (seconds) -> mediapipe timestamps (integer ms), strictly increasing."""

    def __init__(self) -> None:
        self.last_s: float | None = None
        self.last_ms: int | None = None

    def timestamp_ms(self, time_s: object) -> int:
        t = check_time(time_s)
        if self.last_s is not None and t < self.last_s:
            raise ValueError(f"frame time went back from {self.last_s:.6f} s to {t:.6f} s; "
                             f"call reset() before the frames of another video")
        ms = round(t * 1000.0)
        if self.last_ms is not None and ms <= self.last_ms:
            ms = self.last_ms + 1
        self.last_s, self.last_ms = t, ms
        return ms


class _Follower:
    """A video-mode landmarker following one person (mediapipe's ``num_poses`` = 1)."""

    def __init__(self, landmarker) -> None:
        self.landmarker = landmarker
        self.person: PersonPose | None = None   # whom it found in the last frame
        self.lost_since: float | None = None    # first frame of the current run without its person

    def follow(self, image, timestamp_ms: int, shape: tuple[int, ...], time_s: float) -> None:
        people = _people(self.landmarker.detect_for_video(image, timestamp_ms), shape)
        self.person = people[0] if people else None
        if self.person is not None:
            self.lost_since = None
        elif self.lost_since is None:
            self.lost_since = time_s

    def close(self) -> None:
        self.landmarker.close()


class BlazePoseDetector:
    """BlazePose 33-keypoint detector for up to ``max_people`` people per frame, in video mode.

    max_people: at most this many people per frame, >= 1.
    min_detection_confidence: person-detector score threshold, in [0, 1].
    min_presence_confidence: landmark-model "a person is there" threshold, in [0, 1].
    min_tracking_confidence: below this, a followed person is searched again by the person
        detector, in [0, 1].
    model_path: a PoseLandmarker ``.task`` file to use; None: the bundle built from the wheel.
    cache_dir: where that bundle is built (None: ``detectors.task_bundle.default_cache_dir``).
    threads: CPU threads (None: :func:`default_threads`); the keypoints do not depend on it.
    search_s: seconds between searches for new people while fewer than ``max_people`` are
        followed and at least one is, >= 0 (0: on every frame).
    lost_s: seconds a follower that lost its person keeps looking for it (its own detector on
        every frame) before it is closed, >= 0.
    verbose: let mediapipe's own info/warning log lines reach stderr (default: filtered out).
    """

    name = "blazepose"
    layout = "blazepose33"

    def __init__(self, max_people: int = 4, *, min_detection_confidence: float = 0.5,
                 min_presence_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 model_path: str | os.PathLike | None = None,
                 cache_dir: str | os.PathLike | None = None, threads: int | None = None,
                 search_s: float = 0.2, lost_s: float = 0.25, verbose: bool = False) -> None:
        self.max_people = check_max_people(max_people)
        self.threads = default_threads() if threads is None else check_threads(threads)
        self.search_s = _check_seconds("search_s", search_s)
        self.lost_s = _check_seconds("lost_s", lost_s)
        self._thresholds = {
            "min_pose_detection_confidence": check_probability("min_detection_confidence",
                                                               min_detection_confidence),
            "min_pose_presence_confidence": check_probability("min_presence_confidence",
                                                              min_presence_confidence),
            "min_tracking_confidence": check_probability("min_tracking_confidence",
                                                         min_tracking_confidence),
        }
        self.verbose = bool(verbose)
        if model_path is not None:
            model = Path(model_path).expanduser()
            if not model.is_file():
                raise ValueError(f"model_path {str(model)!r} is not a file")
        else:
            from detectors.task_bundle import ensure_bundle
            model = ensure_bundle(cache_dir)
        self.model_path = model
        self._clock = _VideoClock()
        self._followers: list[_Follower] = []
        self._last_search = -math.inf
        self._pool: ThreadPoolExecutor | None = None
        self._search_graph: PersonSearch | None = None
        # several followers run side by side, one thread each (two landmarkers running at once
        # with 2 threads each took 50 times longer on 2 cores: their threads spin-wait); one
        # person alone (max_people=1) gets every thread
        self._follower_threads = self.threads if self.max_people == 1 else 1
        self._spare = None  # a follower's landmarker that followed nobody yet: used for the next one
        self._spare_ms: int | None = None  # the last time the spare saw (None: no frame yet)
        self._spare = self._create(self._follower_threads)  # fails fast on a bad model
        self._search_graph = PersonSearch(self.verbose)

    @property
    def following(self) -> int:
        """How many people are followed now (one video-mode landmarker each)."""
        return len(self._followers)

    def _create(self, threads: int):
        """A video-mode landmarker following one person, on ``threads`` CPU threads."""
        from mediapipe.tasks.python import vision

        options = vision.PoseLandmarkerOptions(
            base_options=_base_options(self.model_path, threads),
            running_mode=vision.RunningMode.VIDEO, num_poses=1,
            output_segmentation_masks=False, **self._thresholds)
        try:
            with filtered_stderr(not self.verbose):
                return vision.PoseLandmarker.create_from_options(options)
        except RuntimeError as exc:
            raise ValueError(f"cannot load the pose model {self.model_path}: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc

    def detect(self, frame_rgb: np.ndarray, time_s: float) -> list[PersonPose]:
        """The people in an (H, W, 3) uint8 RGB frame shown at ``time_s`` seconds.

        Each: xy (33, 2) pixels, scores (33,) visibility, box, score (mean visibility), world
        (33, 3) metres (mediapipe's world landmarks).
        """
        if self._search_graph is None:
            raise RuntimeError("BlazePoseDetector.detect called after close()")
        frame = check_frame(frame_rgb)
        timestamp = self._clock.timestamp_ms(time_s)
        t = self._clock.last_s
        image = _mp_image(frame)
        with filtered_stderr(not (self.verbose or _first_person_logged)):
            self._follow(image, timestamp, frame.shape, t)
            people = [f.person for f in self._followers if f.person is not None]
            if len(self._followers) < self.max_people and \
                    (not self._followers or t - self._last_search >= self.search_s):
                self._last_search = t
                candidates = self._search_graph.find(frame, self._thresholds["min_pose_detection_confidence"])
                people += self._add(frame, candidates, timestamp, t, people)
        return people

    def _start(self, frame: np.ndarray, region: np.ndarray, others: list[np.ndarray], timestamp: int,
               t: float) -> _Follower | None:
        """A follower started on this frame with the boxes ``others`` blacked out and ``region``
        kept; None when it finds nobody there (its landmarker is kept for the next one), or when
        the landmarker kept saw this frame already (mediapipe's times must increase: the next
        search tries again)."""
        if self._spare is not None and self._spare_ms is not None and self._spare_ms >= timestamp:
            return None
        landmarker = self._spare if self._spare is not None else self._create(self._follower_threads)
        self._spare, self._spare_ms = None, None
        follower = _Follower(landmarker)
        follower.follow(_mp_image(_hide_others(frame, region, others)), timestamp, frame.shape, t)
        if follower.person is None:
            self._spare, self._spare_ms = landmarker, timestamp
            return None
        return follower

    def _follow(self, image, timestamp: int, shape: tuple[int, ...], t: float) -> None:
        """Every follower on this frame (side by side when there are several), then close those
        that lost their person ``lost_s`` ago and the later of two following one person."""
        if len(self._followers) > 1 and self._follower_threads == 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="blazepose")
            list(self._pool.map(lambda f: f.follow(image, timestamp, shape, t), self._followers))
        else:
            for follower in self._followers:
                follower.follow(image, timestamp, shape, t)
        kept: list[_Follower] = []
        for follower in self._followers:  # oldest first
            gone = follower.person is None and t - follower.lost_since >= self.lost_s
            twin = follower.person is not None and any(
                k.person is not None and same_person(follower.person, k.person) for k in kept)
            if gone and self._spare is None:  # it follows nobody: kept for the next one
                self._spare, self._spare_ms = follower.landmarker, timestamp
            elif gone or twin:
                follower.close()
            else:
                kept.append(follower)
        self._followers = kept

    def _add(self, frame: np.ndarray, candidates: list[Candidate], timestamp: int, t: float,
             followed: list[PersonPose]) -> list[PersonPose]:
        """Of the people the person detector found in the whole frame (``candidates``, best first),
        those whose hips are in no followed person's box, up to ``max_people`` followed in all:
        each gets a follower, started on this frame with the people followed blacked out (so that
        its own person detector finds the new one); those it finds are returned."""
        new: list[PersonPose] = []
        for candidate in candidates:
            if len(self._followers) >= self.max_people:
                break
            if any(candidate.inside(q.box) for q in followed + new):
                continue
            follower = self._start(frame, candidate.box, [q.box for q in followed + new], timestamp, t)
            if follower is None:
                continue
            if any(same_person(follower.person, q) for q in followed + new):
                follower.close()
            else:
                self._followers.append(follower)
                new.append(follower.person)
        return new

    def reset(self) -> None:
        """Start a new video: no one followed (no state carried over), times may restart."""
        self._clock = _VideoClock()
        self._last_search = -math.inf
        for follower in self._followers:
            follower.close()
        self._followers = []
        if self._spare is not None and self._spare_ms is not None:  # it saw this video's times
            self._spare.close()
            self._spare, self._spare_ms = None, None

    def close(self) -> None:
        """Release the landmarkers and threads (idempotent)."""
        self.reset()
        if self._search_graph is not None:
            self._search_graph.close()
            self._search_graph = None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> "BlazePoseDetector":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
