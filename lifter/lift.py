"""The one inference entry point: ``Lifter`` turns normalised 2D poses into 3D poses.

    lifter = Lifter.load("pgformer")                       # shipped weights: weights/pgformer.safetensors
    lifter = Lifter.load("ckpt_cpn_PGFormer.pth")          # a release file (config inferred from its shapes)
    pose3d = lifter.lift(keypoints_2d)                    # (N, J, 2) normalised -> (N, J, 3) metres

Input: float (N, J, 2) normalised as lifter.skeleton.normalize_screen. Output: float32 (N, J, 3)
metres, camera frame, root-relative (joint 0, the pelvis, exactly at the origin).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from lifter.checkpoint import load_weights
from lifter.flip import FlipAverage
from lifter.models import num_joints_of
from lifter.models.diffpyramid import DiffPyramid


def _shipped_weights_dir() -> Path:
    """lifter/weights in an installed package (pyproject.toml installs the source's weights/ folder
    there), else weights/ of the source checkout (beside lifter/)."""
    package = Path(__file__).resolve().parent
    installed = package / "weights"
    return installed if installed.is_dir() else package.parent / "weights"


#: the folder of the shipped weights (<name>.safetensors + <name>.json), installed or in the source tree
WEIGHTS_DIR = _shipped_weights_dir()
INFERENCE_SETTINGS = ("steps", "span", "hypotheses", "aggregate", "eta", "uv_noise")
#: poses per forward pass when ``chunk`` is not given. CPU: per-pose time is lowest from 256 to 512
#: poses and rises above, as activations leave the cache (gt16 on 2 threads: 0.19 ms/pose at 256-512,
#: 0.29 at 1024, 0.38 at 4096), and cpn17's activations are 2.7x wider, so 256 (with flip averaging a
#: pass holds twice as many). CUDA: large batches keep the GPU busy.
DEFAULT_CHUNK = {"cpu": 256, "cuda": 4096}


def resolve_device(device: str) -> str:
    """"auto" -> "cuda" when available else "cpu"; "cuda" without CUDA is a ValueError."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but CUDA is not available (use --device cpu or auto)")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"unknown device {device!r} (expected auto, cpu or cuda)")
    return device


def resolve_weights(name_or_path: str) -> Path:
    """A bare name ("pgformer") means the shipped file WEIGHTS_DIR/<name>.safetensors; else a path."""
    path = Path(name_or_path)
    if path.suffix or path.exists() or len(path.parts) > 1:
        return path
    shipped = WEIGHTS_DIR / f"{name_or_path}.safetensors"
    if not shipped.is_file():
        raise FileNotFoundError(f"no shipped weights named {name_or_path} at {shipped}")
    return shipped


class Lifter:
    """A lifter model ready for inference: flip averaging, device, chunking, no gradients.

    Attributes: ``num_joints`` (16 or 17), ``device`` ("cpu" / "cuda"), ``config`` (model config
    dict or None), ``chunk`` (poses per forward pass; None picks DEFAULT_CHUNK of the device; results
    do not depend on it), ``model`` (the module actually run, the FlipAverage wrapper when flip is on).
    """

    def __init__(self, model: nn.Module, num_joints: int, device: str = "auto", flip: bool = True,
                 chunk: int | None = None, config: dict | None = None):
        self.num_joints = num_joints
        self.device = resolve_device(device)
        self.config = config
        self.chunk = DEFAULT_CHUNK[torch.device(self.device).type] if chunk is None else chunk
        if self.chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {self.chunk}")
        self.flip = flip
        self.model = (FlipAverage(model, num_joints) if flip else model).to(self.device).eval()

    @classmethod
    def load(cls, name_or_path: str, device: str = "auto", flip: bool = True, denoiser: str | None = None,
             config: str | dict | None = None, chunk: int | None = None, **infer_kwargs) -> "Lifter":
        """Load shipped (bare name), project (.safetensors) or release weights.

        config: a lifter.models.CONFIGS name (or config dict); None takes a project file's own config or infers
        a release file's from its tensor shapes. denoiser: the DiffPyramid denoiser file when ``name_or_path`` is
        a release pose-model file. infer_kwargs: DiffPyramid
        inference settings (steps, span, hypotheses, aggregate, eta, uv_noise).
        """
        model, cfg, _ = load_weights(resolve_weights(name_or_path), config, denoiser)
        unknown = set(infer_kwargs) - set(INFERENCE_SETTINGS)
        if unknown:
            raise ValueError(f"unknown inference setting(s) {sorted(unknown)} (known: {', '.join(INFERENCE_SETTINGS)})")
        if infer_kwargs and not isinstance(model, DiffPyramid):
            raise ValueError(f"inference settings {sorted(infer_kwargs)} apply only to DiffPyramid models")
        for key, value in infer_kwargs.items():
            if value is not None:
                setattr(model, key, value)
        return cls(model, num_joints_of(cfg), device, flip, chunk, cfg)

    def check_input(self, keypoints_2d: np.ndarray) -> np.ndarray:
        """Validate (N, J, 2) finite input and return it as float32 (ValueError naming the problem)."""
        kp = np.asarray(keypoints_2d)
        if kp.ndim != 3 or kp.shape[2] != 2:
            raise ValueError(f"keypoints_2d must have shape (N, J, 2), got {kp.shape}")
        if kp.shape[1] != self.num_joints:
            raise ValueError(f"keypoints_2d has {kp.shape[1]} joints, this lifter takes {self.num_joints}")
        if not np.issubdtype(kp.dtype, np.floating):
            raise ValueError(f"keypoints_2d must be a float array, got dtype {kp.dtype}")
        bad = ~np.isfinite(kp)
        if bad.any():
            n, j, _ = np.argwhere(bad)[0]
            raise ValueError(f"keypoints_2d contains NaN or inf (first at pose {n}, joint {j}); "
                             "fill missing joints first (lifter.skeleton.fill_missing)")
        return kp.astype(np.float32, copy=False)

    def lift(self, keypoints_2d: np.ndarray, progress: bool = False) -> np.ndarray:
        """(N, J, 2) normalised 2D -> float32 (N, J, 3) metres, root-relative; chunks of ``chunk`` poses."""
        kp = self.check_input(keypoints_2d)
        out = np.empty((kp.shape[0], self.num_joints, 3), dtype=np.float32)
        starts = range(0, kp.shape[0], self.chunk)
        with torch.inference_mode():
            for s in tqdm(starts, desc="lifting", unit="chunk", disable=not progress or len(starts) < 2):
                x = torch.from_numpy(kp[s:s + self.chunk]).to(self.device)
                y = self.model(x).float()
                out[s:s + self.chunk] = (y - y[:, :1]).cpu().numpy()
        return out
