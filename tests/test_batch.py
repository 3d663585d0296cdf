"""Batch mode (demo/batch.py, demo/job.py, demo/executors.py, demo/manifest.py, demo/vis.py with
several videos), with the stand-in models of tests/_demo_fakes.py passed in as the model factory."""

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

from _demo_fakes import components, export_names, make_video
from demo import job as job_mod
from demo import manifest, vis
from demo.batch import find_videos, plan_jobs, run_batch
from demo.errors import UsageError
from demo.job import Job, JobSettings, process_video
from demo.pipeline import Options
from demo.runner import Models

QUIET = Options(progress=False, chunk=4)


@pytest.fixture(autouse=True)
def fake_models(monkeypatch):
    """Worker processes and Ray workers import tests/_demo_fakes too."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), str(Path(__file__).parents[1])]))
    monkeypatch.delenv("FAKE_DETECT_DELAY", raising=False)


def main(args: list[str]) -> int:
    return vis.main(args, factory=components)


def _tree(root: Path) -> list[Path]:
    """clips/a.mp4, clips/sub/b.mp4 (25 fps), clips/sub/deeper/c.mkv; and clips/readme.txt."""
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "readme.txt").write_text("not a video")
    return [make_video(root / "a.mp4", frames=6), make_video(root / "sub" / "b.mp4", frames=5, rate="25"),
            make_video(root / "sub" / "deeper" / "c.mkv", frames=4)]


def _arrays(npz: Path) -> dict:
    with np.load(npz) as z:
        return {k: z[k] for k in z.files}


def _same_outputs(a: Path, b: Path) -> None:
    """Two output folders of one video hold identical results."""
    x, y = _arrays(a / "keypoints.npz"), _arrays(b / "keypoints.npz")
    assert x.keys() == y.keys()
    for k in x:
        np.testing.assert_array_equal(x[k], y[k], err_msg=k)
    assert (a / "keypoints.json").read_text() == (b / "keypoints.json").read_text()
    mp4 = sorted(p.name for p in a.glob("*.mp4"))
    assert mp4 == sorted(p.name for p in b.glob("*.mp4")) and mp4
    for name in mp4:
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_find_videos_and_mirror_plan(tmp_path):
    clips = tmp_path / "clips"
    (clips / "sub" / "deeper").mkdir(parents=True)
    for name in ("a.mp4", "a.MOV", "sub/b.mp4", "sub/deeper/c.mkv", "notes.txt"):
        (clips / name).write_bytes(b"")
    flat = find_videos([clips])
    assert [v.name for v, _ in flat] == ["a.MOV", "a.mp4"]
    deep = find_videos([clips], recursive=True)
    assert [str(v.relative_to(clips)) for v, _ in deep] == ["a.MOV", "a.mp4", "sub/b.mp4", "sub/deeper/c.mkv"]
    jobs = plan_jobs(deep, tmp_path / "out")
    assert [str(j.out_dir.relative_to(tmp_path / "out")) for j in jobs] == [
        "a_mov", "a_mp4", "sub/b", "sub/deeper/c"]  # same folder and name: the suffix tells them apart
    globbed = find_videos([str(clips / "**" / "*.mp4")], recursive=True)
    assert [v.name for v, _ in globbed] == ["a.mp4", "b.mp4"]
    assert [str(j.out_dir.relative_to(tmp_path)) for j in plan_jobs(globbed, tmp_path)] == ["a", "sub/b"]
    # several inputs share the root of their common folder; an explicit file is taken whatever its suffix
    both = find_videos([clips / "sub" / "b.mp4", clips / "notes.txt", clips / "sub"])
    assert [str(j.out_dir.relative_to(tmp_path)) for j in plan_jobs(both, tmp_path)] == ["sub/b", "notes"]
    with pytest.raises(UsageError, match="input not found: .*missing"):
        find_videos([tmp_path / "missing"])
    with pytest.raises(UsageError, match="no videos found"):
        find_videos([clips / "sub" / "deeper" / "*.mp4"])


def test_batch_cli_skip_force_and_summary(tmp_path, capsys):
    clips = tmp_path / "clips"
    _tree(clips)
    (clips / "broken.mp4").write_text("not a video either")
    out = tmp_path / "out"
    args = ["--video", str(clips), "--recursive", "--output-dir", str(out), "--no-progress", "--chunk", "4"]
    assert main(args) == 1  # one video failed
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(Path(p).name for p in summary["done"]) == ["a.mp4", "b.mp4", "c.mkv"]
    assert summary["skipped"] == [] and isinstance(summary["seconds"], float)
    [failed] = summary["failed"]
    assert Path(failed["path"]).name == "broken.mp4" and "broken.mp4" in failed["reason"]
    assert "\n" not in failed["reason"] and "cannot read" in failed["reason"]
    printed = capsys.readouterr()
    assert "3 done, 0 skipped, 1 failed" in printed.out and "Traceback" not in printed.err
    for rel, frames in (("a", 6), ("sub/b", 5), ("sub/deeper/c", 4)):
        folder = out / rel
        assert sorted(p.name for p in folder.iterdir()) == sorted([
            "keypoints.json", "keypoints.npz", "manifest.json", f"{folder.name}_pose3d.mp4",
            *export_names(folder.name)])
        assert manifest.verify_outputs(folder)
        assert _arrays(folder / "keypoints.npz")["valid"].shape == (1, frames)
    assert not (out / "broken").exists()  # nothing made for a video that cannot be read

    stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != "summary.json"}
    assert main(args) == 1  # the rerun skips what is complete, retries the failure
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["skipped"]) == 3 and summary["done"] == [] and len(summary["failed"]) == 1
    assert {p: p.stat().st_mtime_ns for p in stamp} == stamp  # nothing rewritten

    os.utime(clips / "a.mp4", ns=(1, 1))  # an input that changed is redone ...
    (clips / "broken.mp4").unlink()
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [Path(p).name for p in summary["done"]] == ["a.mp4"] and len(summary["skipped"]) == 2
    assert main(args + ["--crf", "30"]) == 0  # ... as are outputs made with other settings
    assert len(json.loads((out / "summary.json").read_text())["done"]) == 3
    assert main(args + ["--crf", "30", "--force"]) == 0  # and --force redoes everything
    assert len(json.loads((out / "summary.json").read_text())["done"]) == 3
    assert main(args + ["--crf", "30"]) == 0
    assert len(json.loads((out / "summary.json").read_text())["skipped"]) == 3


def test_manifest_detects_incomplete_outputs(tmp_path):
    video = make_video(tmp_path / "v.mp4", frames=4)
    job = Job(video, tmp_path / "o")
    opts = JobSettings(QUIET)
    models = Models(components)
    assert process_video(job, opts, models).status == "done"
    assert process_video(job, opts, models).status == "skipped"
    npz = job.out_dir / "keypoints.npz"
    npz.write_bytes(npz.read_bytes()[:100])  # damaged outside our control: the size no longer matches
    assert process_video(job, opts, models).status == "done" and manifest.verify_outputs(job.out_dir)
    (job.out_dir / "keypoints.json").unlink()
    assert process_video(job, opts, models).status == "done"
    # first MiB of the input changed while size and mtime were restored
    st = video.stat()
    data = bytearray(video.read_bytes())
    data[-1] ^= 0xFF
    video.write_bytes(bytes(data))
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert process_video(job, opts, models).status == "done"
    # a killed run's temporary files are removed by the next run, other files are left alone
    (job.out_dir / ".keypoints.abc123.tmp.npz").write_bytes(b"partial")
    (job.out_dir / "mine.txt").write_text("user file")
    assert process_video(job, JobSettings(QUIET, force=True), models).status == "done"
    assert sorted(p.name for p in job.out_dir.iterdir()) == sorted([
        "keypoints.json", "keypoints.npz", "manifest.json", "mine.txt", "v_pose3d.mp4", *export_names("v")])


def test_one_failure_does_not_stop_the_batch(tmp_path, monkeypatch):
    videos = [make_video(tmp_path / f"v{i}.mp4", frames=3) for i in range(3)]
    jobs = plan_jobs(find_videos(videos), tmp_path / "out")
    real = job_mod.write_outputs

    def disk_full_for_v1(out_dir, result):
        if Path(out_dir).name == "v1":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(out_dir) / "keypoints.npz"))
        return real(out_dir, result)

    monkeypatch.setattr(job_mod, "write_outputs", disk_full_for_v1)
    seen = []
    summary = run_batch(jobs, JobSettings(QUIET, video=False), factory=components, on_outcome=seen.append)
    assert [o.status for o in summary.outcomes] == ["done", "failed", "done"] and len(seen) == 3
    assert summary.outcomes[1].reason.endswith("v1/keypoints.npz: No space left on device")
    assert not (tmp_path / "out" / "v1" / "manifest.json").exists()
    doc = summary.to_json()
    assert doc["failed"] == [{"path": str(videos[1]), "reason": summary.outcomes[1].reason}]


def test_interrupt_removes_temporary_files_and_rerun_resumes(tmp_path, monkeypatch, capsys):
    (tmp_path / "in").mkdir()
    videos = [make_video(tmp_path / "in" / f"v{i}.mp4", frames=6) for i in range(3)]
    out = tmp_path / "out"
    from _demo_fakes import FakeDetector, FakeLifter

    class CtrlC(FakeDetector):
        def __init__(self):
            super().__init__()
            self.videos = 0

        def reset(self):
            super().reset()
            self.videos += 1

        def detect(self, frame_rgb, time_s):
            if self.videos == 2 and self.calls == 3:  # the 2nd video, mid-way
                raise KeyboardInterrupt
            return super().detect(frame_rgb, time_s)

    detectors = [CtrlC(), FakeDetector()]

    def factory(options):  # the same factory both times: the same settings, so the rerun resumes
        return detectors.pop(0), FakeLifter()

    args = ["--video", str(tmp_path / "in"), "--output-dir", str(out), "--no-progress", "--chunk", "2"]
    assert vis.main(args, factory=factory) == vis.EXIT_INTERRUPTED
    assert "rerun" in capsys.readouterr().err
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == sorted(f"v0/{name}" for name in ["keypoints.json", "keypoints.npz", "manifest.json",
                                                     "v0_pose3d.mp4", *export_names("v0")])
    assert vis.main(args, factory=factory) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] == [str(videos[0])] and summary["done"] == [str(v) for v in videos[1:]]


def test_workers_give_identical_results(tmp_path):
    clips = tmp_path / "clips"
    _tree(clips)
    common = ["--video", str(clips), "--recursive", "--no-progress", "--chunk", "3"]
    assert main(common + ["--output-dir", str(tmp_path / "w1")]) == 0
    assert main(common + ["--output-dir", str(tmp_path / "w2"), "--workers", "2"]) == 0
    assert len(json.loads((tmp_path / "w2" / "summary.json").read_text())["done"]) == 3
    for rel in ("a", "sub/b", "sub/deeper/c"):
        _same_outputs(tmp_path / "w1" / rel, tmp_path / "w2" / rel)


@pytest.mark.heavy
def test_ray_tasks_on_two_local_workers(tmp_path):
    pytest.importorskip("ray")

    clips = tmp_path / "clips"
    _tree(clips)
    jobs = plan_jobs(find_videos([clips], recursive=True), tmp_path / "ray")
    summary = run_batch(jobs, JobSettings(QUIET), workers=2, ray=True, factory=components)
    assert [o.status for o in summary.outcomes] == ["done"] * 3
    assert len({o.seconds for o in summary.outcomes}) == 3
    reference = run_batch(plan_jobs(find_videos([clips], recursive=True), tmp_path / "seq"), JobSettings(QUIET),
                          factory=components)
    assert [o.status for o in reference.outcomes] == ["done"] * 3
    for rel in ("a", "sub/b", "sub/deeper/c"):
        _same_outputs(tmp_path / "seq" / rel, tmp_path / "ray" / rel)


def test_worker_processes_share_the_detector_threads(monkeypatch):
    """Each batch worker's detector gets its share of the CPUs, unless the user set the count."""
    from demo import executors
    from detectors.base import THREADS_ENV

    monkeypatch.delenv(THREADS_ENV, raising=False)
    executors._share_cpus(0)
    assert os.environ[THREADS_ENV] == "1"          # at least one thread
    monkeypatch.setenv(THREADS_ENV, "3")
    executors._share_cpus(1)
    assert os.environ[THREADS_ENV] == "3"          # the user's setting is kept
