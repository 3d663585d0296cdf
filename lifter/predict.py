"""Lift a file of 2D poses to 3D.

    python -m lifter.predict --config gt16|cpn17|diffpyramid|<name> --weights PATH [--denoiser PATH]
        --input X.npy --output Y.npy [--no-flip] [--device auto|cpu|cuda] [--steps N] [--hypotheses K]

X: float (N, J, 2) normalised 2D (lifter.skeleton.normalize_screen). Y: float32 (N, J, 3) metres,
root-relative. PATH: a release checkpoint (any of its three containers) or the project's
.safetensors (whose .json gives the config), or a bare shipped name such as "pgformer". --config
may be left out: a project file carries it, a release file's is inferred from its tensor shapes
(a DiffPyramid pose-model file then needs its denoiser file as --denoiser). --steps / --hypotheses
apply to DiffPyramid. Flip averaging (lift the mirrored pose too, average) is on, as in the demo
and ``Lifter``; --no-flip turns it off. Bad input: one-line error on stderr, exit code 2.
Installed as the ``pose3d-predict`` command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from lifter.atomic import atomic_path
from lifter.lift import Lifter
from lifter.models import CONFIGS


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m lifter.predict", description="Lift normalised 2D poses to 3D.")
    p.add_argument("--config", help=f"model configuration: {', '.join(sorted(CONFIGS))}, or a .json config file "
                   "(default: from the project file, or inferred from a release file's tensor shapes)")
    p.add_argument("--weights", required=True, help="release checkpoint, project .safetensors, or shipped name")
    p.add_argument("--denoiser", help="DiffPyramid denoiser checkpoint (with a release pose-model file)")
    p.add_argument("--input", required=True, type=Path, help="X.npy, float (N, J, 2) normalised 2D")
    p.add_argument("--output", required=True, type=Path, help="Y.npy, float32 (N, J, 3) metres, root-relative")
    p.add_argument("--no-flip", action="store_true",
                   help="turn off flip averaging (lifting the mirrored pose too and averaging; on by default)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--steps", type=int, help="DiffPyramid: denoiser calls")
    p.add_argument("--hypotheses", type=int, help="DiffPyramid: number of hypotheses")
    return p.parse_args(argv)


def _config(value: str | None) -> str | dict | None:
    if value is None or value in CONFIGS:
        return value
    path = Path(value)
    if path.suffix == ".json" and path.is_file():
        doc = json.loads(path.read_text(encoding="utf-8"))
        return doc.get("config", doc)
    raise ValueError(f"unknown --config {value!r} (known: {', '.join(sorted(CONFIGS))}, or a .json file)")


def _read_input(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read --input {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        if args.output.suffix != ".npy":
            raise ValueError(f"--output must end in .npy, got {args.output}")
        keypoints = _read_input(args.input)
        infer = {k: v for k, v in (("steps", args.steps), ("hypotheses", args.hypotheses)) if v is not None}
        lifter = Lifter.load(str(args.weights), device=args.device, flip=not args.no_flip, denoiser=args.denoiser,
                             config=_config(args.config), **infer)
        pose3d = lifter.lift(keypoints, progress=True)
        with atomic_path(args.output) as tmp:
            np.save(tmp, pose3d)
    except (ValueError, FileNotFoundError, OSError) as e:
        print(f"error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: {pose3d.shape[0]} poses x {pose3d.shape[1]} joints x 3 (metres, root-relative)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
