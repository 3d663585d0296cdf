"""The unit of work: one video in, its outputs out, never a half-written file, never a raise.

:func:`process_video` is used alike by the one-video CLI, the sequential loop, worker processes
and Ray tasks (demo.executors). It

1. skips the video when its manifest (demo.manifest) is up to date, unless ``force``;
2. otherwise removes the old manifest and any temporary files a killed run left, runs the
   pipeline (demo.pipeline.run) with the models it is given (demo.runner.Models), writes the
   outputs (each to a temporary name in the same folder, renamed when complete: lifter.atomic),
   and writes the manifest last, so an up-to-date manifest means the outputs are complete;
3. returns an :class:`Outcome` (done / skipped / failed with a one-line reason) instead of
   raising, so one bad video does not stop a batch. Models that cannot be loaded make the
   outcome ``fatal``: every video would fail the same way.

Layout: a job's folder holds ``<video stem>_pose3d.mp4``, ``keypoints.npz``, ``keypoints.json``,
the exports asked for (demo.export: ``<video stem>_person<ID>.bvh|.trc|.c3d``, ``keypoints.csv``,
``<video stem>_viewer.html``) and ``manifest.json``.
"""

from __future__ import annotations

import glob
import os
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo import manifest
from demo.errors import BatchError, ModelError, interrupts_deferred, one_line
from demo.export import DEFAULT_EXPORTS, name_patterns, remove_old_exports, video_url_for, write_exports
from demo.keypoint_input import keypoints_path, open_input
from demo.outputs import FORMAT_VERSION, JSON_NAME, NPZ_NAME, write_outputs
from demo.pipeline import Options
from demo.runner import Models, factory_name


@dataclass(frozen=True)
class Job:
    """One video and the folder its outputs go to."""

    video: Path
    out_dir: Path


@dataclass(frozen=True)
class JobSettings:
    """How every job of a run is done: the pipeline ``options``; ``video``: also write the
    side-by-side mp4; ``exports``: the demo.export formats to write; ``force``: redo videos that
    are up to date; ``debug``: keep tracebacks of failures (Outcome.traceback)."""

    options: Options = Options()
    video: bool = True
    exports: tuple[str, ...] = DEFAULT_EXPORTS
    force: bool = False
    debug: bool = False


@dataclass
class Outcome:
    """What happened to one video. status: "done" | "skipped" | "failed" (or "interrupted", only
    between a worker process and its executor); reason: one line (failed only); fatal: the
    failure would repeat for every video (models not loadable); notes: lines worth telling
    about a done video; people: tracks kept; valid_frames: frames with at least one person."""

    path: str
    out_dir: str
    status: str
    reason: str = ""
    frames: int = 0
    valid_frames: int = 0
    people: int = 0
    seconds: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    fatal: bool = False
    traceback: str = ""
    notes: list[str] = field(default_factory=list)


def video_name(job: Job) -> str:
    """File name of the side-by-side video of a job."""
    return f"{job.video.stem}_pose3d.mp4"


def output_settings(settings: JobSettings, models: Models) -> dict[str, Any]:
    """The settings that change a video's outputs (their hash goes into the manifest).

    Not included: device, chunk, progress and verbose, which do not change the results, and
    ``force``. The weights and denoiser files are identified by path, size and mtime; the model
    factory by name.
    """
    o = settings.options
    files = {}
    if keypoints_path(o) is not None:
        files["keypoints"] = manifest.input_identity(keypoints_path(o))
    for name, path in (("weights", o.weights), ("denoiser", o.denoiser)):
        if path is not None:
            try:
                st = os.stat(path)
                files[name] = {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            except OSError:
                files[name] = {"path": str(path)}
    return {
        "detector": o.detector, "detector_options": o.detector_options, "lifter": o.lifter, "files": files,
        "flip": o.flip, "max_people": o.max_people, "person": o.person, "max_gap_s": o.max_gap_s,
        "min_track_s": o.min_track_s, "min_score": o.min_score, "motion": o.motion, "max_frames": o.max_frames,
        "render": o.render, "preset": o.preset, "crf": o.crf, "fps": o.fps, "frame_size": o.frame_size,
        "video": settings.video, "exports": list(settings.exports), "outputs_format": FORMAT_VERSION,
        "models": factory_name(models.factory),
    }


def _our_patterns(job: Job) -> list[str]:
    """Glob patterns of the names of this job's outputs (escaped)."""
    fixed = [glob.escape(n) for n in (NPZ_NAME, JSON_NAME, manifest.MANIFEST_NAME, video_name(job))]
    return fixed + name_patterns(job.video.stem)


def remove_temporaries(job: Job) -> None:
    """Delete temporary files of this job's outputs (lifter.atomic names) left by a killed run."""
    if not job.out_dir.is_dir():
        return
    for pattern in _our_patterns(job):
        stem, suffix = os.path.splitext(pattern)
        for tmp in job.out_dir.glob(f".{stem}.*.tmp{suffix}"):
            tmp.unlink(missing_ok=True)


def check_writable(folder: str | os.PathLike) -> None:
    """Create the folder and a temporary file in it; raises BatchError with the reason if that fails."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with interrupts_deferred():  # an interrupt between creating and removing it would leave the file
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test.", suffix=".tmp"):
                pass
    except OSError as exc:
        raise BatchError(f"cannot write to the output folder {folder}: {exc.strerror or exc}") from None


def process_video(job: Job, settings: JobSettings, models: Models) -> Outcome:
    """Process one video into job.out_dir (see the module docstring); never raises on a bad video.

    KeyboardInterrupt is not caught: the writers remove their temporary files as it passes.
    """
    from demo.pipeline import run

    t0 = time.perf_counter()
    wanted = output_settings(settings, models)
    base = dict(path=str(job.video), out_dir=str(job.out_dir))
    try:
        if not settings.force and manifest.is_up_to_date(job.out_dir, job.video, wanted):
            return Outcome(**base, status="skipped")
        identity = manifest.input_identity(job.video)  # before reading it: a change meanwhile means redo
        # the input's one open: an unreadable video fails here, before any folder is made or model loaded
        with open_input(job.video, settings.options) as reader:
            check_writable(job.out_dir)
            remove_temporaries(job)
            manifest.remove_manifest(job.out_dir)
            remove_old_exports(job.out_dir, job.video.stem)
            detector, lifter = models.get(settings.options)
            video_out = job.out_dir / video_name(job) if settings.video else None
            result = run(reader, settings.options, detector=detector, lifter=lifter, render_to=video_out)
        result.video = str(job.video)
        paths = write_outputs(job.out_dir, result)
        has_video = keypoints_path(settings.options) != job.video
        exported = write_exports(job.out_dir, result, settings.exports, job.video.stem,
                                 video_url=video_url_for(job.video, job.out_dir) if has_video else None,
                                 progress=settings.options.progress)
        outputs = [paths["npz"], paths["json"]] + ([video_out] if video_out is not None else []) + exported
        seconds = time.perf_counter() - t0
        manifest.write_manifest(job.out_dir, identity, wanted, outputs, result.num_frames,
                                result.frames_with_person, seconds)
        return Outcome(**base, status="done", frames=result.num_frames, valid_frames=result.frames_with_person,
                       people=result.num_people, seconds=seconds, timings_ms=result.timings_ms,
                       outputs=[str(p) for p in outputs], notes=list(result.notes))
    except Exception as exc:
        return Outcome(**base, status="failed", reason=one_line(exc), seconds=time.perf_counter() - t0,
                       fatal=isinstance(exc, ModelError),
                       traceback=traceback.format_exc() if settings.debug else "")
