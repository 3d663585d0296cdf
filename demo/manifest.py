"""The per-video manifest of batch mode: written last, so an up-to-date manifest means "complete".

manifest.json sits in a video's output folder beside its outputs. It records

- ``input``: the video's path, size in bytes, mtime (ns) and the SHA-256 of its first MiB;
- ``settings_hash``: SHA-256 of the settings that change the outputs (``settings`` holds them);
- ``tool_version``: the pose3d-lifter version (and this manifest's format);
- ``outputs``: each output file's name, size and SHA-256;
- ``frames``, ``valid_frames``, ``seconds``: what the run found and how long it took.

A video is up to date (:func:`is_up_to_date`) when the manifest can be read, its format, tool
version and settings hash are the current ones, the input's size, mtime and first-MiB hash are
unchanged, and every output it lists exists with its recorded size. The output hashes are not
re-checked on every run (that would read every output); :func:`verify_outputs` does it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from lifter.atomic import write_json

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "pose3d-lifter batch manifest, version 1"
HEAD_BYTES = 1 << 20  # the input's content hash covers its first MiB


def tool_version() -> str:
    """The installed pose3d-lifter version ("unknown" when the package is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pose3d-lifter")
    except PackageNotFoundError:
        return "unknown"


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def settings_hash(settings: dict[str, Any]) -> str:
    """SHA-256 (hex) of the settings as canonical JSON (sorted keys)."""
    text = json.dumps(_jsonable(settings), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: str | os.PathLike, limit: int | None = None) -> str:
    """SHA-256 (hex) of a file's bytes, or of its first ``limit`` bytes."""
    h = hashlib.sha256()
    left = limit
    with open(path, "rb") as f:
        while left is None or left > 0:
            block = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not block:
                break
            h.update(block)
            if left is not None:
                left -= len(block)
    return h.hexdigest()


def input_identity(path: str | os.PathLike) -> dict[str, Any]:
    """{"path", "size", "mtime_ns", "sha256_first_mib"} of an input file; of a folder (OpenPose's
    keypoint files), {"path", "size" (total), "mtime_ns" (newest), "sha256_listing"} of its files."""
    st = os.stat(path)
    if Path(path).is_dir():
        listing = sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in os.scandir(path) if e.is_file())
        return {"path": str(path), "size": sum(e[1] for e in listing),
                "mtime_ns": max([st.st_mtime_ns] + [e[2] for e in listing]),
                "sha256_listing": hashlib.sha256(json.dumps(listing).encode()).hexdigest()}
    return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sha256_first_mib": file_sha256(path, HEAD_BYTES)}


def write_manifest(out_dir: str | os.PathLike, identity: dict[str, Any], settings: dict[str, Any],
                   outputs: list[Path], frames: int, valid_frames: int, seconds: float) -> Path:
    """Write out_dir/manifest.json atomically (call it after every output is in place)."""
    path = Path(out_dir) / MANIFEST_NAME
    write_json(path, {
        "format": MANIFEST_FORMAT,
        "tool_version": tool_version(),
        "input": identity,
        "settings_hash": settings_hash(settings),
        "settings": _jsonable(settings),
        "outputs": {p.name: {"size": p.stat().st_size, "sha256": file_sha256(p)} for p in outputs},
        "frames": int(frames),
        "valid_frames": int(valid_frames),
        "seconds": round(float(seconds), 3),
    })
    return path


def read_manifest(out_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest in out_dir, or None when it is absent or unreadable."""
    try:
        data = json.loads((Path(out_dir) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_up_to_date(out_dir: str | os.PathLike, video: str | os.PathLike, settings: dict[str, Any]) -> bool:
    """Whether out_dir holds complete outputs of this video made with these settings."""
    m = read_manifest(out_dir)
    if m is None or m.get("format") != MANIFEST_FORMAT or m.get("tool_version") != tool_version():
        return False
    if m.get("settings_hash") != settings_hash(settings):
        return False
    recorded = m.get("input") or {}
    try:
        st = os.stat(video)
        if (recorded.get("size"), recorded.get("mtime_ns")) != (st.st_size, st.st_mtime_ns):
            return False
        if recorded.get("sha256_first_mib") != file_sha256(video, HEAD_BYTES):
            return False
        outputs = m.get("outputs") or {}
        return bool(outputs) and all((Path(out_dir) / name).stat().st_size == info.get("size")
                                     for name, info in outputs.items())
    except (OSError, AttributeError):
        return False


def verify_outputs(out_dir: str | os.PathLike) -> bool:
    """Whether every output listed in the manifest exists with its recorded SHA-256."""
    m = read_manifest(out_dir)
    if m is None or not m.get("outputs"):
        return False
    try:
        return all(file_sha256(Path(out_dir) / name) == info["sha256"] for name, info in m["outputs"].items())
    except (OSError, KeyError, TypeError):
        return False


def remove_manifest(out_dir: str | os.PathLike) -> None:
    """Delete out_dir's manifest (before outputs are rewritten), if any."""
    (Path(out_dir) / MANIFEST_NAME).unlink(missing_ok=True)
