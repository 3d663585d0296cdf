"""Batch mode: find the videos, plan where their outputs go, run them, summarise.

    from demo.batch import find_videos, plan_jobs, run_batch
    jobs = plan_jobs(find_videos(["clips/"], recursive=True), "outputs")
    summary = run_batch(jobs, JobSettings(options), workers=2)

Layout: a video ``ROOT/a/b/clip.mp4`` found under an input ``ROOT`` gets the folder
``OUTPUT/a/b/clip/`` (see demo.job for what it holds); the batch writes ``OUTPUT/summary.json``.
Several inputs share the root of their common folder. Two videos of the same folder and name
(clip.mp4, clip.mov) get ``clip_mp4/`` and ``clip_mov/``.

The work itself is demo.job.process_video, run by one of demo.executors (this process, worker
processes, Ray). After SIGKILL or a power cut, temporary files may remain (names
``.<name>.<random>.tmp<suffix>``, never a final name); the next run removes them.
"""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from demo.errors import UsageError
from demo.executors import OnOutcome, run_local, run_processes, run_ray
from demo.job import Job, JobSettings, Outcome
from demo.runner import ModelFactory, load_models

#: file suffixes taken as videos when a folder or glob is searched (a file named explicitly is always tried)
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv",
                            ".flv", ".ts", ".mts", ".m2ts", ".3gp", ".ogv"})
SUMMARY_NAME = "summary.json"


@dataclass
class Summary:
    """The outcomes of a batch in job order, and its wall-clock time in seconds."""

    outcomes: list[Outcome]
    seconds: float

    def by_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    def to_json(self) -> dict[str, Any]:
        """The summary.json document: {"done": [paths], "skipped": [paths], "failed":
        [{"path", "reason"}], "seconds": float}."""
        return {
            "done": [o.path for o in self.by_status("done")],
            "skipped": [o.path for o in self.by_status("skipped")],
            "failed": [{"path": o.path, "reason": o.reason} for o in self.by_status("failed")],
            "seconds": round(self.seconds, 3),
        }


# --- finding videos and planning outputs ----------------------------------------------------

def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _glob_root(pattern: str) -> Path:
    """The folder part of a glob pattern before its first wildcard."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if _is_glob(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def find_videos(inputs: Iterable[str | os.PathLike], recursive: bool = False) -> list[tuple[Path, Path]]:
    """Expand inputs (video files, folders, glob patterns) into (video, root) pairs, in order.

    A folder contributes the files with a video suffix (VIDEO_SUFFIXES, any case) directly in it,
    or anywhere below it with ``recursive``; a glob pattern (``**`` with ``recursive``) the
    matching files with a video suffix; a file named explicitly is taken whatever its suffix.
    ``root`` is the folder the video's output path is made relative to. Duplicates are dropped.
    Raises UsageError for an input that does not exist or when no video is found.
    """
    found: list[tuple[Path, Path]] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            candidates = path.rglob("*") if recursive else path.iterdir()
            found += [(p, path) for p in sorted(candidates) if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
        elif path.exists():
            found.append((path, path.parent))
        elif _is_glob(text):
            matches = sorted(glob.glob(text, recursive=recursive))
            found += [(Path(m), _glob_root(text)) for m in matches
                      if Path(m).is_file() and Path(m).suffix.lower() in VIDEO_SUFFIXES]
        else:
            raise UsageError(f"input not found: {text}")
    seen: set[Path] = set()
    unique = []
    for video, root in found:
        key = video.resolve()
        if key not in seen:
            seen.add(key)
            unique.append((video, root))
    if not unique:
        names = ", ".join(str(i) for i in inputs)
        raise UsageError(f"no videos found in {names}" + ("" if recursive else " (--recursive searches sub-folders)"))
    return unique


def plan_jobs(videos: list[tuple[Path, Path]], output_dir: str | os.PathLike) -> list[Job]:
    """Output folder of each video: output_dir / <path relative to the common root> / <name>.

    The common root is the deepest folder holding every input root. Videos whose folders would
    coincide (same folder and name, different suffix) get <name>_<suffix> instead.
    """
    roots = [root.resolve() for _, root in videos]
    common = Path(os.path.commonpath(roots)) if roots else Path(".")
    rel = [video.resolve().parent.relative_to(common) / video.stem for video, _ in videos]
    counts: dict[Path, int] = {}
    for r in rel:
        counts[r] = counts.get(r, 0) + 1
    out = Path(output_dir)
    jobs = []
    for (video, _), r in zip(videos, rel):
        if counts[r] > 1:
            r = r.with_name(f"{video.stem}_{video.suffix.lstrip('.').lower()}")
        jobs.append(Job(video=video, out_dir=out / r))
    return jobs


# --- running ----------------------------------------------------------------------------------

def run_batch(jobs: list[Job], settings: JobSettings = JobSettings(), workers: int = 1, ray: bool = False,
              factory: ModelFactory = load_models, on_outcome: OnOutcome = None) -> Summary:
    """Process every job: as Ray tasks (``ray``; ``workers`` CPUs of a local Ray), in ``workers``
    processes, or in this process; the outcomes in job order and the wall-clock time.

    Raises demo.errors.ModelError when the models cannot be loaded, KeyboardInterrupt on Ctrl-C /
    SIGTERM (after removing every temporary file of unfinished videos).
    """
    t0 = time.perf_counter()
    if ray:
        outcomes = run_ray(jobs, settings, factory, on_outcome, num_cpus=workers)
    elif workers > 1 and len(jobs) > 1:
        outcomes = run_processes(jobs, settings, workers, factory, on_outcome)
    else:
        outcomes = run_local(jobs, settings, factory, on_outcome)
    return Summary(outcomes, time.perf_counter() - t0)


# --- reporting ------------------------------------------------------------------------------------

def write_summary(output_dir: str | os.PathLike, summary: Summary) -> Path:
    """Write output_dir/summary.json atomically; returns its path."""
    from lifter.atomic import write_json

    path = Path(output_dir) / SUMMARY_NAME
    write_json(path, summary.to_json())
    return path


def summary_table(summary: Summary) -> str:
    """The summary as a text table: one row per video (frames, frames with a person, people
    tracked, seconds), its reason or notes below it, then the totals."""
    rows = [f"{'status':<8} {'frames':>6} {'found':>6} {'people':>6} {'seconds':>8}  video"]
    for o in summary.outcomes:
        done = o.status == "done"
        cells = [f"{v:6d}" if done else f"{'-':>6}" for v in (o.frames, o.valid_frames, o.people)]
        seconds = f"{o.seconds:8.2f}" if o.status != "skipped" else f"{'-':>8}"
        rows.append(f"{o.status:<8} {' '.join(cells)} {seconds}  {o.path}")
        for line in ([o.reason] if o.reason else o.notes):
            rows.append(f"{'':>9}{line}")
    counts = ", ".join(f"{len(summary.by_status(s))} {s}" for s in ("done", "skipped", "failed"))
    rows.append(f"{counts} in {summary.seconds:.1f} s")
    return "\n".join(rows)
