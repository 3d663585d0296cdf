"""Build the open mocap npz (the file lifter.data.openmocap reads) from CMU motion capture in BVH form.

    python -m lifter.data.cmu_bvh BVH_OR_FOLDER [...] --out my_mocap.npz
        [--fps 10] [--min-move-mm 10] [--mm-per-unit 56.444] [--val-subjects 8,18] [--test-subjects 9,19]
        [--force]

Input: BVH files with the CMU skeleton's joint names (the BVH conversion of the CMU Graphics Lab
Motion Capture Database: ``Hips``, ``LeftUpLeg``, ``Spine``, ``Neck1``, ``Head``, ``LeftArm``, ...),
named ``SUBJECT_TRIAL.bvh`` as in that release (``01_01.bvh``: subject 1, trial 01); folders are
searched recursively for ``*.bvh``.

Steps per file: parse the BVH (``parse_bvh``) -> forward kinematics, every joint's position in
the BVH's world frame (``forward_kinematics``) -> the 17 Human3.6M joints in millimetres
(``h36m17_joints`` with ``CMU_TO_H36M``) -> resampled to ``--fps`` frames per second by the file's
frame time (``resample``) -> frames that moved less than ``--min-move-mm`` (mean joint distance
to the previous kept frame) dropped (``drop_still``).

Forward kinematics (the BVH convention): a joint's local rotation is the product of its rotation
channels in the order they are listed, angles in degrees (``CHANNELS 3 Zrotation Yrotation
Xrotation`` gives R = Rz(z) @ Ry(y) @ Rx(x)); its global rotation is its parent's times that; its
position is its parent's position plus the parent's global rotation applied to (its OFFSET + its
position channels). The root's position is its OFFSET + its position channels. An ``End Site``
is a joint without channels named ``<parent>_End`` (``Head_End``: the top of the head).

Units and frame: BVH units times ``--mm-per-unit``; the default, 25.4 / 0.45 = 56.444 mm, is the
length unit of the CMU skeleton files (ASF ``length 0.45``: 1 unit = 1 / 0.45 inch), which the
CMU BVH conversion keeps. World frame as in the BVH: Y up (the npz's convention).

Output npz, the layout of ../shared/data/README.md: ``joints`` (N, 17, 3) float32 mm, world, Y up;
``subject`` (N,) int16; ``clip`` (N,) int32 (row of the clips.csv written beside it); ``primary``
(N,) int8, all 1; ``split`` (N,) int8 0 train / 1 val / 2 test by subject (``--val-subjects`` /
``--test-subjects``; default: subject number ending in 8 -> val, in 9 -> test, the rest train);
``split_names``, ``joint_names``, ``parents`` (lifter.skeleton) and ``fps``. ``clips.csv`` beside
it: clip, source, file, trial, subject, true_fps, frames_kept, category (empty: the BVH files carry
no description), split. Neither file is overwritten without --force.

The CMU terms allow training on the data and shipping models, not redistributing the data, even
converted: keep the npz out of the repository. Bad input: one-line error (ValueError; the command
line exits with code 2).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lifter.atomic import atomic_path
from lifter.skeleton import JOINTS_17, PARENTS_17

#: frames per second kept, and the least mean joint movement (mm) from the previous kept frame, by default
#: (those of ../shared/data/open_mocap_h36m17.npz)
DEFAULT_FPS = 10.0
DEFAULT_MIN_MOVE_MM = 10.0
#: the length unit of the CMU skeleton (ASF "length 0.45": 1 unit = 1 / 0.45 inch), in millimetres
CMU_MM_PER_UNIT = 25.4 / 0.45
#: H36M-17 joint -> the CMU BVH joints whose mean it is (joint position = where that bone starts)
CMU_TO_H36M: dict[str, tuple[str, ...]] = {
    "pelvis": ("LeftUpLeg", "RightUpLeg"),  # midpoint of the hip joints, as in the open mocap npz
    "r_hip": ("RightUpLeg",),
    "r_knee": ("RightLeg",),
    "r_ankle": ("RightFoot",),
    "l_hip": ("LeftUpLeg",),
    "l_knee": ("LeftLeg",),
    "l_ankle": ("LeftFoot",),
    "spine": ("Spine",),                    # top of the lower back
    "thorax": ("Neck1",),                   # top of the lower neck, just above the shoulders
    "neck_nose": ("Head",),                 # top of the upper neck (base of the head)
    "head": ("Head_End",),                  # end of the head bone (top of the head)
    "l_shoulder": ("LeftArm",),
    "l_elbow": ("LeftForeArm",),
    "l_wrist": ("LeftHand",),
    "r_shoulder": ("RightArm",),
    "r_elbow": ("RightForeArm",),
    "r_wrist": ("RightHand",),
}
assert tuple(CMU_TO_H36M) == JOINTS_17, "CMU_TO_H36M must follow lifter.skeleton.JOINTS_17"

SPLIT_NAMES = ("train", "val", "test")
#: default split by the subject number's last digit (others: train)
SPLIT_BY_LAST_DIGIT = {8: SPLIT_NAMES.index("val"), 9: SPLIT_NAMES.index("test")}
_AXES = {"X": 0, "Y": 1, "Z": 2}
_CHANNEL = re.compile(r"^([XYZ])(position|rotation)$")
_FILE_NAME = re.compile(r"^(\d+)_(\w+)$")
CLIP_COLUMNS = ("clip", "source", "file", "trial", "subject", "true_fps", "frames_kept", "category", "split")


class BvhError(ValueError):
    """A BVH file that cannot be read (one line: the file, where, what)."""


@dataclass
class Bvh:
    """A parsed BVH file. J joints (End Sites included), C channels, T frames."""

    names: list[str]              # (J,) joint names, parents before children
    parents: np.ndarray           # (J,) int, -1 for the root
    offsets: np.ndarray           # (J, 3) float64, BVH units, in the parent's frame
    channels: list[list[str]]     # per joint, e.g. ["Zrotation", "Yrotation", "Xrotation"]
    frame_time: float             # seconds per frame
    motion: np.ndarray            # (T, C) float64, channel values in file order (degrees, BVH units)


# -- parsing ------------------------------------------------------------------------------------
def _tokens(text: str) -> list[tuple[str, int]]:
    """Whitespace-separated tokens with their line numbers (braces are tokens of their own)."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        out.extend((tok, number) for tok in line.replace("{", " { ").replace("}", " } ").split())
    return out


def parse_bvh(text: str, source: str = "<bvh>") -> Bvh:
    """Parse the text of a BVH file (see the module docstring); BvhError on anything malformed."""
    toks = _tokens(text)
    pos = 0

    def fail(msg: str, at: int | None = None) -> BvhError:
        line = toks[min(pos if at is None else at, len(toks) - 1)][1] if toks else 0
        return BvhError(f"{source}: line {line}: {msg}")

    def take(expected: str | None = None) -> str:
        nonlocal pos
        if pos >= len(toks):
            raise fail(f"file ends early{f' (expected {expected!r})' if expected else ''}")
        tok = toks[pos][0]
        if expected is not None and tok.upper() != expected.upper():
            raise fail(f"expected {expected!r}, found {tok!r}")
        pos += 1
        return tok

    def number() -> float:
        tok = take()
        try:
            return float(tok)
        except ValueError:
            raise fail(f"expected a number, found {tok!r}", pos - 1) from None

    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []

    def joint(name: str, parent: int, end_site: bool = False) -> None:
        index = len(names)
        if name in names:
            raise fail(f"joint {name!r} defined twice")
        names.append(name)
        parents.append(parent)
        take("{")
        take("OFFSET")
        offsets.append([number(), number(), number()])
        chans: list[str] = []
        if not end_site:
            take("CHANNELS")
            count_tok = take()
            if not count_tok.isdigit():
                raise fail(f"joint {name!r}: CHANNELS must be followed by a count, found {count_tok!r}", pos - 1)
            for _ in range(int(count_tok)):
                ch = take()
                if not _CHANNEL.match(ch):
                    raise fail(f"joint {name!r}: unknown channel {ch!r} (expected e.g. Xposition, Zrotation)", pos - 1)
                chans.append(ch)
        channels.append(chans)
        ends = 0
        while True:
            tok = take()
            if tok == "}":
                return
            if end_site:
                raise fail(f"End Site of {names[parent]!r}: expected '}}', found {tok!r}", pos - 1)
            if tok.upper() == "JOINT":
                joint(take(), index)
            elif tok.upper() == "END":
                take("Site")
                ends += 1
                joint(f"{name}_End" if ends == 1 else f"{name}_End{ends}", index, end_site=True)
            else:
                raise fail(f"joint {name!r}: expected JOINT, End Site or '}}', found {tok!r}", pos - 1)

    take("HIERARCHY")
    take("ROOT")
    joint(take(), -1)
    take("MOTION")
    take("Frames:")
    frames_tok = take()
    if not frames_tok.isdigit():
        raise fail(f"'Frames:' must be followed by a whole number, found {frames_tok!r}", pos - 1)
    frames = int(frames_tok)
    take("Frame")
    take("Time:")
    frame_time = number()
    if not frame_time > 0:
        raise fail(f"Frame Time must be > 0 seconds, got {frame_time}", pos - 1)
    width = sum(len(c) for c in channels)
    rest = toks[pos:]
    try:
        values = np.array([float(t) for t, _ in rest], dtype=np.float64)
    except ValueError:
        bad = next(i for i, (t, _) in enumerate(rest) if not _is_float(t))
        raise fail(f"motion data: not a number: {rest[bad][0]!r}", pos + bad) from None
    if values.size != frames * width:
        per_line: dict[int, int] = {}
        for _, line in rest:
            per_line[line] = per_line.get(line, 0) + 1
        wrong = next((ln for ln, n in per_line.items() if n != width), None)
        where = f"; line {wrong} has {per_line[wrong]} values" if wrong is not None else ""
        raise BvhError(f"{source}: motion data has {values.size} values, expected {frames} frames x {width} "
                       f"channels = {frames * width}{where}")
    if frames == 0:
        raise BvhError(f"{source}: no frames (Frames: 0)")
    return Bvh(names, np.array(parents), np.array(offsets, dtype=np.float64), channels, frame_time,
               values.reshape(frames, width))


def _is_float(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


# -- kinematics ---------------------------------------------------------------------------------
def axis_rotation(axis: str, degrees: np.ndarray) -> np.ndarray:
    """Right-handed rotations about ``axis`` ('X', 'Y' or 'Z') by ``degrees`` (T,) -> (T, 3, 3)."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    i, j = [(1, 2), (2, 0), (0, 1)][_AXES[axis]]
    out = np.zeros(a.shape + (3, 3))
    out[..., _AXES[axis], _AXES[axis]] = 1.0
    out[..., i, i], out[..., i, j], out[..., j, i], out[..., j, j] = c, -s, s, c
    return out


def forward_kinematics(bvh: Bvh) -> np.ndarray:
    """Every joint's position in the BVH world frame: (T, J, 3) BVH units (see the module docstring)."""
    frames = len(bvh.motion)
    pos = np.zeros((frames, len(bvh.names), 3))
    rot = np.zeros((frames, len(bvh.names), 3, 3))
    column = 0
    for j, p in enumerate(bvh.parents):
        local = np.broadcast_to(np.eye(3), (frames, 3, 3)).copy()
        shift = np.broadcast_to(bvh.offsets[j], (frames, 3)).copy()
        for ch in bvh.channels[j]:
            axis, kind = _CHANNEL.match(ch).groups()
            values = bvh.motion[:, column]
            column += 1
            if kind == "position":
                shift[:, _AXES[axis]] += values
            else:
                local = local @ axis_rotation(axis, values)
        if p < 0:
            pos[:, j], rot[:, j] = shift, local
        else:
            pos[:, j] = pos[:, p] + np.einsum("tij,tj->ti", rot[:, p], shift)
            rot[:, j] = rot[:, p] @ local
    return pos


def h36m17_joints(positions: np.ndarray, names: list[str], mm_per_unit: float = CMU_MM_PER_UNIT,
              mapping: dict[str, tuple[str, ...]] = CMU_TO_H36M, source: str = "<bvh>") -> np.ndarray:
    """Joint positions (T, J, 3) BVH units named ``names`` -> (T, 17, 3) float32 millimetres, H36M-17 order."""
    index = {n: i for i, n in enumerate(names)}
    missing = sorted({n for srcs in mapping.values() for n in srcs if n not in index})
    if missing:
        raise BvhError(f"{source}: no joint {', '.join(repr(m) for m in missing)}: not the CMU skeleton "
                       f"(lifter.data.cmu_bvh.CMU_TO_H36M lists the names it needs)")
    out = np.stack([positions[:, [index[n] for n in mapping[j]]].mean(1) for j in JOINTS_17], 1)
    return (out * mm_per_unit).astype(np.float32)


def resample(joints: np.ndarray, frame_time: float, fps: float) -> np.ndarray:
    """Frames (T, ...) taken every 1/fps seconds (nearest frame); all of them when fps <= 0 or >= 1/frame_time."""
    if fps <= 0 or fps * frame_time >= 1.0:
        return joints
    duration = (len(joints) - 1) * frame_time
    picks = np.round(np.arange(0.0, duration + 1e-9, 1.0 / fps) / frame_time).astype(int)
    return joints[np.unique(np.clip(picks, 0, len(joints) - 1))]


def drop_still(joints: np.ndarray, min_move_mm: float) -> np.ndarray:
    """Frames (T, 17, 3) mm kept when their mean joint distance to the previous kept frame is >= min_move_mm."""
    if min_move_mm <= 0 or len(joints) == 0:
        return joints
    keep, last = [0], joints[0]
    for t in range(1, len(joints)):
        if np.linalg.norm(joints[t] - last, axis=-1).mean() >= min_move_mm:
            keep.append(t)
            last = joints[t]
    return joints[keep]


# -- files --------------------------------------------------------------------------------------
def subject_and_trial(path: Path) -> tuple[int, str]:
    """``01_02.bvh`` -> (1, '02'); BvhError for other names."""
    match = _FILE_NAME.match(path.stem)
    if match is None:
        raise BvhError(f"{path}: the file name must be SUBJECT_TRIAL.bvh as in the CMU release (e.g. 01_01.bvh)")
    return int(match.group(1)), match.group(2)


def convert_file(path: Path, fps: float = DEFAULT_FPS, min_move_mm: float = DEFAULT_MIN_MOVE_MM,
                 mm_per_unit: float = CMU_MM_PER_UNIT) -> tuple[np.ndarray, float]:
    """One BVH file -> (joints (N, 17, 3) float32 mm, its frame rate in frames per second)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise BvhError(f"{path}: cannot read ({exc.strerror or exc})") from None
    bvh = parse_bvh(text, str(path))
    joints = h36m17_joints(forward_kinematics(bvh), bvh.names, mm_per_unit, source=str(path))
    return drop_still(resample(joints, bvh.frame_time, fps), min_move_mm), 1.0 / bvh.frame_time


def find_bvh(inputs: list[str | Path]) -> list[Path]:
    """BVH files of the inputs (files, or folders searched recursively), sorted, each once."""
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files.extend(sorted(item.rglob("*.bvh")) + sorted(item.rglob("*.BVH")))
        elif item.is_file():
            files.append(item)
        else:
            raise BvhError(f"{item}: no such file or folder")
    files = list(dict.fromkeys(files))
    if not files:
        raise BvhError(f"no .bvh file in {', '.join(map(str, inputs))}")
    return files


def split_of(subject: int, val: set[int] | None, test: set[int] | None) -> int:
    """0 train, 1 val, 2 test for a subject (default: number ending in 8 -> val, in 9 -> test)."""
    if val is None and test is None:
        return SPLIT_BY_LAST_DIGIT.get(subject % 10, 0)
    return 2 if subject in (test or ()) else 1 if subject in (val or ()) else 0


def build(files: list[Path], fps: float = DEFAULT_FPS, min_move_mm: float = DEFAULT_MIN_MOVE_MM,
          mm_per_unit: float = CMU_MM_PER_UNIT, val: set[int] | None = None, test: set[int] | None = None,
          progress: bool = False) -> tuple[dict, list[dict]]:
    """Convert ``files`` -> (the npz arrays, the clips.csv rows) (see the module docstring)."""
    joints, subject, clip, rows = [], [], [], []
    for k, path in enumerate(files):
        s, trial = subject_and_trial(path)
        frames, true_fps = convert_file(path, fps, min_move_mm, mm_per_unit)
        split = split_of(s, val, test)
        joints.append(frames)
        subject.append(np.full(len(frames), s, np.int16))
        clip.append(np.full(len(frames), k, np.int32))
        rows.append({"clip": k, "source": "cmu_bvh", "file": path.name, "trial": trial, "subject": s,
                     "true_fps": round(true_fps, 3), "frames_kept": len(frames), "category": "",
                     "split": SPLIT_NAMES[split]})
        if progress:
            print(f"{path.name}: {len(frames)} frames ({SPLIT_NAMES[split]})", file=sys.stderr)
    split_per_frame = np.concatenate([np.full(r["frames_kept"], SPLIT_NAMES.index(r["split"]), np.int8) for r in rows])
    if not (split_per_frame == 0).any():
        raise BvhError("no training frames: every subject went to val or test (see --val-subjects / --test-subjects)")
    arrays = {"joints": np.concatenate(joints).astype(np.float32), "subject": np.concatenate(subject),
              "clip": np.concatenate(clip), "primary": np.ones(len(split_per_frame), np.int8),
              "split": split_per_frame, "split_names": np.array(SPLIT_NAMES), "joint_names": np.array(JOINTS_17),
              "parents": np.array(PARENTS_17, np.int64), "fps": np.float32(fps if fps > 0 else 0.0)}
    return arrays, rows


def write(out: Path, arrays: dict, rows: list[dict], force: bool = False) -> Path:
    """Write the npz and the clips.csv beside it (atomically); returns the clips.csv path."""
    if out.suffix != ".npz":
        raise BvhError(f"--out must end in .npz, got {out}")
    clips = out.parent / "clips.csv"
    for existing in (out, clips):
        if existing.exists() and not force:
            raise BvhError(f"{existing} exists (use --force to overwrite it)")
    with atomic_path(out) as tmp:
        with tmp.open("wb") as f:
            np.savez(f, **arrays)
    with atomic_path(clips) as tmp:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=CLIP_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    return clips


def _subjects(text: str | None) -> set[int] | None:
    if text is None:
        return None
    try:
        return {int(v) for v in text.split(",") if v.strip()}
    except ValueError:
        raise BvhError(f"subject lists are comma-separated numbers, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lifter.data.cmu_bvh", description=__doc__.split("\n\n")[0])
    p.add_argument("inputs", nargs="+", help="BVH files or folders (searched recursively)")
    p.add_argument("--out", required=True, type=Path, help="the npz to write (clips.csv goes beside it)")
    p.add_argument("--fps", type=float, default=DEFAULT_FPS, help="frames per second kept (0: every frame)")
    p.add_argument("--min-move-mm", type=float, default=DEFAULT_MIN_MOVE_MM,
                   help="drop frames closer than this (mean joint distance) to the previous kept one (0: keep all)")
    p.add_argument("--mm-per-unit", type=float, default=CMU_MM_PER_UNIT, help="millimetres per BVH unit")
    p.add_argument("--val-subjects", help="comma-separated subject numbers of the validation split")
    p.add_argument("--test-subjects", help="comma-separated subject numbers of the test split")
    p.add_argument("--force", action="store_true", help="overwrite the npz and clips.csv")
    p.add_argument("--quiet", action="store_true", help="no line per file")
    args = p.parse_args(argv)
    try:
        if not args.mm_per_unit > 0:
            raise BvhError(f"--mm-per-unit must be > 0, got {args.mm_per_unit}")
        files = find_bvh(args.inputs)
        arrays, rows = build(files, args.fps, args.min_move_mm, args.mm_per_unit, _subjects(args.val_subjects),
                             _subjects(args.test_subjects), progress=not args.quiet)
        clips = write(args.out, arrays, rows, args.force)
    except (BvhError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts = {name: int((arrays["split"] == i).sum()) for i, name in enumerate(SPLIT_NAMES)}
    print(f"wrote {args.out} ({len(arrays['joints'])} frames: {counts}) and {clips} ({len(rows)} clips)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
