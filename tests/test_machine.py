"""lifter.machine: own CPU time counts children, other programs' load is seen, the validity rule."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lifter import machine
from lifter.machine import BusyMachine, MachineLoad, judge, own_ticks, warning_line

LINUX = pytest.mark.skipif(not Path("/proc/stat").exists(), reason="needs /proc (Linux)")
BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n"


@LINUX
def test_own_time_includes_finished_children():
    before = own_ticks()
    subprocess.run([sys.executable, "-c", BURN.format(s=0.4)], check=True)
    used_s = (own_ticks() - before) / os.sysconf("SC_CLK_TCK")
    assert used_s >= 0.35, f"a child's 0.4 s of CPU counted as {used_s:.2f} s"


@LINUX
def test_a_detached_busy_program_counts_as_other():
    # double fork: the busy grandchild is re-parented away from this process, so it is not ours
    launcher = ("import subprocess, sys\n"
                f"subprocess.Popen([sys.executable, '-c', {BURN.format(s=2.0)!r}], start_new_session=True)\n")
    with MachineLoad(interval_s=0.25) as load:
        subprocess.run([sys.executable, "-c", launcher], check=True)
        time.sleep(1.5)
    record = load.report()
    # one of the CPUs busy with the other program (more if other programs run as well)
    assert record["other_cpu_share_mean"] >= 0.9 / record["cpus"] / 2, record
    assert record["samples"] >= 3 and record["other_cpu_share_max"] >= record["other_cpu_share_mean"] - 1e-9
    assert not record["valid"] and "other programs used" in record["reason"]


def test_validity_rule_and_messages(capsys):
    load = MachineLoad(max_other_share=0.1)
    load._load_before = [0.5, 0.5, 0.5]
    idle = load._judge(0.05, 0.2, 10, 12.0)
    busy = load._judge(0.3, 0.6, 10, 12.0)
    assert idle["valid"] and idle["reason"] is None and warning_line(idle) == ""
    assert not busy["valid"] and "30%" in busy["reason"] and "limit 10%" in busy["reason"]
    judge(idle)
    judge(busy)
    assert capsys.readouterr().err.strip() == warning_line(busy)
    with pytest.raises(BusyMachine, match="run refused"):
        judge(busy, require_idle=True)


def test_without_proc_the_load_average_decides(monkeypatch):
    monkeypatch.setattr(machine, "_machine_busy_ticks", lambda: None)
    monkeypatch.setattr(machine.os, "cpu_count", lambda: 4)
    for load_1min, valid in ((1.0, True), (2.5, False)):
        monkeypatch.setattr(machine, "_load_average", lambda v=load_1min: [v, v, v])
        with MachineLoad() as load:
            pass
        record = load.report()
        assert record["valid"] is valid and record["other_cpu_share_mean"] is None


def test_bad_settings_and_early_report():
    with pytest.raises(ValueError, match="interval_s"):
        MachineLoad(interval_s=0)
    with pytest.raises(ValueError, match="max_other_share"):
        MachineLoad(max_other_share=2)
    with pytest.raises(RuntimeError, match="after the with-block"):
        MachineLoad().report()
