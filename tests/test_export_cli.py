"""demo.export wired into the demo: --export parsing, the files per person and per video, batch mode,
stale and temporary files, the manifest, and a no-person video."""

from __future__ import annotations

import json

import pytest

from _demo_fakes import FakeDetector, FakeLifter, RAW_MOTION, components, make_video
from demo import manifest, vis
from demo.batch import find_videos, plan_jobs, run_batch
from demo.export import FORMATS, file_name, name_patterns, parse_exports, video_url_for
from demo.job import Job, JobSettings, process_video
from demo.pipeline import Options
from demo.runner import Models

QUIET = Options(progress=False, motion=RAW_MOTION)
PER_VIDEO = ["keypoints.json", "keypoints.npz", "manifest.json"]


def _factory(detector):
    return lambda options: (detector, FakeLifter())


@pytest.mark.parametrize("text, expected", [
    ("all", FORMATS), ("none", ()), ("", ()), ("csv,bvh", ("bvh", "csv")), (" HTML , trc ", ("trc", "html")),
    ("bvh,bvh", ("bvh",)),
])
def test_parse_exports(text, expected):
    assert parse_exports(text) == expected


@pytest.mark.parametrize("text", ["fbx", "bvh,,obj", "all,bvh"])
def test_parse_exports_rejects_unknown(text):
    with pytest.raises(ValueError, match="choose from bvh, trc, c3d, csv, html"):
        parse_exports(text)


def test_cli_bad_export_is_a_usage_error(tmp_path, capsys):
    video = make_video(tmp_path / "v.mp4", frames=2)
    with pytest.raises(SystemExit) as stop:
        vis.main(["--video", str(video), "--export", "bvh,fbx"])
    assert stop.value.code == 2
    assert "unknown export format 'fbx'" in capsys.readouterr().err


def test_file_names_and_patterns():
    assert file_name("bvh", "clip", 3) == "clip_person3.bvh"
    assert file_name("csv", "clip") == "keypoints.csv" and file_name("html", "clip") == "clip_viewer.html"
    assert "a[[]1]_person*.bvh" in name_patterns("a[1]")


def test_two_people_every_format(tmp_path, monkeypatch, capsys):
    video = make_video(tmp_path / "walk.mp4", frames=8)
    monkeypatch.chdir(tmp_path)
    assert vis.main(["--video", str(video), "--no-progress", "--no-video"],
                    factory=_factory(FakeDetector(people=2))) == 0
    out = tmp_path / "outputs" / "walk"
    people = [f"walk_person{i}.{f}" for i in (1, 2) for f in ("bvh", "trc", "c3d")]
    assert sorted(p.name for p in out.iterdir()) == sorted(PER_VIDEO + people + ["keypoints.csv", "walk_viewer.html"])
    printed = capsys.readouterr().out
    assert f"outputs in {out.relative_to(tmp_path)}" in printed or f"outputs in {out}" in printed
    assert "walk_person2.bvh" in printed and "walk_viewer.html" in printed
    recorded = set(json.loads((out / "manifest.json").read_text())["outputs"])
    assert set(people) | {"keypoints.csv", "walk_viewer.html"} <= recorded
    assert manifest.verify_outputs(out)
    # the viewer links the source video relative to the output folder
    assert video_url_for(video, out) == "../../walk.mp4"
    assert 'walk.mp4' in (out / "walk_viewer.html").read_text()


def test_export_subset_and_stale_files(tmp_path):
    video = make_video(tmp_path / "v.mp4", frames=6)
    job = Job(video, tmp_path / "o")
    models = Models(_factory(FakeDetector(people=2)))
    assert process_video(job, JobSettings(QUIET, video=False), models).status == "done"
    assert (job.out_dir / "v_person2.c3d").is_file()
    # a killed run's export temporaries and the previous run's exports go; other files stay
    (job.out_dir / ".v_person1.abc123.tmp.bvh").write_text("partial")
    (job.out_dir / "v_person7.bvh.txt").write_text("user file")
    (job.out_dir / "v_personal.bvh").write_text("user file")
    only = JobSettings(QUIET, video=False, exports=("bvh",))
    assert process_video(job, only, models).status == "done"  # other settings: redone
    assert sorted(p.name for p in job.out_dir.iterdir()) == sorted(
        PER_VIDEO + ["v_person1.bvh", "v_person2.bvh", "v_person7.bvh.txt", "v_personal.bvh"])
    assert process_video(job, only, models).status == "skipped"
    none = JobSettings(QUIET, video=False, exports=())
    assert process_video(job, none, models).status == "done"
    assert sorted(p.name for p in job.out_dir.iterdir()) == sorted(PER_VIDEO + ["v_person7.bvh.txt", "v_personal.bvh"])


def test_no_person_video(tmp_path):
    video = make_video(tmp_path / "empty.mp4", frames=4)
    job = Job(video, tmp_path / "o")
    models = Models(_factory(FakeDetector(empty=lambda i: True)))
    outcome = process_video(job, JobSettings(QUIET, video=False), models)
    assert outcome.status == "done", outcome.reason
    names = sorted(p.name for p in job.out_dir.iterdir())
    assert names == sorted(PER_VIDEO + ["keypoints.csv", "empty_viewer.html"])  # nobody: no per-person file
    assert (job.out_dir / "keypoints.csv").read_text().count("\n") == 1  # the header only


def test_batch_mode_exports_in_each_folder(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("a", "b"):
        make_video(clips / f"{name}.mp4", frames=4)
    jobs = plan_jobs(find_videos([clips]), tmp_path / "out")
    summary = run_batch(jobs, JobSettings(QUIET, video=False, exports=("csv", "trc")), factory=components)
    assert len(summary.by_status("done")) == 2
    for name in ("a", "b"):
        folder = tmp_path / "out" / name
        assert (folder / "keypoints.csv").is_file() and (folder / f"{name}_person1.trc").is_file()
        assert not list(folder.glob("*.bvh")) and not list(folder.glob("*.html"))
