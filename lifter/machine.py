"""How busy the machine was while a benchmark ran, recorded beside its figures.

    with MachineLoad() as load:
        ...                                  # the benchmark; its subprocesses count as its own work
    record = load.report()                   # JSON-ready, stored in the benchmark's output file
    judge(record, require_idle)              # warns on stderr, or raises BusyMachine, when not valid

A timing taken while other programs keep the CPUs busy measures them as much as the code, so every
benchmark stores this record: a run on a busy machine is marked ``"valid": false`` with a warning,
or refused (``require_idle``: the benchmarks' --require-idle).

Other processes' CPU share (Linux): every ``interval_s`` seconds the busy CPU time of the whole
machine (/proc/stat: user + nice + system + irq + softirq + steal) and the CPU time of this
process and all its descendants (/proc/<pid>/stat: utime + stime + cutime + cstime, so a finished
child's time moves into its parent's and is still counted) are read; over each window

    other share = (machine busy time - own time) / (wall time x CPUs in /proc/stat)

0 means the benchmark had the machine to itself, 1 that other programs kept every CPU busy. A run
is valid when the mean share over the whole run is at most ``max_other_share``. Where /proc is
missing (macOS, Windows) only the load average is recorded and the run counts as valid when the
one-minute load average before it was below half the CPU count.

report(): {"cpus", "load_average_before" [1, 5, 15 min], "load_average_after", "seconds",
"samples" (windows measured), "other_cpu_share_mean", "other_cpu_share_max" (busiest window; None
without /proc), "max_other_share" (the threshold), "valid", "reason" (one line when not valid, else
None)}.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

#: a run is valid when other programs used at most this share of all CPUs, on average over the run
MAX_OTHER_SHARE = 0.10
#: without /proc: valid when the one-minute load average before the run is below this x the CPU count
MAX_LOAD_PER_CPU = 0.5
_PROC = Path("/proc")


def _load_average() -> list[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # not available on this system
        return []


def _machine_busy_ticks() -> tuple[int, int] | None:
    """(busy clock ticks of all CPUs together, number of CPUs listed) from /proc/stat, or None."""
    try:
        lines = (_PROC / "stat").read_text().splitlines()
    except OSError:
        return None
    fields = [int(v) for v in lines[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    return user + nice + system + irq + softirq + steal, max(cpus, 1)


def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, utime + stime + cutime + cstime in clock ticks) of every readable process."""
    table = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile, or is not ours to read
            continue
        rest = text[text.rfind(")") + 2:].split()  # the command name may contain spaces and ')'
        # rest[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17
        table[int(entry.name)] = (int(rest[1]), sum(int(v) for v in rest[11:15]))
    return table


def own_ticks(root: int | None = None) -> int:
    """CPU clock ticks used so far by process ``root`` (default: this one) and all its descendants."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [os.getpid() if root is None else root]
    while todo:
        pid = todo.pop()
        total += table.get(pid, (0, 0))[1]
        todo.extend(children.get(pid, ()))
    return total


class MachineLoad:
    """Context manager that samples the machine's load while its block runs (see the module docstring)."""

    def __init__(self, interval_s: float = 1.0, max_other_share: float = MAX_OTHER_SHARE):
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s}")
        if not 0 <= max_other_share <= 1:
            raise ValueError(f"max_other_share must be in [0, 1], got {max_other_share}")
        self.interval_s, self.max_other_share = interval_s, max_other_share
        self._shares: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._record: dict | None = None

    def _snapshot(self) -> tuple[float, int, int, int] | None:
        machine = _machine_busy_ticks()
        if machine is None:
            return None
        return time.monotonic(), machine[0], own_ticks(), machine[1]

    @staticmethod
    def _share(a: tuple, b: tuple) -> float | None:
        wall = b[0] - a[0]
        if wall <= 0:
            return None
        other_s = ((b[1] - a[1]) - (b[2] - a[2])) / os.sysconf("SC_CLK_TCK")
        return min(1.0, max(0.0, other_s / (wall * b[3])))

    def _sample(self) -> None:
        last = self._start
        while not self._stop.wait(self.interval_s):
            now = self._snapshot()
            share = self._share(last, now)
            if share is not None:
                self._shares.append(share)
            last = now

    def __enter__(self) -> MachineLoad:
        self._load_before = _load_average()
        self._t0 = time.monotonic()
        self._start = self._snapshot()
        if self._start is not None:
            self._thread = threading.Thread(target=self._sample, name="machine-load", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        end = self._snapshot() if self._start is not None else None
        mean = self._share(self._start, end) if end is not None else None
        self._record = self._judge(mean, max(self._shares, default=mean), len(self._shares),
                                   time.monotonic() - self._t0)

    def _judge(self, mean: float | None, busiest: float | None, samples: int, seconds: float) -> dict:
        cpus = os.cpu_count() or 1
        before = self._load_before
        if mean is not None:
            valid = mean <= self.max_other_share
            reason = None if valid else (f"other programs used {100 * mean:.0f}% of the CPUs during the run "
                                         f"(limit {100 * self.max_other_share:.0f}%)")
        elif before:
            valid = before[0] < MAX_LOAD_PER_CPU * cpus
            reason = None if valid else (f"one-minute load average {before[0]:.2f} before the run on {cpus} CPUs "
                                         f"(limit {MAX_LOAD_PER_CPU * cpus:.2f})")
        else:
            valid, reason = True, None  # nothing to measure with: recorded as unknown (share None)
        return {"cpus": cpus, "load_average_before": before, "load_average_after": _load_average(),
                "seconds": round(seconds, 1), "samples": samples,
                "other_cpu_share_mean": None if mean is None else round(mean, 3),
                "other_cpu_share_max": None if busiest is None else round(busiest, 3),
                "max_other_share": self.max_other_share, "valid": bool(valid), "reason": reason}

    def report(self) -> dict:
        """The JSON-ready record of the finished block (see the module docstring)."""
        if self._record is None:
            raise RuntimeError("MachineLoad.report() is available after the with-block has ended")
        return dict(self._record)


class BusyMachine(RuntimeError):
    """A benchmark ran on a busy machine and was asked to refuse that (its one-line reason)."""


def judge(record: dict, require_idle: bool = False) -> None:
    """Warn on stderr when ``record`` is not valid; with ``require_idle`` raise BusyMachine instead."""
    if record.get("valid", True):
        return
    if require_idle:
        raise BusyMachine(f"busy machine, run refused: {record.get('reason')}")
    print(warning_line(record), file=sys.stderr)


def save_report(path: str | os.PathLike, report: dict, load: "MachineLoad", require_idle: bool = False) -> None:
    """Store ``load``'s record as report["machine"], judge it (:func:`judge`: a busy run warns, or
    raises BusyMachine with ``require_idle`` before anything is written) and write the report as
    indented JSON atomically (non-finite numbers as NaN)."""
    import json

    from lifter.atomic import atomic_path

    report["machine"] = load.report()
    judge(report["machine"], require_idle)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(report, indent=1, default=float) + "\n")


def warning_line(record: dict) -> str:
    """One line for stderr about a run whose record is not valid ('' when it is valid)."""
    if record.get("valid", True):
        return ""
    return f"warning: busy machine, figures not valid: {record.get('reason')}"


def describe(record: dict) -> str:
    """One line summing up a record, for a benchmark's printed table."""
    share = record.get("other_cpu_share_mean")
    share_text = "not measured" if share is None else \
        f"{100 * share:.0f}% (busiest window {100 * record['other_cpu_share_max']:.0f}%)"
    return (f"machine: {record.get('cpus')} CPUs, load average before {record.get('load_average_before')}, "
            f"after {record.get('load_average_after')}; other programs' CPU share {share_text}: "
            f"{'valid' if record.get('valid') else 'NOT VALID'}")
