"""The real programs the exports are proven in (Debian's blender and chromium): found, or installed.

:func:`require` returns the program's path. Where it is missing it is installed with apt (as root,
``apt-get install --no-install-recommends``; .ci/run installs both up front); only where apt
cannot be used (not root, no apt-get, the install fails) is the test skipped, with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

_tried: dict[str, str] = {}


def require(program: str, package: str | None = None) -> str:
    """Path of ``program``; apt-installs ``package`` (default: the program's name) if missing."""
    found = shutil.which(program)
    if found:
        return found
    package = package or program
    if package not in _tried:
        _tried[package] = _apt_install(package)
    found = shutil.which(program)
    if not found:
        pytest.skip(f"NOT PROVEN IN THE REAL PROGRAM: {program} is missing and could not be installed "
                    f"({_tried[package]}); run `apt-get install {package}` to run this test")
    return found


def _apt_install(package: str) -> str:
    if not shutil.which("apt-get"):
        return "no apt-get on this machine"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "apt-get needs root"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode:
            return f"{' '.join(cmd[:2])} failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
    return "installed"
