"""Ways to run many jobs: in this process, in worker processes, or as Ray tasks.

Each executor takes the jobs, the :class:`demo.job.JobSettings`, a model factory
(demo.runner) and an ``on_outcome`` callback (called in this process as each video finishes),
and returns the outcomes in job order. Every process keeps one :class:`demo.runner.Models`
for all the videos it handles. Results do not depend on the executor: every video is processed
by demo.job.process_video with a freshly reset detector.

Stopping: Ctrl-C (SIGINT) or SIGTERM raises KeyboardInterrupt here after every temporary file of
an unfinished video is removed (a busy worker stops its video, its writers remove their files,
then the unfinished videos' folders are swept); rerunning resumes. A detector or lifter that
cannot be loaded raises demo.errors.ModelError (the batch stops: every video would fail).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable

from tqdm import tqdm

from demo.errors import BatchError, ModelError, one_line, quiet_interrupts_in_finalizers
from demo.job import Job, JobSettings, Outcome, process_video, remove_temporaries
from demo.runner import ModelFactory, Models, load_models
from detectors.base import THREADS_ENV, usable_cpus

OnOutcome = Callable[[Outcome], None] | None


def _videos_bar(total: int, progress: bool) -> tqdm:
    return tqdm(total=total, desc="videos", unit="video", disable=not progress or total <= 1, dynamic_ncols=True,
                file=sys.stderr)


def _report(outcome: Outcome, bar: tqdm, on_outcome: OnOutcome) -> None:
    if outcome.fatal:  # with --debug the worker's traceback follows the reason
        raise ModelError("\n".join(filter(None, (outcome.reason, outcome.traceback.rstrip()))))
    bar.update(1)
    if on_outcome is not None:
        on_outcome(outcome)


def _sweep(jobs: list[Job], results: dict[int, Outcome]) -> None:
    """Remove temporary files of every video that did not finish (after an interruption)."""
    for i, job in enumerate(jobs):
        if i not in results:
            remove_temporaries(job)


def _quiet(settings: JobSettings) -> JobSettings:
    """Settings for workers: no per-video progress bars (only the bar over videos is shown)."""
    return dataclasses.replace(settings, options=dataclasses.replace(settings.options, progress=False))


def run_local(jobs: list[Job], settings: JobSettings, factory: ModelFactory = load_models,
              on_outcome: OnOutcome = None) -> list[Outcome]:
    """Every job in this process, one after the other."""
    results: dict[int, Outcome] = {}
    try:
        with Models(factory) as models, _videos_bar(len(jobs), settings.options.progress) as bar:
            for i, job in enumerate(jobs):
                results[i] = process_video(job, settings, models)
                _report(results[i], bar, on_outcome)
    except BaseException:
        _sweep(jobs, results)
        raise
    return [results[i] for i in range(len(jobs))]


# --- worker processes ---------------------------------------------------------------------------

_WORKER_MODELS: Models | None = None  # the models of a worker process (made by _worker_init)
_IN_TASK = False


def _worker_signal(signum: int, frame: Any) -> None:
    """SIGINT / SIGTERM in a worker: stop the current video; an idle worker waits for the pool's
    stop sentinel (so that it exits normally, releasing what it holds)."""
    if _IN_TASK:
        raise KeyboardInterrupt  # unwinds through the writers, which remove their temporary files


def _share_cpus(threads: int) -> None:
    """A worker process's share of the CPUs: the detector's default thread count (unless the user
    set POSE3D_DETECTOR_THREADS), so that workers side by side do not oversubscribe the cores."""
    os.environ.setdefault(THREADS_ENV, str(max(1, threads)))


def _worker_init(factory: ModelFactory, threads: int) -> None:
    global _WORKER_MODELS
    quiet_interrupts_in_finalizers()
    _share_cpus(threads)
    signal.signal(signal.SIGINT, _worker_signal)
    signal.signal(signal.SIGTERM, _worker_signal)
    _WORKER_MODELS = Models(factory)


def _worker_task(job: Job, settings: JobSettings) -> Outcome:
    global _IN_TASK
    _IN_TASK = True
    try:
        return process_video(job, settings, _WORKER_MODELS)
    except KeyboardInterrupt:
        remove_temporaries(job)
        return Outcome(path=str(job.video), out_dir=str(job.out_dir), status="interrupted")
    finally:
        _IN_TASK = False


def run_processes(jobs: list[Job], settings: JobSettings, workers: int, factory: ModelFactory = load_models,
                  on_outcome: OnOutcome = None) -> list[Outcome]:
    """The jobs in ``workers`` worker processes (the 'spawn' start method; each has its own models)."""
    results: dict[int, Outcome] = {}
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(factory, usable_cpus() // workers))
    futures = {pool.submit(_worker_task, job, _quiet(settings)): i for i, job in enumerate(jobs)}
    try:
        with _videos_bar(len(jobs), settings.options.progress) as bar:
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(finished, key=futures.get):
                    i = futures[fut]
                    try:
                        results[i] = fut.result()
                    except Exception as exc:  # the worker process died (crash, out of memory, killed)
                        results[i] = Outcome(path=str(jobs[i].video), out_dir=str(jobs[i].out_dir),
                                             status="failed", reason=f"the worker process stopped: {one_line(exc)}")
                    if results[i].status == "interrupted":  # a worker got SIGINT / SIGTERM: stop as on Ctrl-C
                        del results[i]
                        raise KeyboardInterrupt
                    _report(results[i], bar, on_outcome)
    except BaseException:
        for fut in futures:
            fut.cancel()
        for child in multiprocessing.active_children():  # a busy worker stops its video, removing its files
            child.terminate()
        pool.shutdown(wait=False, cancel_futures=True)  # idle workers get their stop sentinel
        for child in multiprocessing.active_children():
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
        _sweep(jobs, results)
        raise
    pool.shutdown(wait=True)
    return [results[i] for i in range(len(jobs))]


# --- Ray -----------------------------------------------------------------------------------------

_RAY_MODELS: dict[str, Models] = {}  # per Ray worker process: factory name -> its models


def _ray_task(job: Job, settings: JobSettings, factory: ModelFactory) -> Outcome:
    """One video in a Ray worker process, which keeps its models between tasks."""
    from demo.runner import factory_name

    _share_cpus(1)  # each task asks Ray for one CPU
    models = _RAY_MODELS.setdefault(factory_name(factory), Models(factory))
    return process_video(job, settings, models)


def run_ray(jobs: list[Job], settings: JobSettings, factory: ModelFactory = load_models,
            on_outcome: OnOutcome = None, num_cpus: int | None = None) -> list[Outcome]:
    """Every job as a Ray task (one CPU each), on the cluster in RAY_ADDRESS when set (inputs and
    outputs on storage every node sees under the same path), else on a local Ray with ``num_cpus``
    CPUs. Needs the optional extra ``ray``."""
    try:
        import ray
    except ImportError:
        raise BatchError("--ray needs Ray: pip install 'pose3d-lifter[ray]'") from None

    started = not ray.is_initialized()
    if started:
        kwargs = {} if os.environ.get("RAY_ADDRESS") else {"num_cpus": num_cpus}
        ray.init(include_dashboard=False, log_to_driver=settings.debug, logging_level="ERROR", **kwargs)
    task = ray.remote(num_cpus=1, max_retries=0)(_ray_task)
    refs = {task.remote(job, _quiet(settings), factory): i for i, job in enumerate(jobs)}
    results: dict[int, Outcome] = {}
    try:
        with _videos_bar(len(jobs), settings.options.progress) as bar:
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
    return [results[i] for i in range(len(jobs))]
