"""Batch mode: many videos, one per-video function, never a half-written output.

    from demo.batch import BatchOptions, find_videos, plan_jobs, run_batch
    jobs = plan_jobs(find_videos(["clips/"], recursive=True), "outputs")
    summary = run_batch(jobs, BatchOptions(options, workers=2))

:func:`process_video` is the unit of work, used alike by the one-video CLI, by the sequential
loop, by the worker processes of ``workers > 1`` and by Ray tasks (:func:`run_ray`). It

1. skips the video when its manifest (demo.manifest) is up to date, unless ``force``;
2. otherwise removes the old manifest and any temporary files a killed run left, runs the
   pipeline (demo.pipeline.run) with the process's detector and lifter, writes the outputs
   (each to a temporary name in the same folder, renamed when complete: lifter.atomic), and
   writes the manifest last, so an up-to-date manifest means the outputs are complete;
3. returns an :class:`Outcome` (done / skipped / failed with a one-line reason) instead of
   raising, so one bad video does not stop the batch. A detector or lifter that cannot be loaded
   is ``fatal``: the batch stops, since every video would fail the same way.

The detector and lifter are loaded once per process (:func:`components`) and reused for every
video that process handles; the detector is reset at the start of each video.

Layout: a video ``ROOT/a/b/clip.mp4`` found under an input ``ROOT`` gets the folder
``OUTPUT/a/b/clip/`` holding ``clip_pose3d.mp4``, ``keypoints.npz``, ``keypoints.json`` and
``manifest.json``; the batch writes ``OUTPUT/summary.json``. Several inputs share the root of
their common folder. Two videos of the same folder and name (clip.mp4, clip.mov) get
``clip_mp4/`` and ``clip_mov/``.

Parallelism: ``workers > 1`` runs that many worker processes (the 'spawn' start method, each
with its own detector and lifter; only the bar over videos is shown). :func:`run_ray` runs the
same function as Ray tasks (optional extra ``ray``). Results do not depend on either: every
video is processed by the same code with a freshly reset detector.

Stopping: Ctrl-C (SIGINT) or SIGTERM stops the batch; every temporary file is removed (the
interrupted writers remove theirs, then the output folders of unfinished videos are swept) and
rerunning the same command resumes with the unfinished videos. After SIGKILL or a power cut,
temporary files may remain (names ``.<name>.<random>.tmp<suffix>``, never a final name); the
next run removes them.

Test hook: the environment variable ``POSE3D_DEMO_COMPONENTS=module:function`` names a function
``f(options) -> (detector, lifter)`` used instead of the real detector and lifter in every
process (worker processes and Ray workers inherit the environment). The test suite uses it to run
the CLI in subprocesses with stand-ins; its value is part of the settings hash.
"""

from __future__ import annotations

import dataclasses
import glob
import importlib
import os
import signal
import sys
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from tqdm import tqdm

from demo import manifest
from demo.outputs import JSON_NAME, NPZ_NAME, write_outputs
from demo.pipeline import Options

#: file suffixes taken as videos when a folder or glob is searched (a file named explicitly is always tried)
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv",
                            ".flv", ".ts", ".mts", ".m2ts", ".3gp", ".ogv"})
SUMMARY_NAME = "summary.json"
COMPONENTS_ENV = "POSE3D_DEMO_COMPONENTS"


class UsageError(Exception):
    """The command line names nothing to process (missing path, no videos); exit code 2."""


class BatchError(Exception):
    """The batch cannot go on (unwritable output folder, detector or lifter not loadable); exit code 1."""


class ModelError(BatchError):
    """The detector or lifter cannot be loaded: every video would fail the same way."""


@dataclass(frozen=True)
class Job:
    """One video and the folder its outputs go to."""

    video: Path
    out_dir: Path


@dataclass(frozen=True)
class BatchOptions:
    """Batch settings: the pipeline ``options``; ``video``: also write the side-by-side mp4;
    ``force``: redo videos that are up to date; ``workers``: parallel processes; ``debug``: keep
    tracebacks of failures (Outcome.traceback)."""

    options: Options = Options()
    video: bool = True
    force: bool = False
    workers: int = 1
    debug: bool = False


@dataclass
class Outcome:
    """What happened to one video. status: "done" | "skipped" | "failed" (or "interrupted", only
    between a worker process and run_batch); reason: one line (failed only); fatal: the failure would repeat for every video (models not loadable);
    note: one line worth telling about a done video (fewer frames decoded than stated)."""

    path: str
    out_dir: str
    status: str
    reason: str = ""
    frames: int = 0
    valid_frames: int = 0
    seconds: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    fatal: bool = False
    traceback: str = ""
    note: str = ""


def _short_note(decoded: int, container: int, max_frames: int | None) -> str:
    """A note when fewer frames were decoded than the container states (a truncated file)."""
    expected = container if max_frames is None else min(container, max_frames)
    if container > 0 and decoded < expected:
        return (f"only {decoded} of the {container} frames the container states could be decoded "
                f"(truncated or damaged file?); the outputs cover those {decoded}")
    return ""


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


# --- finding videos and planning outputs --------------------------------------------------------

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


# --- the per-video function ----------------------------------------------------------------------

def video_name(job: Job) -> str:
    """File name of the side-by-side video of a job."""
    return f"{job.video.stem}_pose3d.mp4"


def output_settings(batch: BatchOptions) -> dict[str, Any]:
    """The settings that change a video's outputs (their hash goes into the manifest).

    Not included: device, chunk, progress and workers, which do not change the results, and
    ``force``. The weights and denoiser files are identified by path, size and mtime.
    """
    o = batch.options
    files = {}
    for name, path in (("weights", o.weights), ("denoiser", o.denoiser)):
        if path is not None:
            try:
                st = os.stat(path)
                files[name] = {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            except OSError:
                files[name] = {"path": str(path)}
    return {
        "detector": o.detector, "detector_options": o.detector_options, "lifter": o.lifter, "files": files,
        "flip": o.flip, "max_frames": o.max_frames, "render": o.render, "preset": o.preset, "crf": o.crf,
        "video": batch.video, "components": os.environ.get(COMPONENTS_ENV, ""),
    }


_COMPONENTS: dict[str, tuple[Any, Any]] = {}  # per process: settings hash -> (detector, lifter)


def components(options: Options) -> tuple[Any, Any]:
    """This process's (detector, lifter) for the options, loaded on first use and then reused.

    Uses the function named by POSE3D_DEMO_COMPONENTS when set (see the module docstring),
    else demo.pipeline.make_detector / make_lifter. Raises ModelError when loading fails.
    """
    from demo import pipeline

    hook = os.environ.get(COMPONENTS_ENV, "")
    key = manifest.settings_hash({"options": dataclasses.replace(options, progress=True), "hook": hook})
    if key not in _COMPONENTS:
        close_components()
        try:
            if hook:
                module, _, name = hook.partition(":")
                detector, lifter = getattr(importlib.import_module(module), name)(options)
            else:
                lifter = pipeline.make_lifter(options)
                detector = pipeline.make_detector(options)
        except Exception as exc:
            raise ModelError(f"cannot load the detector or lifter: {one_line(exc)}") from exc
        _COMPONENTS[key] = (detector, lifter)
    return _COMPONENTS[key]


def close_components() -> None:
    """Close and forget this process's detector (the lifter needs no closing)."""
    for detector, _ in _COMPONENTS.values():
        if hasattr(detector, "close"):
            detector.close()
    _COMPONENTS.clear()


def one_line(exc: BaseException) -> str:
    """An exception as one line for the user (the type is named unless it is a usual I/O error)."""
    from demo.video import VideoError

    message = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    if not isinstance(exc, (VideoError, OSError, ValueError, BatchError, UsageError)) or not message:
        return f"{type(exc).__name__}: {message}".rstrip(": ")
    return message


def _our_names(job: Job) -> list[str]:
    return [NPZ_NAME, JSON_NAME, manifest.MANIFEST_NAME, video_name(job)]


def remove_temporaries(job: Job) -> None:
    """Delete temporary files of this job's outputs (lifter.atomic names) left by a killed run."""
    if not job.out_dir.is_dir():
        return
    for name in _our_names(job):
        stem, suffix = os.path.splitext(name)
        for tmp in job.out_dir.glob(f".{glob.escape(stem)}.*.tmp{glob.escape(suffix)}"):
            tmp.unlink(missing_ok=True)


def process_video(job: Job, batch: BatchOptions = BatchOptions()) -> Outcome:
    """Process one video into job.out_dir (see the module docstring); never raises on a bad video.

    KeyboardInterrupt is not caught: the writers remove their temporary files as it passes.
    """
    t0 = time.perf_counter()
    settings = output_settings(batch)
    base = dict(path=str(job.video), out_dir=str(job.out_dir))
    try:
        if not batch.force and manifest.is_up_to_date(job.out_dir, job.video, settings):
            return Outcome(**base, status="skipped")
        identity = manifest.input_identity(job.video)  # before reading it: a change meanwhile means redo
        from demo.pipeline import run
        from demo.video import probe

        info = probe(job.video)  # an unreadable video fails before any folder is made or model loaded
        check_writable(job.out_dir)
        remove_temporaries(job)
        manifest.remove_manifest(job.out_dir)
        detector, lifter = components(batch.options)

        video_out = job.out_dir / video_name(job) if batch.video else None
        result = run(job.video, batch.options, detector=detector, lifter=lifter, render_to=video_out)
        if not os.environ.get(COMPONENTS_ENV):
            result.lifter = batch.options.weights or batch.options.lifter
        paths = write_outputs(job.out_dir, result)
        outputs = [paths["npz"], paths["json"]] + ([video_out] if video_out is not None else [])
        seconds = time.perf_counter() - t0
        manifest.write_manifest(job.out_dir, identity, settings, outputs, result.num_frames,
                                int(result.valid.sum()), seconds)
        return Outcome(**base, status="done", frames=result.num_frames, valid_frames=int(result.valid.sum()),
                       seconds=seconds, timings_ms=result.timings_ms, outputs=[str(p) for p in outputs],
                       note=_short_note(result.num_frames, info.frame_count, batch.options.max_frames))
    except Exception as exc:
        return Outcome(**base, status="failed", reason=one_line(exc), seconds=time.perf_counter() - t0,
                       fatal=isinstance(exc, ModelError),
                       traceback=traceback.format_exc() if batch.debug else "")


# --- running a batch ----------------------------------------------------------------------------

def check_writable(folder: str | os.PathLike) -> None:
    """Create the folder and a temporary file in it; raises BatchError with the reason if that fails."""
    import tempfile

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test.", suffix=".tmp"):
            pass
    except OSError as exc:
        raise BatchError(f"cannot write to the output folder {folder}: {exc.strerror or exc}") from None


def _videos_bar(total: int, progress: bool) -> tqdm:
    return tqdm(total=total, desc="videos", unit="video", disable=not progress, dynamic_ncols=True,
                file=sys.stderr)


def _report(outcome: Outcome, bar: tqdm, on_outcome: Callable[[Outcome], None] | None) -> None:
    if outcome.fatal:  # with --debug the worker's traceback follows the reason
        raise ModelError("\n".join(filter(None, (outcome.reason, outcome.traceback.rstrip()))))
    bar.update(1)
    if on_outcome is not None:
        on_outcome(outcome)


def run_batch(jobs: list[Job], batch: BatchOptions = BatchOptions(),
              on_outcome: Callable[[Outcome], None] | None = None) -> Summary:
    """Process every job (sequentially, or in ``batch.workers`` processes); outcomes in job order.

    on_outcome is called in this process as each video finishes. Raises BatchError when the
    detector or lifter cannot be loaded, KeyboardInterrupt on Ctrl-C / SIGTERM (after cleaning up).
    """
    t0 = time.perf_counter()
    results: dict[int, Outcome] = {}
    try:
        with _videos_bar(len(jobs), batch.options.progress) as bar:
            if batch.workers <= 1 or len(jobs) <= 1:
                for i, job in enumerate(jobs):
                    results[i] = process_video(job, batch)
                    _report(results[i], bar, on_outcome)
            else:
                _run_pool(jobs, batch, results, bar, on_outcome)
    except BaseException:
        _sweep(jobs, results)
        raise
    return Summary([results[i] for i in range(len(jobs))], time.perf_counter() - t0)


def _sweep(jobs: list[Job], results: dict[int, Outcome]) -> None:
    """Remove temporary files of every video that did not finish (after an interruption)."""
    for i, job in enumerate(jobs):
        if i not in results:
            remove_temporaries(job)


# worker processes of run_batch(workers > 1)
_IN_TASK = False


def _worker_signal(signum: int, frame: Any) -> None:
    """SIGINT / SIGTERM in a worker: stop the current video; an idle worker waits for the pool's
    stop sentinel (so that it exits normally, releasing what it holds)."""
    if _IN_TASK:
        raise KeyboardInterrupt  # unwinds through the writers, which remove their temporary files


def _worker_init() -> None:
    signal.signal(signal.SIGINT, _worker_signal)
    signal.signal(signal.SIGTERM, _worker_signal)


def _worker_task(job: Job, batch: BatchOptions) -> Outcome:
    global _IN_TASK
    _IN_TASK = True
    try:
        return process_video(job, batch)
    except KeyboardInterrupt:
        remove_temporaries(job)
        return Outcome(path=str(job.video), out_dir=str(job.out_dir), status="interrupted")
    finally:
        _IN_TASK = False


def _run_pool(jobs: list[Job], batch: BatchOptions, results: dict[int, Outcome], bar: tqdm,
              on_outcome: Callable[[Outcome], None] | None) -> None:
    import multiprocessing

    worker_batch = dataclasses.replace(batch, options=dataclasses.replace(batch.options, progress=False))
    pool = ProcessPoolExecutor(max_workers=batch.workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init)
    futures = {pool.submit(_worker_task, job, worker_batch): i for i, job in enumerate(jobs)}
    try:
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(finished, key=futures.get):
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as exc:  # the worker process died (crash, out of memory, killed)
                    results[i] = Outcome(path=str(jobs[i].video), out_dir=str(jobs[i].out_dir), status="failed",
                                         reason=f"the worker process stopped: {one_line(exc)}")
                if results[i].status == "interrupted":  # a worker got SIGINT / SIGTERM: stop as on Ctrl-C
                    del results[i]
                    raise KeyboardInterrupt
                _report(results[i], bar, on_outcome)
    except BaseException:
        for fut in futures:
            fut.cancel()
        for child in multiprocessing.active_children():  # a busy worker stops its video, removing its temporary files
            child.terminate()
        pool.shutdown(wait=False, cancel_futures=True)  # idle workers get their stop sentinel
        for child in multiprocessing.active_children():
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
        raise
    pool.shutdown(wait=True)


def run_ray(jobs: list[Job], batch: BatchOptions = BatchOptions(),
            on_outcome: Callable[[Outcome], None] | None = None, num_cpus: int | None = None) -> Summary:
    """Process every job as a Ray task running :func:`process_video`; outcomes in job order.

    Connects to the cluster in RAY_ADDRESS when set (start one with ``ray start``; the inputs and
    the output folder must then be on storage every node sees under the same path), else starts
    a local Ray with ``num_cpus`` CPUs. One task per video, one CPU each; Ray's worker processes
    keep their detector and lifter between tasks. Needs the optional extra ``ray``.
    """
    try:
        import ray
    except ImportError:
        raise BatchError("--ray needs Ray: pip install 'pose3d-lifter[ray]'") from None

    t0 = time.perf_counter()
    started = not ray.is_initialized()
    if started:
        kwargs = {} if os.environ.get("RAY_ADDRESS") else {"num_cpus": num_cpus}
        ray.init(include_dashboard=False, log_to_driver=batch.debug, logging_level="ERROR", **kwargs)
    worker_batch = dataclasses.replace(batch, options=dataclasses.replace(batch.options, progress=False))
    task = ray.remote(num_cpus=1, max_retries=0)(process_video)
    refs = {task.remote(job, worker_batch): i for i, job in enumerate(jobs)}
    results: dict[int, Outcome] = {}
    try:
        with _videos_bar(len(jobs), batch.options.progress) as bar:
            pending = list(refs)
            while pending:
                finished, pending = ray.wait(pending, num_returns=1)
                for ref in finished:
                    i = refs[ref]
                    try:
                        results[i] = ray.get(ref)
                    except Exception as exc:  # the Ray worker died
                        results[i] = Outcome(path=str(jobs[i].video), out_dir=str(jobs[i].out_dir),
                                             status="failed", reason=f"the Ray task failed: {one_line(exc)}")
                    _report(results[i], bar, on_outcome)
    except BaseException:
        for ref in refs:
            ray.cancel(ref, force=True)
        _sweep(jobs, results)
        raise
    finally:
        if started:
            ray.shutdown()
    return Summary([results[i] for i in range(len(jobs))], time.perf_counter() - t0)


# --- reporting ------------------------------------------------------------------------------------

def write_summary(output_dir: str | os.PathLike, summary: Summary) -> Path:
    """Write output_dir/summary.json atomically; returns its path."""
    from lifter.atomic import write_json

    path = Path(output_dir) / SUMMARY_NAME
    write_json(path, summary.to_json())
    return path


def summary_table(summary: Summary) -> str:
    """The summary as a text table: one row per video, then the totals."""
    rows = [f"{'status':<8} {'frames':>6} {'person':>6} {'seconds':>8}  video"]
    for o in summary.outcomes:
        frames = f"{o.frames:6d}" if o.status == "done" else f"{'-':>6}"
        person = f"{o.valid_frames:6d}" if o.status == "done" else f"{'-':>6}"
        seconds = f"{o.seconds:8.2f}" if o.status != "skipped" else f"{'-':>8}"
        line = f"{o.status:<8} {frames} {person} {seconds}  {o.path}"
        if o.reason or o.note:
            line += f"\n{'':>32}{o.reason or o.note}"
        rows.append(line)
    counts = ", ".join(f"{len(summary.by_status(s))} {s}" for s in ("done", "skipped", "failed"))
    rows.append(f"{counts} in {summary.seconds:.1f} s")
    return "\n".join(rows)
