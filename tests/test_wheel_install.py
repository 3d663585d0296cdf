"""`pip install .` (a wheel, not editable) works: the shipped weights and the commands come with it.

The wheel is built offline from a copy of the source tree, installed into a fresh virtual
environment that borrows this interpreter's site-packages for the dependencies (torch, numpy...),
and used from a folder outside the source tree, so that nothing can come from the checkout.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.heavy  # builds a wheel and a virtual environment (about 30 s)

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("lifter", "detectors", "demo")  # top-level packages: the same folder in the source and the wheel
SHIPPED = ("pgformer", "diffpyramid")
COMMANDS = ("pose3d-demo", "pose3d-predict", "pose3d-train")

LIFT_ONE_POSE = """
import numpy as np
import lifter
from lifter.lift import WEIGHTS_DIR, Lifter
for name in {shipped!r}:
    model = Lifter.load(name, device="cpu")
    pose = model.lift(np.zeros((1, model.num_joints, 2), np.float32) + 0.1 * np.arange(model.num_joints)[:, None])
    assert pose.shape == (1, model.num_joints, 3) and np.isfinite(pose).all(), pose
    print(name, "ok")
print(lifter.__file__)
print(WEIGHTS_DIR)
"""


def _run(cmd: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """Build the project's wheel offline from a copy of the source (no build files in the checkout);
    returns (wheel, the copy it was built from)."""
    if importlib.util.find_spec("setuptools") is None:  # the build backend, needed here without a download
        reason = "setuptools is not installed: the wheel cannot be built offline"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for folder in (*PACKAGES, "weights"):
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(out), str(src)], cwd=src, env=os.environ.copy())
    (wheel,) = out.glob("pose3d_lifter-*.whl")
    return wheel, src


def test_wheel_holds_every_module_and_the_shipped_weights(built):
    wheel, src = built
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in PACKAGES:
        for module in (src / package).rglob("*.py"):
            if "__pycache__" not in module.parts:
                member = module.relative_to(src).as_posix()
                assert member in names, f"{member} is missing from the wheel (packages list in pyproject.toml?)"
    for name in SHIPPED:
        assert {f"lifter/weights/{name}.safetensors", f"lifter/weights/{name}.json"} <= names
    for asset in ("viewer.js", "viewer.css"):  # the HTML viewer's page, read at run time
        assert f"demo/export/{asset}" in names, f"demo/export/{asset} is missing (package-data in pyproject.toml?)"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    for command in COMMANDS:
        assert f"{command} = " in text, text


def test_installed_wheel_lifts_with_shipped_weights(built, tmp_path):
    wheel, _ = built
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    venv_site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                    check=True, capture_output=True, text=True).stdout.strip())
    # The dependencies come from this interpreter's site-packages, added as a plain path (so that
    # its .pth files, among them any editable install of this project, are not run).
    (venv_site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    elsewhere = tmp_path / "elsewhere"  # outside the source tree: no checkout on sys.path
    elsewhere.mkdir()
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
          str(wheel)], cwd=elsewhere, env=env)

    lifted = _run([str(python), "-c", LIFT_ONE_POSE.format(shipped=SHIPPED)], cwd=elsewhere, env=env).stdout
    lines = lifted.strip().splitlines()
    assert lines[:2] == [f"{name} ok" for name in SHIPPED]
    package_file, weights_dir = Path(lines[2]), Path(lines[3])
    assert package_file.is_relative_to(venv_site), f"lifter imported from {package_file}, not the installed wheel"
    assert weights_dir == venv_site / "lifter" / "weights"

    for command in COMMANDS:
        assert (bin_dir / command).is_file(), f"{command} was not installed"
        helped = _run([str(bin_dir / command), "--help"], cwd=elsewhere, env=env).stdout
        assert "usage:" in helped and "--help" in helped, helped
        if command == "pose3d-predict":
            assert "--no-flip" in helped and "--weights" in helped
