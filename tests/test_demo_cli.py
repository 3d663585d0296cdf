"""demo/vis.py: --help, bad inputs (one-line error, non-zero exit), a no-person video (exit 0),
several people and the person-selection flags."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _demo_fakes import FakeDetector, FakeLifter, export_names, make_video
from demo import vis
from demo.runner import load_models
from demo.video import iter_frames, probe

VIS = Path(__file__).resolve().parents[1] / "demo" / "vis.py"


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, str(VIS), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_help_documents_every_flag():
    parser = vis.build_parser()
    flags = [a for a in parser._actions if a.option_strings]
    assert {"--video", "--output-dir", "--lifter", "--weights", "--denoiser", "--device", "--no-flip",
            "--detector", "--debug", "--max-people", "--person", "--max-gap", "--min-score", "--verbose"} <= {s for a in flags for s in a.option_strings}
    for action in flags:
        assert action.help and action.help.strip(), action.option_strings
    run = _cli("--help")
    assert run.returncode == 0 and "--video" in run.stdout and "--no-flip" in run.stdout


@pytest.mark.parametrize("kind", ["missing", "text", "directory"])
def test_bad_input_gives_one_line_error(tmp_path, kind):
    path = {"missing": tmp_path / "nope.mp4", "text": tmp_path / "notes.mp4", "directory": tmp_path}[kind]
    if kind == "text":
        path.write_text("this is not a video\n")
    run = _cli("--video", path, "--output-dir", tmp_path / "out", cwd=tmp_path)
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_missing_weights_file(tmp_path, capsys):
    video = make_video(tmp_path / "w.mp4", frames=2)
    assert vis.main(["--video", str(video), "--weights", str(tmp_path / "none.safetensors")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --weights file not found")


def test_debug_shows_the_exception(tmp_path, capsys):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    assert vis.main(["--video", str(text), "--output-dir", str(tmp_path / "o"), "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "VideoError" in err and err.strip().splitlines()[-1].startswith("error: ")


def _factory(detector):
    return lambda options: (detector, FakeLifter())


def test_cli_writes_all_outputs(tmp_path, monkeypatch, capsys):
    video = make_video(tmp_path / "walk.mp4", frames=8, size=(96, 64), rate="30000/1001")
    monkeypatch.chdir(tmp_path)
    assert vis.main(["--video", str(video), "--no-progress"], factory=_factory(FakeDetector(people=2))) == 0
    out = tmp_path / "outputs" / "walk"  # the default output directory
    assert sorted(p.name for p in out.iterdir()) == sorted(["keypoints.json", "keypoints.npz", "manifest.json",
                                                            "walk_pose3d.mp4", *export_names("walk", 2)])
    assert probe(out / "walk_pose3d.mp4").fps == probe(video).fps
    assert sum(1 for _ in iter_frames(out / "walk_pose3d.mp4")) == 8
    printed = capsys.readouterr()
    assert "walk_pose3d.mp4" in printed.out and "ms per frame" in printed.out
    assert "2 people tracked" in printed.err
    with np.load(out / "keypoints.npz") as z:
        assert z["keypoints_3d"].shape == (2, 8, 17, 3) and z["track_ids"].tolist() == [1, 2]


@pytest.mark.parametrize("flags, error", [
    (["--max-people", "0"], "--max-people must be at least 1"),
    (["--person", "0"], "track IDs start at 1"),
    (["--person", "tallest"], "expected a track ID or 'largest'"),
    (["--person", "2", "--max-people", "2"], "not both"),
    (["--min-score", "1.5"], "--min-score must be in [0, 1]"),
    (["--max-gap", "-1"], "--max-gap must be at least 0"),
    (["--smooth", "kalman"], "invalid choice: 'kalman'"),
    (["--cutoff-hz", "0"], "--cutoff-hz must be positive"),
    (["--focal-px", "-5"], "--focal-px must be positive"),
    (["--fov", "200"], "--fov must be between 1 and 179 degrees"),
    (["--fov", "60", "--focal-px", "1000"], "not allowed with argument"),
])
def test_bad_person_flags_are_usage_errors(tmp_path, flags, error, capsys):
    with pytest.raises(SystemExit) as exit_info:
        vis.parse_args(["--video", str(tmp_path / "x.mp4"), *flags])
    assert exit_info.value.code == 2 and error in capsys.readouterr().err


def test_motion_flags_reach_the_outputs(tmp_path):
    video = make_video(tmp_path / "m.mp4", frames=6, size=(96, 64))
    out = tmp_path / "o"
    assert vis.main(["--video", str(video), "--output-dir", str(out), "--no-progress", "--no-video", "--smooth",
                     "savgol", "--cutoff-hz", "4", "--focal-px", "123", "--no-ground"],
                    factory=_factory(FakeDetector())) == 0
    with np.load(out / "keypoints.npz") as z:
        assert str(z["smoothing"]) == "savgol 4 Hz" and float(z["camera_focal_px"]) == 123.0
        assert str(z["world_kind"]) == "fixed view" and len(z["notes"]) == 0  # asked for: no note
    assert vis.main(["--video", str(video), "--output-dir", str(out), "--no-progress", "--no-video", "--smooth",
                     "off", "--no-constant-bones", "--no-repair", "--fov", "90"], factory=_factory(FakeDetector())) == 0
    with np.load(out / "keypoints.npz") as z:  # the settings changed, so the video was redone
        assert str(z["smoothing"]) == "off" and float(z["camera_focal_px"]) == pytest.approx(48.0)
        np.testing.assert_array_equal(z["keypoints_3d"], z["keypoints_3d_raw"])


def test_person_largest_keeps_one(tmp_path, capsys):
    video = make_video(tmp_path / "pair.mp4", frames=5, size=(160, 90))
    assert vis.main(["--video", str(video), "--output-dir", str(tmp_path / "o"), "--no-progress", "--no-video",
                     "--person", "largest"], factory=_factory(FakeDetector(people=2))) == 0
    with np.load(tmp_path / "o" / "keypoints.npz") as z:
        assert z["keypoints_3d"].shape == (1, 5, 17, 3) and z["valid"].all()


def _no_person_checks(out: Path, frames: int, stderr: str) -> None:
    assert "warning" in stderr and "no person" in stderr
    with np.load(out / "keypoints.npz") as z:
        assert z["valid"].shape == (0, frames) and z["keypoints_3d"].shape == (0, frames, 17, 3)
        assert z["reconstruction"].shape == (1, frames, 17, 2)
    doc = json.loads((out / "keypoints.json").read_text())
    assert [f["people"] for f in doc["frames"]] == [[]] * frames
    assert sum(1 for _ in iter_frames(next(out.glob("*.mp4")))) == frames


def test_no_person_video_exits_zero_with_a_warning(tmp_path, monkeypatch, capsys):
    video = make_video(tmp_path / "empty.mp4", frames=6, size=(64, 48), source="color=c=gray")
    assert vis.main(["--video", str(video), "--output-dir", str(tmp_path / "o"), "--no-progress"],
                    factory=_factory(FakeDetector(empty=lambda i: True))) == 0
    _no_person_checks(tmp_path / "o", 6, capsys.readouterr().err)


def test_no_person_video_with_the_real_detector(tmp_path, monkeypatch, capsys):
    pytest.importorskip("mediapipe")
    pytest.importorskip("detectors.blazepose")
    video = make_video(tmp_path / "gray.mp4", frames=5, size=(128, 96), source="color=c=gray")
    def real_detector(options):
        return load_models(options)[0], FakeLifter()

    assert vis.main(["--video", str(video), "--output-dir", str(tmp_path / "o"), "--no-progress"],
                    factory=real_detector) == 0
    _no_person_checks(tmp_path / "o", 5, capsys.readouterr().err)
