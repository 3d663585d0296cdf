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
