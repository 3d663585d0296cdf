"""End to end on the real sample videos with the shipped weights: `python demo/vis.py --video ...`:
one person (pose2sim cam01) and two people (Sports2D: a backflip and a walker)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import sample_video
from demo.video import ffmpeg_exe, probe
from lifter.skeleton import JOINTS_17

REPO = Path(__file__).resolve().parents[1]
FRAMES = 40


def _cut(src: Path, dst: Path, frames: int) -> Path:
    """The first `frames` frames of `src`, re-encoded (a short cut of the real video)."""
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(src),
                    "-frames:v", str(frames), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(dst)], check=True)
    return dst


def _bone(kp3d: np.ndarray, a: str, b: str) -> np.ndarray:
    return np.linalg.norm(kp3d[:, JOINTS_17.index(a)] - kp3d[:, JOINTS_17.index(b)], axis=-1)


def _plausible(kp3d: np.ndarray) -> None:
    """Root-relative metres (N, 17, 3): thigh and shin 0.3-0.6 m in at least 90% of the frames."""
    assert np.allclose(kp3d[:, 0], 0.0, atol=1e-6)
    for a, b in (("r_hip", "r_knee"), ("l_hip", "l_knee"), ("r_knee", "r_ankle"), ("l_knee", "l_ankle")):
        length = _bone(kp3d, a, b)  # thigh and shin, per valid frame
        inside = ((length >= 0.3) & (length <= 0.6)).mean()
        assert inside >= 0.9, f"{a}-{b}: {inside:.0%} of frames in 0.3-0.6 m, median {np.median(length):.3f} m"


@pytest.mark.heavy
@pytest.mark.parametrize("lifter", ["pgformer", "diffpyramid"])
def test_real_video_end_to_end(tmp_path, lifter):
    clip = _cut(sample_video("cam01.mp4"), tmp_path / "clip.mp4", FRAMES)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(REPO / "demo" / "vis.py"), "--video", str(clip),
                           "--output-dir", str(out), "--lifter", lifter, "--no-progress"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr

    src, video = probe(clip), probe(out / "clip_pose3d.mp4")
    assert video.frame_count == src.frame_count == FRAMES
    assert video.fps == src.fps

    npz = np.load(out / "keypoints.npz")
    assert npz["track_ids"].shape[0] >= 1
    main = int(npz["main_person"])
    valid = npz["valid"][main]
    assert npz["valid"].shape[1:] == (FRAMES,) and valid.mean() >= 0.9  # a real person is found
    assert npz["keypoints_2d"].shape[1:] == (FRAMES, 17, 2) and npz["scores"].shape[1:] == (FRAMES, 17)
    for key in ("keypoints_3d", "keypoints_3d_world"):
        assert npz[key].shape[1:] == (FRAMES, 17, 3)
        assert np.isfinite(npz[key][main, valid]).all()
    assert list(npz["joint_names"]) == list(JOINTS_17)
    assert (int(npz["width"]), int(npz["height"])) == (src.width, src.height)
    assert float(npz["fps"]) == pytest.approx(float(src.fps))
    assert npz["reconstruction"].shape == (1, FRAMES, 17, 2)
    _plausible(npz["keypoints_3d"][main, valid])

    doc = json.loads((out / "keypoints.json").read_text())
    assert doc["joint_names"] == list(JOINTS_17) and len(doc["frames"]) == FRAMES
    assert "units" in doc and "coordinate_frames" in doc


@pytest.mark.heavy
def test_two_people_end_to_end(tmp_path):
    """Sports2D's demo: a man backflips off a box while a woman walks past (she enters at about
    frame 59). Frames 40-199, scaled down: each of the two gets one track with a plausible 3D
    skeleton (short stray tracks may exist besides)."""
    clip = tmp_path / "pair.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(sample_video("demo.mp4")),
                    "-vf", "select='between(n,40,199)',setpts=N/FRAME_RATE/TB,scale=960:-2", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(clip)], check=True)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(REPO / "demo" / "vis.py"), "--video", str(clip), "--output-dir",
                           str(out), "--no-progress", "--no-video"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    npz = np.load(out / "keypoints.npz")
    frames = npz["valid"].shape[1]
    long_tracks = [p for p in range(npz["valid"].shape[0]) if npz["valid"][p].sum() >= 0.5 * frames]
    assert len(long_tracks) == 2, (npz["track_ids"], npz["valid"].sum(1))
    for p in long_tracks:
        _plausible(npz["keypoints_3d"][p, npz["valid"][p]])
    a, b = long_tracks
    both = npz["valid"][a] & npz["valid"][b]
    centres = np.nanmean(npz["keypoints_2d"][[a, b]][:, both], axis=2)  # (2, frames with both, 2)
    gap = np.linalg.norm(centres[0] - centres[1], axis=-1)
    assert both.sum() > 30 and np.median(gap) > 0.05 * int(npz["width"])  # two people, not one twice
