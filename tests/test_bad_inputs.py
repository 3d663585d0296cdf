"""Bad and unusual inputs: each gives a correct result with marked gaps, or a one-line error naming
the file and the reason (no traceback unless --debug). Most run the CLI with the stand-in detector
and lifter (tests/fake_cli.py, or the factory argument of demo.vis.main); the weights cases load
real (tiny) checkpoints."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _demo_fakes import RAW_MOTION, FakeDetector, FakeLifter, components, make_video, person
from demo import vis
from demo.pipeline import Options, run
from demo.video import ffmpeg_exe, iter_frames

ROOT = Path(__file__).resolve().parents[1]
VIS = ROOT / "tests" / "fake_cli.py"  # demo/vis.py with the stand-in models


def _env(**extra) -> dict:
    env = dict(os.environ)
    env.update({"PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)]), **extra})
    return env


def _cli(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(VIS), "--no-progress", *map(str, args)], env=_env(), text=True,
                          capture_output=True, timeout=120, **kwargs)


def _one_error_line(stderr: str, *needles: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in stderr, stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def test_missing_path_and_folder_without_videos(tmp_path, capsys):
    missing = tmp_path / "no such clip.mp4"
    assert vis.main(["--video", str(missing), "--output-dir", str(tmp_path / "o")], components) == vis.EXIT_USAGE
    _one_error_line(capsys.readouterr().err, "input not found", str(missing))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no video here")
    assert vis.main(["--input-dir", str(empty), "--output-dir", str(tmp_path / "o")], components) == vis.EXIT_USAGE
    _one_error_line(capsys.readouterr().err, "no videos found", str(empty))
    assert not (tmp_path / "o").exists()
    assert vis.main(["--video", str(tmp_path / "*.mp4")], components) == vis.EXIT_USAGE  # a glob matching nothing
    _one_error_line(capsys.readouterr().err, "no videos found")


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def _bad_folder(root: Path) -> Path:
    root.mkdir()
    (root / "text.mp4").write_text("this is a text file, not a video\n")
    data = make_video(root / "whole.mp4", frames=20).read_bytes()
    (root / "whole.mp4").unlink()
    (root / "truncated.mp4").write_bytes(data[: len(data) // 2])  # cut in the middle: no index (moov) left
    make_video(root / "fs.mp4", frames=30)
    _ffmpeg("-i", str(root / "fs.mp4"), "-c", "copy", "-movflags", "+faststart", str(root / "faststart.mp4"))
    data = (root / "faststart.mp4").read_bytes()
    (root / "fs.mp4").unlink()
    (root / "faststart.mp4").unlink()
    (root / "truncated_late.mp4").write_bytes(data[: int(len(data) * 0.9)])  # index first, tail cut off
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=25", "-frames:v", "0", "-c:v", "libx264",
            str(root / "zero.mp4"))
    make_video(root / "one.mp4", frames=1)
    make_video(root / "nobody.mp4", frames=5, source="color=c=gray")
    make_video(root / "comes back.mp4", frames=14)  # then gray (nobody) in frames 6..9
    _ffmpeg("-i", str(root / "comes back.mp4"), "-vf",
            "drawbox=x=0:y=0:w=iw:h=ih:color=gray:t=fill:enable='between(n,6,9)'", "-c:v", "libx264",
            "-pix_fmt", "yuv444p", str(root / "back.mp4"))
    (root / "back.mp4").replace(root / "comes back.mp4")
    make_video(root / "portrait.mp4", frames=4, size=(96, 64), extra_input=["-display_rotation", "90"])
    (root / "dossier é ü").mkdir()
    make_video(root / "dossier é ü" / "vidéo 名前 1.mp4", frames=3)
    return root


@pytest.mark.heavy
def test_bad_and_odd_videos_in_one_batch(tmp_path):
    src = _bad_folder(tmp_path / "in put")
    out = tmp_path / "out"
    done = _cli("--video", src, "--recursive", "--output-dir", out, "--chunk", "4")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    failed = {Path(f["path"]).name: f["reason"] for f in summary["failed"]}
    assert set(failed) == {"text.mp4", "truncated.mp4", "zero.mp4"}
    for name, reason in failed.items():
        assert str(src / name) in reason and "\n" not in reason
        assert f"failed: {src / name}: {reason}" in done.stderr.splitlines()
    assert "cannot read" in failed["text.mp4"]
    assert {Path(p).name for p in summary["done"]} == {
        "truncated_late.mp4", "one.mp4", "nobody.mp4", "comes back.mp4", "portrait.mp4", "vidéo 名前 1.mp4"}

    def npz(rel: str) -> dict:
        with np.load(out / rel / "keypoints.npz") as z:
            return {k: z[k] for k in z.files}

    late = npz("truncated_late")  # what could be decoded, with a note saying the rest could not
    assert 0 < late["valid"].shape[1] < 30 and late["valid"].all()
    assert f"only {late['valid'].shape[1]} of the 30 frames" in done.stderr
    assert npz("one")["valid"].tolist() == [[True]]
    nobody = npz("nobody")
    assert nobody["valid"].shape == (0, 5) and nobody["time_s"].shape == (5,)
    assert "no person found in any of the 5 frames" in done.stderr
    back = npz("comes back")  # the same person, the same ID after the gap
    assert back["track_ids"].tolist() == [1]
    seen = np.isfinite(back["keypoints_2d_raw"][0]).any((-1, -2))
    assert seen.tolist() == [i not in (6, 7, 8, 9) for i in range(14)]
    assert back["valid"][0].all()  # the 4-frame gap (0.13 s) was filled from its neighbours, and marked so
    assert (back["repair_flags"][0, 6:10] == 4).all() and not back["repair_flags"][0, [5, 10]].any()
    valid = back["valid"][0]
    assert np.isfinite(back["keypoints_3d"][0, valid]).all() and np.isnan(back["keypoints_3d"][0, ~valid]).all()
    assert "nobody found in 4 of 14 frames" in done.stderr
    portrait = npz("portrait")
    assert (int(portrait["width"]), int(portrait["height"])) == (64, 96)  # rotation applied
    assert next(iter_frames(out / "portrait" / "portrait_pose3d.mp4")).shape[0] > 0
    unicode_dir = out / "dossier é ü" / "vidéo 名前 1"
    assert (unicode_dir / "vidéo 名前 1_pose3d.mp4").is_file()
    assert json.loads((unicode_dir / "keypoints.json").read_text(encoding="utf-8"))["video"] == str(
        src / "dossier é ü" / "vidéo 名前 1.mp4")
    for bad in ("text", "truncated", "zero"):
        assert not (out / bad).exists()

    # the same files one at a time: a one-line error naming the file, or exit 0
    for name in ("text.mp4", "truncated.mp4", "zero.mp4"):
        single = _cli("--video", src / name, "--output-dir", tmp_path / "single")
        assert single.returncode == 1
        _one_error_line(single.stderr, str(src / name))
    single = _cli("--video", src / "dossier é ü" / "vidéo 名前 1.mp4", "--output-dir", tmp_path / "ü")
    assert single.returncode == 0 and (tmp_path / "ü" / "vidéo 名前 1_pose3d.mp4").is_file()


def _read_only_prefix(folder: Path) -> list[str] | None:
    """Command prefix that makes ``folder`` read-only for the command: as root (which ignores
    permission bits) a read-only tmpfs mounted over it in a private mount namespace (unshare), so
    nothing outside the command sees it; otherwise folder mode 0o555. None when neither works."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        return []
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
              'mount -t tmpfs -o ro,size=64k tmpfs "$0" && exec "$@"', str(folder)]
    try:
        probe = subprocess.run([*prefix, "sh", "-c", f"touch '{folder}/x'"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return prefix if probe.returncode != 0 and "Read-only" in probe.stderr else None


def test_read_only_output_folder(tmp_path):
    video = make_video(tmp_path / "clip.mp4", frames=3)
    locked = tmp_path / "locked"
    locked.mkdir()
    prefix = _read_only_prefix(locked)
    if prefix is None:
        pytest.skip("cannot make a read-only folder here (root without unshare / mount)")
    try:
        for args in (["--video", video], ["--video", tmp_path, "--recursive"]):  # one video, batch mode
            res = subprocess.run([*prefix, sys.executable, str(VIS), "--no-progress", *map(str, args),
                                  "--output-dir", str(locked / "out")], env=_env(), text=True, capture_output=True,
                                 timeout=120)
            assert res.returncode == 1
            _one_error_line(res.stderr, f"cannot write to the output folder {locked / 'out'}")
            assert "Read-only file system" in res.stderr or "Permission denied" in res.stderr
    finally:
        os.chmod(locked, 0o755)
    blocker = tmp_path / "a file"  # a folder path running through a regular file: unwritable for anyone
    blocker.write_text("x")
    for args in (["--video", video], ["--video", tmp_path, "--recursive"]):
        res = _cli(*args, "--output-dir", blocker / "out")
        assert res.returncode == 1
        _one_error_line(res.stderr, f"cannot write to the output folder {blocker / 'out'}")


def _tiny_checkpoint(path: Path):
    from lifter.checkpoint import save_model
    from lifter.models import build_model

    cfg = {"arch": "mlp", "num_joints": 17, "width": 32, "num_blocks": 1, "dropout": 0.0}
    save_model(path, build_model(cfg), cfg)
    return path


@pytest.mark.parametrize("damage", ["corrupt", "wrong_architecture"])
def test_bad_weights_file(tmp_path, capsys, damage, monkeypatch):
    pytest.importorskip("lifter.checkpoint")
    weights = _tiny_checkpoint(tmp_path / "w.safetensors")
    if damage == "corrupt":
        weights.write_bytes(weights.read_bytes()[:200])  # cut short
        reason = "not a readable safetensors file"
    else:  # the tensors of one model, the config of another
        other = {"arch": "pgformer", "num_joints": 17, "dim": 32, "layers": 1, "heads": 2, "in_dim": 2, "out_dim": 3,
                 "adjacency": "cpn17", "level2": "release", "time_embedding": "none"}
        weights.with_suffix(".json").write_text(json.dumps({"config": other, "meta": {}}))
        reason = "tensor"
    video = make_video(tmp_path / "v.mp4", frames=2)
    make_video(tmp_path / "u.mp4", frames=2)
    for args in (["--video", str(video)], ["--video", str(tmp_path)]):
        code = vis.main([*args, "--weights", str(weights), "--output-dir", str(tmp_path / "o"), "--no-progress",
                         "--device", "cpu"])
        assert code == 1
        _one_error_line(capsys.readouterr().err, str(weights), reason)
    assert not list((tmp_path / "o").rglob("*.npz"))


class _Messy(FakeDetector):
    """Frames: 0 all joints NaN (score 0.9), 1 all joints at (0, 0) (score 0.9), 2 some NaN joints,
    one joint at (0, 0) and one NaN score, 3.. clean."""

    def detect(self, frame_rgb, time_s):
        i = self.calls
        (pose,) = super().detect(frame_rgb, time_s)
        xy, s = pose.xy.copy(), pose.scores.copy()
        if i == 0:
            xy[:] = np.nan
        elif i == 1:
            xy[:] = 0.0
        elif i == 2:
            xy[[3, 13]] = np.nan
            xy[6] = 0.0
            s[15] = np.nan
        if i < 2:  # nothing usable: the person's box is that of the previous frames
            return [type(pose)(xy, s, pose.box, pose.score)]
        return [person(xy, s)]


def _real_lifters():
    pytest.importorskip("lifter.lift")
    import torch

    from lifter.lift import Lifter
    from lifter.models import build_model

    torch.manual_seed(0)
    mlp = {"arch": "mlp", "num_joints": 17, "width": 32, "num_blocks": 1, "dropout": 0.0}
    former = {"arch": "pgformer", "num_joints": 17, "dim": 32, "layers": 1, "heads": 2, "in_dim": 2, "out_dim": 3,
              "adjacency": "cpn17", "dropout": 0.0, "attn_dropout": 0.0, "proj_dropout": 0.0, "cheb_dropout": 0.0,
              "level2": "release", "time_embedding": "none"}
    return [Lifter(build_model(c), 17, device="cpu") for c in (mlp, former)]


def test_nan_and_zero_joints_never_reach_valid_frames(tmp_path):
    video = make_video(tmp_path / "m.mp4", frames=6)
    opts = Options(progress=False, chunk=6, motion=RAW_MOTION)  # no repair or smoothing: frames stay apart
    res = run(video, opts, detector=_Messy(), lifter=FakeLifter())  # FakeLifter asserts a finite input
    assert res.valid.tolist() == [[False, False, True, True, True, True]]
    missing = np.isnan(res.keypoints_2d[0, 2]).any(-1)
    assert np.flatnonzero(missing).tolist() == [3, 6, 13, 15] and (res.scores[0, 2, [3, 6, 13, 15]] == 0).all()
    assert np.isfinite(res.keypoints_3d[0, 2:]).all() and np.isnan(res.keypoints_3d[0, :2]).all()
    for lifter in _real_lifters():
        messy = run(video, opts, detector=_Messy(), lifter=lifter)
        assert np.isfinite(messy.keypoints_3d[0, 2:]).all() and np.isfinite(messy.keypoints_3d_world[0, 2:]).all()
        assert np.isnan(messy.keypoints_3d[0, :2]).all()
        # the clean frames get the same 3D as when lifted on their own: nothing leaks across frames
        alone = run(video, Options(progress=False, chunk=1, motion=RAW_MOTION), detector=FakeDetector(), lifter=lifter)
        np.testing.assert_allclose(messy.keypoints_3d[0, 3:], alone.keypoints_3d[0, 3:], atol=1e-5)


@pytest.mark.heavy
def test_4k_video_memory_stays_bounded(tmp_path):
    """Peak memory of the CLI on a 12-frame 4K video, with the whole video in one lifting chunk vs
    chunks of 2 frames: frames wait for their 3D pose reduced to the output panel, so the
    difference is far below what holding the decoded 4K frames would take (12 x 24.9 MB)."""
    video = tmp_path / "uhd.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=3840x2160:rate=30", "-frames:v", "12", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video))
    code = ("import resource, sys; from _demo_fakes import components; from demo import vis; "
            "rc = vis.main(sys.argv[1:], components); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, rc)")
    frame_bytes = 3840 * 2160 * 3
    peaks = {}
    for chunk in (2, 12):
        res = subprocess.run([sys.executable, "-c", code, "--video", str(video), "--output-dir", str(tmp_path / str(chunk)),
                              "--no-progress", "--chunk", str(chunk), "--panel-height", "360"], env=_env(), capture_output=True, text=True,
                             timeout=300, cwd=ROOT)
        peak, rc = res.stdout.split()[-2:]
        assert rc == "0", res.stderr
        peaks[chunk] = int(peak)
    print("peak RSS bytes by chunk", peaks)
    assert peaks[12] - peaks[2] < 3 * frame_bytes, peaks
    assert peaks[12] < 2 * 1024 ** 3, peaks
    with np.load(tmp_path / "12" / "keypoints.npz") as z:
        assert z["valid"].shape == (1, 12) and (int(z["width"]), int(z["height"])) == (3840, 2160)
