"""Keypoints made elsewhere: :func:`read_keypoints` reads a keypoint file or folder into people per frame.

The format is recognised from the content (a folder, a zip archive, the JSON structure), never
from the file name. Every problem raises :class:`KeypointFileError`, one line "PATH: problem"
naming the file (inside a folder: the file at fault) and the entry. People come out in the
source's own layout (``KeypointFile.layout``, a key of ``lifter.keypoints.LAYOUTS`` or "h36m17";
``lifter.keypoints.to_h36m17`` converts them), pixels, made by ``PersonPose.from_keypoints``:
scores are clipped to [0, 1], a joint that is not present (``lifter.keypoints.joint_present``:
zero confidence, or written as (0, 0)) becomes NaN / 0, and a person without any present joint
is dropped.

Formats
-------
K = keypoints per person. "COCO order" K: 17 -> "coco17"; 26 -> "halpe26"; 133
(COCO-WholeBody) -> its first 17, "coco17"; 136 (Halpe-136) -> its first 26, "halpe26". One K
per file. COCO and AlphaPose results list people, not frames, so their ``num_frames`` (1 + the
last frame index seen) misses the frames after the last person; OpenPose, mmpose, a COCO images
list and the npz list every frame.

========= ============================================================================================
format    structure; frame index (0-based); person score; track ID
========= ============================================================================================
coco      Results: a JSON list of {image_id, category_id, keypoints [x, y, v] * K, score?,
          track_id?}, K in COCO order. Frame: an integer image_id is the frame index; a string
          image_id is a file name whose stem's last run of digits is the frame index ("12.jpg",
          "frame_000012.png" -> 12). Score: ``score`` clipped to [0, 1], else the mean keypoint
          score. track_id: optional.
          Dataset: a JSON object with "images" [{id, file_name?, width?, height?, frame_id?}]
          and "annotations" [{image_id, keypoints, score?, track_id?}] (v, the visibility flag
          0/1/2, becomes score 0/1). The images are the video's frames: an image's number is its
          frame_id when every image has one, else its file name's number (as above) when every
          image has one, else its place in the list; the frame index is that number minus the
          smallest (PoseTrack's frame_ids, 1-based names: the first image is frame 0).
          width/height: the images' when they all agree.
alphapose AlphaPose's default JSON output (``--format`` not given): a list like COCO results
          with image_id the frame's file name ("0.jpg": AlphaPose names video frames by their
          0-based index), keypoints [x, y, c] * K (17, 26 or 136), "box", "idx". Told from COCO
          results by an "idx" or "box" key or K = 26 / 136. Score: AlphaPose's is
          mean(c) + box score + 1.25 max(c) (its pose NMS), at most 3.25: divided by 3.25,
          clipped to [0, 1]. Track ID: ``idx`` when it is one number (or a list of one), with
          ``--pose_track``; untracked output writes 0 (or lists of merged detections) for
          everyone, so when an idx repeats within a frame all idx are ignored (a note says so).
openpose  A folder of per-frame files ``<name>_<12 digits>_keypoints.json`` (OpenPose
          ``--write_json``; other files are ignored), or one such file: {"people":
          [{"pose_keypoints_2d" (older OpenPose: "pose_keypoints"): [x, y, c] * K,
          "person_id": [-1] or an ID}]}. K: 25 -> "body25", 18 -> "coco18". Frame: the 12
          digits (0-based; a single file without them: frame 0). Score: the mean keypoint
          score. person_id >= 0 is the track ID. Coordinates are taken as pixels (OpenPose's
          default ``--keypoint_scale 0``).
mmpose    mmpose 1.x predictions. MMPoseInferencer ``pred_out_dir`` for a video: a JSON list of
          {"frame_id", "instances"}, frame_id 0-based (it enumerates the frames).
          demo/topdown_demo_with_mmdet.py ``--save-predictions``: {"meta_info", "instance_info":
          [{"frame_id", "instances"}]}, frame_id 1-based (counted before each frame is
          processed): frame index = frame_id - 1. For an image both write the instances
          themselves (a list of instances; "instance_info" a list of instances): frame 0.
          Instance: {"keypoints" [[x, y]] * K, "keypoint_scores" [K], "bbox", "bbox_score"?,
          "track_id"?}, K in COCO order. Score: bbox_score clipped to [0, 1], else the mean
          keypoint score (RTMPose's keypoint scores can exceed 1: clipped).
npz       This project's keypoints.npz (``demo.outputs``, format_version 3), layout "h36m17":
          person p is in frame t when one of its ``keypoints_2d_raw`` joints is found (the
          detector's joints, before the 2D repair), with those positions bit for bit and the
          detector's scores: the stored ``scores`` are the repaired ones, whose left/right swap
          fixes (``repair_flags`` bit 1) are undone, so that every found joint keeps its
          detector score (> 0). Track ID: ``track_ids[p]``. Score: the mean joint score.
          width, height, fps, time_s and num_frames (T) from the file.
========= ============================================================================================

A negative track ID means none. Two people of one frame with the same track ID are an error
(except AlphaPose's idx, above). ``KeypointFile.frames`` holds only the frames with people;
``notes`` tells the user what was read and which frames have nobody.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np

from detectors.base import PersonPose
from lifter.keypoints import H36M_17, num_keypoints
from lifter.skeleton import flip_permutation

FORMATS: tuple[str, ...] = ("coco", "openpose", "alphapose", "mmpose", "npz")

#: K of COCO-ordered files (COCO, AlphaPose, mmpose) -> layout; a longer whole-body layout begins
#: with the body layout, whose first num_keypoints(layout) keypoints are read
COCO_ORDER_COUNTS: dict[int, str] = {17: "coco17", 26: "halpe26", 133: "coco17", 136: "halpe26"}
#: K of OpenPose's pose_keypoints_2d -> layout
OPENPOSE_COUNTS: dict[int, str] = {25: "body25", 18: "coco18"}
_WHOLE_BODY_NAMES = {133: "COCO-WholeBody", 136: "Halpe-136"}

#: AlphaPose's person score mean(c) + box score + 1.25 max(c) is at most this (all terms <= 1)
ALPHAPOSE_MAX_SCORE = 3.25
#: OpenPose's per-frame file name
OPENPOSE_FILE = re.compile(r"^(.*)_(\d{12})_keypoints\.json$")
_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")


class KeypointFileError(ValueError):
    """A keypoint file that cannot be read: one line "PATH: problem"."""


@dataclass
class KeypointFile:
    """People per frame read from a keypoint file (see the module docstring).

    frames: 0-based frame index -> the people found in it (only frames with people), in
    ``layout``, pixels; a person's ``track_id`` is the source's when it gives one.
    num_frames: 1 + the last frame index seen (npz: its T). width, height, fps, time_s
    ((num_frames,) float64 seconds): None when the source does not say. notes: one line each for
    the user.
    """

    path: Path
    format: str
    layout: str
    frames: dict[int, list[PersonPose]]
    num_frames: int
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    time_s: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    """One person as the source wrote it."""

    file: Path        # the file that holds it (for error messages)
    where: str        # the entry in that file, e.g. "entry 3" (for error messages)
    frame: int
    xy: np.ndarray    # (K, 2)
    scores: np.ndarray  # (K,)
    score: float | None = None
    track_id: int | None = None


def read_keypoints(path: str | os.PathLike) -> KeypointFile:
    """Read a keypoint file or folder of any format of the module docstring.

    Raises KeypointFileError (a ValueError), one line "PATH: problem", for anything it cannot read.
    """
    path = Path(path)
    if path.is_dir():
        return _read_openpose_folder(path)
    if not path.is_file():
        _fail(path, "no such file or folder")
    if zipfile.is_zipfile(path):
        return _read_npz(path)
    return _read_json_file(path, _load_json(path))


# -- messages -----------------------------------------------------------------------------------

def _fail(path: Path, problem: str) -> NoReturn:
    raise KeypointFileError(f"{path}: {' '.join(problem.split())}")


def _show(value: object, limit: int = 40) -> str:
    """A short one-line repr of a value from the file."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _ranges(indices: list[int], limit: int = 8) -> str:
    """[3, 4, 5, 9] -> "3-5, 9" (at most ``limit`` ranges, then "...")."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    text = [str(a) if a == b else f"{a}-{b}" for a, b in runs[:limit]]
    return ", ".join(text) + (", ..." if len(runs) > limit else "")


# -- small value readers --------------------------------------------------------------------------

def _load_json(path: Path) -> object:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        _fail(path, f"cannot read ({e.strerror or e})")
    except UnicodeDecodeError:
        _fail(path, "not JSON (not UTF-8 text)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        _fail(path, f"not JSON ({e.msg} at line {e.lineno} column {e.colno})")


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _single(value: object) -> object:
    """A list of one value (nested any depth) -> that value; anything else unchanged."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def _integral(value: object) -> int | None:
    """A whole number (an int, or a float such as 3.0) as int, else None."""
    if _is_number(value) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    return None


def _track_id(value: object, file: Path, where: str, key: str = "track_id") -> int | None:
    """A source's track ID: a whole number (or a list of one); negative or null -> None."""
    value = _single(value)
    if value is None:
        return None
    number = _integral(value)
    if number is None:
        _fail(file, f"{where}: {key} {_show(value)} is not a whole number")
    return number if number >= 0 else None


def _score(value: object, file: Path, where: str, scale: float = 1.0) -> float | None:
    """A person score (a number, or a list of one) divided by ``scale``; None when absent."""
    value = _single(value)
    if value is None:
        return None
    if not _is_number(value) or not math.isfinite(value):
        _fail(file, f"{where}: score {_show(value)} is not a number")
    return float(value) / scale


def _numbers(value: object, file: Path, where: str, key: str) -> np.ndarray:
    """A JSON list of numbers (null -> NaN) as float64, any nesting kept."""
    if not isinstance(value, list):
        _fail(file, f"{where}: {key} is {_show(value)}, not a list")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(file, f"{where}: {key} is not a regular list of numbers")


def _flat_keypoints(value: object, counts: dict[int, str], file: Path, where: str,
                    key: str = "keypoints") -> tuple[np.ndarray, np.ndarray]:
    """[x, y, c] * K -> xy (K, 2), c (K,); K must be a key of ``counts``."""
    flat = _numbers(value, file, where, key)
    if flat.ndim != 1 or flat.size % 3 or flat.size // 3 not in counts:
        _fail(file, f"{where}: {key} has {flat.size} numbers; expected 3 x K with K one of "
                    f"{', '.join(map(str, counts))}")
    xyc = flat.reshape(-1, 3)
    return xyc[:, :2], xyc[:, 2]


def _frame_of_name(name: str, file: Path, where: str) -> int:
    """The frame index in a file name: the last run of digits of its stem."""
    match = _LAST_NUMBER.search(Path(name).stem)
    if match is None:
        _fail(file, f"{where}: {_show(name)} has no frame number in its name")
    return int(match.group(1))


def _frame_of_image_id(image_id: object, file: Path, where: str) -> int:
    """COCO / AlphaPose results: an integer image_id is the frame index, a string a file name."""
    if isinstance(image_id, str):
        return _frame_of_name(image_id, file, where)
    if not isinstance(image_id, int) or isinstance(image_id, bool):
        _fail(file, f"{where}: image_id is neither an integer nor a file name")
    if image_id < 0:
        _fail(file, f"{where}: negative frame index")
    return image_id


def _object(value: object, file: Path, where: str) -> dict:
    if not isinstance(value, dict):
        _fail(file, f"{where} is {_show(value)}, not an object")
    return value


def _list(value: object, file: Path, where: str) -> list:
    if not isinstance(value, list):
        _fail(file, f"{where} is {_show(value)}, not a list")
    return value


# -- building the result --------------------------------------------------------------------------

def _layout_of(entries: list[_Entry], counts: dict[int, str], path: Path) -> tuple[str, list[str]]:
    """The one layout of all entries (from K) and the notes on it; an error on mixed K."""
    if not entries:
        _fail(path, "no person with keypoints in any frame (the keypoint layout cannot be told)")
    k = len(entries[0].scores)
    for e in entries:
        if len(e.scores) != k:
            _fail(e.file, f"{e.where}: {len(e.scores)} keypoints, but {entries[0].where} has {k} "
                          "(one layout per file)")
    layout = counts[k]
    notes = []
    if k in _WHOLE_BODY_NAMES:
        notes.append(f"{_WHOLE_BODY_NAMES[k]} keypoints ({k}): the first {num_keypoints(layout)} ({layout}) are used")
    return layout, notes


def _check_track_ids(entries: list[_Entry]) -> None:
    seen: dict[tuple[int, int], _Entry] = {}
    for e in entries:
        if e.track_id is None:
            continue
        first = seen.setdefault((e.frame, e.track_id), e)
        if first is not e:
            _fail(e.file, f"{e.where}: track ID {e.track_id} appears twice in frame {e.frame} "
                          f"(also {first.where})")


def _empty_frames_note(frames: dict[int, list[PersonPose]], num_frames: int) -> list[str]:
    empty = [t for t in range(num_frames) if t not in frames]
    if not empty:
        return []
    which = "frame" if len(empty) == 1 else "frames"
    return [f"{len(empty)} of {num_frames} {which} have no people: {which} {_ranges(empty)}"]


def _build(path: Path, fmt: str, entries: list[_Entry], counts: dict[int, str], *,
           num_frames: int | None = None, notes: list[str] | None = None, **info) -> KeypointFile:
    """The KeypointFile of ``entries`` (people in the source layout, any K in ``counts``)."""
    layout, layout_notes = _layout_of(entries, counts, path)
    _check_track_ids(entries)
    n = num_keypoints(layout)
    frames: dict[int, list[PersonPose]] = {}
    dropped = 0
    for e in entries:
        person = PersonPose.from_keypoints(e.xy[:n], e.scores[:n], score=e.score, track_id=e.track_id)
        if person is None:
            dropped += 1
        else:
            frames.setdefault(e.frame, []).append(person)
    last = max(e.frame for e in entries) + 1
    num_frames = last if num_frames is None else max(num_frames, last)
    notes = layout_notes + list(notes or [])
    if dropped:
        notes.append(f"{dropped} {'person' if dropped == 1 else 'people'} without any joint present "
                     "(zero confidence or at (0, 0)) left out")
    notes += _empty_frames_note(frames, num_frames)
    return KeypointFile(path=path, format=fmt, layout=layout, frames=dict(sorted(frames.items())),
                        num_frames=num_frames, notes=notes, **info)


# -- JSON formats -------------------------------------------------------------------------------------

def _read_json_file(path: Path, doc: object) -> KeypointFile:
    """Tell the JSON format from its structure and read it."""
    if isinstance(doc, dict):
        if "people" in doc:
            return _read_openpose_files(path, [(path, _openpose_frame_of(path), doc)])
        if "instance_info" in doc:
            return _read_mmpose(path, _list(doc["instance_info"], path, "instance_info"), base=1,
                                prefix="instance_info")
        if "annotations" in doc and "images" in doc:
            return _read_coco_dataset(path, doc)
        _fail(path, f"unknown keypoint format: a JSON object with keys {_show(sorted(doc), 60)}")
    if isinstance(doc, list):
        if not doc:
            _fail(path, "an empty JSON list: no keypoints")
        first = _object(doc[0], path, "entry 0")
        if "instances" in first or "keypoint_scores" in first:
            return _read_mmpose(path, doc, base=0, prefix="")
        if "image_id" in first and "keypoints" in first:
            return _read_results(path, doc)
        _fail(path, f"unknown keypoint format: a JSON list of objects with keys {_show(sorted(first), 60)}")
    _fail(path, f"unknown keypoint format: JSON {type(doc).__name__}, not an object or a list")


def _is_alphapose(entries: list) -> bool:
    """AlphaPose's output, not COCO results: an "idx" or "box" key, or Halpe's 26 / 136 keypoints."""
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        keypoints = entry.get("keypoints")
        if "idx" in entry or "box" in entry or (isinstance(keypoints, list) and len(keypoints) in (3 * 26, 3 * 136)):
            return True
    return False


def _results_entry(path: Path, entry: dict, where: str, frame: int, alphapose: bool) -> _Entry:
    if "keypoints" not in entry:
        _fail(path, f"{where}: no keypoints")
    xy, scores = _flat_keypoints(entry["keypoints"], COCO_ORDER_COUNTS, path, where)
    score = _score(entry.get("score"), path, where, ALPHAPOSE_MAX_SCORE if alphapose else 1.0)
    return _Entry(path, where, frame, xy, scores, score, _track_id(entry.get("track_id"), path, where))


def _alphapose_ids(entries: list[_Entry], raw: list[dict]) -> list[str]:
    """Give AlphaPose's idx as track IDs when they name people; returns the notes."""
    ids = [_integral(_single(r.get("idx"))) for r in raw]
    ids = [None if i is None or i < 0 else i for i in ids]
    pairs = [(e.frame, i) for e, i in zip(entries, ids) if i is not None]
    if not pairs:
        return []
    if len(set(pairs)) < len(pairs):
        return ["AlphaPose idx repeats within a frame (output without --pose_track): not used as track IDs"]
    for e, i in zip(entries, ids):
        if e.track_id is None:
            e.track_id = i
    return []


def _read_results(path: Path, doc: list) -> KeypointFile:
    """COCO results or AlphaPose output: a list of people, one per entry."""
    alphapose = _is_alphapose(doc)
    entries = []
    for n, entry in enumerate(doc):
        where = f"entry {n}"
        entry = _object(entry, path, where)
        if "image_id" not in entry:
            _fail(path, f"{where}: no image_id")
        frame = _frame_of_image_id(entry["image_id"], path, f"{where} (image_id {_show(entry['image_id'])})")
        entries.append(_results_entry(path, entry, where, frame, alphapose))
    notes = _alphapose_ids(entries, doc) if alphapose else []
    return _build(path, "alphapose" if alphapose else "coco", entries, COCO_ORDER_COUNTS, notes=notes)


def _image_numbers(path: Path, images: list[dict]) -> tuple[list[int], str]:
    """Each image's number (module docstring) and what it was taken from."""
    frame_ids = [_integral(im.get("frame_id")) for im in images]
    if all(i is not None for i in frame_ids):
        return frame_ids, "frame_id"
    names = [im.get("file_name") for im in images]
    if all(isinstance(name, str) and _LAST_NUMBER.search(Path(name).stem) for name in names):
        return [_frame_of_name(name, path, f"images[{n}]") for n, name in enumerate(names)], "file_name"
    return list(range(len(images))), "order"


def _image_frames(path: Path, images: list) -> tuple[dict[object, int], list[str]]:
    """COCO dataset images -> {image id: frame index}, and the notes."""
    images = [_object(im, path, f"images[{n}]") for n, im in enumerate(images)]
    if not images:
        _fail(path, "images is an empty list")
    numbered, source = _image_numbers(path, images)
    first = min(numbered)
    frames: dict[object, int] = {}
    taken: dict[int, int] = {}
    for n, (im, number) in enumerate(zip(images, numbered)):
        if "id" not in im or isinstance(im["id"], (dict, list)):
            _fail(path, f"images[{n}]: no id")
        if im["id"] in frames:
            _fail(path, f"images[{n}]: id {_show(im['id'])} appears twice")
        frame = number - first
        if frame in taken:
            _fail(path, f"images[{n}]: frame {frame} ({source} {number}) is also images[{taken[frame]}]")
        frames[im["id"]], taken[frame] = frame, n
    notes = [f"frames numbered by the images' {source}" + (f", the first ({first}) being frame 0" if first else "")]
    return frames, notes


def _image_size(images: list) -> dict:
    """width/height when every image gives the same, else None."""
    sizes = {(im.get("width"), im.get("height")) for im in images if isinstance(im, dict)}
    if len(sizes) == 1:
        width, height = sizes.pop()
        if _integral(width) and _integral(height):
            return {"width": int(width), "height": int(height)}
    return {"width": None, "height": None}


def _read_coco_dataset(path: Path, doc: dict) -> KeypointFile:
    """A COCO dataset-style object: images (the frames) and annotations (the people)."""
    images = _list(doc["images"], path, "images")
    frames, notes = _image_frames(path, images)
    entries = []
    for n, ann in enumerate(_list(doc["annotations"], path, "annotations")):
        where = f"annotations[{n}]"
        ann = _object(ann, path, where)
        image_id = ann.get("image_id")
        if isinstance(image_id, (dict, list)) or image_id not in frames:
            _fail(path, f"{where}: image_id {_show(image_id)} is not in images")
        entries.append(_results_entry(path, ann, where, frames[image_id], alphapose=False))
    return _build(path, "coco", entries, COCO_ORDER_COUNTS, num_frames=max(frames.values()) + 1, notes=notes,
                  **_image_size(images))


def _mmpose_instance(path: Path, inst: object, where: str, frame: int) -> _Entry:
    inst = _object(inst, path, where)
    if "keypoints" not in inst or "keypoint_scores" not in inst:
        _fail(path, f"{where}: no keypoints or keypoint_scores")
    xy = _numbers(inst["keypoints"], path, where, "keypoints")
    scores = _numbers(inst["keypoint_scores"], path, where, "keypoint_scores")
    k = len(scores)
    if scores.ndim != 1 or k not in COCO_ORDER_COUNTS:
        _fail(path, f"{where}: keypoint_scores has shape {scores.shape}; expected K with K one of "
                    f"{', '.join(map(str, COCO_ORDER_COUNTS))}")
    if xy.shape != (k, 2):
        _fail(path, f"{where}: keypoints has shape {xy.shape}; expected ({k}, 2) like keypoint_scores")
    return _Entry(path, where, frame, xy, scores, _score(inst.get("bbox_score"), path, where),
                  _track_id(inst.get("track_id"), path, where))


def _read_mmpose(path: Path, items: list, base: int, prefix: str) -> KeypointFile:
    """mmpose predictions: frames {frame_id, instances} (frame_id ``base``-based), or one image's instances."""
    def name(n: int) -> str:
        return f"{prefix}[{n}]" if prefix else f"entry {n}"

    if not items:
        _fail(path, f"{prefix or 'the list'} is empty: no keypoints")
    if all(isinstance(item, dict) and "keypoints" in item for item in items):  # one image
        entries = [_mmpose_instance(path, inst, name(n), 0) for n, inst in enumerate(items)]
        return _build(path, "mmpose", entries, COCO_ORDER_COUNTS, notes=["one image's predictions: frame 0"])
    entries, seen = [], {}
    for n, item in enumerate(items):
        item = _object(item, path, name(n))
        if "frame_id" not in item or "instances" not in item:
            _fail(path, f"{name(n)}: no frame_id or instances")
        frame_id = _integral(item["frame_id"])
        if frame_id is None:
            _fail(path, f"{name(n)}: frame_id {_show(item['frame_id'])} is not an integer")
        frame = frame_id - base
        if frame < 0:
            _fail(path, f"{name(n)}: negative frame index {frame} (frame_id {frame_id}, counted from {base})")
        if frame in seen:
            _fail(path, f"{name(n)}: frame_id {frame_id} appears twice (also {name(seen[frame])})")
        seen[frame] = n
        instances = _list(item["instances"], path, f"{name(n)}.instances")
        entries += [_mmpose_instance(path, inst, f"{name(n)}.instances[{i}]", frame)
                    for i, inst in enumerate(instances)]
    return _build(path, "mmpose", entries, COCO_ORDER_COUNTS, num_frames=max(seen) + 1)


# -- OpenPose -----------------------------------------------------------------------------------------

def _openpose_frame_of(path: Path) -> int:
    match = OPENPOSE_FILE.match(path.name)
    return int(match.group(2)) if match else 0


def _read_openpose_folder(folder: Path) -> KeypointFile:
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError as e:
        _fail(folder, f"cannot list the folder ({e.strerror or e})")
    if not files:
        _fail(folder, "empty folder")
    frames: dict[int, Path] = {}
    for file in files:
        match = OPENPOSE_FILE.match(file.name)
        if match is None:
            continue
        frame = int(match.group(2))
        if frame in frames:
            _fail(file, f"frame {frame} again (also {frames[frame].name})")
        frames[frame] = file
    if not frames:
        _fail(folder, f"no OpenPose <name>_<12 digits>_keypoints.json file among its {len(files)} files")
    return _read_openpose_files(folder, [(file, frame, _load_json(file)) for frame, file in sorted(frames.items())])


def _openpose_people(file: Path, frame: int, doc: object) -> list[_Entry]:
    doc = _object(doc, file, "the file")
    people = _list(doc.get("people"), file, "people")
    entries = []
    for n, person in enumerate(people):
        where = f"people[{n}]"
        person = _object(person, file, where)
        key = "pose_keypoints_2d" if "pose_keypoints_2d" in person else "pose_keypoints"
        if key not in person:
            _fail(file, f"{where}: no pose_keypoints_2d")
        xy, scores = _flat_keypoints(person[key], OPENPOSE_COUNTS, file, where, key)
        track = _track_id(person.get("person_id"), file, where, "person_id")
        entries.append(_Entry(file, where, frame, xy, scores, None, track))
    return entries


def _read_openpose_files(path: Path, files: list[tuple[Path, int, object]]) -> KeypointFile:
    """OpenPose: (file, frame index, its JSON) per frame."""
    entries = [e for file, frame, doc in files for e in _openpose_people(file, frame, doc)]
    return _build(path, "openpose", entries, OPENPOSE_COUNTS, num_frames=max(frame for _, frame, _ in files) + 1)


# -- this project's keypoints.npz ----------------------------------------------------------------------

def _detector_scores(scores: np.ndarray, repair_flags: np.ndarray) -> np.ndarray:
    """(P, T, 17) stored scores -> the detector's: the 2D repair moved a swapped joint's score to its
    left/right partner (``demo.repair.SWAPPED`` set on both), so the partner's stored score is the
    joint's own."""
    from demo.repair import SWAPPED

    swapped = (repair_flags & SWAPPED) != 0
    return np.where(swapped, scores[..., flip_permutation(17)], scores)


def _read_npz(path: Path) -> KeypointFile:
    """This project's keypoints.npz: the detector's H36M-17 joints as stored, bit for bit."""
    from demo.outputs import read_npz  # the demo package is imported only for this format

    try:
        result = read_npz(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        _fail(path, f"not a readable keypoints.npz ({str(e).removeprefix(f'{path}: ')})")
    raw = result.keypoints_2d_raw
    scores = _detector_scores(result.scores, result.repair_flags)
    frames: dict[int, list[PersonPose]] = {}
    for p, t in zip(*np.nonzero(np.isfinite(raw).all(-1).any(-1))):
        person = PersonPose.from_keypoints(raw[p, t], scores[p, t], track_id=int(result.track_ids[p]))
        if person is not None:
            frames.setdefault(int(t), []).append(person)
    frames = dict(sorted(frames.items()))
    return KeypointFile(path=path, format="npz", layout=H36M_17, frames=frames, num_frames=result.num_frames,
                        width=result.width, height=result.height, fps=result.fps,
                        time_s=np.asarray(result.time_s, np.float64),
                        notes=_empty_frames_note(frames, result.num_frames))
