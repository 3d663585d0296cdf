"""bench/pipeline_speed.py: the target checks, bad input, and (heavy) one tiny real run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _demo_fakes import make_video

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "bench" / "pipeline_speed.py"
sys.path.insert(0, str(REPO / "bench"))

import pipeline_speed  # noqa: E402

STAGES = ("decode", "detect", "convert", "lift", "render", "encode")


def _figures(fps: float, det_fps: float, render: float, rss_1x: float, rss_10x: float) -> dict:
    ms = dict.fromkeys(pipeline_speed.STAGE_KEYS, 1.0) | {"render": render}
    files = {"run_s": 10.0, "outputs_s": 0.1, "exports_s": 0.5, "export_files": 5, "export_mb": 1.0,
             "exports_share": 0.5 / 10.1}
    return {"1280x720": {"ms_per_frame": ms, "end_to_end_fps": fps, "detector_only_fps": det_fps,
                         "peak_rss_mb": rss_1x, "frames": 10, **files},
            "long_video": {"size": "1280x720", "loops": 10, "frames_1x": 10, "frames_10x": 100,
                           "peak_rss_mb_1x": rss_1x, "peak_rss_mb_10x": rss_10x}}


def test_targets_pass_and_fail():
    good = pipeline_speed.targets(_figures(40.0, 50.0, 2.0, 500.0, 550.0))
    assert all(t["pass"] for t in good.values()) and len(good) == 4
    bad = pipeline_speed.targets(_figures(29.0, 50.0, 9.0, 500.0, 650.0))
    assert not any(t["pass"] for t in bad.values())
    ratio_only = pipeline_speed.targets(_figures(33.0, 50.0, 2.0, 500.0, 500.0))
    assert [k for k, t in ratio_only.items() if not t["pass"]] == ["ratio_to_detector_only_1280x720"]
    figures = _figures(33.0, 50.0, 2.0, 500.0, 500.0)
    figures["targets"] = ratio_only
    figures["meta"] = {"load_average_before": [0, 0, 0], "load_average_after": [0, 0, 0], "cpus": 2}
    text = pipeline_speed.table(figures)
    assert "FAIL" in text and "1280x720" in text and "0.66" in text and "all exports 0.50 s" in text


def test_exports_share_target():
    figures = _figures(40.0, 50.0, 2.0, 500.0, 550.0)
    for share, ok in ((0.05, True), (0.12, False)):
        two = dict(figures["1280x720"], end_to_end_fps=26.0, exports_share=share)
        t = pipeline_speed.targets(dict(figures, **{pipeline_speed.TWO_PEOPLE: two}))
        assert t["exports_share_two_people_1280x720"]["pass"] is ok


def test_bad_input_is_one_line(tmp_path):
    for args in (["--video", str(tmp_path / "missing.mp4")],
                 ["--video", str(make_video(tmp_path / "a.mp4", frames=2)), "--sizes", "12x"]):
        proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.strip().startswith("error:") and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.heavy
def test_tiny_real_run(tmp_path):
    """Real BlazePose and lifter on a few frames of a generated video, every configuration."""
    video = make_video(tmp_path / "tiny.mp4", frames=6, size=(96, 64))
    out = tmp_path / "speed.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--video", str(video), "--json", str(out),
                           "--sizes", "native", "128x72", "--long-size", "128x72", "--loops", "2",
                           "--frames", "4"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(out.read_text())
    for size in ("96x64", "128x72"):
        r = figures[size]
        assert set(STAGES) <= set(r["ms_per_frame"]) and r["frames"] == 4
        assert all(v >= 0 for v in r["ms_per_frame"].values()) and r["ms_per_frame"]["detect"] > 0
        assert r["end_to_end_fps"] > 0 and r["detector_only_fps"] > 0 and r["peak_rss_mb"] > 50
        assert r["exports_s"] > 0 and r["run_s"] > 0 and 0 < r["exports_share"]
    lv = figures["long_video"]
    assert (lv["frames_1x"], lv["frames_10x"]) == (4, 8) and lv["peak_rss_mb_10x"] > 0
    assert "lifter" in figures["meta"] and "target" in proc.stdout
