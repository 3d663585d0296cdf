"""Open mocap (../shared/data/open_mocap_h36m17.npz): 3D joints only; 2D inputs made on the fly.

File layout: see ../shared/data/README.md (joints (N, 17, 3) millimetres, world, Y up; split
0/1/2 = train/val/test by subject; primary = 1 for frames to use; clip -> clips.csv category).

A training batch: augment the 3D pose (mirror, rotation about the vertical, bone lengths scaled
per sample around realistic means), synthesise the detector's 3D points
(lifter.data.recipe.detector_points_3d), draw one virtual camera per pose
(lifter.data.cameras.sample_cameras), project, add detector-like noise (lifter.data.noise) if
asked, normalise with lifter.skeleton.normalize_screen. Target: the mocap joints in the camera
frame, metres, root-relative. Evaluation sets use no augmentation and fixed seeded cameras/noise.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lifter.data.cameras import CameraRanges, project, sample_cameras, world_to_camera
from lifter.data.noise import NOISE_MODELS, DetectorNoise, apply_noise
from lifter.data.recipe import detector_points_3d
from lifter.skeleton import PARENTS_17, SUBSET_16, flip_permutation, normalize_screen

DEFAULT_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "open_mocap_h36m17.npz"
SPLITS = {"train": 0, "val": 1, "test": 2}
#: seed of the evaluation cameras and noise: the same for every run, so figures are comparable
EVAL_SEED = 20250612
#: the evaluation sets' cameras and noise (the defaults the shipped weights were trained with)
EVAL_CAMERAS = CameraRanges()
EVAL_NOISE = DetectorNoise()
#: mean bone lengths of Human3.6M subjects (mm), by child joint index: hips, thighs, shins,
#: shoulders (thorax to shoulder), upper arms, forearms; other bones keep the data's own mean
REFERENCE_BONES_MM: dict[int, float] = {1: 133.0, 4: 133.0, 2: 443.0, 5: 443.0, 3: 454.0, 6: 454.0,
                                        11: 151.0, 14: 151.0, 12: 279.0, 15: 279.0, 13: 252.0, 16: 252.0}


@dataclass(frozen=True)
class Augment:
    """Training augmentations of the 3D pose (none is used for evaluation sets)."""

    mirror_prob: float = 0.5
    random_yaw: bool = True
    body_scale: tuple[float, float] = (0.88, 1.12)  # one factor on every bone of the sample
    bone_jitter_std: float = 0.05                   # per bone pair (left and right alike)
    keep_lengths_fraction: float = 0.1              # samples that keep the data's bone lengths


def scene_settings(scene: dict | None) -> dict:
    """OpenMocap keyword arguments (cameras, augment, noise_params) from a training scene dict
    (see lifter.data.open_source); JSON lists become the tuples the dataclasses hold."""
    scene = dict(scene or {})
    unknown = set(scene) - {"cameras", "augment", "noise_params"}
    if unknown:
        raise ValueError(f"unknown training scene key(s) {sorted(unknown)} (cameras, augment, noise_params)")

    def tuples(d: dict) -> dict:
        return {k: tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v
                for k, v in d.items()}

    out = {}
    if "cameras" in scene:
        out["cameras"] = CameraRanges(**tuples(scene["cameras"]))
    if "augment" in scene:
        out["augment"] = Augment(**tuples(scene["augment"]))
    if "noise_params" in scene:
        name = scene["noise_params"]
        if name not in NOISE_MODELS:
            raise ValueError(f"unknown noise model {name!r}; choose one of: {', '.join(NOISE_MODELS)}")
        out["noise_params"] = NOISE_MODELS[name]
    return out


def _mirror_groups() -> np.ndarray:
    perm = flip_permutation(17)
    return np.minimum(np.arange(17), perm)


def scale_bones(joints: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Set every bone of poses (B, 17, 3) to ``lengths`` (B, 17) (by child joint; index 0 unused),
    keeping each bone's direction and the pelvis position."""
    out = joints.copy()
    for j, p in enumerate(PARENTS_17):
        if p < 0:
            continue
        bone = joints[:, j] - joints[:, p]
        direction = bone / np.maximum(np.linalg.norm(bone, axis=-1, keepdims=True), 1e-9)
        out[:, j] = out[:, p] + direction * lengths[:, j:j + 1]
    return out


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Poses (..., 17, 3) -> bone lengths (..., 17) by child joint (0 for the pelvis)."""
    parents = np.array([max(p, 0) for p in PARENTS_17])
    return np.linalg.norm(joints - joints[..., parents, :], axis=-1)


def _normalize_by_size(px: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    out = np.empty(px.shape, np.float32)
    for w, h in np.unique(sizes, axis=0):
        rows = (sizes[:, 0] == w) & (sizes[:, 1] == h)
        out[rows] = normalize_screen(px[rows], float(w), float(h))
    return out


def _categories(clips_csv: Path, clip_ids: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    if not clips_csv.exists():
        return np.zeros(len(clip_ids), np.int64), ("all",)
    with clips_csv.open(newline="", encoding="utf-8") as f:
        by_clip = {int(row["clip"]): row["category"] or "other/unlabelled" for row in csv.DictReader(f)}
    names = tuple(sorted(set(by_clip.values())))
    table = np.zeros(max(max(by_clip), int(clip_ids.max())) + 1, np.int64)
    for clip, category in by_clip.items():
        table[clip] = names.index(category)
    return table[clip_ids], names


class OpenMocap:
    """The open mocap source (see lifter.data for the interface)."""

    average = "frames"

    def __init__(self, path: str | Path = DEFAULT_PATH, num_joints: int = 17, noise: str = "detector",
                 noise_params: DetectorNoise = DetectorNoise(), cameras: CameraRanges = CameraRanges(),
                 augment: Augment = Augment(), clips_csv: str | Path | None = None):
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"open mocap file not found: {path}")
        if noise not in ("clean", "detector"):
            raise ValueError(f"noise must be 'clean' or 'detector', got {noise!r}")
        with np.load(path) as d:
            keep = d["primary"] == 1
            self.joints = (d["joints"][keep].astype(np.float32) / 1000.0)
            self.split = d["split"][keep]
            clip = d["clip"][keep]
        self.groups, self.group_names = _categories(Path(clips_csv) if clips_csv else path.parent / "clips.csv", clip)
        self.path, self.num_joints, self.noise = path, num_joints, noise
        self.noise_params, self.cameras, self.augment = noise_params, cameras, augment
        self.train_index = np.nonzero(self.split == SPLITS["train"])[0]
        if len(self.train_index) == 0:
            raise ValueError(f"{path}: no training frames (split == 0)")
        means = bone_lengths(self.joints[self.train_index[:: max(1, len(self.train_index) // 20000)]]).mean(0)
        for j, mm in REFERENCE_BONES_MM.items():
            means[j] = mm / 1000.0
        self.reference_bones = means.astype(np.float32)

    # -- the data interface -------------------------------------------------------------------
    def train_size(self) -> int:
        return len(self.train_index)

    def train_batch(self, positions: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Training batch for positions (B,) into the training frames -> (2D (B, J, 2), 3D (B, J, 3))."""
        joints = self._augment(self.joints[self.train_index[positions]].astype(np.float64), rng)
        return self._make(joints, rng, self.noise == "detector", self.cameras, self.noise_params)

    def eval_set(self, split: str):
        from lifter.data import EvalSet

        rows = np.nonzero(self.split == SPLITS[split])[0]
        rng = np.random.default_rng([EVAL_SEED, SPLITS[split], int(self.noise == "detector")])
        # fixed conditions, whatever the training scene: figures of every run stay comparable
        x, y = self._make(self.joints[rows].astype(np.float64), rng, self.noise == "detector",
                          EVAL_CAMERAS, EVAL_NOISE)
        return EvalSet(f"openmocap-{split}-{self.noise}", x, y, self.groups[rows], self.group_names, self.average)

    def uv_noise_std(self, frames: int = 8192) -> np.ndarray:
        """Per-joint std (J,) of the 2D noise model in normalised units (0 for clean 2D), measured
        on training frames with fixed seeded cameras (scales DiffPyramid's 2D diffusion noise)."""
        rng = np.random.default_rng([EVAL_SEED, 99])
        joints = self.joints[self.train_index[rng.integers(0, len(self.train_index), frames)]].astype(np.float64)
        det = detector_points_3d(joints).astype(np.float64)
        cams = sample_cameras(rng, np.concatenate([joints, det], 1), root=0, ranges=self.cameras)
        px = project(world_to_camera(det, cams), cams.focal, cams.center)
        noisy = apply_noise(rng, px, self.noise_params)[0] if self.noise == "detector" else px
        res = _normalize_by_size(noisy, cams.size) - _normalize_by_size(px, cams.size)
        std = np.sqrt((res ** 2).mean((0, 2))).astype(np.float32)
        return std[list(SUBSET_16)] if self.num_joints == 16 else std

    def fingerprint(self) -> dict:
        st = self.path.stat()
        with self.path.open("rb") as f:
            head = hashlib.sha256(f.read(1 << 20)).hexdigest()
        return {"source": "openmocap", "file": self.path.name, "bytes": st.st_size, "sha256_first_mb": head,
                "frames": {k: int((self.split == v).sum()) for k, v in SPLITS.items()},
                "noise": self.noise, "noise_params": self.noise_params.as_dict(),
                "cameras": asdict(self.cameras), "augment": asdict(self.augment), "eval_seed": EVAL_SEED}

    # -- internals ----------------------------------------------------------------------------
    def _augment(self, joints: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        a, b = self.augment, len(joints)
        mirror = rng.random(b) < a.mirror_prob
        flipped = joints[:, flip_permutation(17)] * np.array([-1.0, 1.0, 1.0])
        joints = np.where(mirror[:, None, None], flipped, joints)
        if a.random_yaw:
            angle = rng.uniform(0, 2 * np.pi, b)
            c, s = np.cos(angle), np.sin(angle)
            rot = np.zeros((b, 3, 3))
            rot[:, 0, 0], rot[:, 0, 2], rot[:, 1, 1], rot[:, 2, 0], rot[:, 2, 2] = c, s, 1.0, -s, c
            pelvis = joints[:, :1]
            joints = pelvis + np.einsum("bij,bkj->bki", rot, joints - pelvis)
        factors = rng.normal(1.0, a.bone_jitter_std, (b, 17))[:, _mirror_groups()]
        factors = np.clip(factors, 1 - 3 * a.bone_jitter_std, 1 + 3 * a.bone_jitter_std)
        lengths = self.reference_bones[None] * factors * rng.uniform(*a.body_scale, (b, 1))
        keep = rng.random(b) < a.keep_lengths_fraction
        lengths = np.where(keep[:, None], bone_lengths(joints), lengths)
        return scale_bones(joints, lengths)

    def _make(self, joints: np.ndarray, rng: np.random.Generator, noisy: bool, cameras: CameraRanges,
              noise_params: DetectorNoise) -> tuple[np.ndarray, np.ndarray]:
        det = detector_points_3d(joints).astype(np.float64)
        cams = sample_cameras(rng, np.concatenate([joints, det], 1), root=0, ranges=cameras)
        target = world_to_camera(joints, cams)
        px = project(world_to_camera(det, cams), cams.focal, cams.center)
        if noisy:
            px, _ = apply_noise(rng, px, noise_params)
        x = _normalize_by_size(px, cams.size)
        y = (target - target[:, :1]).astype(np.float32)
        if self.num_joints == 16:
            x, y = x[:, SUBSET_16], y[:, SUBSET_16]
        return np.ascontiguousarray(x), np.ascontiguousarray(y)
