"""Batch runs killed or interrupted part-way: no partial file under a final name, reruns resume.

The CLI runs in a subprocess with the stand-in detector and lifter (tests/fake_cli.py), slowed
down so that it can be stopped in the middle of a video: the test waits for that video's
temporary output file (the encoder writes it while the video is being processed) before it stops
the run.
"""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import c3d
import numpy as np
import pybvh
import pytest
from trc import TRCData

from _demo_fakes import make_video
from demo import manifest
from demo.export.viewer import read_viewer_data
from demo.video import iter_frames

ROOT = Path(__file__).resolve().parents[1]
VIS = ROOT / "tests" / "fake_cli.py"  # demo/vis.py with the stand-in models
FRAMES = {f"v{i}": 8 + i for i in range(5)}  # different lengths, so mixed-up outputs would show


def _env(delay: float) -> dict:
    env = dict(os.environ)
    env.update({"FAKE_DETECT_DELAY": str(delay),
                "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])})
    return env


def _videos(folder: Path) -> Path:
    folder.mkdir()
    for name, frames in FRAMES.items():
        make_video(folder / f"{name}.mp4", frames=frames)
    return folder


def _cmd(src: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, str(VIS), "--video", str(src), "--output-dir", str(out), "--no-progress", "--chunk", "4",
            *extra]


def _run(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(_cmd(src, out, *extra), env=_env(0), capture_output=True, text=True, timeout=120)


def _complete(out: Path) -> set[str]:
    return {p.parent.name for p in out.glob("*/manifest.json")}


def _start_and_wait(src: Path, out: Path, at_least: int, *extra: str) -> tuple[subprocess.Popen, set[str]]:
    """Start a slowed-down batch; return once ``at_least`` videos are complete and the next one is
    being written (a temporary output file exists: the run is in the middle of a video)."""
    proc = subprocess.Popen(_cmd(src, out, *extra), env=_env(0.04), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(_complete(out)) < at_least:
        assert proc.poll() is None, f"the batch ended before it could be stopped: {proc.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    while not _temporaries(out):
        assert proc.poll() is None, f"the batch ended before it could be stopped: {proc.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return proc, _complete(out)


def _final_files_are_whole(out: Path) -> None:
    """Every file under a final name is complete; temporary names are the only other files."""
    for path in out.rglob("*"):
        if not path.is_file() or path.name == "summary.json":
            continue
        if path.name.startswith(".") and ".tmp" in path.name:
            continue
        frames = FRAMES[path.parent.name]
        if path.suffix == ".npz":
            with np.load(path) as z:
                assert z["valid"].shape == (1, frames) and z["keypoints_3d"].shape == (1, frames, 17, 3)
        elif path.name == "keypoints.json":
            assert len(json.loads(path.read_text())["frames"]) == frames
        elif path.suffix == ".mp4":
            assert sum(1 for _ in iter_frames(path)) == frames
        elif path.name == "manifest.json":
            assert manifest.verify_outputs(path.parent)
        elif path.suffix in (".bvh", ".trc", ".c3d", ".csv", ".html"):
            _export_is_whole(path, frames)
        else:
            raise AssertionError(f"unexpected file {path}")


def _export_is_whole(path: Path, frames: int) -> None:
    """An export file (demo.export) read back by its reader holds every frame."""
    if path.suffix == ".bvh":
        assert pybvh.read_bvh_file(path).frame_count == frames
    elif path.suffix == ".trc":
        data = TRCData()
        data.load(str(path))
        assert data["NumFrames"] == len(data["Frame#"]) == frames
    elif path.suffix == ".c3d":
        with path.open("rb") as handle, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No analog data found")  # none is written
            assert sum(1 for _ in c3d.Reader(handle).read_frames()) == frames
    elif path.suffix == ".csv":
        assert len(path.read_text().splitlines()) == 1 + frames  # one person in every frame
    else:
        assert len(read_viewer_data(path.read_text())["time_s"]) == frames


def _temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob(".*") if ".tmp" in p.name]


def _running_in_group(pgid: int) -> list[str]:
    """Processes of a process group that still run (zombies waiting to be reaped do not count)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1: text.rindex(")")], text[text.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{stat.parent.name} {name}: {cmdline[:200]}")
    return found


def _group_ends(pgid: int, seconds: float = 10.0) -> list[str]:
    """Wait until no process of the group runs (helpers such as multiprocessing's resource
    tracker end shortly after the main process); returns those still running then."""
    deadline = time.monotonic() + seconds
    while (left := _running_in_group(pgid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _same_results(a: Path, b: Path) -> None:
    for name in FRAMES:
        with np.load(a / name / "keypoints.npz") as x, np.load(b / name / "keypoints.npz") as y:
            assert x.files == y.files
            for k in x.files:
                np.testing.assert_array_equal(x[k], y[k], err_msg=f"{name} {k}")
        assert (a / name / "keypoints.json").read_text() == (b / name / "keypoints.json").read_text()
        assert (a / name / f"{name}_pose3d.mp4").read_bytes() == (b / name / f"{name}_pose3d.mp4").read_bytes()


@pytest.mark.heavy
def test_sigkill_then_rerun_resumes(tmp_path):
    src = _videos(tmp_path / "in")
    out, reference = tmp_path / "out", tmp_path / "reference"
    proc, done_before = _start_and_wait(src, out, at_least=2)
    proc.kill()
    proc.wait(timeout=10)
    assert 2 <= len(done_before) < len(FRAMES)
    _final_files_are_whole(out)

    rerun = _run(src, out)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert {Path(p).stem for p in summary["skipped"]} == done_before  # only unfinished videos were redone
    assert {Path(p).stem for p in summary["done"]} == set(FRAMES) - done_before
    assert _temporaries(out) == []  # what the killed run left was cleaned up
    _final_files_are_whole(out)

    assert _run(src, reference).returncode == 0
    _same_results(out, reference)


@pytest.mark.heavy
@pytest.mark.parametrize("how, workers", [("ctrl-c", "2"), ("sigterm", "2"), ("sigterm", "1")])
def test_interrupt_cleans_up_and_exits_130(tmp_path, how, workers):
    src = _videos(tmp_path / "in")
    out = tmp_path / "out"
    proc, _ = _start_and_wait(src, out, 1, "--workers", workers)
    if how == "ctrl-c":  # the terminal sends SIGINT to the whole foreground process group
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert _group_ends(proc.pid) == []  # no worker or encoder process is left behind
    assert _temporaries(out) == []
    _final_files_are_whole(out)
    done_before = _complete(out)
    assert len(done_before) < len(FRAMES)
    rerun = _run(src, out, "--workers", workers)
    assert rerun.returncode == 0, rerun.stderr
    assert {Path(p).stem for p in json.loads((out / "summary.json").read_text())["skipped"]} == done_before


def test_interrupts_deferred_holds_the_signal_until_the_block_ends():
    from demo.errors import interrupts_deferred

    steps = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            signal.raise_signal(signal.SIGINT)  # Python's default handler: KeyboardInterrupt, held
            steps.append("after the signal")
    assert steps == ["after the signal"]
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with interrupts_deferred():
            signal.raise_signal(signal.SIGTERM)
            assert seen == []
        assert seen == [signal.SIGTERM] and signal.getsignal(signal.SIGTERM) is not None
    finally:
        signal.signal(signal.SIGTERM, previous)
