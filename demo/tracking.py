"""Stable person identities across the frames of one video, and which people to keep.

:class:`Tracker` gives every detected person (a ``detectors.base.PersonPose``) a track ID, an
int from 1, that stays with that person through crossings, short occlusions, frames the
detector misses, and leaving and coming back within ``max_gap_s`` seconds. :class:`Selector`
then decides, online, which tracks the demo keeps (all, the N most prominent, one ID, or the
largest person), and writes a note whenever the person it follows changes.

Why no tracker library. Checked on PyPI: ``trackers`` 2.6 and ``boxmot`` 25 need numpy >= 2,
which mediapipe 0.10.21 forbids (boxmot also brings torchvision, timm, pandas and an AGPL
licence). ``norfair`` 2.3 fits the pins (numpy < 2, filterpy < 2, rich) and does track
keypoints, but its model does not match this one: a new person gets an ID only after an
``initialization_delay`` of frames (with 0, its re-identification never runs, because it only
merges *initialising* objects into lost ones); how long a lost object survives depends on how
long it had been seen (a hit counter), not on a time limit; and gaps are counted in frames, not
seconds. Wrapping it to give every person an ID in every frame and a seconds-based gap would
have meant re-writing the part that matters here, while adding three runtime dependencies.
``filterpy`` alone is only a Kalman filter. So the matching below is this module's own, built on
``scipy.optimize.linear_sum_assignment`` (an optimal assignment, the Hungarian method).

How a frame is matched (all positions in pixels of the input frame, times in seconds):

1. Prediction. Each track keeps its last observed keypoints ``xy`` (K, 2), their scores, its
   box and a smoothed velocity (2,) px/s of the whole body (the mean motion of the keypoints
   seen in both of two consecutive observations, so joints appearing or vanishing do not fake
   a motion). Its keypoints are predicted at the new time by constant velocity, extrapolated
   for at most ``max_predict_s``.
2. Recent tracks (seen within ``recent_s``) are matched first, by a keypoint similarity like
   COCO's OKS: ``sum_j w_j exp(-d_j^2 / (2 sigma^2)) / sum_j w_j``, d_j the distance between
   the predicted and the detected keypoint j, w_j the product of both scores, and
   ``sigma = scale * (oks_sigma + oks_sigma_per_s * gap)``, scale the track's box diagonal.
   It is multiplied by a size similarity ``exp(-ln(size ratio)^2 / (2 size_sigma^2))`` so two
   people of different size crossing each other are told apart; pairs below ``min_similarity``
   are never matched. Cost = 1 - similarity.
3. The remaining tracks (lost for up to ``max_gap_s``, or recent ones whose pose changed too
   fast for step 2) are matched to the remaining people by box centre and size: the distance
   from the detected box centre to the track's predicted centre or to where it was last seen
   (the smaller), in units of ``scale * (revive_radius + revive_radius_per_s * gap)``, must be
   at most 1, and the size ratio at most ``max_size_ratio``. This re-identifies a person who
   was hidden, or left and came back near where they left, with a similar size.
4. People still unmatched start new tracks (the next ID). A track is *tentative* until it has
   been seen in ``confirm_frames`` frames: a tentative track not seen for more than
   ``recent_s`` is forgotten (a stray false detection is not kept for re-identification);
   a confirmed one when not seen for more than ``max_gap_s``. IDs are never reused.

Duplicates: a detector may report one person twice in a frame; the detector removes them
(detectors.base.same_person) before its people reach :meth:`Tracker.update`.

Limits: identity is decided from position, motion and size only (no appearance), so someone
who enters, within ``max_gap_s``, where a similar-sized person just left takes that person's ID;
two people of the same size who cross while one is fully hidden and both change direction
behind the other can swap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from detectors.base import check_time
from lifter.keypoints import joint_present

if TYPE_CHECKING:  # the tracker only reads .xy, .scores, .box, .score (duck typing)
    from detectors.base import PersonPose

#: a cost that can never be accepted (used for gated pairs in the assignment matrix)
_FORBIDDEN = 1e6


@dataclass
class _Track:
    """One person's state. Pixels of the input frame; times in seconds."""

    track_id: int
    xy: np.ndarray            # (K, 2) last observed keypoints, NaN where missing
    weights: np.ndarray       # (K,) last observed scores, 0 where missing
    box: np.ndarray           # (4,) last observed box x0, y0, x1, y1
    scale: float              # smoothed box diagonal, px
    last_time: float          # when it was last seen, s
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # (2,) px/s
    observations: int = 1

    def predicted_shift(self, time_s: float, max_predict_s: float) -> np.ndarray:
        """(2,) px the body is expected to have moved since it was last seen."""
        return self.velocity * min(time_s - self.last_time, max_predict_s)


def _person_arrays(person: object, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xy (K, 2), weights (K,), box (4,)) float64 of a PersonPose, validated."""
    try:
        xy = np.asarray(person.xy, dtype=np.float64)          # type: ignore[attr-defined]
        scores = np.asarray(person.scores, dtype=np.float64)  # type: ignore[attr-defined]
        box = np.asarray(person.box, dtype=np.float64)        # type: ignore[attr-defined]
    except AttributeError:
        raise ValueError(f"person {index} is a {type(person).__name__}, expected a PersonPose "
                         f"(with xy, scores, box)") from None
    if xy.ndim != 2 or xy.shape[1] != 2 or scores.shape != (xy.shape[0],) or box.shape != (4,):
        raise ValueError(f"person {index}: expected xy (K, 2), scores (K,), box (4,), got "
                         f"{xy.shape}, {scores.shape}, {box.shape}")
    weights = np.where(joint_present(xy, scores), np.clip(scores, 0.0, 1.0), 0.0)
    if not weights.any() or not np.isfinite(box).all() or box[2] < box[0] or box[3] < box[1]:
        raise ValueError(f"person {index} has no keypoint present or an invalid box {box.tolist()}")
    return xy, weights, box


def _keypoint_similarity(xy_a: np.ndarray, w_a: np.ndarray, xy_b: np.ndarray, w_b: np.ndarray,
                         sigma_px: float) -> float:
    """OKS-like similarity in [0, 1] of two (K, 2) keypoint sets with (K,) weights (0 = missing).

    ``sum_j w_j exp(-d_j^2 / (2 sigma^2)) / sum_j w_j``, w_j = w_a[j] w_b[j]; 0 when no joint
    is present in both.
    """
    w = w_a * w_b
    total = w.sum()
    if total <= 0:
        return 0.0
    sq = np.where(w > 0, np.sum((np.nan_to_num(xy_a) - np.nan_to_num(xy_b)) ** 2, axis=1), 0.0)
    return float(np.sum(w * np.exp(-sq / (2 * max(sigma_px, 1e-9) ** 2))) / total)


def _box_centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def _box_diagonal(box: np.ndarray) -> float:
    """Box diagonal in px, at least 1 (a person seen as a single point still has a scale)."""
    return max(math.hypot(box[2] - box[0], box[3] - box[1]), 1.0)


class Tracker:
    """Gives each person a track ID (int from 1) that stays with them through the video.

    fps: the video's frame rate, frames/s; the window of "recent" tracks is at least 1.5 frames.
    max_gap_s: a track not seen for more than this many seconds is forgotten; a person who
        comes back within it (near where they left or where they were heading, with a similar
        size) gets their ID back.
    confirm_frames: frames a track must be seen in before it is kept through gaps longer than
        ``recent_s`` (1: every track is).
    The other options are the matching constants described in the module docstring.

    ``update`` is called once per frame, in time order, also for frames with nobody (an empty
    list), so that the time of each frame is known.
    """

    def __init__(self, fps: float, max_gap_s: float = 2.0, *, confirm_frames: int = 5,
                 recent_s: float = 0.1,
                 max_predict_s: float = 0.5, oks_sigma: float = 0.05, oks_sigma_per_s: float = 1.0,
                 size_sigma: float = 0.35, min_similarity: float = 0.2,
                 revive_radius: float = 0.5, revive_radius_per_s: float = 1.0,
                 max_size_ratio: float = 1.6, velocity_smoothing: float = 0.5) -> None:
        if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        if not (isinstance(max_gap_s, (int, float)) and math.isfinite(max_gap_s) and max_gap_s >= 0):
            raise ValueError(f"max_gap_s must be a number >= 0, got {max_gap_s!r}")
        for name, value in (("recent_s", recent_s), ("max_predict_s", max_predict_s),
                            ("oks_sigma", oks_sigma), ("oks_sigma_per_s", oks_sigma_per_s),
                            ("size_sigma", size_sigma), ("revive_radius", revive_radius),
                            ("revive_radius_per_s", revive_radius_per_s)):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        if not 0 <= min_similarity < 1:
            raise ValueError(f"min_similarity must be in [0, 1), got {min_similarity!r}")
        if not max_size_ratio >= 1:
            raise ValueError(f"max_size_ratio must be >= 1, got {max_size_ratio!r}")
        if isinstance(confirm_frames, bool) or not isinstance(confirm_frames, int) or confirm_frames < 1:
            raise ValueError(f"confirm_frames must be an int >= 1, got {confirm_frames!r}")
        if not 0 < velocity_smoothing <= 1:
            raise ValueError(f"velocity_smoothing must be in (0, 1], got {velocity_smoothing!r}")
        self.fps = float(fps)
        self.max_gap_s = float(max_gap_s)
        self.confirm_frames = confirm_frames
        self.recent_s = max(float(recent_s), 1.5 / self.fps)
        self.max_predict_s = max_predict_s
        self.oks_sigma = oks_sigma
        self.oks_sigma_per_s = oks_sigma_per_s
        self.size_sigma = max(size_sigma, 1e-6)
        self.min_similarity = min_similarity
        self.revive_radius = revive_radius
        self.revive_radius_per_s = revive_radius_per_s
        self.max_size_ratio = max_size_ratio
        self.velocity_smoothing = velocity_smoothing
        self.reset()

    def reset(self) -> None:
        """Forget every track; the next ID is 1 again (a new video)."""
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._last_time: float | None = None
        self._num_keypoints: int | None = None

    @property
    def alive_ids(self) -> list[int]:
        """IDs of the tracks kept after the last update, the ones a person can still be matched to."""
        return [t.track_id for t in self._tracks]

    def update(self, people: Sequence["PersonPose"], time_s: float) -> list[int]:
        """Track IDs of ``people`` (one per person, same order) in the frame at ``time_s``.

        time_s: the frame's presentation time in seconds, strictly increasing across calls.
        Every person gets an ID; two people of one frame never share one.
        """
        time_s = check_time(time_s)
        if self._last_time is not None and time_s <= self._last_time:
            raise ValueError(f"time_s must increase from frame to frame: got {time_s} after "
                             f"{self._last_time}")
        observed = [_person_arrays(p, i) for i, p in enumerate(people)]
        for i, (xy, _, _) in enumerate(observed):
            if self._num_keypoints is None:
                self._num_keypoints = len(xy)
            elif len(xy) != self._num_keypoints:
                raise ValueError(f"person {i} has {len(xy)} keypoints; this video's people have "
                                 f"{self._num_keypoints} (one keypoint layout per video)")
        self._last_time = time_s
        self._tracks = [t for t in self._tracks if time_s - t.last_time <= (
            self.max_gap_s if t.observations >= self.confirm_frames else self.recent_s)]

        ids = [0] * len(observed)
        free_people = list(range(len(observed)))
        recent = [t for t in self._tracks if time_s - t.last_time <= self.recent_s]
        for stage_tracks, cost_fn in ((recent, self._pose_cost),
                                      (self._tracks, self._revival_cost)):
            candidates = [t for t in stage_tracks if t.track_id not in ids]
            for ti, pi in self._assign(candidates, free_people, observed, time_s, cost_fn):
                self._observe(candidates[ti], observed[pi], time_s)
                ids[pi] = candidates[ti].track_id
            free_people = [p for p in free_people if ids[p] == 0]
        for pi in free_people:
            xy, weights, box = observed[pi]
            self._tracks.append(_Track(self._next_id, xy, weights, box, _box_diagonal(box), time_s))
            ids[pi] = self._next_id
            self._next_id += 1
        return ids

    # -- matching -----------------------------------------------------------------------------

    def _assign(self, tracks: list[_Track], people: list[int], observed: list, time_s: float,
                cost_fn) -> list[tuple[int, int]]:
        """Optimal (track index, person index) pairs whose cost passed the gate (< 1)."""
        if not tracks or not people:
            return []
        cost = np.array([[cost_fn(t, observed[p], time_s) for p in people] for t in tracks])
        rows, cols = linear_sum_assignment(cost)
        return [(r, people[c]) for r, c in zip(rows, cols) if cost[r, c] < 1.0]

    def _size_log_ratio(self, track: _Track, box: np.ndarray) -> float:
        return abs(math.log(_box_diagonal(box) / track.scale))

    def _pose_cost(self, track: _Track, person: tuple, time_s: float) -> float:
        """1 - (keypoint similarity x size similarity); >= 1 when below ``min_similarity``."""
        xy, weights, box = person
        gap = time_s - track.last_time
        predicted = track.xy + track.predicted_shift(time_s, self.max_predict_s)
        sigma = track.scale * (self.oks_sigma + self.oks_sigma_per_s * gap)
        oks = _keypoint_similarity(predicted, track.weights, xy, weights, sigma)
        size = math.exp(-self._size_log_ratio(track, box) ** 2 / (2 * self.size_sigma ** 2))
        similarity = oks * size
        if similarity < self.min_similarity:
            return _FORBIDDEN
        return 1.0 - similarity  # in [0, 1 - min_similarity]

    def _revival_cost(self, track: _Track, person: tuple, time_s: float) -> float:
        """Normalised centre distance plus a size term, < 1 only inside both gates."""
        _, _, box = person
        log_ratio = self._size_log_ratio(track, box)
        if log_ratio > math.log(self.max_size_ratio):
            return _FORBIDDEN
        gap = time_s - track.last_time
        centre = _box_centre(box)
        last = _box_centre(track.box)
        distance = min(np.linalg.norm(centre - last),
                       np.linalg.norm(centre - last - track.predicted_shift(time_s, self.max_predict_s)))
        radius = track.scale * (self.revive_radius + self.revive_radius_per_s * gap)
        normalised = distance / max(radius, 1e-9)
        if normalised > 1.0:
            return _FORBIDDEN
        # both terms in [0, 1]; halved so that the sum of accepted pairs stays below 1
        size_term = log_ratio / math.log(self.max_size_ratio) if self.max_size_ratio > 1 else 0.0
        return 0.5 * normalised + 0.49 * size_term

    def _observe(self, track: _Track, person: tuple, time_s: float) -> None:
        """Update a matched track with the person seen at ``time_s``."""
        xy, weights, box = person
        dt = time_s - track.last_time
        common = (track.weights > 0) & (weights > 0)
        if common.any():
            shift = np.mean(xy[common] - track.xy[common], axis=0)
        else:
            shift = _box_centre(box) - _box_centre(track.box)
        measured = shift / dt
        if track.observations == 1:
            track.velocity = measured
        else:
            track.velocity = track.velocity + self.velocity_smoothing * (measured - track.velocity)
        track.scale += 0.3 * (_box_diagonal(box) - track.scale)
        track.xy, track.weights, track.box = xy, weights, box
        track.last_time = time_s
        track.observations += 1


class Selector:
    """Which tracks the demo keeps, decided frame by frame (online, no look-ahead).

    max_people: None keeps every track (the pipeline caps the count elsewhere); N >= 1 keeps up
        to N tracks chosen by prominence (box area x person score, smoothed over the frames a
        track is seen). A kept track stays kept while it is alive, even if a more prominent
        person shows up; when it ends, its slot goes to the most prominent track present that
        is not kept.
    person: an int keeps only that track ID (``max_people`` is then ignored); "largest" is the
        same as ``max_people=1``: follow the most prominent person, and when that person is
        lost for more than ``max_gap_s`` and another is taken, append a note.
    tracker: the Tracker that makes the IDs (recommended): a track has ended when the tracker
        has forgotten it (so a stray detection's short track frees its slot at once).
    fps, max_gap_s: without ``tracker``, a track has ended when not seen for more than
        ``max_gap_s`` seconds at ``fps`` frames/s (ignored when ``tracker`` is given).
    notes: one line per change of followed person, e.g.
        "frame 212: person 1 lost; now following person 3".
    """

    def __init__(self, max_people: int | None = None, person: int | str | None = None, *,
                 tracker: Tracker | None = None, fps: float = 30.0, max_gap_s: float = 2.0,
                 smoothing: float = 0.2) -> None:
        if max_people is not None and (isinstance(max_people, bool) or not isinstance(max_people, int)
                                       or max_people < 1):
            raise ValueError(f"max_people must be None or an int >= 1, got {max_people!r}")
        if person is not None and person != "largest" and (
                isinstance(person, bool) or not isinstance(person, int) or person < 1):
            raise ValueError(f"person must be None, a track ID (int >= 1) or 'largest', got {person!r}")
        if not (math.isfinite(fps) and fps > 0) or not (math.isfinite(max_gap_s) and max_gap_s >= 0):
            raise ValueError(f"fps must be > 0 and max_gap_s >= 0, got {fps!r}, {max_gap_s!r}")
        if not 0 < smoothing <= 1:
            raise ValueError(f"smoothing must be in (0, 1], got {smoothing!r}")
        self.person: int | None = person if isinstance(person, int) else None
        self.max_people = 1 if person == "largest" else max_people
        self.tracker = tracker
        self.max_gap_frames = max_gap_s * fps
        self.smoothing = smoothing
        self.notes: list[str] = []
        self._prominence: dict[int, float] = {}
        self._last_seen: dict[int, int] = {}
        self._kept: list[int] = []
        self._lost: list[int] = []   # kept tracks that ended and whose slot is not yet re-given
        self._last_frame: int | None = None

    def select(self, frame_index: int, ids: Sequence[int], people: Sequence["PersonPose"]) -> list[int]:
        """The kept IDs among ``ids`` (the tracker's IDs of ``people``), in the order of ``ids``.

        frame_index: the frame's index in the video, strictly increasing across calls.
        """
        if len(ids) != len(people):
            raise ValueError(f"got {len(ids)} ids for {len(people)} people")
        if len(set(ids)) != len(ids):
            raise ValueError(f"track IDs of one frame must differ, got {list(ids)}")
        if self._last_frame is not None and frame_index <= self._last_frame:
            raise ValueError(f"frame_index must increase: got {frame_index} after {self._last_frame}")
        self._last_frame = frame_index
        for track_id, person in zip(ids, people):
            box = np.asarray(person.box, dtype=np.float64)
            area = max(float(box[2] - box[0]), 0.0) * max(float(box[3] - box[1]), 0.0)
            value = area * float(np.clip(person.score, 0.0, 1.0))
            old = self._prominence.get(track_id)
            self._prominence[track_id] = value if old is None else old + self.smoothing * (value - old)
            self._last_seen[track_id] = frame_index

        if self.person is not None:
            return [i for i in ids if i == self.person]
        if self.max_people is None:
            return list(ids)

        alive = None if self.tracker is None else set(self.tracker.alive_ids)
        for track_id in list(self._kept):
            if (track_id not in alive) if alive is not None else \
                    frame_index - self._last_seen[track_id] > self.max_gap_frames:
                self._kept.remove(track_id)
                self._lost.append(track_id)
        others = sorted((i for i in ids if i not in self._kept),
                        key=lambda i: self._prominence[i], reverse=True)
        for track_id in others[:self.max_people - len(self._kept)]:
            self._kept.append(track_id)
            if self._lost:
                lost = self._lost.pop(0)
                if self.max_people == 1:
                    self.notes.append(f"frame {frame_index}: person {lost} lost; "
                                      f"now following person {track_id}")
                else:
                    self.notes.append(f"frame {frame_index}: person {lost} lost; "
                                      f"person {track_id} kept in its place")
        return [i for i in ids if i in self._kept]


#: default of --min-track: a track seen in fewer frames than this many seconds' worth is dropped
MIN_TRACK_S = 0.5


def lasting(valid: np.ndarray, fps: float, min_track_s: float = MIN_TRACK_S) -> np.ndarray:
    """Which tracks to keep in the outputs: (P, T) bool seen-in-frame -> (P,) bool.

    A track is kept when it is seen in at least ``min_track_s * fps`` frames, or in at least half
    of the clip's frames (so that a short clip keeps its people). The rest are brief false or
    partial detections (measured on the Sports2D sample: six extra tracks seen in 1-7 frames
    beside the two people, each of whom is seen in over 130). 0 keeps every track.
    """
    valid = np.asarray(valid, bool)
    seen = valid.sum(axis=1)
    return (seen >= min_track_s * fps) | (2 * seen >= valid.shape[1])


def dropped_note(track_ids: np.ndarray, keep: np.ndarray, min_track_s: float) -> list[str]:
    """The note telling which tracks ``lasting`` dropped (none: an empty list)."""
    if keep.all():
        return []
    dropped = ", ".join(str(i) for i in np.asarray(track_ids)[~keep])
    return [f"{int((~keep).sum())} brief track(s) dropped, seen for under {min_track_s:g} s (ID {dropped}); "
            "--min-track 0 keeps them"]
