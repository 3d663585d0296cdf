"""Model weights on disk: the project's safetensors + JSON, and the paper's release files.

- Project format: ``NAME.safetensors`` (the state dict) and ``NAME.json`` beside it
  ({"config": <model config, see lifter.models>, "meta": {...}}); both written atomically.
- Release format (read only): a torch pickle in one of three containers: a dict holding
  'state_dict' (GT-16 file), a bare state dict (CPN-17 file), or a list whose item 0 is the state
  dict (DiffPyramid files). Read with ``torch.load(weights_only=True)``; names may carry the
  DataParallel prefix "module.". Every tensor name and shape is checked against the model.
  Without a configuration, the one is inferred whose tensor names and shapes equal the file's
  (``infer_release_config``): 16 joints + D=96 -> gt16, 17 joints + D=256 -> cpn17, 17 joints + D=96
  with 2 input channels -> diffpyramid_pose, 5 input channels -> diffpyramid_denoiser.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from lifter.atomic import atomic_path, write_json
from lifter.models import CONFIGS, build_model, get_config

PROJECT_SUFFIX = ".safetensors"


def save_model(path: str | Path, model: nn.Module, config: dict, meta: dict | None = None) -> None:
    """Write ``path`` (.safetensors, the state dict) and the same-stem .json ({"config", "meta"})."""
    path = Path(path)
    if path.suffix != PROJECT_SUFFIX:
        raise ValueError(f"model weights must be saved as {PROJECT_SUFFIX}, got {path}")
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata={"format": "pt"})
    write_json(path.with_suffix(".json"), {"config": config, "meta": meta or {}})


def load_model(path: str | Path, device: str = "cpu", config: dict | None = None) -> tuple[nn.Module, dict, dict]:
    """Read a project checkpoint -> (model in eval mode on ``device``, config, meta).

    The config comes from the .json beside the file; ``config`` is used only when that is absent.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    side = path.with_suffix(".json")
    meta: dict = {}
    if side.is_file():
        doc = json.loads(side.read_text(encoding="utf-8"))
        config, meta = doc["config"], doc.get("meta", {})
    elif config is None:
        raise FileNotFoundError(f"no config file {side} beside {path}")
    model = build_model(config)
    try:
        state = load_file(str(path))
    except Exception as e:  # safetensors raises its own error types
        raise ValueError(f"{path}: not a readable safetensors file ({e})") from None
    _load_checked(model, state, f"{path}")
    return model.to(device).eval(), config, meta


def _numpy_scalar_globals() -> list:
    """numpy scalar reconstruction (release dicts may hold e.g. an np.float64 'error'): safe to allow."""
    if int(np.__version__.split(".")[0]) >= 2:
        from numpy._core.multiarray import scalar
    else:
        from numpy.core.multiarray import scalar
    return [scalar, np.dtype, type(np.dtype(np.float64)), type(np.dtype(np.float32)), type(np.dtype(np.int64))]


def _torch_load(path: Path):
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file at {path}")
    try:
        with torch.serialization.safe_globals(_numpy_scalar_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(
            f"{path}: torch.load(weights_only=True) refused this file ({first}); it holds objects other than "
            "tensors and plain values. Re-save only its state dict (torch.save(ckpt['state_dict'], ...)) "
            "in an environment you trust."
        ) from None
    except (RuntimeError, EOFError, OSError) as e:
        raise ValueError(f"{path}: not a readable torch checkpoint ({str(e).splitlines()[0] if str(e) else e!r})") from None


def _is_state_dict(obj) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(isinstance(v, torch.Tensor) for v in obj.values())


def release_state_dict(raw, source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """The state dict inside a release container (see the module docstring), "module." stripped."""
    if isinstance(raw, dict) and "state_dict" in raw:
        state = raw["state_dict"]
    elif isinstance(raw, (list, tuple)) and raw:
        state = raw[0]
    else:
        state = raw
    if not _is_state_dict(state):
        raise ValueError(
            f"{source}: not a release checkpoint (expected a dict with 'state_dict', a bare state dict, "
            "or a list whose item 0 is the state dict)"
        )
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _load_checked(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load ``state`` into ``model`` after checking every name and shape (ValueError on the first problem)."""
    expected = model.state_dict()
    for name, ref in expected.items():
        if name not in state:
            raise ValueError(f"{source}: missing tensor '{name}' (expected shape {tuple(ref.shape)})")
        if tuple(state[name].shape) != tuple(ref.shape):
            raise ValueError(
                f"{source}: tensor '{name}' has shape {tuple(state[name].shape)}, the model expects {tuple(ref.shape)}"
            )
    for name, value in state.items():
        if name not in expected:
            raise ValueError(f"{source}: unexpected tensor '{name}' (shape {tuple(value.shape)})")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})


def _resolve_config(config: dict | str, path: Path) -> dict:
    return get_config(config) if isinstance(config, str) else config


def _shapes(state: dict[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


def _trunk_shapes() -> dict[str, dict[str, tuple[int, ...]]]:
    """Tensor names -> shapes of every PGFormer configuration in CONFIGS (built on the meta device: no memory)."""
    with torch.device("meta"):
        return {name: _shapes(build_model(cfg).state_dict()) for name, cfg in CONFIGS.items()
                if cfg.get("arch") == "pgformer"}


def infer_release_config(state: dict[str, torch.Tensor], source: str = "checkpoint") -> str:
    """The CONFIGS name whose tensor names and shapes equal those of ``state`` (ValueError when none does)."""
    shapes = _shapes(state)
    for name, expected in _trunk_shapes().items():
        if shapes == expected:
            return name
    cheb = shapes.get("gconv_input.weight")
    adj = shapes.get("atten_layers.0.feed_forward.A_hat")
    seen = (f"{adj[0]} joints, {cheb[2]} input channels, D={cheb[3]}" if cheb and len(cheb) == 4 and adj
            else "no PGFormer tensors")
    raise ValueError(f"{source}: tensor shapes ({seen}, {len(shapes)} tensors) match no known configuration; "
                     f"pass one with --config (known: {', '.join(sorted(CONFIGS))})")


def _infer_config(path: Path, denoiser: str | Path | None) -> dict:
    """Configuration of a release file given without one (pose-model + denoiser pair for DiffPyramid)."""
    name = infer_release_config(release_state_dict(_torch_load(path), str(path)), str(path))
    if name == "diffpyramid_denoiser":
        raise ValueError(f"{path} is a DiffPyramid denoiser: pass the pose-model file as --weights and this one "
                         "as --denoiser")
    if name == "diffpyramid_pose":
        if denoiser is None:
            raise ValueError(f"{path} is a DiffPyramid pose model: pass its denoiser file with --denoiser "
                             "(or --config diffpyramid_pose to lift with the pose model alone)")
        return get_config("diffpyramid")
    if denoiser is not None:
        raise ValueError(f"{path} is a {name} PGFormer, which takes no --denoiser")
    return get_config(name)


def load_release_checkpoint(path: str | Path, config: dict | str) -> nn.Module:
    """Read one release file into a freshly built model of ``config`` (dict or CONFIGS name), eval mode, CPU.

    For DiffPyramid the pose model and the denoiser are separate files: use ``config``
    "diffpyramid_pose" / "diffpyramid_denoiser" here, or ``load_weights(pose, "diffpyramid", denoiser=...)``.
    """
    path = Path(path)
    cfg = _resolve_config(config, path)
    if cfg.get("arch") == "diffpyramid":
        raise ValueError(f"{path}: a DiffPyramid release is two files; use load_weights(pose_file, "
                         "'diffpyramid', denoiser=denoiser_file)")
    model = build_model(cfg)
    _load_checked(model, release_state_dict(_torch_load(path), str(path)), str(path))
    return model.eval()


def _load_part(path: Path, cfg: dict) -> nn.Module:
    if path.suffix == PROJECT_SUFFIX:
        return load_model(path, config=cfg)[0]
    return load_release_checkpoint(path, cfg)


def load_weights(path: str | Path, config: dict | str | None = None, denoiser: str | Path | None = None,
                 device: str = "cpu") -> tuple[nn.Module, dict, dict]:
    """Load project (.safetensors) or release weights -> (model in eval mode on ``device``, config, meta).

    Project files carry their own config (``config`` is then only a fallback). For release files
    ``config`` is inferred from the tensor shapes when None (see ``infer_release_config``); for
    "diffpyramid" ``path`` is the pose model file and ``denoiser`` the denoiser file.
    """
    path = Path(path)
    if path.suffix == PROJECT_SUFFIX:
        cfg = _resolve_config(config, path) if config is not None else None
        return load_model(path, device, cfg)
    cfg = _infer_config(path, denoiser) if config is None else _resolve_config(config, path)
    meta = {"source": str(path), "format": "release"}
    if cfg.get("arch") == "diffpyramid":
        if denoiser is None:
            raise ValueError(f"{path}: DiffPyramid needs its denoiser file too (--denoiser)")
        model = build_model(cfg)
        model.pose_model = _load_part(path, cfg["pose"])
        model.denoiser = _load_part(Path(denoiser), cfg["denoiser"])
        meta["denoiser"] = str(denoiser)
        return model.to(device).eval(), cfg, meta
    return load_release_checkpoint(path, cfg).to(device).eval(), cfg, meta
