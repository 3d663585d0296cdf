"""--keypoints: keypoints made elsewhere replayed through the whole chain (detectors/replay.py,
demo/keypoint_input.py, the CLI): re-lifting the tool's own keypoints.npz gives the same 3D bit
for bit, with the video or without; track IDs from the file are kept; the file's and the video's
disagreements and every bad input get a clear one-line message."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _demo_fakes import STANDING_17, FakeDetector, make_video, pixels_of
from demo import vis
from demo.outputs import NPZ_NAME, read_npz
from demo.pipeline import make_detector, make_lifter
from detectors import REPLAY
from lifter.keypoints import COCO_17

VIS = Path(__file__).resolve().parents[1] / "demo" / "vis.py"


def real_lifter(options):
    """Model factory: two fake people (nobody in frames 8-9), the real shipped lifter; the replay with --keypoints."""
    if options.detector == REPLAY:
        return make_detector(options), make_lifter(options)
    return FakeDetector(empty=lambda i: i in (8, 9), people=2), make_lifter(options)


def _run(capsys, *args) -> tuple[int, str]:
    code = vis.main([*map(str, args), "--no-progress"], factory=real_lifter)
    return code, capsys.readouterr().err


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def test_own_npz_relifted_gives_the_same_3d_exactly(tmp_path, capsys):
    video = make_video(tmp_path / "clip.mp4", frames=14, size=(128, 96))
    assert _run(capsys, "--video", video, "--output-dir", tmp_path / "a", "--export", "none")[0] == 0
    first = read_npz(tmp_path / "a" / NPZ_NAME)
    assert first.num_people == 2 and first.valid.all()  # the 2D repair filled frames 8-9
    assert np.isnan(first.keypoints_2d_raw[:, 8:10]).all() and np.isfinite(first.keypoints_2d[:, 8:10]).all()

    code, err = _run(capsys, "--keypoints", tmp_path / "a" / NPZ_NAME, "--video", video, "--output-dir", tmp_path / "b",
                     "--export", "none")
    assert code == 0, err
    code, err = _run(capsys, "--keypoints", tmp_path / "a" / NPZ_NAME, "--output-dir", tmp_path / "c",
                     "--export", "bvh")
    assert code == 0, err
    assert not list((tmp_path / "c").glob("*.mp4")) and list((tmp_path / "c").glob("*.bvh"))
    assert (tmp_path / "b" / "clip_pose3d.mp4").is_file()
    for name in ("b", "c"):
        again = read_npz(tmp_path / name / NPZ_NAME)
        for key in ("keypoints_2d_raw", "keypoints_2d", "scores", "keypoints_3d_raw", "keypoints_3d",
                    "keypoints_3d_world", "root_translation", "valid", "track_ids", "time_s"):
            assert _same(getattr(again, key), getattr(first, key)), (name, key)
        assert (again.fps, again.width, again.height) == (first.fps, first.width, first.height)
        assert again.detector == "npz keypoints from keypoints.npz"


def _coco_person(image_id, centre_x, track_id=None, width=320, height=240):
    h36m = pixels_of(STANDING_17, width, height, centre_x, 0.5)
    coco = np.zeros((17, 3), np.float32)
    named = {"l_shoulder": "l_shoulder", "r_shoulder": "r_shoulder", "l_elbow": "l_elbow", "r_elbow": "r_elbow",
             "l_wrist": "l_wrist", "r_wrist": "r_wrist", "l_hip": "l_hip", "r_hip": "r_hip", "l_knee": "l_knee",
             "r_knee": "r_knee", "l_ankle": "l_ankle", "r_ankle": "r_ankle"}
    from lifter.skeleton import JOINTS_17

    for coco_name, h36m_name in named.items():
        coco[COCO_17.index(coco_name), :2] = h36m[JOINTS_17.index(h36m_name)]
        coco[COCO_17.index(coco_name), 2] = 0.9
    for face in ("nose", "l_ear", "r_ear"):  # the head: nose at neck_nose, both ears at head
        source = "neck_nose" if face == "nose" else "head"
        coco[COCO_17.index(face)] = (*h36m[JOINTS_17.index(source)], 0.9)
    entry = {"image_id": image_id, "category_id": 1, "keypoints": coco.reshape(-1).tolist(), "score": 0.9}
    if track_id is not None:
        entry["track_id"] = track_id
    return entry


def test_track_ids_of_the_file_are_kept_and_fps_and_size_are_asked_for(tmp_path, capsys):
    entries = [_coco_person(i, x, tid) for i in range(10) for x, tid in ((90, 7), (230, 12))]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(entries))
    code, err = _run(capsys, "--keypoints", path, "--output-dir", tmp_path / "o")
    assert code == 1 and err.strip() == f"error: {path}: the keypoints do not say their frame rate; pass --fps N " \
                                        "(or --video)"
    code, err = _run(capsys, "--keypoints", path, "--fps", 25, "--output-dir", tmp_path / "o")
    assert code == 1 and "--frame-size WxH" in err and len(err.strip().splitlines()) == 1
    code, err = _run(capsys, "--keypoints", path, "--fps", 25, "--frame-size", "320x240",
                     "--output-dir", tmp_path / "o", "--export", "none")
    assert code == 0, err
    res = read_npz(tmp_path / "o" / NPZ_NAME)
    assert res.track_ids.tolist() == [7, 12] and res.valid.all()
    assert (res.fps, res.width, res.height) == (25.0, 320, 240)
    assert np.allclose(res.time_s, np.arange(10) / 25)
    leg = np.linalg.norm(res.keypoints_3d[..., 2, :] - res.keypoints_3d[..., 3, :], axis=-1)  # r_knee - r_ankle
    assert np.isfinite(leg).all() and (leg > 0.2).all() and (leg < 0.7).all()


def test_frame_count_and_size_disagreements(tmp_path, capsys):
    short = make_video(tmp_path / "short.mp4", frames=6, size=(128, 96))
    assert _run(capsys, "--video", short, "--output-dir", tmp_path / "a", "--export", "none")[0] == 0
    npz = tmp_path / "a" / NPZ_NAME
    longer = make_video(tmp_path / "long.mp4", frames=9, size=(128, 96))
    code, err = _run(capsys, "--keypoints", npz, "--video", longer, "--output-dir", tmp_path / "b", "--export", "none")
    assert code == 0 and "the 3 later frames of the video have nobody in them" in err, err
    assert read_npz(tmp_path / "b" / NPZ_NAME).valid[:, 6:].sum() == 0
    code, err = _run(capsys, "--keypoints", npz, "--video", longer, "--max-frames", 4, "--output-dir", tmp_path / "c",
                     "--export", "none")
    assert code == 0 and "has 6 frames, 4 were used" in err, err
    other = make_video(tmp_path / "other.mp4", frames=6, size=(96, 64))
    code, err = _run(capsys, "--keypoints", npz, "--video", other, "--output-dir", tmp_path / "d")
    assert code == 1 and "the keypoints are for 128x96 frames, the video's are 96x64" in err, err


def test_malformed_and_missing_files(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, err = _run(capsys, "--keypoints", bad, "--fps", 30, "--output-dir", tmp_path / "o")
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith(f"error: {bad}: ")
    assert not (tmp_path / "o").exists()
    code, err = _run(capsys, "--keypoints", tmp_path / "none.json", "--output-dir", tmp_path / "o")
    assert code == 2 and err.strip() == f"error: --keypoints file not found: {tmp_path / 'none.json'}"


@pytest.mark.parametrize("args, message", [
    (["--keypoints", "k.json", "--webcam"], "cannot go with a live source"),
    (["--keypoints", "k.json", "--detector", "blazepose"], "not both"),
    (["--keypoints", "k.json", "--video", "a.mp4", "b.mp4"], "at most one video"),
    (["--keypoints", "k.json", "--input-dir", "."], "at most one video"),
    (["--video", "a.mp4", "--fps", "30"], "--fps is for live sources (--video -) and for --keypoints without --video"),
    (["--keypoints", "k.json", "--video", "a.mp4", "--frame-size", "64x48"], "--frame-size is for"),
    (["--keypoints", "k.json", "--fps", "0"], "--fps must be positive"),
])
def test_usage_errors(args, message):
    proc = subprocess.run([sys.executable, str(VIS), *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
